#include "kmeans.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "../simd/dispatch.h"
#include "error.h"
#include "random.h"
#include "threadpool.h"

namespace affinity {
namespace {

constexpr int32_t kRowsPerTask = 512;

size_t taskCount(int32_t rows) { return (static_cast<size_t>(rows) + kRowsPerTask - 1) / kRowsPerTask; }

void checkRows(const DenseRows& x, const char* what) {
  require(x.rows >= 0 && x.dims >= 1, code::kBadInput, std::string(what) + " needs at least one dimension");
  require(x.values.size() == static_cast<size_t>(x.rows) * x.dims, code::kDimMismatch,
          std::string(what) + " has " + std::to_string(x.values.size()) + " values, expected rows * dims");
  for (size_t i = 0; i < x.values.size(); ++i)
    require(std::isfinite(x.values[i]), code::kBadInput,
            std::string(what) + " row " + std::to_string(i / x.dims) + " holds a non-finite value");
}

std::vector<float> squaredNorms(const DenseRows& x) {
  const KernelTable& kt = activeKernels();
  std::vector<float> out(x.rows);
  for (int32_t r = 0; r < x.rows; ++r) out[r] = kt.dot(x.row(r), x.row(r), x.dims);
  return out;
}

// Exact squared distance in double: seeding sums these, and the TypeScript reference must match it bit for bit.
double squaredDistance(const float* a, const float* b, int32_t dims) {
  double s = 0;
  for (int32_t d = 0; d < dims; ++d) {
    const double diff = static_cast<double>(a[d]) - static_cast<double>(b[d]);
    s += diff * diff;
  }
  return s;
}

// Nearest centroid of every row through |x|² + |c|² - 2 x·c, so the SIMD dotRows kernel does the work.
// Fills assignments and squared distances; returns the number of rows whose assignment changed.
int64_t assign(const DenseRows& x, std::span<const float> xNorms, const DenseRows& c, int threads, Control& control,
               std::vector<int32_t>& assignments, std::vector<double>& distances) {
  const KernelTable& kt = activeKernels();
  const std::vector<float> cNorms = squaredNorms(c);
  std::vector<int64_t> changedPerTask(taskCount(x.rows), 0);
  ThreadPool::instance().parallelFor(
      taskCount(x.rows), threads,
      [&](size_t task) {
        std::vector<float> dots(c.rows);
        const int32_t begin = static_cast<int32_t>(task) * kRowsPerTask;
        const int32_t end = std::min(x.rows, begin + kRowsPerTask);
        int64_t changed = 0;
        for (int32_t r = begin; r < end; ++r) {
          kt.dotRows(c.values.data(), c.dims, c.rows, x.row(r), x.dims, dots.data());
          int32_t best = 0;
          float bestDist = std::numeric_limits<float>::infinity();
          for (int32_t j = 0; j < c.rows; ++j) {
            const float dist = cNorms[j] - 2.0f * dots[j];
            if (dist < bestDist) {
              bestDist = dist;
              best = j;
            }
          }
          if (assignments[r] != best) ++changed;
          assignments[r] = best;
          distances[r] = std::max(0.0, static_cast<double>(xNorms[r]) + bestDist);
        }
        changedPerTask[task] = changed;
      },
      &control);
  int64_t changed = 0;
  for (int64_t c2 : changedPerTask) changed += c2;
  return changed;
}

// k-means++ (Arthur & Vassilvitskii 2007): each next centre is drawn with probability proportional to
// its squared distance from the nearest centre chosen so far.
std::vector<float> seedCentroids(const DenseRows& x, int32_t k, uint32_t seed, int threads, Control& control) {
  Sfc32 rng(seed);
  std::vector<float> centroids(static_cast<size_t>(k) * x.dims);
  std::vector<double> closest(x.rows, std::numeric_limits<double>::infinity());
  int32_t pick = std::min(static_cast<int32_t>(rng.uniform() * x.rows), x.rows - 1);
  for (int32_t c = 0; c < k; ++c) {
    if (c > 0) {
      double total = 0;
      for (double d : closest) total += d;
      const double u = rng.uniform() * total;
      double cumulative = 0;
      pick = -1;
      for (int32_t r = 0; r < x.rows && pick < 0; ++r) {
        cumulative += closest[r];
        if (cumulative > u) pick = r;
      }
      // Every row coincides with a centre already (fewer distinct rows than k): take the next row in order.
      if (pick < 0) pick = c % x.rows;
    }
    std::copy_n(x.row(pick), x.dims, centroids.begin() + static_cast<size_t>(c) * x.dims);
    const float* centre = x.row(pick);
    ThreadPool::instance().parallelFor(
        taskCount(x.rows), threads,
        [&](size_t task) {
          const int32_t begin = static_cast<int32_t>(task) * kRowsPerTask;
          const int32_t end = std::min(x.rows, begin + kRowsPerTask);
          for (int32_t r = begin; r < end; ++r) closest[r] = std::min(closest[r], squaredDistance(x.row(r), centre, x.dims));
        },
        &control);
  }
  return centroids;
}

// Centroid = mean of its rows, summed in row order (deterministic for any thread count). An empty
// cluster takes the row farthest from its own centroid, so k clusters survive.
void updateCentroids(const DenseRows& x, const std::vector<int32_t>& assignments, const std::vector<double>& distances,
                     int32_t k, int threads, Control& control, std::vector<float>& centroids, std::vector<int32_t>& sizes) {
  std::vector<int32_t> start(k + 1, 0);
  for (int32_t a : assignments) ++start[a + 1];
  for (int32_t c = 0; c < k; ++c) start[c + 1] += start[c];
  std::vector<int32_t> order(x.rows);
  std::vector<int32_t> fill(start.begin(), start.end() - 1);
  for (int32_t r = 0; r < x.rows; ++r) order[fill[assignments[r]]++] = r;
  for (int32_t c = 0; c < k; ++c) sizes[c] = start[c + 1] - start[c];
  ThreadPool::instance().parallelFor(
      static_cast<size_t>(k), threads,
      [&](size_t c) {
        if (sizes[c] == 0) return;
        std::vector<double> sum(x.dims, 0.0);
        for (int32_t p = start[c]; p < start[c + 1]; ++p) {
          const float* row = x.row(order[p]);
          for (int32_t d = 0; d < x.dims; ++d) sum[d] += row[d];
        }
        for (int32_t d = 0; d < x.dims; ++d) centroids[c * x.dims + d] = static_cast<float>(sum[d] / sizes[c]);
      },
      &control);
  std::vector<char> taken(x.rows, 0);
  for (int32_t c = 0; c < k; ++c) {
    if (sizes[c] != 0) continue;
    int32_t far = -1;
    for (int32_t r = 0; r < x.rows; ++r)
      if (!taken[r] && sizes[assignments[r]] > 1 && (far < 0 || distances[r] > distances[far])) far = r;
    if (far < 0) continue;
    taken[far] = 1;
    --sizes[assignments[far]];
    sizes[c] = 1;
    std::copy_n(x.row(far), x.dims, centroids.begin() + static_cast<size_t>(c) * x.dims);
  }
}

}  // namespace

KMeansResult kmeans(const DenseRows& x, const KMeansOptions& o, Control& control) {
  checkRows(x, "vectors");
  require(o.k >= 1, code::kBadInput, "k must be at least 1");
  require(o.k <= x.rows, code::kBadInput,
          "k (" + std::to_string(o.k) + ") must not exceed the number of vectors (" + std::to_string(x.rows) + ")");
  require(o.iterations >= 1, code::kBadInput, "iterations must be at least 1");
  control.setTotal(o.iterations + 1);
  KMeansResult out;
  out.centroids = seedCentroids(x, o.k, o.seed, o.threads, control);
  control.advance(1);
  const std::vector<float> norms = squaredNorms(x);
  out.assignments.assign(x.rows, -1);
  out.sizes.assign(o.k, 0);
  std::vector<double> distances(x.rows);
  double previous = std::numeric_limits<double>::infinity();
  for (int32_t it = 1;; ++it) {
    control.throwIfCancelled();
    const DenseRows c{out.centroids, o.k, x.dims};
    const int64_t changed = assign(x, norms, c, o.threads, control, out.assignments, distances);
    double inertia = 0;
    for (double d : distances) inertia += d;
    out.inertia = inertia;
    out.iterations = it;
    control.event(it, inertia);
    control.advance(1);
    if (changed == 0 || (std::isfinite(previous) && previous - inertia <= o.tolerance * previous)) {
      out.converged = true;
      break;
    }
    if (it == o.iterations) break;
    previous = inertia;
    updateCentroids(x, out.assignments, distances, o.k, o.threads, control, out.centroids, out.sizes);
  }
  std::fill(out.sizes.begin(), out.sizes.end(), 0);
  for (int32_t a : out.assignments) ++out.sizes[a];
  return out;
}

std::vector<int32_t> nearestCentroid(const DenseRows& x, const DenseRows& centroids, int threads, Control& control) {
  checkRows(x, "vectors");
  checkRows(centroids, "centroids");
  require(centroids.rows >= 1, code::kBadInput, "there are no centroids");
  require(x.dims == centroids.dims, code::kDimMismatch,
          "vectors have " + std::to_string(x.dims) + " dimensions but centroids " + std::to_string(centroids.dims));
  std::vector<int32_t> assignments(x.rows, -1);
  std::vector<double> distances(x.rows);
  assign(x, squaredNorms(x), centroids, threads, control, assignments, distances);
  return assignments;
}

double silhouette(const DenseRows& x, std::span<const int32_t> labels, int threads, Control& control) {
  checkRows(x, "vectors");
  require(labels.size() == static_cast<size_t>(x.rows), code::kDimMismatch, "labels must have one entry per vector");
  int32_t clusters = 0;
  for (int32_t l : labels) {
    require(l >= 0, code::kBadInput, "labels must be non-negative");
    clusters = std::max(clusters, l + 1);
  }
  std::vector<int32_t> sizes(clusters, 0);
  for (int32_t l : labels) ++sizes[l];
  const std::vector<float> norms = squaredNorms(x);
  const KernelTable& kt = activeKernels();
  std::vector<double> perTask(taskCount(x.rows), 0.0);
  control.setTotal(static_cast<int64_t>(taskCount(x.rows)));
  ThreadPool::instance().parallelFor(
      taskCount(x.rows), threads,
      [&](size_t task) {
        std::vector<float> dots(x.rows);
        std::vector<double> sums(clusters);
        const int32_t begin = static_cast<int32_t>(task) * kRowsPerTask;
        const int32_t end = std::min(x.rows, begin + kRowsPerTask);
        double total = 0;
        for (int32_t i = begin; i < end; ++i) {
          const int32_t own = labels[i];
          if (sizes[own] < 2) continue;
          kt.dotRows(x.values.data(), x.dims, x.rows, x.row(i), x.dims, dots.data());
          std::fill(sums.begin(), sums.end(), 0.0);
          for (int32_t j = 0; j < x.rows; ++j) {
            if (j == i) continue;
            sums[labels[j]] += std::sqrt(std::max(0.0, static_cast<double>(norms[i]) + norms[j] - 2.0 * dots[j]));
          }
          const double a = sums[own] / (sizes[own] - 1);
          double b = std::numeric_limits<double>::infinity();
          for (int32_t c = 0; c < clusters; ++c)
            if (c != own && sizes[c] > 0) b = std::min(b, sums[c] / sizes[c]);
          if (std::isfinite(b) && std::max(a, b) > 0) total += (b - a) / std::max(a, b);
        }
        perTask[task] = total;
        control.advance(1);
      },
      &control);
  double total = 0;
  for (double t : perTask) total += t;
  return x.rows > 0 ? total / x.rows : 0.0;
}

}  // namespace affinity
