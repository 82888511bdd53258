// Quantile binning of the features a tree trains on.
#include <algorithm>
#include <cmath>
#include <string>

#include "error.h"
#include "threadpool.h"
#include "trees.h"

namespace affinity {
namespace {

uint8_t categoryBin(float v) {
  if (!(v >= 0 && v < kMissingBin) || v != std::floor(v)) return kMissingBin;
  return static_cast<uint8_t>(v);
}

std::vector<float> quantileEdges(const DenseRows& x, int32_t f, int32_t maxBins) {
  const int32_t sampled = std::min(x.rows, kBinningSampleRows);
  std::vector<float> values;
  values.reserve(sampled);
  for (int32_t s = 0; s < sampled; ++s) {
    const int32_t r = static_cast<int32_t>(static_cast<int64_t>(s) * x.rows / sampled);
    const float v = x.row(r)[f];
    if (!std::isnan(v)) values.push_back(v);
  }
  std::sort(values.begin(), values.end());
  std::vector<float> distinct;
  for (float v : values)
    if (distinct.empty() || v != distinct.back()) distinct.push_back(v);
  if (static_cast<int32_t>(distinct.size()) <= maxBins) {
    if (!distinct.empty()) distinct.pop_back();  // the largest value needs no upper edge
    return distinct;
  }
  std::vector<float> edges;
  const int64_t m = static_cast<int64_t>(values.size());
  for (int32_t b = 1; b < maxBins; ++b) {
    const float v = values[static_cast<size_t>(b * m / maxBins)];
    if (edges.empty() || v != edges.back()) edges.push_back(v);
  }
  if (!edges.empty() && edges.back() == values.back()) edges.pop_back();
  return edges;
}

}  // namespace

BinnedFeatures binFeatures(const DenseRows& x, std::span<const uint8_t> categorical, int32_t maxBins, int threads,
                           Control& control) {
  require(maxBins >= 2 && maxBins <= kMaxBins, code::kBadInput, "maxBins must be in [2, 255]");
  require(categorical.empty() || static_cast<int32_t>(categorical.size()) == x.dims, code::kDimMismatch,
          "categorical must have one flag per feature");
  BinnedFeatures out;
  out.rows = x.rows;
  out.features = x.dims;
  out.bins.resize(static_cast<size_t>(x.rows) * x.dims);
  out.edges.resize(x.dims);
  out.binCount.assign(x.dims, 0);
  out.categorical.assign(x.dims, 0);
  if (!categorical.empty()) std::copy(categorical.begin(), categorical.end(), out.categorical.begin());
  ThreadPool::instance().parallelFor(
      x.dims, threads,
      [&](size_t task) {
        const int32_t f = static_cast<int32_t>(task);
        uint8_t* column = out.bins.data() + static_cast<size_t>(f) * x.rows;
        if (!categorical.empty() && categorical[f]) {
          int32_t largest = -1;
          for (int32_t r = 0; r < x.rows; ++r) {
            column[r] = categoryBin(x.row(r)[f]);
            if (column[r] != kMissingBin) largest = std::max<int32_t>(largest, column[r]);
          }
          out.binCount[f] = largest + 1;
          return;
        }
        std::vector<float>& edges = out.edges[f] = quantileEdges(x, f, maxBins);
        for (int32_t r = 0; r < x.rows; ++r) {
          const float v = x.row(r)[f];
          column[r] = std::isnan(v) ? kMissingBin
                                    : static_cast<uint8_t>(std::lower_bound(edges.begin(), edges.end(), v) - edges.begin());
        }
        out.binCount[f] = static_cast<int32_t>(edges.size()) + 1;
      },
      &control);
  return out;
}

}  // namespace affinity
