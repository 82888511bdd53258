// Trees and forests: binning against a sort, splits on planted structure, categorical and missing paths,
// determinism across threads, out-of-bag against held-out, uplift on a planted effect, bad input.
// (The split-for-split comparison with a plain reference lives in test/trees.test.ts.)
#include <algorithm>
#include <cmath>
#include <random>

#include "../core/trees.h"
#include "harness.h"

using namespace affinity;

namespace {

struct Table {
  int32_t rows, dims;
  std::vector<float> x, y;
  std::vector<int32_t> label;
  DenseRows view() const { return DenseRows{x, rows, dims}; }
};

// label = 1 when x0 > 0.3 xor x1 > -0.2, with `flip` of the labels flipped; x2.. are noise.
Table xorTable(int32_t rows, int32_t dims, double flip, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  Table t{rows, dims, std::vector<float>(static_cast<size_t>(rows) * dims), std::vector<float>(rows), std::vector<int32_t>(rows)};
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t d = 0; d < dims; ++d) t.x[r * dims + d] = u(rng);
    int32_t l = (t.x[r * dims] > 0.3f) != (t.x[r * dims + 1] > -0.2f);
    if (u(rng) * 0.5 + 0.5 < flip) l = 1 - l;
    t.label[r] = l;
    t.y[r] = static_cast<float>(l);
  }
  return t;
}

ForestOptions treeOptions(int32_t depth) {
  ForestOptions o;
  o.trees = 1;
  o.bootstrap = false;
  o.tree.maxDepth = depth;
  return o;
}

std::vector<float> predict(const ForestResult& r, const Table& t, int threads = 0) {
  Control c;
  return predictForest(packForest(viewOf(r.forest)), t.view(), 0, r.forest.trees(), threads, c);
}

double accuracy(const std::vector<float>& proba, const std::vector<int32_t>& label) {
  double hits = 0;
  for (size_t r = 0; r < label.size(); ++r) hits += (proba[r * 2 + 1] > 0.5f) == (label[r] == 1);
  return hits / label.size();
}

}  // namespace

TEST(trees, binning_matches_sorted_ranks) {
  std::mt19937 rng(5);
  const int32_t rows = 5000;
  std::vector<float> x(rows * 2);
  for (int32_t r = 0; r < rows; ++r) {
    x[r * 2] = static_cast<float>(rng() % 7);                       // 7 distinct values
    x[r * 2 + 1] = r % 50 == 0 ? std::nanf("") : std::ldexp(static_cast<float>(rng() % 100000), -10);
  }
  Control c;
  BinnedFeatures b = binFeatures(DenseRows{x, rows, 2}, {}, 32, 2, c);
  CHECK(b.binCount[0] == 7 && b.edges[0].size() == 6);
  CHECK(b.binCount[1] <= 32 && b.binCount[1] >= 30);
  for (int32_t f = 0; f < 2; ++f)
    for (int32_t r = 0; r < rows; ++r) {
      const float v = x[r * 2 + f];
      const uint8_t bin = b.column(f)[r];
      if (std::isnan(v)) {
        CHECK(bin == kMissingBin);
        continue;
      }
      // Bin b holds edges[b-1] < v <= edges[b].
      if (bin > 0) CHECK(v > b.edges[f][bin - 1]);
      if (bin < b.edges[f].size()) CHECK(v <= b.edges[f][bin]);
    }
  // Quantile bins hold about rows / bins each.
  std::vector<int32_t> counts(256, 0);
  for (int32_t r = 0; r < rows; ++r) ++counts[b.column(1)[r]];
  for (int32_t k = 0; k < b.binCount[1]; ++k) CHECK(counts[k] > rows / 32 / 2 && counts[k] < rows / 32 * 2);
}

TEST(trees, a_depth_two_tree_finds_the_xor_thresholds) {
  Table t = xorTable(4000, 4, 0, 1);
  Control c;
  ForestResult r = fitForest(TreeData{t.view(), {}, {}, t.label, {}}, treeOptions(2), c);
  CHECK(r.forest.nodes() == 7);
  // The root cannot see the xor; the two children each split on the other feature at its threshold.
  const Forest& f = r.forest;
  for (int32_t child : {f.left[0], f.right[0]}) {
    CHECK(f.feature[child] == 1 - f.feature[0] || f.feature[child] == f.feature[0]);
  }
  CHECK(accuracy(predict(r, t), t.label) > 0.97);
  // Deeper trees reach purity on noiseless data.
  ForestResult deep = fitForest(TreeData{t.view(), {}, {}, t.label, {}}, treeOptions(12), c);
  CHECK(accuracy(predict(deep, t), t.label) == 1.0);
}

TEST(trees, categorical_sets_and_missing_values_take_their_own_branches) {
  const int32_t rows = 3000;
  std::vector<float> x(rows * 2);
  std::vector<int32_t> label(rows);
  std::mt19937 rng(2);
  for (int32_t r = 0; r < rows; ++r) {
    const int32_t category = static_cast<int32_t>(rng() % 9);
    x[r * 2] = static_cast<float>(category);
    x[r * 2 + 1] = r % 3 == 0 ? std::nanf("") : static_cast<float>(rng() % 100);
    // Class 1 for categories {1, 4, 6} (no threshold separates them) or a missing second feature.
    label[r] = (category == 1 || category == 4 || category == 6) || std::isnan(x[r * 2 + 1]);
  }
  const std::vector<uint8_t> categorical{1, 0};
  Control c;
  ForestResult r = fitForest(TreeData{DenseRows{x, rows, 2}, categorical, {}, label, {}}, treeOptions(2), c);
  Table t{rows, 2, x, {}, label};
  CHECK(accuracy(predict(r, t), label) == 1.0);
  bool sawCategorical = false, sawMissing = false;
  for (int32_t i = 0; i < r.forest.nodes(); ++i) {
    if (r.forest.feature[i] == 0) sawCategorical |= (r.forest.flags[i] & kCategoricalSplit) != 0;
    if (r.forest.feature[i] == 1) sawMissing |= std::isinf(r.forest.threshold[i]);  // missing against every value
  }
  CHECK(sawCategorical && sawMissing);
  // A category training never saw goes down the missing branch, like NaN.
  std::vector<float> unseen{200.0f, 5.0f, std::nanf(""), 5.0f};
  Control c2;
  std::vector<float> p = predictForest(packForest(viewOf(r.forest)), DenseRows{unseen, 2, 2}, 0, 1, 1, c2);
  CHECK(p[1] == p[3]);
}

TEST(trees, the_byte_coded_walk_decides_as_the_float_walk) {
  const int32_t rows = 4000, dims = 4;
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> u(-3, 3);
  std::vector<float> x(rows * dims);
  std::vector<int32_t> label(rows);
  for (int32_t r = 0; r < rows; ++r) {
    x[r * dims] = static_cast<float>(rng() % 20);                                   // categorical
    x[r * dims + 1] = r % 7 == 0 ? std::nanf("") : std::round(u(rng) * 4) / 4;     // few values, gaps
    x[r * dims + 2] = u(rng);                                                       // many values
    x[r * dims + 3] = u(rng);
    label[r] = (x[r * dims] < 8) != (x[r * dims + 2] > 0.5f * x[r * dims + 1]) || std::isnan(x[r * dims + 1]);
  }
  ForestOptions o;
  o.trees = 9;
  o.maxBins = 40;
  Control c;
  ForestResult fit = fitForest(TreeData{DenseRows{x, rows, dims}, std::vector<uint8_t>{1, 0, 0, 0}, {}, label, {}}, o, c);
  const PackedForest coded = packForest(viewOf(fit.forest));
  CHECK(!coded.compact.empty());
  PackedForest plain = coded;
  plain.compact.clear();
  // Probes: training rows, every cut exactly, just above and below it, NaN, infinities, unseen categories.
  std::vector<float> probe(x);
  for (int32_t f = 1; f < dims; ++f)
    for (float cut : coded.cuts[f])
      for (float v : {cut, std::nextafter(cut, 1e30f), std::nextafter(cut, -1e30f)}) {
        std::vector<float> row{static_cast<float>(rng() % 25), u(rng), u(rng), u(rng)};
        row[f] = v;
        probe.insert(probe.end(), row.begin(), row.end());
      }
  for (float v : {std::nanf(""), std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 254.0f, 255.0f, 3.5f, -1.0f})
    for (int32_t f = 0; f < dims; ++f) {
      std::vector<float> row{1, 0.25f, 0.1f, -0.2f};
      row[f] = v;
      probe.insert(probe.end(), row.begin(), row.end());
    }
  const int32_t n = static_cast<int32_t>(probe.size() / dims);
  Control c1, c2;
  CHECK(predictForest(coded, DenseRows{probe, n, dims}, 0, 9, 2, c1) == predictForest(plain, DenseRows{probe, n, dims}, 0, 9, 2, c2));
}

TEST(trees, regression_recovers_a_step_function) {
  const int32_t rows = 2000;
  std::vector<float> x(rows), y(rows);
  for (int32_t r = 0; r < rows; ++r) {
    x[r] = static_cast<float>(r % 200);  // 200 distinct values: one bin each
    y[r] = x[r] < 70 ? 2.0f : x[r] < 150 ? -1.0f : 5.0f;
  }
  ForestOptions o = treeOptions(3);
  o.tree.task = TreeTask::Regression;
  o.tree.criterion = SplitCriterion::SquaredError;
  o.tree.outputs = 1;
  Control c;
  ForestResult r = fitForest(TreeData{DenseRows{x, rows, 1}, {}, y, {}, {}}, o, c);
  Table t{rows, 1, x, y, {}};
  std::vector<float> p = predict(r, t);
  for (int32_t i = 0; i < rows; ++i) CHECK(std::abs(p[i] - y[i]) < 1e-5);
  CHECK(r.leaves[0] == 3);  // pure leaves stop splitting
}

TEST(trees, forests_are_the_same_whatever_the_thread_count_and_oob_tracks_held_out) {
  Table train = xorTable(6000, 6, 0.1, 3), test = xorTable(4000, 6, 0.1, 4);
  ForestOptions o;
  o.trees = 24;
  o.tree.maxFeatures = 2;
  o.tree.minSamplesLeaf = 3;
  ForestResult results[2];
  for (int threads : {1, 2}) {
    o.threads = threads;
    Control c;
    results[threads - 1] = fitForest(TreeData{train.view(), {}, {}, train.label, {}}, o, c);
  }
  const Forest &a = results[0].forest, &b = results[1].forest;
  CHECK(a.feature == b.feature && a.threshold == b.threshold && a.value == b.value && a.treeOffsets == b.treeOffsets);
  CHECK(predict(results[0], test, 1) == predict(results[1], test, 2));
  const double held = accuracy(predict(results[0], test), test.label);
  CHECK(held > 0.85);
  CHECK(std::abs(results[0].oobScore - held) < 0.03);
  // Impurity importance: the two informative features lead.
  const std::vector<double>& imp = results[0].importances;
  for (int32_t d = 2; d < 6; ++d) CHECK(imp[0] > imp[d] && imp[1] > imp[d]);
  double total = 0;
  for (double v : imp) total += v;
  CHECK(std::abs(total - 1) < 1e-9);
}

TEST(trees, a_lone_tree_builds_histograms_in_parallel_and_stays_the_same) {
  Table t = xorTable(60000, 8, 0.05, 12);
  ForestOptions o = treeOptions(10);
  o.tree.maxFeatures = 5;
  Forest grown[2];
  for (int threads : {1, 2}) {
    o.threads = threads;
    Control c;
    grown[threads - 1] = fitForest(TreeData{t.view(), {}, {}, t.label, {}}, o, c).forest;
  }
  CHECK(grown[0].nodes() > 100);
  CHECK(grown[0].feature == grown[1].feature && grown[0].threshold == grown[1].threshold && grown[0].value == grown[1].value);
}

TEST(trees, an_uplift_forest_finds_who_responds) {
  // Treatment lifts the response by 0.3 only where x0 > 0; the outcome also depends on x1 for everyone.
  const int32_t rows = 20000;
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> x(rows * 3), y(rows);
  std::vector<int32_t> arm(rows);
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t d = 0; d < 3; ++d) x[r * 3 + d] = u(rng);
    arm[r] = static_cast<int32_t>(rng() % 2);
    const double p = 0.2 + 0.2 * (x[r * 3 + 1] > 0) + (arm[r] == 1 && x[r * 3] > 0 ? 0.3 : 0);
    y[r] = u(rng) * 0.5 + 0.5 < p ? 1.0f : 0.0f;
  }
  for (SplitCriterion criterion : {SplitCriterion::Euclidean, SplitCriterion::DeltaDeltaP}) {
    ForestOptions o;
    o.trees = 20;
    o.tree.task = TreeTask::Uplift;
    o.tree.criterion = criterion;
    o.tree.outputs = 2;
    o.tree.maxDepth = 3;
    o.tree.minSamplesLeaf = 100;
    o.tree.minSamplesArm = 30;
    o.tree.honest = true;
    Control c;
    ForestResult r = fitForest(TreeData{DenseRows{x, rows, 3}, {}, y, arm, {}}, o, c);
    std::vector<float> probe{0.5f, 0.5f, 0.0f, -0.5f, 0.5f, 0.0f};
    Control c2;
    std::vector<float> p = predictForest(packForest(viewOf(r.forest)), DenseRows{probe, 2, 3}, 0, o.trees, 1, c2);
    const double responds = p[1] - p[0], indifferent = p[3] - p[2];
    CHECK(responds > 0.2 && responds < 0.4);
    CHECK(std::abs(indifferent) < 0.1);
    CHECK(r.importances[0] > r.importances[1]);
  }
}

TEST(trees, bad_input_is_refused_with_a_code) {
  Table t = xorTable(100, 2, 0, 6);
  Control c;
  std::vector<int32_t> oneClass(100, 1);
  CHECK_THROWS_CODE(fitForest(TreeData{t.view(), {}, {}, oneClass, {}}, treeOptions(3), c), code::kBadInput);
  std::vector<int32_t> outOfRange = t.label;
  outOfRange[5] = 2;
  CHECK_THROWS_CODE(fitForest(TreeData{t.view(), {}, {}, outOfRange, {}}, treeOptions(3), c), code::kBadInput);
  ForestOptions reg = treeOptions(3);
  reg.tree.task = TreeTask::Regression;
  reg.tree.criterion = SplitCriterion::SquaredError;
  reg.tree.outputs = 1;
  std::vector<float> constant(100, 4.0f);
  CHECK_THROWS_CODE(fitForest(TreeData{t.view(), {}, constant, {}, {}}, reg, c), code::kBadInput);
  std::vector<int32_t> allControl(100, 0);
  ForestOptions up = treeOptions(3);
  up.tree.task = TreeTask::Uplift;
  up.tree.criterion = SplitCriterion::Euclidean;
  CHECK_THROWS_CODE(fitForest(TreeData{t.view(), {}, t.y, allControl, {}}, up, c), code::kBadInput);
  std::vector<float> infinite = t.x;
  infinite[7] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_CODE(fitForest(TreeData{DenseRows{infinite, 100, 2}, {}, {}, t.label, {}}, treeOptions(3), c), code::kBadInput);
  ForestOptions wrong = treeOptions(3);
  wrong.tree.criterion = SplitCriterion::SquaredError;
  CHECK_THROWS_CODE(fitForest(TreeData{t.view(), {}, {}, t.label, {}}, wrong, c), code::kBadInput);
  // A corrupted forest is refused before it can walk out of bounds.
  ForestResult r = fitForest(TreeData{t.view(), {}, {}, t.label, {}}, treeOptions(3), c);
  Forest broken = r.forest;
  broken.left[0] = 0;
  CHECK_THROWS_CODE(packForest(viewOf(broken)), code::kBadInput);
  packForest(viewOf(r.forest));
  // Cancellation stops the fit.
  int32_t flag = 1;
  Control cancelled(&flag, nullptr);
  CHECK_THROWS_CODE(fitForest(TreeData{t.view(), {}, {}, t.label, {}}, treeOptions(3), cancelled), code::kCancelled);
}
