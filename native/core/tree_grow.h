// Growing one tree on binned features: the internals fitForestBinned runs per tree (and the tests drive).
#pragma once
#include <cstdint>
#include <vector>

#include "random.h"
#include "trees.h"

namespace affinity::detail {

// What a row brings to the histograms of one tree.
struct RowStat {
  float count;   // bootstrap multiplicity (0: out of bag)
  float weight;  // multiplicity x row weight
  float y;
  int32_t channel;
};

// One tree in tree-local arrays (catOffset indexes this tree's catBits).
struct GrownTree {
  std::vector<int32_t> feature, left, right, catOffset, binThreshold;
  std::vector<float> threshold, samples, impurity, value;
  std::vector<uint8_t> flags;
  std::vector<uint32_t> catBits;
  std::vector<double> importance;  // gain per feature
  int32_t depth = 0, leaves = 0;
};

// Stats per histogram bin and per node: [count, then per channel: w (classification), w, wy, wyy
// (regression, one channel), w, wy per arm (uplift)].
int32_t statWidth(const TreeOptions& options);

// Grows a tree over the rows listed (ascending), consuming `rng` for feature sampling in node order
// (depth first, left child first). threads > 1 (or 0: all) builds large nodes' histograms in parallel,
// for a tree grown alone; the tree is the same whatever the count.
GrownTree growTree(const BinnedFeatures& binned, const std::vector<RowStat>& stats, std::vector<int32_t> rows,
                   const TreeOptions& options, Sfc32& rng, int threads, const Control& control);

// Replaces node values with those of the given (held-out) rows, walked down by bins; an arm no row of a
// node reached keeps its parent's value.
void estimateHonestly(GrownTree& tree, const BinnedFeatures& binned, const std::vector<RowStat>& stats,
                      const std::vector<int32_t>& rows, const TreeOptions& options);

}  // namespace affinity::detail
