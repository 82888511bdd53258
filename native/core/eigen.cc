#include "eigen.h"

#include <algorithm>
#include <cmath>

namespace affinity {
namespace {

// Householder reduction of the symmetric matrix in v (n x n) to a tridiagonal matrix with diagonal d and
// subdiagonal e[1..n) (e[0] = 0). On return, v holds the accumulated orthogonal transformation Q with
// A = Q T Q'. Works on the lower triangle, one row i at a time from the last, d holding row i. at(r, c) is
// stored at v[c * n + r] (column-major): the inner loops run down columns, which are then contiguous, and Q
// comes out with its columns as rows of v.
void tridiagonalize(size_t n, std::vector<double>& v, std::vector<double>& d, std::vector<double>& e) {
  const auto at = [&](size_t r, size_t c) -> double& { return v[c * n + r]; };
  for (size_t j = 0; j < n; ++j) d[j] = at(n - 1, j);
  for (size_t i = n - 1; i > 0; --i) {
    double scale = 0, h = 0;
    for (size_t k = 0; k < i; ++k) scale += std::abs(d[k]);
    if (scale == 0) {  // row i is already reduced
      e[i] = d[i - 1];
      for (size_t j = 0; j < i; ++j) {
        d[j] = at(i - 1, j);
        at(i, j) = 0;
        at(j, i) = 0;
      }
      d[i] = 0;
      continue;
    }
    for (size_t k = 0; k < i; ++k) {
      d[k] /= scale;
      h += d[k] * d[k];
    }
    // The reflector u = row - g e_{i-1} (d holds u now), with |g| = |row| and the sign that avoids cancellation.
    double f = d[i - 1], g = f > 0 ? -std::sqrt(h) : std::sqrt(h);
    e[i] = scale * g;
    h -= f * g;
    d[i - 1] = f - g;
    // e = A u / h (lower triangle of the leading i x i block), then e -= (u'e / 2h) u.
    std::fill(e.begin(), e.begin() + static_cast<std::ptrdiff_t>(i), 0.0);
    for (size_t j = 0; j < i; ++j) {
      f = d[j];
      at(j, i) = f;
      g = e[j] + at(j, j) * f;
      for (size_t k = j + 1; k < i; ++k) {
        g += at(k, j) * d[k];
        e[k] += at(k, j) * f;
      }
      e[j] = g;
    }
    f = 0;
    for (size_t j = 0; j < i; ++j) {
      e[j] /= h;
      f += e[j] * d[j];
    }
    const double half = f / (h + h);
    for (size_t j = 0; j < i; ++j) e[j] -= half * d[j];
    // A -= u e' + e u' on the lower triangle of the leading block.
    for (size_t j = 0; j < i; ++j) {
      f = d[j];
      g = e[j];
      for (size_t k = j; k < i; ++k) at(k, j) -= f * e[k] + g * d[k];
      d[j] = at(i - 1, j);
      at(i, j) = 0;
    }
    d[i] = h;
  }
  // Accumulate the reflectors (stored in the columns above the diagonal) into Q.
  for (size_t i = 0; i + 1 < n; ++i) {
    at(n - 1, i) = at(i, i);
    at(i, i) = 1;
    const double h = d[i + 1];
    if (h != 0) {
      for (size_t k = 0; k <= i; ++k) d[k] = at(k, i + 1) / h;
      for (size_t j = 0; j <= i; ++j) {
        double g = 0;
        for (size_t k = 0; k <= i; ++k) g += at(k, i + 1) * at(k, j);
        for (size_t k = 0; k <= i; ++k) at(k, j) -= g * d[k];
      }
    }
    for (size_t k = 0; k <= i; ++k) at(k, i + 1) = 0;
  }
  for (size_t j = 0; j < n; ++j) {
    d[j] = at(n - 1, j);
    at(n - 1, j) = 0;
  }
  at(n - 1, n - 1) = 1;
  e[0] = 0;
}

// Implicit QL with Wilkinson-type shifts on the tridiagonal (d, e); the plane rotations are applied to the
// rows of w (the eigenvectors as rows), so each update runs over two contiguous rows.
bool diagonalizeTridiagonal(size_t n, std::vector<double>& d, std::vector<double>& e, std::vector<double>& w) {
  constexpr int kMaxSweeps = 60;
  for (size_t i = 1; i < n; ++i) e[i - 1] = e[i];
  e[n - 1] = 0;
  const double eps = std::ldexp(1.0, -52);
  double shift = 0, largest = 0;
  for (size_t l = 0; l < n; ++l) {
    largest = std::max(largest, std::abs(d[l]) + std::abs(e[l]));
    size_t m = l;
    while (m < n && std::abs(e[m]) > eps * largest) ++m;  // e[n-1] = 0 stops it at n-1 at the latest
    if (m > l) {
      int sweeps = 0;
      do {
        if (++sweeps > kMaxSweeps) return false;
        double g = d[l];
        double p = (d[l + 1] - g) / (2 * e[l]);
        double r = std::hypot(p, 1.0);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const double dl1 = d[l + 1];
        double h = g - d[l];
        for (size_t i = l + 2; i < n; ++i) d[i] -= h;
        shift += h;
        p = d[m];
        double c = 1, c2 = 1, c3 = 1, s = 0, s2 = 0;
        const double el1 = e[l + 1];
        for (size_t i = m; i-- > l;) {
          c3 = c2, c2 = c, s2 = s;
          g = c * e[i];
          h = c * p;
          r = std::hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          double* lo = w.data() + i * n;
          double* hi = lo + n;
          for (size_t k = 0; k < n; ++k) {
            const double t = hi[k];
            hi[k] = s * lo[k] + c * t;
            lo[k] = c * lo[k] - s * t;
          }
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (std::abs(e[l]) > eps * largest);
    }
    d[l] += shift;
    e[l] = 0;
  }
  return true;
}

}  // namespace

bool symmetricEigen(size_t n, const std::vector<double>& a, std::vector<double>& values, std::vector<double>& vectors) {
  values.assign(n, 0.0);
  vectors.assign(n * n, 0.0);
  if (n == 0) return true;
  std::vector<double> e(n);
  for (size_t r = 0; r < n; ++r)
    for (size_t c = 0; c <= r; ++c) vectors[r * n + c] = vectors[c * n + r] = a[r * n + c];
  tridiagonalize(n, vectors, values, e);  // leaves Q's columns as the rows of `vectors`
  return diagonalizeTridiagonal(n, values, e, vectors);
}

}  // namespace affinity
