// CART decision trees and random forests on histogram-binned features: classification (Gini, entropy),
// regression (squared error) and uplift (the treatment-effect divergence between arms), with categorical
// features split as category sets and missing values sent down a learned default branch.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "control.h"
#include "kmeans.h"

namespace affinity {

// Bin codes: values take [0, bins), a missing value (NaN, or a category outside [0, kMissingBin)) kMissingBin.
inline constexpr int32_t kMissingBin = 255;
inline constexpr int32_t kMaxBins = 255;
// Rows sampled per feature to place the quantile edges (evenly spaced rows, no randomness).
inline constexpr int32_t kBinningSampleRows = 200000;

struct BinnedFeatures {
  int32_t rows = 0, features = 0;
  std::vector<uint8_t> bins;                // features * rows, column-major
  std::vector<std::vector<float>> edges;    // per numeric feature: bin b holds edges[b-1] < v <= edges[b]
  std::vector<int32_t> binCount;            // per feature: the bins in use (categorical: the largest code + 1)
  std::vector<uint8_t> categorical;         // per feature
  const uint8_t* column(int32_t f) const { return bins.data() + static_cast<size_t>(f) * rows; }
};

// Quantile edges from the (sampled) non-missing values of each numeric feature: the distinct values when
// there are at most maxBins of them, else the values at ranks floor(b * m / maxBins). Categorical features
// bin by their integer code. Infinities are values; NaN is missing.
BinnedFeatures binFeatures(const DenseRows& x, std::span<const uint8_t> categorical, int32_t maxBins, int threads,
                           Control& control);

enum class TreeTask : int32_t { Classification = 0, Regression = 1, Uplift = 2 };
enum class SplitCriterion : int32_t { Gini = 0, Entropy = 1, SquaredError = 2, Euclidean = 3, DeltaDeltaP = 4 };

struct TreeOptions {
  TreeTask task = TreeTask::Classification;
  SplitCriterion criterion = SplitCriterion::Gini;
  int32_t outputs = 2;         // classes (classification), 1 (regression), arms with control first (uplift)
  int32_t maxDepth = 1 << 20;  // the root has depth 0
  int32_t minSamplesSplit = 2;
  int32_t minSamplesLeaf = 1;
  int32_t minSamplesArm = 1;   // uplift: every arm needs this many samples in each child
  int32_t maxFeatures = 0;     // features examined per split (at least this many non-constant ones); 0 = all
  double minImpurityDecrease = 0;
  bool honest = false;         // uplift: leaf values from a held-out half of the sample, not the one that split
};

struct ForestOptions {
  TreeOptions tree;
  int32_t trees = 100;
  bool bootstrap = true;
  int32_t maxBins = kMaxBins;
  uint32_t seed = 42;
  int threads = 0;
};

struct TreeData {
  DenseRows x;                          // raw values: NaN is missing; categorical features hold codes
  std::span<const uint8_t> categorical;  // per feature 1 = categorical
  std::span<const float> target;        // regression target / uplift outcome (unused in classification)
  std::span<const int32_t> channel;     // class (classification) or arm (uplift) of each row
  std::span<const float> weights;       // per row (class weights folded in); empty: all 1
};

// All trees of a forest in flat arrays. Node i of tree t is entry treeOffsets[t] + i. A split sends a row
// to child left[i] when its value is <= threshold[i] (numeric) or its category is in the node's left set
// (categorical, see kCategoryWords); a missing value or a category the node never saw goes left when flags
// bit 0 is set. Children come
// after their parent, so every walk ends. Leaves have feature -1.
struct Forest {
  int32_t features = 0, outputs = 0;
  TreeTask task = TreeTask::Classification;
  std::vector<int32_t> treeOffsets{0};
  std::vector<int32_t> feature, left, right, catOffset;
  std::vector<float> threshold;
  std::vector<uint8_t> flags;   // bit 0: missing goes left, bit 1: categorical split
  std::vector<float> samples;   // training samples (bootstrap multiplicity counted) reaching the node
  std::vector<float> impurity;  // the node's impurity (uplift: the squared effect norm)
  std::vector<float> value;     // nodes * outputs: class probabilities, mean target, or mean outcome per arm
  std::vector<uint32_t> catBits;
  int32_t trees() const { return static_cast<int32_t>(treeOffsets.size()) - 1; }
  int32_t nodes() const { return treeOffsets.back(); }
};

inline constexpr uint8_t kDefaultLeft = 1;
// A categorical node's words in catBits: 8 for the categories that go left, then 8 for those its training
// rows held (the others, like a missing value, take the default branch).
inline constexpr int32_t kCategoryWords = 16;
inline constexpr uint8_t kCategoricalSplit = 2;

struct ForestResult {
  Forest forest;
  std::vector<double> importances;   // impurity decrease per feature, each tree's normalized to 1, averaged
  std::vector<float> oobValue;       // rows * outputs averaged over the trees a row was out of bag for; NaN if none
  double oobScore = 0;               // accuracy (classification), R² (regression); NaN when not defined
  std::vector<int32_t> depth;        // per tree
  std::vector<int32_t> leaves;       // per tree
};

// Checks the data, bins it, grows the trees (in parallel, each from its own seeded stream, so the forest is
// the same whatever the thread count) and reports trees done through progress and each tree's leaves through
// control.event. Cancellable between nodes.
ForestResult fitForest(const TreeData& data, const ForestOptions& options, Control& control);

// The same on pre-binned features: what fitForest runs after binning, and what the reference tests drive.
ForestResult fitForestBinned(const TreeData& data, const BinnedFeatures& binned, const ForestOptions& options,
                             Control& control);

// A view of a forest's arrays (the bindings hand in TypedArrays without copying).
struct ForestView {
  int32_t features = 0, outputs = 0;
  std::span<const int32_t> treeOffsets, feature, left, right, catOffset;
  std::span<const float> threshold, value;
  std::span<const uint8_t> flags;
  std::span<const uint32_t> catBits;
  int32_t trees() const { return static_cast<int32_t>(treeOffsets.size()) - 1; }
};
ForestView viewOf(const Forest& forest);

// One node in the 16 bytes a walk reads: a single cache line fetch per level. A leaf is its own child
// (feature 0, threshold +inf, missing left, left = itself) and flagged kLeafNode, so a walk can take a
// tree's depth in steps with no test for having arrived.
inline constexpr uint32_t kLeafNode = 4;
struct PackedNode {
  int32_t feature;
  union {
    float threshold;     // numeric split
    uint32_t catOffset;  // categorical split: its words in catBits
  };
  int32_t left;  // the right child is left + 1
  uint32_t flags;
};
static_assert(sizeof(PackedNode) == 16);

// What prediction walks: validated once, then trusted by every walk.
// The same node in 8 bytes for rows coded as bytes: a numeric split compares the row's code (the number of
// the feature's distinct split thresholds below its value) with the code of its own threshold.
struct CompactNode {
  uint16_t feature;
  uint8_t threshold;
  uint8_t flags;
  int32_t left;
};
static_assert(sizeof(CompactNode) == 8);

struct PackedForest {
  int32_t features = 0, outputs = 0;
  std::vector<int32_t> treeOffsets;
  std::vector<int32_t> depth;  // per tree: the most steps from the root to a leaf
  std::vector<PackedNode> nodes;
  std::vector<float> value;
  std::vector<uint32_t> catBits;
  // The byte-coded walk, when every feature has at most kMaxCuts distinct thresholds (forests trained
  // here always do) and is split one way only (numeric or categorical); empty otherwise.
  std::vector<CompactNode> compact;
  std::vector<std::vector<float>> cuts;  // per numeric feature: its distinct split thresholds, ascending
  std::vector<float> padded;             // features x 256: each feature's cuts, then +inf (branch-free search)
  std::vector<uint8_t> categoricalFeature;
  int32_t trees() const { return static_cast<int32_t>(treeOffsets.size()) - 1; }
};
inline constexpr int32_t kMaxCuts = 254;

// Checks the arrays (lengths agree, every split's children follow it in its tree as the pair left, left + 1,
// features and category sets in range, finite values) and packs them. Rejects with ERR_AFFINITY_BAD_INPUT.
PackedForest packForest(const ForestView& forest);

// Mean of the leaf values over the trees [firstTree, lastTree): rows * outputs. Parallel over row blocks.
std::vector<float> predictForest(const PackedForest& f, const DenseRows& x, int32_t firstTree, int32_t lastTree, int threads,
                                 Control& control);

// Leaf index per row and tree: rows * trees.
std::vector<int32_t> applyForest(const PackedForest& f, const DenseRows& x, int threads, Control& control);

}  // namespace affinity
