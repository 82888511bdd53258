#include <cmath>
#include <random>

#include "../core/als.h"
#include "harness.h"

using namespace affinity;

namespace {

// users x items with `perUser` distinct random items each, values 1..5.
Csr randomRows(int32_t users, int32_t items, int32_t perUser, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> rows, cols;
  std::vector<float> values;
  for (int32_t u = 0; u < users; ++u) {
    std::vector<int32_t> all(static_cast<size_t>(items));
    for (int32_t i = 0; i < items; ++i) all[static_cast<size_t>(i)] = i;
    std::shuffle(all.begin(), all.end(), rng);
    for (int32_t k = 0; k < perUser; ++k) {
      rows.push_back(u), cols.push_back(all[static_cast<size_t>(k)]);
      values.push_back(static_cast<float>(1 + rng() % 5));
    }
  }
  return buildCsr({users, items, rows, cols, values, {}}, DuplicatePolicy::Sum);
}

}  // namespace

// Rows long enough to be copied (n f > 16384) but shorter than f: the copy's index list and the Gram
// product's share one buffer, which must not move under either (ASan checks this run).
TEST(als, wide_factors_with_copied_rows) {
  const Csr ui = randomRows(24, 300, 150, 3);
  const Csr iu = transpose(ui.view());
  AlsOptions o;
  o.factors = 160;
  o.iterations = 2;
  o.regularization = 0.1f;
  std::vector<AlsModel> models;
  std::vector<double> losses;
  for (int threads : {1, 2}) {
    o.threads = threads;
    AlsModel m = alsInit(ui.rows, ui.cols, o);
    Control control;
    double last = 0;
    alsFit(ui.view(), iu.view(), o, m, control, [&](int32_t, double loss) { last = loss; });
    for (float v : m.userFactors) CHECK(std::isfinite(v));
    for (float v : m.itemFactors) CHECK(std::isfinite(v));
    CHECK(std::isfinite(last) && last > 0);
    models.push_back(std::move(m));
    losses.push_back(last);
  }
  CHECK(models[0].userFactors == models[1].userFactors);  // deterministic whatever the thread count
  CHECK(models[0].itemFactors == models[1].itemFactors);
  CHECK(losses[0] == losses[1]);
}

TEST(als, history_is_sorted_and_merged_in_the_core) {
  std::vector<int32_t> items{5, 2, 5, 0, 2};
  std::vector<float> values{1, 2, 3, 4, 0.5f};
  History h = alsHistory(items, values, 6);
  CHECK((h.items == std::vector<int32_t>{0, 2, 5}));
  CHECK((h.values == std::vector<float>{4, 2.5f, 4}));
  std::vector<int32_t> bad{1, 6};
  std::vector<float> two{1, 1};
  CHECK_THROWS_CODE(alsHistory(bad, two, 6), code::kBadInput);
  CHECK_THROWS_CODE(alsHistory(items, two, 6), code::kDimMismatch);
  CHECK_THROWS_CODE(parseAlsSolver("lbfgs"), code::kBadInput);
  CHECK_THROWS_CODE(parseAlsImplicit("Implicit"), code::kBadInput);
  CHECK(parseAlsSolver("cholesky") == AlsSolver::Cholesky && !parseAlsImplicit("explicit"));
}
