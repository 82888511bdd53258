#include <cmath>
#include <random>

#include "../core/eigen.h"
#include "../core/linalg.h"
#include "harness.h"

using namespace affinity;

namespace {

// Checks A v_j = values[j] v_j and that the rows of `vectors` are orthonormal, relative to A's size.
void checkDecomposition(size_t n, const std::vector<double>& a) {
  std::vector<double> values, vectors;
  CHECK(symmetricEigen(n, a, values, vectors));
  double scale = 1e-300, trace = 0, sum = 0;
  for (double x : a) scale = std::max(scale, std::abs(x));
  for (size_t i = 0; i < n; ++i) trace += a[i * n + i], sum += values[i];
  CHECK(std::abs(trace - sum) <= 1e-11 * scale * static_cast<double>(n));
  for (size_t j = 0; j < n; ++j) {
    const double* v = vectors.data() + j * n;
    for (size_t r = 0; r < n; ++r) {
      double av = 0;
      for (size_t c = 0; c < n; ++c) av += a[r * n + c] * v[c];
      CHECK(std::abs(av - values[j] * v[r]) <= 1e-11 * scale * static_cast<double>(n));
    }
    for (size_t i = 0; i <= j; ++i) {
      double dot = 0;
      for (size_t c = 0; c < n; ++c) dot += vectors[i * n + c] * v[c];
      CHECK(std::abs(dot - (i == j ? 1.0 : 0.0)) <= 1e-12 * static_cast<double>(n));
    }
  }
}

std::vector<double> randomSymmetric(size_t n, std::mt19937& rng) {
  std::normal_distribution<double> normal;
  std::vector<double> a(n * n);
  for (size_t r = 0; r < n; ++r)
    for (size_t c = 0; c <= r; ++c) a[r * n + c] = a[c * n + r] = normal(rng);
  return a;
}

// Y'Y of `rows` random rows: positive semidefinite, singular when rows < n (repeated zero eigenvalues).
std::vector<double> gramOf(size_t rows, size_t n, std::mt19937& rng) {
  std::normal_distribution<double> normal;
  std::vector<double> y(rows * n), a(n * n, 0.0);
  for (double& v : y) v = normal(rng);
  for (size_t j = 0; j < rows; ++j)
    for (size_t r = 0; r < n; ++r)
      for (size_t c = 0; c < n; ++c) a[r * n + c] += y[j * n + r] * y[j * n + c];
  return a;
}

}  // namespace

TEST(linalg, eigen_random_symmetric) {
  std::mt19937 rng(7);
  for (size_t n : {1, 2, 3, 5, 16, 33, 64, 128, 130}) checkDecomposition(n, randomSymmetric(n, rng));
}

TEST(linalg, eigen_gram_matrices) {
  std::mt19937 rng(11);
  checkDecomposition(32, gramOf(1000, 32, rng));
  checkDecomposition(40, gramOf(5, 40, rng));  // rank 5: 35 zero eigenvalues
}

TEST(linalg, eigen_degenerate) {
  for (size_t n : {1, 4, 17}) {
    std::vector<double> identity(n * n, 0.0), zero(n * n, 0.0), diagonal(n * n, 0.0);
    for (size_t i = 0; i < n; ++i) identity[i * n + i] = 1, diagonal[i * n + i] = static_cast<double>(i) - 3.5;
    checkDecomposition(n, identity);
    checkDecomposition(n, zero);
    checkDecomposition(n, diagonal);
  }
}

// Only the lower triangle is read: garbage above the diagonal changes nothing.
TEST(linalg, eigen_reads_lower_triangle) {
  std::mt19937 rng(3);
  const size_t n = 9;
  std::vector<double> a = randomSymmetric(n, rng), b = a;
  for (size_t r = 0; r < n; ++r)
    for (size_t c = r + 1; c < n; ++c) b[r * n + c] = 1e6;
  std::vector<double> va, vb, wa, wb;
  CHECK(symmetricEigen(n, a, va, wa) && symmetricEigen(n, b, vb, wb));
  CHECK(va == vb && wa == wb);
}

// A x = b against the double product, for SPD matrices of every size class of the row-dot kernel (tails
// of 8-row blocks included); garbage above the diagonal is never read; an indefinite matrix is refused.
TEST(linalg, cholesky_solves_spd_systems) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> work;
  for (size_t n : {1, 2, 7, 9, 64, 65, 130}) {
    std::vector<float> m(n * n), a(n * n, 0.0f), b(n), x(n);
    for (float& v : m) v = normal(rng);
    for (size_t r = 0; r < n; ++r)
      for (size_t c = 0; c <= r; ++c) {
        double s = r == c ? static_cast<double>(n) : 0.0;
        for (size_t t = 0; t < n; ++t) s += static_cast<double>(m[t * n + r]) * m[t * n + c];
        a[r * n + c] = static_cast<float>(s);
        if (c < r) a[c * n + r] = 1e30f;  // the upper triangle must not be read
      }
    for (float& v : b) v = normal(rng);
    CHECK(choleskySolve(a.data(), b.data(), x.data(), n, work));
    for (size_t r = 0; r < n; ++r) {  // each residual against the size of the terms it sums
      double ax = 0, size = std::abs(b[r]);
      for (size_t c = 0; c < n; ++c) {
        const double term = static_cast<double>(r >= c ? a[r * n + c] : a[c * n + r]) * x[c];
        ax += term, size += std::abs(term);
      }
      CHECK(std::abs(ax - b[r]) <= 1e-5 * size);
    }
  }
  std::vector<float> indefinite{1, 0, 2, 1}, rhs{1, 1}, out(2);  // [[1, 2], [2, 1]]: eigenvalues 3 and -1
  CHECK(!choleskySolve(indefinite.data(), rhs.data(), out.data(), 2, work));
}
