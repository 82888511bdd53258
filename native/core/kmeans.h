// k-means (Lloyd) with k-means++ seeding, and the silhouette score, on dense float rows.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "control.h"

namespace affinity {

struct DenseRows {
  std::span<const float> values;  // rows * dims, row-major
  int32_t rows = 0;
  int32_t dims = 0;
  const float* row(int32_t r) const { return values.data() + static_cast<size_t>(r) * dims; }
};

struct KMeansOptions {
  int32_t k = 8;
  int32_t iterations = 100;  // Lloyd iterations at most
  double tolerance = 1e-6;   // stop when the inertia improves by less than this fraction
  uint32_t seed = 42;
  int threads = 0;
};

struct KMeansResult {
  std::vector<float> centroids;      // k * dims
  std::vector<int32_t> assignments;  // rows
  std::vector<int32_t> sizes;        // k
  double inertia = 0;                // sum of squared distances to the assigned centroid
  int32_t iterations = 0;
  bool converged = false;
};

// Deterministic for a seed whatever the thread count. Reports (iteration, inertia) through
// control.event. Rejects k < 1, k > rows, and non-finite values with ERR_AFFINITY_BAD_INPUT.
KMeansResult kmeans(const DenseRows& x, const KMeansOptions& options, Control& control);

// Index of the nearest centroid of each row (ties: the lower index).
std::vector<int32_t> nearestCentroid(const DenseRows& x, const DenseRows& centroids, int threads, Control& control);

// Mean silhouette (b - a) / max(a, b) over the given rows, with distances among those rows only.
// Rows alone in their cluster score 0, as in Rousseeuw (1987).
double silhouette(const DenseRows& x, std::span<const int32_t> labels, int threads, Control& control);

}  // namespace affinity
