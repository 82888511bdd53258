// k-means, silhouette, logistic regression and the sparse product against plain reference loops.
#include <cmath>
#include <random>

#include "../core/kmeans.h"
#include "../core/logreg.h"
#include "../core/sparse.h"
#include "harness.h"

using namespace affinity;

namespace {

// Three well separated blobs in `dims` dimensions.
std::vector<float> blobs(int32_t rows, int32_t dims, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  std::vector<float> x(static_cast<size_t>(rows) * dims);
  for (int32_t r = 0; r < rows; ++r)
    for (int32_t d = 0; d < dims; ++d) x[r * dims + d] = static_cast<float>((r % 3) * 4 * ((d % 2) ? 1 : -1)) + noise(rng);
  return x;
}

double referenceInertia(const std::vector<float>& x, int32_t dims, const KMeansResult& r) {
  double s = 0;
  for (size_t i = 0; i < r.assignments.size(); ++i)
    for (int32_t d = 0; d < dims; ++d) {
      const double diff = x[i * dims + d] - r.centroids[r.assignments[i] * dims + d];
      s += diff * diff;
    }
  return s;
}

}  // namespace

TEST(analytics, kmeans_finds_separated_blobs_on_every_level) {
  const int32_t rows = 3000, dims = 7;
  std::vector<float> x = blobs(rows, dims, 3);
  std::vector<KMeansResult> results;
  for (const KernelTable& level : test::everyLevel()) {
    setSimdLevel(simdLevelName(level.level));
    Control control;
    results.push_back(kmeans(DenseRows{x, rows, dims}, KMeansOptions{.k = 3, .iterations = 50, .seed = 7}, control));
  }
  setSimdLevel(simdLevelName(cpuFeatures().levels.back()));
  for (const KMeansResult& r : results) {
    CHECK(r.converged);
    CHECK(r.assignments == results[0].assignments);
    // Each blob lands in one cluster.
    for (int32_t i = 3; i < rows; ++i) CHECK(r.assignments[i] == r.assignments[i % 3]);
    CHECK(std::abs(r.inertia - referenceInertia(x, dims, r)) <= 1e-3 * r.inertia);
    // Each centroid is the mean of its rows.
    for (int32_t c = 0; c < 3; ++c)
      for (int32_t d = 0; d < dims; ++d) {
        double sum = 0;
        int32_t n = 0;
        for (int32_t i = 0; i < rows; ++i)
          if (r.assignments[i] == c) sum += x[i * dims + d], ++n;
        CHECK(std::abs(sum / n - r.centroids[c * dims + d]) < 1e-4);
      }
  }
}

TEST(analytics, kmeans_is_deterministic_across_threads_and_rejects_bad_input) {
  const int32_t rows = 2000, dims = 5;
  std::vector<float> x = blobs(rows, dims, 9);
  for (float& v : x) v += static_cast<float>(std::sin(v * 13));  // overlapping clusters: many Lloyd steps
  Control c1, c2;
  KMeansResult one = kmeans(DenseRows{x, rows, dims}, KMeansOptions{.k = 8, .iterations = 30, .seed = 1, .threads = 1}, c1);
  KMeansResult two = kmeans(DenseRows{x, rows, dims}, KMeansOptions{.k = 8, .iterations = 30, .seed = 1, .threads = 2}, c2);
  CHECK(one.assignments == two.assignments && one.centroids == two.centroids);
  for (int32_t s : one.sizes) CHECK(s > 0);
  Control c3;
  CHECK_THROWS_CODE(kmeans(DenseRows{x, rows, dims}, KMeansOptions{.k = rows + 1}, c3), code::kBadInput);
  x[17] = std::nanf("");
  CHECK_THROWS_CODE(kmeans(DenseRows{x, rows, dims}, KMeansOptions{.k = 2}, c3), code::kBadInput);
}

TEST(analytics, kmeans_handles_fewer_distinct_rows_than_k) {
  std::vector<float> x{1, 1, 1, 1, 2, 2};
  Control control;
  KMeansResult r = kmeans(DenseRows{x, 3, 2}, KMeansOptions{.k = 3}, control);
  CHECK(r.assignments.size() == 3);
  CHECK(r.inertia == 0);
}

TEST(analytics, silhouette_matches_plain_definition) {
  const int32_t rows = 300, dims = 4;
  std::vector<float> x = blobs(rows, dims, 4);
  std::vector<int32_t> labels(rows);
  for (int32_t i = 0; i < rows; ++i) labels[i] = (i % 3 == 2 && i % 5 == 0) ? 0 : i % 3;  // a few misplaced rows
  double expected = 0;
  for (int32_t i = 0; i < rows; ++i) {
    double sums[3] = {0, 0, 0};
    int32_t counts[3] = {0, 0, 0};
    for (int32_t j = 0; j < rows; ++j) {
      if (j == i) continue;
      double s = 0;
      for (int32_t d = 0; d < dims; ++d) s += (x[i * dims + d] - x[j * dims + d]) * (x[i * dims + d] - x[j * dims + d]);
      sums[labels[j]] += std::sqrt(s);
      ++counts[labels[j]];
    }
    const double a = sums[labels[i]] / counts[labels[i]];
    double b = 1e300;
    for (int c = 0; c < 3; ++c)
      if (c != labels[i]) b = std::min(b, sums[c] / counts[c]);
    expected += (b - a) / std::max(a, b);
  }
  expected /= rows;
  for (const KernelTable& level : test::everyLevel()) {
    setSimdLevel(simdLevelName(level.level));
    Control control;
    const double got = silhouette(DenseRows{x, rows, dims}, labels, 0, control);
    CHECK(std::abs(got - expected) < 1e-4);
  }
  setSimdLevel(simdLevelName(cpuFeatures().levels.back()));
}

TEST(analytics, logistic_gradient_matches_finite_differences_dense_and_sparse) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  const int32_t rows = 500, dims = 6;
  std::vector<float> x(rows * dims), labels(rows), weights(rows);
  for (float& v : x) v = normal(rng);
  for (int32_t i = 0; i < rows; ++i) {
    labels[i] = (x[i * dims] + 0.5f * x[i * dims + 1] + 0.3f * normal(rng)) > 0 ? 1.0f : 0.0f;
    weights[i] = 0.5f + static_cast<float>(i % 3);
  }
  std::vector<int32_t> indptr{0}, indices;
  std::vector<float> data;
  for (int32_t i = 0; i < rows; ++i) {
    for (int32_t d = 0; d < dims; ++d)
      if (x[i * dims + d] != 0) indices.push_back(d), data.push_back(x[i * dims + d]);
    indptr.push_back(static_cast<int32_t>(indices.size()));
  }
  LogisticData dense{DenseRows{x, rows, dims}, {}, labels, weights};
  LogisticData sparse{{}, CsrView{rows, dims, indptr, indices, data, {}}, labels, weights};
  std::vector<double> w{0.3, -0.2, 0.1, 0.0, 0.5, -0.4};
  const double b = 0.2, l2 = 0.05;
  for (const LogisticData* d : {&dense, &sparse}) {
    Control control;
    std::vector<double> g(dims + 1);
    logisticLoss(*d, w, b, l2, g, 0, control);
    for (int32_t j = 0; j <= dims; ++j) {
      const double h = 1e-5;
      std::vector<double> wp = w, wm = w;
      double bp = b, bm = b;
      if (j < dims) wp[j] += h, wm[j] -= h;
      else bp += h, bm -= h;
      const double numeric = (logisticLoss(*d, wp, bp, l2, {}, 0, control) - logisticLoss(*d, wm, bm, l2, {}, 0, control)) / (2 * h);
      CHECK(std::abs(numeric - g[j]) < 1e-6);
    }
    LogisticResult fit = fitLogistic(*d, LogisticOptions{.l2 = l2, .tolerance = 1e-8}, control);
    CHECK(fit.converged);
    std::vector<double> g2(dims + 1);
    logisticLoss(*d, fit.coefficients, fit.intercept, l2, g2, 0, control);
    for (double v : g2) CHECK(std::abs(v) < 1e-7);
    CHECK(fit.coefficients[0] > fit.coefficients[1] && fit.coefficients[1] > 0.1);
  }
  labels[3] = 0.5f;
  Control control;
  CHECK_THROWS_CODE(fitLogistic(dense, LogisticOptions{}, control), code::kBadInput);
}
