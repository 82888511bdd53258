// Random forests: trees grown in parallel from per-tree seeded streams, out-of-bag scores, flat-array
// prediction.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "error.h"
#include "threadpool.h"
#include "tree_grow.h"
#include "trees.h"

namespace affinity {
namespace {

using detail::RowStat;

// Rows per task of a walk over all trees. Every task reads each tree's nodes once, so large blocks save
// that traffic (1M rows x 100 trees of depth 12: 1,024-row blocks predict at ~0.6x the speed of 16,384);
// small inputs get smaller blocks so every thread has work.
struct RowBlocks {
  int32_t rows, size;
  explicit RowBlocks(int32_t n) : rows(n) {
    const int64_t spread = (static_cast<int64_t>(n) + 4 * ThreadPool::instance().threads() - 1) / (4 * ThreadPool::instance().threads());
    size = static_cast<int32_t>(std::clamp<int64_t>(spread, 1024, 16384));
  }
  size_t count() const { return (static_cast<size_t>(rows) + size - 1) / size; }
  int32_t begin(size_t task) const { return static_cast<int32_t>(task) * size; }
  int32_t end(size_t task) const { return std::min(rows, begin(task) + size); }
};

void walkRows(const PackedForest& f, int32_t tree, const DenseRows& x, int32_t begin, int32_t end, int32_t* leaves);


// Every tree draws from its own stream, so tree t is the same whichever thread grows it.
uint32_t treeSeed(uint32_t seed, int32_t tree) { return seed + 0x9e3779b9u * static_cast<uint32_t>(tree + 1); }

void checkOptions(const ForestOptions& o) {
  const TreeOptions& t = o.tree;
  require(o.trees >= 1, code::kBadInput, "trees must be at least 1");
  require(t.maxDepth >= 0, code::kBadInput, "maxDepth must be >= 0");
  require(t.minSamplesLeaf >= 1 && t.minSamplesSplit >= 2 && t.minSamplesArm >= 1, code::kBadInput,
          "minSamplesLeaf and minSamplesArm must be >= 1, minSamplesSplit >= 2");
  require(std::isfinite(t.minImpurityDecrease) && t.minImpurityDecrease >= 0, code::kBadInput,
          "minImpurityDecrease must be finite and >= 0");
  require(t.maxFeatures >= 0, code::kBadInput, "maxFeatures must be >= 0");
  const bool criterionFits = t.task == TreeTask::Classification
                                 ? (t.criterion == SplitCriterion::Gini || t.criterion == SplitCriterion::Entropy)
                             : t.task == TreeTask::Regression ? t.criterion == SplitCriterion::SquaredError
                                                              : (t.criterion == SplitCriterion::Euclidean ||
                                                                 t.criterion == SplitCriterion::DeltaDeltaP);
  require(criterionFits, code::kBadInput, "the split criterion does not fit the task");
  require(t.task != TreeTask::Regression || t.outputs == 1, code::kBadInput, "regression has one output");
  require(t.task == TreeTask::Regression || (t.outputs >= 2 && t.outputs <= 1024), code::kBadInput,
          "classification needs 2 to 1024 classes, uplift 2 to 1024 arms (control first)");
}

void checkData(const TreeData& d, const TreeOptions& o) {
  const DenseRows& x = d.x;
  require(x.rows >= 1 && x.dims >= 1, code::kBadInput, "the training data needs at least one row and one feature");
  require(x.values.size() == static_cast<size_t>(x.rows) * x.dims, code::kDimMismatch, "x must hold rows * dims values");
  require(d.categorical.empty() || static_cast<int32_t>(d.categorical.size()) == x.dims, code::kDimMismatch,
          "categorical must have one flag per feature");
  for (size_t i = 0; i < x.values.size(); ++i)
    require(!std::isinf(x.values[i]), code::kBadInput,
            [&] { return "x row " + std::to_string(i / x.dims) + " holds an infinite value (NaN is read as missing)"; });
  require(d.weights.empty() || static_cast<int32_t>(d.weights.size()) == x.rows, code::kDimMismatch,
          "weights must have one entry per row");
  double weightSum = 0;
  for (size_t i = 0; i < d.weights.size(); ++i) {
    require(std::isfinite(d.weights[i]) && d.weights[i] >= 0, code::kBadInput, "weights must be finite and >= 0");
    weightSum += d.weights[i];
  }
  require(d.weights.empty() || weightSum > 0, code::kBadInput, "the weights sum to zero");
  if (o.task != TreeTask::Regression) {
    require(static_cast<int32_t>(d.channel.size()) == x.rows, code::kDimMismatch,
            o.task == TreeTask::Uplift ? "arms must have one entry per row" : "labels must have one entry per row");
    std::vector<int64_t> seen(o.outputs, 0);
    for (int32_t i = 0; i < x.rows; ++i) {
      const int32_t c = d.channel[i];
      require(c >= 0 && c < o.outputs, code::kBadInput, [&] {
        return std::string(o.task == TreeTask::Uplift ? "arm" : "class") + " of row " + std::to_string(i) + " is " +
               std::to_string(c) + ", outside [0, " + std::to_string(o.outputs) + ")";
      });
      ++seen[c];
    }
    if (o.task == TreeTask::Uplift) {
      for (int32_t a = 0; a < o.outputs; ++a)
        require(seen[a] > 0, code::kBadInput, [&] { return "arm " + std::to_string(a) + " has no rows"; });
    } else {
      int32_t classes = 0;
      for (int64_t s : seen) classes += s > 0;
      require(classes >= 2, code::kBadInput, "the labels hold a single class: there is nothing to classify");
    }
  }
  if (o.task != TreeTask::Classification) {
    require(static_cast<int32_t>(d.target.size()) == x.rows, code::kDimMismatch, "the target must have one entry per row");
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    for (int32_t i = 0; i < x.rows; ++i) {
      require(std::isfinite(d.target[i]), code::kBadInput,
              [&] { return "the target of row " + std::to_string(i) + " is not a finite number"; });
      lo = std::min(lo, d.target[i]), hi = std::max(hi, d.target[i]);
    }
    require(o.task != TreeTask::Regression || hi > lo, code::kBadInput, "the target is constant: there is nothing to learn");
  }
}

struct TreeOutcome {
  detail::GrownTree tree;
  std::vector<uint64_t> inBag;  // bit per row
};

TreeOutcome growOne(const TreeData& d, const BinnedFeatures& binned, const ForestOptions& o, int32_t t, const Control& control) {
  Sfc32 rng(treeSeed(o.seed, t));
  const int32_t n = d.x.rows;
  std::vector<RowStat> stats(n);
  if (o.bootstrap) {
    for (int32_t i = 0; i < n; ++i) stats[(static_cast<uint64_t>(rng.next()) * n) >> 32].count += 1;
  } else {
    for (RowStat& s : stats) s.count = 1;
  }
  TreeOutcome out;
  out.inBag.assign((static_cast<size_t>(n) + 63) / 64, 0);
  std::vector<int32_t> structure, estimation;
  structure.reserve(n);
  for (int32_t r = 0; r < n; ++r) {
    RowStat& s = stats[r];
    if (s.count == 0) continue;
    out.inBag[r >> 6] |= uint64_t{1} << (r & 63);
    s.weight = s.count * (d.weights.empty() ? 1.0f : d.weights[r]);
    s.y = d.target.empty() ? 0.0f : d.target[r];
    s.channel = d.channel.empty() ? 0 : d.channel[r];
    if (o.tree.honest && (rng.next() & 1u)) estimation.push_back(r);
    else structure.push_back(r);
  }
  require(!structure.empty(), code::kBadInput, "a tree drew no rows to grow on");
  // A lone tree spreads its large nodes over the pool; a forest's trees each take one thread.
  out.tree = detail::growTree(binned, stats, std::move(structure), o.tree, rng, o.trees == 1 ? o.threads : 1, control);
  if (o.tree.honest) detail::estimateHonestly(out.tree, binned, stats, estimation, o.tree);
  return out;
}

void append(Forest& f, const detail::GrownTree& t) {
  const int32_t catBase = static_cast<int32_t>(f.catBits.size());
  f.feature.insert(f.feature.end(), t.feature.begin(), t.feature.end());
  f.left.insert(f.left.end(), t.left.begin(), t.left.end());
  f.right.insert(f.right.end(), t.right.begin(), t.right.end());
  for (int32_t c : t.catOffset) f.catOffset.push_back(c < 0 ? -1 : c + catBase);
  f.threshold.insert(f.threshold.end(), t.threshold.begin(), t.threshold.end());
  f.flags.insert(f.flags.end(), t.flags.begin(), t.flags.end());
  f.samples.insert(f.samples.end(), t.samples.begin(), t.samples.end());
  f.impurity.insert(f.impurity.end(), t.impurity.begin(), t.impurity.end());
  f.value.insert(f.value.end(), t.value.begin(), t.value.end());
  f.catBits.insert(f.catBits.end(), t.catBits.begin(), t.catBits.end());
  f.treeOffsets.push_back(f.treeOffsets.back() + static_cast<int32_t>(t.feature.size()));
}

// Blocks of rows walk the trees one at a time (a tree's nodes stay in cache), each row adding the trees it
// was out of bag for in tree order, so the average is the same whatever the thread count.
void outOfBag(const TreeData& d, const ForestOptions& o, const std::vector<std::vector<uint64_t>>& inBag, ForestResult& result,
              Control& control) {
  const PackedForest packed = packForest(viewOf(result.forest));
  const int32_t n = d.x.rows, k = packed.outputs;
  result.oobValue.assign(static_cast<size_t>(n) * k, std::numeric_limits<float>::quiet_NaN());
  const RowBlocks blocks(n);
  ThreadPool::instance().parallelFor(
      blocks.count(), o.threads,
      [&](size_t task) {
        const int32_t begin = blocks.begin(task), end = blocks.end(task);
        std::vector<double> acc(static_cast<size_t>(end - begin) * k, 0.0);
        std::vector<int32_t> votes(end - begin, 0), leaves(end - begin);
        for (int32_t t = 0; t < packed.trees(); ++t) {
          const float* values = packed.value.data() + static_cast<size_t>(packed.treeOffsets[t]) * k;
          const std::vector<uint64_t>& bag = inBag[t];
          walkRows(packed, t, d.x, begin, end, leaves.data());  // walking every row beats picking: the walks overlap
          for (int32_t r = begin; r < end; ++r) {
            if ((bag[r >> 6] >> (r & 63)) & 1u) continue;
            const float* v = values + static_cast<size_t>(leaves[r - begin]) * k;
            double* a = acc.data() + static_cast<size_t>(r - begin) * k;
            for (int32_t c = 0; c < k; ++c) a[c] += v[c];
            ++votes[r - begin];
          }
        }
        for (int32_t r = begin; r < end; ++r)
          if (votes[r - begin] > 0)
            for (int32_t c = 0; c < k; ++c)
              result.oobValue[static_cast<size_t>(r) * k + c] = static_cast<float>(acc[static_cast<size_t>(r - begin) * k + c] / votes[r - begin]);
      },
      &control);
  int64_t scored = 0;
  double hits = 0, sse = 0, sum = 0, sumSq = 0;
  for (int32_t r = 0; r < n; ++r) {
    const float* v = result.oobValue.data() + static_cast<size_t>(r) * k;
    if (std::isnan(v[0])) continue;
    ++scored;
    if (o.tree.task == TreeTask::Classification) {
      hits += std::max_element(v, v + k) - v == d.channel[r];
    } else {
      const double e = v[0] - d.target[r];
      sse += e * e, sum += d.target[r], sumSq += static_cast<double>(d.target[r]) * d.target[r];
    }
  }
  const double sst = sumSq - sum * sum / std::max<int64_t>(scored, 1);
  result.oobScore = scored == 0 ? std::numeric_limits<double>::quiet_NaN()
                    : o.tree.task == TreeTask::Classification ? hits / scored
                    : sst > 0                                 ? 1 - sse / sst
                                                              : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

namespace {

// fitForestBinned after its checks: what fitForest runs once it has checked and binned.
ForestResult growForest(const TreeData& d, const BinnedFeatures& binned, const ForestOptions& o, Control& control) {
  std::vector<TreeOutcome> grown(o.trees);
  ThreadPool::instance().parallelFor(
      o.trees, o.threads,
      [&](size_t t) {
        grown[t] = growOne(d, binned, o, static_cast<int32_t>(t), control);
        control.advance(1);
      },
      &control);
  ForestResult result;
  Forest& f = result.forest;
  f.features = d.x.dims;
  f.outputs = o.tree.outputs;
  f.task = o.tree.task;
  result.importances.assign(d.x.dims, 0);
  std::vector<std::vector<uint64_t>> inBag(o.trees);
  for (int32_t t = 0; t < o.trees; ++t) {
    const detail::GrownTree& tree = grown[t].tree;
    append(f, tree);
    result.depth.push_back(tree.depth);
    result.leaves.push_back(tree.leaves);
    double total = 0;
    for (double g : tree.importance) total += g;
    if (total > 0)
      for (int32_t j = 0; j < d.x.dims; ++j) result.importances[j] += tree.importance[j] / total / o.trees;
    inBag[t] = std::move(grown[t].inBag);
    grown[t].tree = {};
  }
  double sum = 0;
  for (double v : result.importances) sum += v;
  if (sum > 0)
    for (double& v : result.importances) v /= sum;
  if (o.bootstrap && o.tree.task != TreeTask::Uplift) outOfBag(d, o, inBag, result, control);
  else result.oobScore = std::numeric_limits<double>::quiet_NaN();
  return result;
}

}  // namespace

ForestResult fitForestBinned(const TreeData& d, const BinnedFeatures& binned, const ForestOptions& o, Control& control) {
  checkOptions(o);
  checkData(d, o.tree);
  return growForest(d, binned, o, control);
}

ForestResult fitForest(const TreeData& d, const ForestOptions& o, Control& control) {
  checkOptions(o);
  checkData(d, o.tree);  // once: 20M values at 1M x 20
  control.setTotal(o.trees);
  const BinnedFeatures binned = binFeatures(d.x, d.categorical, o.maxBins, o.threads, control);
  return growForest(d, binned, o, control);
}

ForestView viewOf(const Forest& f) {
  return ForestView{f.features, f.outputs, f.treeOffsets, f.feature, f.left, f.right, f.catOffset, f.threshold, f.value, f.flags, f.catBits};
}

namespace {

// Builds the byte-coded walk of a validated pack (see PackedForest::compact), or leaves it empty.
void compactNodes(PackedForest& p) {
  if (p.features > 65535) return;
  std::vector<uint8_t> kind(p.features, 0);  // 1 numeric, 2 categorical
  p.cuts.assign(p.features, {});
  for (const PackedNode& n : p.nodes) {
    if (n.flags & kLeafNode) continue;
    const uint8_t k = (n.flags & kCategoricalSplit) ? 2 : 1;
    if (kind[n.feature] != 0 && kind[n.feature] != k) return;
    kind[n.feature] = k;
    if (k == 1) p.cuts[n.feature].push_back(n.threshold);
  }
  for (std::vector<float>& c : p.cuts) {
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
    if (static_cast<int32_t>(c.size()) > kMaxCuts) {
      p.cuts.clear();
      return;
    }
  }
  p.padded.assign(static_cast<size_t>(p.features) * 256, std::numeric_limits<float>::infinity());
  for (int32_t f = 0; f < p.features; ++f) std::copy(p.cuts[f].begin(), p.cuts[f].end(), p.padded.begin() + static_cast<size_t>(f) * 256);
  p.categoricalFeature.resize(p.features);
  for (int32_t f = 0; f < p.features; ++f) p.categoricalFeature[f] = kind[f] == 2;
  p.compact.resize(p.nodes.size());
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    const PackedNode& n = p.nodes[i];
    CompactNode& c = p.compact[i];
    c.flags = static_cast<uint8_t>(n.flags);
    c.left = n.left;
    if (n.flags & kLeafNode) {
      c.feature = 0;
      c.threshold = kMaxCuts;  // every value code is <= kMaxCuts, and a missing one goes left: the leaf stays
      continue;
    }
    c.feature = static_cast<uint16_t>(n.feature);
    const std::vector<float>& cuts = p.cuts[n.feature];
    c.threshold = (n.flags & kCategoricalSplit) ? 0 : static_cast<uint8_t>(std::lower_bound(cuts.begin(), cuts.end(), n.threshold) - cuts.begin());
  }
}

}  // namespace

PackedForest packForest(const ForestView& v) {
  require(v.treeOffsets.size() >= 2 && v.treeOffsets[0] == 0, code::kBadInput, "a forest needs at least one tree");
  require(v.features >= 1 && v.outputs >= 1, code::kBadInput, "a forest needs features and outputs");
  const size_t nodes = static_cast<size_t>(v.treeOffsets.back());
  require(v.feature.size() == nodes && v.left.size() == nodes && v.right.size() == nodes && v.catOffset.size() == nodes &&
              v.threshold.size() == nodes && v.flags.size() == nodes && v.value.size() == nodes * v.outputs,
          code::kDimMismatch, "the forest's node arrays differ in length");
  PackedForest p;
  p.features = v.features;
  p.outputs = v.outputs;
  p.treeOffsets.assign(v.treeOffsets.begin(), v.treeOffsets.end());
  p.nodes.resize(nodes);
  for (int32_t t = 0; t < v.trees(); ++t) {
    const int32_t begin = v.treeOffsets[t], size = v.treeOffsets[t + 1] - begin;
    require(size >= 1 && static_cast<size_t>(v.treeOffsets[t + 1]) <= nodes, code::kBadInput, "a tree has no nodes");
    for (int32_t i = 0; i < size; ++i) {
      const int32_t g = begin + i, feat = v.feature[g];
      PackedNode& n = p.nodes[g];
      if (feat < 0) {
        n = PackedNode{0, {std::numeric_limits<float>::infinity()}, i, kDefaultLeft | kLeafNode};
        continue;
      }
      n.feature = feat;
      n.flags = v.flags[g] & (kDefaultLeft | kCategoricalSplit);
      require(feat < v.features, code::kBadInput, "a node splits on a feature the forest does not have");
      require(v.left[g] > i && v.left[g] + 1 < size && v.right[g] == v.left[g] + 1, code::kBadInput,
              "a node's children are not the pair after it in its tree");
      n.left = v.left[g];
      if (v.flags[g] & kCategoricalSplit) {
        require(v.catOffset[g] >= 0 && static_cast<size_t>(v.catOffset[g]) + kCategoryWords <= v.catBits.size(), code::kBadInput,
                "a categorical split's category set is out of range");
        n.catOffset = static_cast<uint32_t>(v.catOffset[g]);
      } else {
        require(!std::isnan(v.threshold[g]), code::kBadInput, "a numeric split has no threshold");
        n.threshold = v.threshold[g];
      }
    }
  }
  for (int32_t t = 0; t < v.trees(); ++t) {
    const int32_t begin = v.treeOffsets[t], size = v.treeOffsets[t + 1] - begin;
    std::vector<int32_t> depth(size, 0);
    int32_t deepest = 0;
    for (int32_t i = 0; i < size; ++i) {
      deepest = std::max(deepest, depth[i]);
      if (!(p.nodes[begin + i].flags & kLeafNode)) depth[p.nodes[begin + i].left] = depth[p.nodes[begin + i].left + 1] = depth[i] + 1;
    }
    p.depth.push_back(deepest);
  }
  for (float x : v.value) require(std::isfinite(x), code::kBadInput, "a node value is not finite");
  p.value.assign(v.value.begin(), v.value.end());
  compactNodes(p);
  p.catBits.assign(v.catBits.begin(), v.catBits.end());
  return p;
}

namespace {

// One level down (a leaf stays put).
inline int32_t step(const PackedForest& f, const PackedNode* nodes, int32_t i, const float* row) {
  const PackedNode& n = nodes[i];
  const float x = row[n.feature];
  bool left;
  if (!(n.flags & kCategoricalSplit)) [[likely]] {
    left = (x <= n.threshold) | ((x != x) & ((n.flags & kDefaultLeft) != 0));
  } else {
    const uint32_t* set = f.catBits.data() + n.catOffset;
    const int32_t c = x >= 0 && x < kMissingBin && x == std::floor(x) ? static_cast<int32_t>(x) : -1;
    left = c >= 0 && ((set[8 + (c >> 5)] >> (c & 31)) & 1u) ? (set[c >> 5] >> (c & 31)) & 1u : (n.flags & kDefaultLeft) != 0;
  }
  return n.left + (left ? 0 : 1);
}

constexpr int32_t kWalkRows = 64;

// The leaves rows [from, to) (at most kWalkRows) reach in one tree: the rows step down together, level by
// level, so the walks of different rows overlap in the CPU instead of each waiting on its own chain of loads.
inline void walkChunk(const PackedForest& f, int32_t tree, const DenseRows& x, int32_t from, int32_t to, int32_t* at) {
  const PackedNode* nodes = f.nodes.data() + f.treeOffsets[tree];
  const int32_t depth = f.depth[tree];
  std::fill(at, at + (to - from), 0);
  for (int32_t level = 0; level < depth; ++level)
    for (int32_t r = from; r < to; ++r) at[r - from] = step(f, nodes, at[r - from], x.row(r));
}

// The same for two trees at once: twice the independent loads in flight per level.
inline void walkChunk2(const PackedForest& f, int32_t tree, const DenseRows& x, int32_t from, int32_t to, int32_t* at, int32_t* at2) {
  const PackedNode* nodes = f.nodes.data() + f.treeOffsets[tree];
  const PackedNode* nodes2 = f.nodes.data() + f.treeOffsets[tree + 1];
  const int32_t depth = std::max(f.depth[tree], f.depth[tree + 1]);
  std::fill(at, at + (to - from), 0);
  std::fill(at2, at2 + (to - from), 0);
  for (int32_t level = 0; level < depth; ++level)
    for (int32_t r = from; r < to; ++r) {
      const float* row = x.row(r);
      at[r - from] = step(f, nodes, at[r - from], row);
      at2[r - from] = step(f, nodes2, at2[r - from], row);
    }
}

// Rows [begin, end) as byte codes (rows x features): for a numeric feature the number of its cuts below
// the value, for a categorical one the category; kMissingBin for NaN and categories out of range.
void codeRows(const PackedForest& f, const DenseRows& x, int32_t begin, int32_t end, uint8_t* out) {
  for (int32_t r = begin; r < end; ++r) {
    const float* row = x.row(r);
    uint8_t* code = out + static_cast<size_t>(r - begin) * x.dims;
    for (int32_t d = 0; d < x.dims; ++d) {
      const float v = row[d];
      if (std::isnan(v)) code[d] = kMissingBin;
      else if (f.categoricalFeature[d]) code[d] = v >= 0 && v < kMissingBin && v == std::floor(v) ? static_cast<uint8_t>(v) : kMissingBin;
      else {
        // Branch-free lower bound over 256 padded cuts: the count of cuts below v.
        const float* cuts = f.padded.data() + static_cast<size_t>(d) * 256;
        int32_t at = 0;
        for (int32_t step = 128; step > 0; step >>= 1) at += cuts[at + step - 1] < v ? step : 0;
        code[d] = static_cast<uint8_t>(at);
      }
    }
  }
}

// One level down on byte-coded rows; the same decisions as step() on the values.
inline int32_t stepCoded(const PackedForest& f, const CompactNode* nodes, const PackedNode* packed, int32_t i, const uint8_t* codes) {
  const CompactNode& n = nodes[i];
  const uint8_t c = codes[n.feature];
  const bool defaultLeft = (n.flags & kDefaultLeft) != 0;
  bool left;
  if (!(n.flags & kCategoricalSplit)) [[likely]] {
    left = c != kMissingBin ? c <= n.threshold : defaultLeft;
  } else {
    const uint32_t* set = f.catBits.data() + packed[i].catOffset;
    left = c != kMissingBin && ((set[8 + (c >> 5)] >> (c & 31)) & 1u) ? ((set[c >> 5] >> (c & 31)) & 1u) != 0 : defaultLeft;
  }
  return n.left + (left ? 0 : 1);
}

// walkChunk2 on coded rows (codes of rows [from, to), row-major).
inline void walkCoded2(const PackedForest& f, int32_t tree, int32_t dims, const uint8_t* codes, int32_t rows, int32_t* at, int32_t* at2,
                       bool two) {
  const int32_t b1 = f.treeOffsets[tree];
  const int32_t b2 = two ? f.treeOffsets[tree + 1] : b1;
  const CompactNode *n1 = f.compact.data() + b1, *n2 = f.compact.data() + b2;
  const PackedNode *p1 = f.nodes.data() + b1, *p2 = f.nodes.data() + b2;
  const int32_t depth = two ? std::max(f.depth[tree], f.depth[tree + 1]) : f.depth[tree];
  std::fill(at, at + rows, 0);
  std::fill(at2, at2 + rows, 0);
  for (int32_t level = 0; level < depth; ++level)
    for (int32_t r = 0; r < rows; ++r) {
      const uint8_t* row = codes + static_cast<size_t>(r) * dims;
      at[r] = stepCoded(f, n1, p1, at[r], row);
      if (two) at2[r] = stepCoded(f, n2, p2, at2[r], row);
    }
}

void walkRows(const PackedForest& f, int32_t tree, const DenseRows& x, int32_t begin, int32_t end, int32_t* leaves) {
  for (int32_t from = begin; from < end; from += kWalkRows) walkChunk(f, tree, x, from, std::min(end, from + kWalkRows), leaves + (from - begin));
}

}  // namespace

std::vector<float> predictForest(const PackedForest& f, const DenseRows& x, int32_t firstTree, int32_t lastTree, int threads,
                                 Control& control) {
  require(x.dims == f.features, code::kDimMismatch,
          [&] { return "x has " + std::to_string(x.dims) + " features, the forest " + std::to_string(f.features); });
  require(x.values.size() == static_cast<size_t>(x.rows) * x.dims, code::kDimMismatch, "x must hold rows * dims values");
  require(firstTree >= 0 && firstTree < lastTree && lastTree <= f.trees(), code::kBadInput, "the tree range is empty or out of bounds");
  const int32_t k = f.outputs;
  std::vector<float> out(static_cast<size_t>(x.rows) * k);
  const RowBlocks blocks(x.rows);
  control.setTotal(static_cast<int64_t>(blocks.count()));
  ThreadPool::instance().parallelFor(
      blocks.count(), threads,
      [&](size_t task) {
        const int32_t begin = blocks.begin(task), end = blocks.end(task);
        std::vector<double> acc(static_cast<size_t>(end - begin) * k, 0.0);
        int32_t leaves[kWalkRows], leaves2[kWalkRows];
        const auto add = [&](int32_t t, int32_t from, int32_t to, const int32_t* at) {
          const float* values = f.value.data() + static_cast<size_t>(f.treeOffsets[t]) * k;
          for (int32_t r = from; r < to; ++r) {
            const float* v = values + static_cast<size_t>(at[r - from]) * k;
            double* a = acc.data() + static_cast<size_t>(r - begin) * k;
            for (int32_t c = 0; c < k; ++c) a[c] += v[c];
          }
        };
        // Byte-coded rows are a quarter of the floats and their nodes half the size: coded once per block.
        std::vector<uint8_t> codes;
        if (!f.compact.empty()) {
          codes.resize(static_cast<size_t>(end - begin) * x.dims);
          codeRows(f, x, begin, end, codes.data());
        }
        // Trees (two at a time) over the block: their nodes stay in cache while the block's rows walk them;
        // each chunk's leaf values are added, in tree order, while the chunk is hot.
        for (int32_t t = firstTree; t < lastTree; t += 2) {
          const bool two = t + 1 < lastTree;
          for (int32_t from = begin; from < end; from += kWalkRows) {
            const int32_t to = std::min(end, from + kWalkRows);
            if (!codes.empty()) walkCoded2(f, t, x.dims, codes.data() + static_cast<size_t>(from - begin) * x.dims, to - from, leaves, leaves2, two);
            else if (two) walkChunk2(f, t, x, from, to, leaves, leaves2);
            else walkChunk(f, t, x, from, to, leaves);
            add(t, from, to, leaves);
            if (two) add(t + 1, from, to, leaves2);
          }
        }
        const double scale = 1.0 / (lastTree - firstTree);
        for (size_t i = 0; i < acc.size(); ++i) out[static_cast<size_t>(begin) * k + i] = static_cast<float>(acc[i] * scale);
        control.advance(1);
      },
      &control);
  return out;
}

std::vector<int32_t> applyForest(const PackedForest& f, const DenseRows& x, int threads, Control& control) {
  require(x.dims == f.features, code::kDimMismatch, "x has a different number of features than the forest");
  require(x.values.size() == static_cast<size_t>(x.rows) * x.dims, code::kDimMismatch, "x must hold rows * dims values");
  const int32_t trees = f.trees();
  std::vector<int32_t> out(static_cast<size_t>(x.rows) * trees);
  const RowBlocks blocks(x.rows);
  ThreadPool::instance().parallelFor(
      blocks.count(), threads,
      [&](size_t task) {
        const int32_t begin = blocks.begin(task), end = blocks.end(task);
        std::vector<int32_t> leaves(end - begin);
        for (int32_t t = 0; t < trees; ++t) {
          walkRows(f, t, x, begin, end, leaves.data());
          for (int32_t r = begin; r < end; ++r) out[static_cast<size_t>(r) * trees + t] = leaves[r - begin];
        }
      },
      &control);
  return out;
}

}  // namespace affinity
