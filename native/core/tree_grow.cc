// One CART tree on histograms: per node, the histograms of up to maxFeatures non-constant features (drawn
// without replacement), the best threshold (numeric) or category prefix (categorical, categories ordered by
// their mean response), with missing values tried on both sides.
#include "tree_grow.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

#include "error.h"
#include "threadpool.h"

namespace affinity::detail {
namespace {

constexpr int32_t kHistBins = 256;
// Nodes with at least this many rows build their candidate features' histograms in parallel (single trees).
constexpr int32_t kParallelRows = 20000;

class Scorer {
 public:
  Scorer(const TreeOptions& o) : o_(o), width_(statWidth(o)) {}

  double weight(const double* s) const {
    if (o_.task == TreeTask::Classification) {
      double w = 0;
      for (int32_t c = 0; c < o_.outputs; ++c) w += s[1 + c];
      return w;
    }
    if (o_.task == TreeTask::Regression) return s[1];
    double w = 0;
    for (int32_t a = 0; a < o_.outputs; ++a) w += s[1 + 2 * a];
    return w;
  }

  // The part of -W * impurity that changes with the split: the gain is score(L) + score(R) - score(parent).
  double score(const double* s) const {
    switch (o_.criterion) {
      case SplitCriterion::Gini: {
        const double w = weight(s);
        if (!(w > 0)) return 0;
        double q = 0;
        for (int32_t c = 0; c < o_.outputs; ++c) q += s[1 + c] * s[1 + c];
        return q / w;
      }
      case SplitCriterion::Entropy: {
        const double w = weight(s);
        double q = 0;
        for (int32_t c = 0; c < o_.outputs; ++c)
          if (s[1 + c] > 0) q += s[1 + c] * std::log2(s[1 + c] / w);
        return q;
      }
      case SplitCriterion::SquaredError:
        return s[1] > 0 ? s[2] * s[2] / s[1] : 0;
      case SplitCriterion::Euclidean:
        return weight(s) * effectNorm(s);
      case SplitCriterion::DeltaDeltaP:
        return 0;
    }
    return 0;
  }

  double gain(const double* left, const double* right, double parentScore) const {
    if (o_.criterion != SplitCriterion::DeltaDeltaP) return score(left) + score(right) - parentScore;
    double g = 0;
    for (int32_t a = 1; a < o_.outputs; ++a) g += std::abs(effect(left, a) - effect(right, a));
    return g;
  }

  bool valid(const double* left, const double* right) const {
    if (left[0] < o_.minSamplesLeaf || right[0] < o_.minSamplesLeaf) return false;
    if (o_.task == TreeTask::Uplift) {
      for (int32_t a = 0; a < o_.outputs; ++a)
        if (left[1 + 2 * a] < o_.minSamplesArm || right[1 + 2 * a] < o_.minSamplesArm || !(left[1 + 2 * a] > 0) ||
            !(right[1 + 2 * a] > 0))
          return false;
      return true;
    }
    return weight(left) > 0 && weight(right) > 0;
  }

  // No split can improve the node.
  bool pure(const double* s) const {
    if (o_.task == TreeTask::Classification) {
      const double w = weight(s);
      int32_t present = 0;
      for (int32_t c = 0; c < o_.outputs; ++c) present += s[1 + c] > 1e-9 * w;
      return present <= 1;
    }
    if (o_.task == TreeTask::Regression) {
      const double mean = s[2] / s[1];
      return impurity(s) <= 1e-14 * std::max(1.0, mean * mean);
    }
    return false;
  }

  double impurity(const double* s) const {
    const double w = weight(s);
    if (!(w > 0)) return 0;
    switch (o_.criterion) {
      case SplitCriterion::Gini: {
        double q = 0;
        for (int32_t c = 0; c < o_.outputs; ++c) q += (s[1 + c] / w) * (s[1 + c] / w);
        return 1 - q;
      }
      case SplitCriterion::Entropy:
        return -score(s) / w;
      case SplitCriterion::SquaredError:
        return std::max(0.0, s[3] / s[1] - (s[2] / s[1]) * (s[2] / s[1]));
      default:
        return effectNorm(s);
    }
  }

  // The node's output; uplift arms no sample reached take the parent's value.
  void value(const double* s, float* out, const float* parent) const {
    if (o_.task == TreeTask::Classification) {
      const double w = weight(s);
      for (int32_t c = 0; c < o_.outputs; ++c)
        out[c] = w > 0 ? static_cast<float>(std::max(0.0, s[1 + c]) / w) : parent != nullptr ? parent[c] : 0.0f;
    } else if (o_.task == TreeTask::Regression) {
      out[0] = s[1] > 0 ? static_cast<float>(s[2] / s[1]) : parent != nullptr ? parent[0] : 0.0f;
    } else {
      double w = 0, wy = 0;
      for (int32_t a = 0; a < o_.outputs; ++a) w += s[1 + 2 * a], wy += s[2 + 2 * a];
      for (int32_t a = 0; a < o_.outputs; ++a)
        out[a] = s[1 + 2 * a] > 0 ? static_cast<float>(s[2 + 2 * a] / s[1 + 2 * a])
                 : parent != nullptr ? parent[a]
                                     : static_cast<float>(w > 0 ? wy / w : 0);
    }
  }

  // The key categories are ordered by before their prefixes are tried as the left set.
  double sortKey(const double* s, int32_t majority) const {
    if (o_.task == TreeTask::Classification) {
      const double w = weight(s);
      return w > 0 ? s[1 + (o_.outputs == 2 ? 1 : majority)] / w : 0;
    }
    if (o_.task == TreeTask::Regression) return s[1] > 0 ? s[2] / s[1] : 0;
    return effect(s, 1);
  }

  void add(double* into, const RowStat& r) const {
    into[0] += r.count;
    if (o_.task == TreeTask::Classification) {
      into[1 + r.channel] += r.weight;
    } else if (o_.task == TreeTask::Regression) {
      const double wy = static_cast<double>(r.weight) * r.y;
      into[1] += r.weight, into[2] += wy, into[3] += wy * r.y;
    } else {
      into[1 + 2 * r.channel] += r.weight, into[2 + 2 * r.channel] += static_cast<double>(r.weight) * r.y;
    }
  }

  int32_t width() const { return width_; }

 private:
  double effect(const double* s, int32_t arm) const {
    const double wc = s[1], wt = s[1 + 2 * arm];
    if (!(wc > 0) || !(wt > 0)) return 0;
    return s[2 + 2 * arm] / wt - s[2] / wc;
  }
  double effectNorm(const double* s) const {
    double q = 0;
    for (int32_t a = 1; a < o_.outputs; ++a) q += effect(s, a) * effect(s, a);
    return q;
  }

  const TreeOptions& o_;
  int32_t width_;
};

struct Split {
  double gain = -std::numeric_limits<double>::infinity();
  int32_t feature = -1;
  bool categorical = false;
  bool missingLeft = false;
  int32_t thresholdBin = -1;              // numeric: bins <= this go left
  std::array<uint32_t, kCategoryWords> categories{};  // categorical: the left set, then the seen set
  std::vector<double> left, right;
};

struct Pending {
  int32_t node, start, end, depth;
  std::vector<double> total;
};

class Grower {
 public:
  Grower(const BinnedFeatures& binned, const std::vector<RowStat>& stats, const TreeOptions& o, Sfc32& rng, int threads,
         const Control& control)
      : binned_(binned), stats_(stats), o_(o), scorer_(o), rng_(rng), control_(control), threads_(threads), width_(scorer_.width()),
        hist_(static_cast<size_t>(kHistBins) * width_) {
    perm_.resize(binned.features);
    std::iota(perm_.begin(), perm_.end(), 0);
    mtry_ = o.maxFeatures <= 0 || o.maxFeatures > binned.features ? binned.features : o.maxFeatures;
    tree_.importance.assign(binned.features, 0);
  }

  GrownTree grow(std::vector<int32_t> rows) {
    const Control& control = control_;
    rows_ = std::move(rows);
    scratch_.resize(rows_.size());
    // The rows' stats travel with them through the partitions, so histograms read them in sequence.
    local_.resize(rows_.size());
    localScratch_.resize(rows_.size());
    for (size_t i = 0; i < rows_.size(); ++i) local_[i] = stats_[rows_[i]];
    std::vector<double> total(width_, 0);
    for (int32_t r : rows_) scorer_.add(total.data(), stats_[r]);
    addNode(total.data(), -1);
    std::vector<Pending> stack;
    stack.push_back({0, 0, static_cast<int32_t>(rows_.size()), 0, std::move(total)});
    while (!stack.empty()) {
      control.throwIfCancelled();
      Pending p = std::move(stack.back());
      stack.pop_back();
      tree_.depth = std::max(tree_.depth, p.depth);
      const double* s = p.total.data();
      if (p.depth >= o_.maxDepth || s[0] < o_.minSamplesSplit || s[0] < 2.0 * o_.minSamplesLeaf || scorer_.pure(s)) continue;
      Split best = findSplit(p);
      if (best.feature < 0 || !(best.gain > 0) || best.gain < o_.minImpurityDecrease * rootWeight_) continue;
      const int32_t middle = partition(p, best);
      const int32_t l = addNode(best.left.data(), p.node), r = addNode(best.right.data(), p.node);
      setSplit(p.node, best, l, r);
      stack.push_back({r, middle, p.end, p.depth + 1, std::move(best.right)});
      stack.push_back({l, p.start, middle, p.depth + 1, std::move(best.left)});
    }
    for (int32_t f : tree_.feature) tree_.leaves += f < 0;
    return std::move(tree_);
  }

 private:
  int32_t addNode(const double* s, int32_t parent) {
    const int32_t id = static_cast<int32_t>(tree_.feature.size());
    tree_.feature.push_back(-1);
    tree_.left.push_back(-1);
    tree_.right.push_back(-1);
    tree_.catOffset.push_back(-1);
    tree_.binThreshold.push_back(-1);
    tree_.threshold.push_back(0);
    tree_.flags.push_back(0);
    tree_.samples.push_back(static_cast<float>(s[0]));
    tree_.impurity.push_back(static_cast<float>(scorer_.impurity(s)));
    tree_.value.resize(tree_.value.size() + o_.outputs);
    std::vector<float> parentValue;
    if (parent >= 0) parentValue.assign(tree_.value.begin() + parent * o_.outputs, tree_.value.begin() + (parent + 1) * o_.outputs);
    scorer_.value(s, tree_.value.data() + static_cast<size_t>(id) * o_.outputs, parent >= 0 ? parentValue.data() : nullptr);
    if (parent < 0) rootWeight_ = scorer_.weight(s);
    return id;
  }

  Split findSplit(const Pending& p) {
    Split best;
    const double parentScore = scorer_.score(p.total.data());
    int32_t majority = 0;
    if (o_.task == TreeTask::Classification)
      for (int32_t c = 1; c < o_.outputs; ++c)
        if (p.total[1 + c] > p.total[1 + majority]) majority = c;
    const int32_t features = binned_.features;
    const auto draw = [&](int32_t j) {
      const int32_t k = j + static_cast<int32_t>((static_cast<uint64_t>(rng_.next()) * (features - j)) >> 32);
      std::swap(perm_[j], perm_[k]);
      return perm_[j];
    };
    int32_t j = 0, examined = 0;
    if (threads_ != 1 && p.end - p.start >= kParallelRows && mtry_ > 1) {
      // The first mtry draws happen whatever the histograms hold, so draw them as the loop below would,
      // build their histograms in parallel, and evaluate them in draw order: the same tree as one thread.
      const int32_t batch = mtry_;
      const size_t size = static_cast<size_t>(kHistBins) * width_;
      for (; j < batch; ++j) draw(j);
      batchHist_.resize(size * batch);
      std::vector<uint8_t> varied(batch);
      ThreadPool::instance().parallelFor(
          batch, threads_, [&](size_t b) { varied[b] = buildHistogram(perm_[b], p, batchHist_.data() + b * size); }, &control_);
      for (int32_t b = 0; b < batch; ++b) {
        if (!varied[b]) continue;
        ++examined;
        current_ = batchHist_.data() + b * size;
        evaluate(perm_[b], p, parentScore, majority, best);
      }
    }
    for (; j < features && examined < mtry_; ++j) {
      const int32_t f = draw(j);
      if (!buildHistogram(f, p, hist_.data())) continue;
      ++examined;
      current_ = hist_.data();
      evaluate(f, p, parentScore, majority, best);
    }
    return best;
  }

  // Fills hist (kHistBins x width) for feature f over the node's rows; false when they all share one bin.
  bool buildHistogram(int32_t f, const Pending& p, double* hist) const {
    std::fill(hist, hist + static_cast<size_t>(kHistBins) * width_, 0.0);
    const uint8_t* column = binned_.column(f);
    for (int32_t i = p.start; i < p.end; ++i) scorer_.add(hist + static_cast<size_t>(column[rows_[i]]) * width_, local_[i]);
    int32_t occupied = 0;
    for (int32_t b = 0; b < kHistBins && occupied < 2; ++b) occupied += hist[static_cast<size_t>(b) * width_] > 0;
    return occupied >= 2;
  }

  void evaluate(int32_t f, const Pending& p, double parentScore, int32_t majority, Split& best) {
    const bool categorical = binned_.categorical[f] != 0;
    std::vector<int32_t> order;
    for (int32_t b = 0; b < binned_.binCount[f]; ++b)
      if (bin(b)[0] > 0) order.push_back(b);
    if (categorical)
      std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return scorer_.sortKey(bin(a), majority) < scorer_.sortKey(bin(b), majority);
      });
    const double* missing = bin(kMissingBin);
    std::vector<double> nonMissing(width_), left(width_, 0), candL(width_), candR(width_);
    for (int32_t w = 0; w < width_; ++w) nonMissing[w] = p.total[w] - missing[w];
    const int32_t last = static_cast<int32_t>(order.size()) - 1;
    for (int32_t j = 0; j <= last; ++j) {
      const double* h = bin(order[j]);
      for (int32_t w = 0; w < width_; ++w) left[w] += h[w];
      for (int32_t side = 0; side < 2; ++side) {
        const bool missingLeft = side == 1;
        if (missingLeft && (missing[0] == 0 || j == last)) continue;
        for (int32_t w = 0; w < width_; ++w) {
          const double right = nonMissing[w] - left[w];
          candL[w] = left[w] + (missingLeft ? missing[w] : 0);
          candR[w] = right + (missingLeft ? 0 : missing[w]);
        }
        if (!scorer_.valid(candL.data(), candR.data())) continue;
        const double g = scorer_.gain(candL.data(), candR.data(), parentScore);
        if (!(g > best.gain)) continue;
        best.gain = g;
        best.feature = f;
        best.categorical = categorical;
        best.missingLeft = missingLeft;
        best.left = candL;
        best.right = candR;
        best.thresholdBin = categorical ? -1 : order[j];
        best.categories.fill(0);
        if (categorical)
          for (int32_t i = 0; i <= last; ++i) {
            const uint32_t bit = 1u << (order[i] & 31);
            if (i <= j) best.categories[order[i] >> 5] |= bit;
            best.categories[8 + (order[i] >> 5)] |= bit;
          }
      }
    }
    if (best.feature == f && missing[0] == 0) best.missingLeft = best.left[0] >= best.right[0];
  }

  const double* bin(int32_t b) const { return current_ + static_cast<size_t>(b) * width_; }

  bool goesLeft(const Split& s, uint8_t b) const {
    if (b == kMissingBin) return s.missingLeft;
    if (s.categorical) return (s.categories[b >> 5] >> (b & 31)) & 1u;
    return b <= s.thresholdBin;
  }

  // Stable: both sides keep ascending row order, which keeps the column reads of the children sequential.
  int32_t partition(const Pending& p, const Split& s) {
    const uint8_t* column = binned_.column(s.feature);
    int32_t l = p.start, r = 0;
    for (int32_t i = p.start; i < p.end; ++i) {
      const int32_t row = rows_[i];
      const RowStat stat = local_[i];
      if (goesLeft(s, column[row])) {
        rows_[l] = row;
        local_[l++] = stat;
      } else {
        scratch_[r] = row;
        localScratch_[r++] = stat;
      }
    }
    std::copy(scratch_.begin(), scratch_.begin() + r, rows_.begin() + l);
    std::copy(localScratch_.begin(), localScratch_.begin() + r, local_.begin() + l);
    return l;
  }

  void setSplit(int32_t node, const Split& s, int32_t l, int32_t r) {
    tree_.feature[node] = s.feature;
    tree_.left[node] = l;
    tree_.right[node] = r;
    tree_.flags[node] = (s.missingLeft ? kDefaultLeft : 0) | (s.categorical ? kCategoricalSplit : 0);
    tree_.importance[s.feature] += s.gain;
    if (s.categorical) {
      tree_.catOffset[node] = static_cast<int32_t>(tree_.catBits.size());
      tree_.catBits.insert(tree_.catBits.end(), s.categories.begin(), s.categories.end());
      tree_.threshold[node] = std::numeric_limits<float>::quiet_NaN();
    } else {
      const std::vector<float>& edges = binned_.edges[s.feature];
      tree_.binThreshold[node] = s.thresholdBin;
      tree_.threshold[node] = s.thresholdBin < static_cast<int32_t>(edges.size()) ? edges[s.thresholdBin]
                                                                                 : std::numeric_limits<float>::infinity();
    }
  }

  const BinnedFeatures& binned_;
  const std::vector<RowStat>& stats_;
  const TreeOptions& o_;
  Scorer scorer_;
  Sfc32& rng_;
  const Control& control_;
  int threads_;
  int32_t width_, mtry_ = 0;
  double rootWeight_ = 0;
  std::vector<double> hist_, batchHist_;
  const double* current_ = nullptr;  // the histogram evaluate() reads
  std::vector<int32_t> perm_, rows_, scratch_;
  std::vector<RowStat> local_, localScratch_;
  GrownTree tree_;
};

}  // namespace

int32_t statWidth(const TreeOptions& o) {
  switch (o.task) {
    case TreeTask::Classification: return 1 + o.outputs;
    case TreeTask::Regression: return 4;
    case TreeTask::Uplift: return 1 + 2 * o.outputs;
  }
  return 1;
}

GrownTree growTree(const BinnedFeatures& binned, const std::vector<RowStat>& stats, std::vector<int32_t> rows,
                   const TreeOptions& options, Sfc32& rng, int threads, const Control& control) {
  Grower grower(binned, stats, options, rng, threads, control);
  return grower.grow(std::move(rows));
}

void estimateHonestly(GrownTree& tree, const BinnedFeatures& binned, const std::vector<RowStat>& stats,
                      const std::vector<int32_t>& rows, const TreeOptions& options) {
  const Scorer scorer(options);
  const int32_t width = scorer.width(), nodes = static_cast<int32_t>(tree.feature.size());
  std::vector<double> acc(static_cast<size_t>(nodes) * width, 0);
  for (int32_t r : rows) {
    for (int32_t node = 0;;) {
      scorer.add(acc.data() + static_cast<size_t>(node) * width, stats[r]);
      const int32_t f = tree.feature[node];
      if (f < 0) break;
      const uint8_t b = binned.column(f)[r];
      bool left;
      const uint32_t* set = tree.catOffset[node] >= 0 ? tree.catBits.data() + tree.catOffset[node] : nullptr;
      if (b == kMissingBin || (set != nullptr && !((set[8 + (b >> 5)] >> (b & 31)) & 1u))) left = tree.flags[node] & kDefaultLeft;
      else if (set != nullptr) left = (set[b >> 5] >> (b & 31)) & 1u;
      else left = b <= tree.binThreshold[node];
      node = left ? tree.left[node] : tree.right[node];
    }
  }
  std::vector<int32_t> parent(nodes, -1);
  for (int32_t i = 0; i < nodes; ++i)
    if (tree.feature[i] >= 0) parent[tree.left[i]] = parent[tree.right[i]] = i;
  const int32_t k = options.outputs;
  for (int32_t i = 0; i < nodes; ++i) {
    const double* s = acc.data() + static_cast<size_t>(i) * width;
    std::vector<float> inherited;
    if (parent[i] >= 0) inherited.assign(tree.value.begin() + parent[i] * k, tree.value.begin() + (parent[i] + 1) * k);
    else inherited.assign(tree.value.begin(), tree.value.begin() + k);  // the root keeps its structure-sample value where an arm is empty
    scorer.value(s, tree.value.data() + static_cast<size_t>(i) * k, inherited.data());
  }
}

}  // namespace affinity::detail
