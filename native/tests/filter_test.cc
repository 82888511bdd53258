// Catalogue masks in the ALS scans: the masked full scan and the scan over a selective mask's own panels
// give the brute-force top-k of the allowed items, for single users and batches, on random models.
#include <algorithm>
#include <random>

#include "../core/als.h"
#include "../core/als_score.h"
#include "../core/recommend.h"
#include "harness.h"

using namespace affinity;

namespace {

std::vector<uint32_t> randomMask(int32_t items, double keep, std::mt19937& rng) {
  std::vector<uint32_t> mask((static_cast<size_t>(items) + 31) / 32, 0);
  std::uniform_real_distribution<double> u(0, 1);
  for (int32_t i = 0; i < items; ++i)
    if (u(rng) < keep) mask[static_cast<size_t>(i) >> 5] |= 1u << (i & 31);
  return mask;
}

// Every allowed item scored one by one, best first (ties: lower index).
std::vector<Scored> bruteForce(const AlsView& m, const UserQuery& q, int32_t k, const std::vector<uint32_t>& mask) {
  RecommendFilter f;
  f.allowed = mask;
  std::vector<int32_t> all;
  for (int32_t i = 0; i < m.items; ++i)
    if (f.allows(i) && !std::binary_search(q.seen.begin(), q.seen.end(), i)) all.push_back(i);
  std::vector<float> s = alsScore(m, q, all);
  std::vector<Scored> out;
  for (size_t j = 0; j < all.size(); ++j) out.push_back({all[j], s[j]});
  std::sort(out.begin(), out.end(), ranksAbove);
  if (out.size() > static_cast<size_t>(k)) out.resize(static_cast<size_t>(k));
  return out;
}

}  // namespace

TEST(filter, masked_scans_match_brute_force) {
  std::mt19937 rng(11);
  AlsOptions o;
  o.factors = 24;
  for (bool implicit : {true, false}) {
    o.implicit = implicit;
    AlsModel model = alsInit(300, 3000, o);
    // Power-law item norms, as trained models have: the early stop has something to stop on.
    for (int32_t i = 0; i < model.items; ++i)
      for (int32_t d = 0; d < model.factors; ++d) model.itemFactors[static_cast<size_t>(i) * model.factors + d] *= 3.0f / (1 + i % 97);
    if (!implicit) {
      model.userBias.assign(static_cast<size_t>(model.users), 0.1f);
      model.itemBias.assign(static_cast<size_t>(model.items), 0.0f);
      for (auto& b : model.itemBias) b = std::uniform_real_distribution<float>(-1, 1)(rng);
    }
    AlsView view(model);
    ItemPanels panels = alsPackItems(view);
    PanelSubsets subsets(panels.panels.size());
    view.panels = &panels;
    view.subsets = &subsets;
    std::vector<int32_t> seen{1, 5, 9, 200};
    for (double keep : {0.5, 0.2, 0.05, 0.004, 0.0}) {
      const std::vector<uint32_t> mask = randomMask(model.items, keep, rng);
      RecommendFilter f;
      f.allowed = mask;
      for (int32_t u : {0, 7, 299}) {
        const UserQuery q{view.user(u), implicit ? 0.0f : model.userBias[static_cast<size_t>(u)], seen};
        for (int32_t k : {1, 10, 60}) {
          const std::vector<Scored> got = alsRecommend(view, q, k, f), want = bruteForce(view, q, k, mask);
          CHECK(got.size() == want.size());
          for (size_t j = 0; j < want.size(); ++j) CHECK(got[j].index == want[j].index && got[j].score == want[j].score);
        }
      }
      // Batches take the same paths, from several threads (the subsets are shared).
      CsrView none;
      none.rows = model.users;
      none.cols = model.items;
      std::vector<int32_t> zeros(static_cast<size_t>(model.users) + 1, 0);
      none.indptr = zeros;
      std::vector<int32_t> users{3, 4, 5, 6, 7, 8};
      Control control;
      f.filterSeen = false;
      BatchResult batch = alsRecommendBatch(view, none, users, 10, f, 2, control);
      for (size_t r = 0; r < users.size(); ++r) {
        const UserQuery q{view.user(users[r]), implicit ? 0.0f : model.userBias[static_cast<size_t>(users[r])], {}};
        const std::vector<Scored> want = bruteForce(view, q, 10, mask);
        for (size_t j = 0; j < want.size(); ++j) CHECK(batch.items[r * 10 + j] == want[j].index);
        for (size_t j = want.size(); j < 10; ++j) CHECK(batch.items[r * 10 + j] == -1);
      }
    }
    std::vector<uint32_t> wrong(3, ~0u);
    RecommendFilter bad;
    bad.allowed = wrong;
    CHECK_THROWS_CODE(alsRecommend(view, UserQuery{view.user(0), 0.0f, {}}, 5, bad), code::kDimMismatch);
  }
}

TEST(filter, mask_counts_and_lists) {
  std::vector<uint32_t> mask{0x80000001u, 0xffffffffu};
  CHECK(allowedCount(mask, 40) == 2 + 8);  // bits past the item count are not counted
  const std::vector<int32_t> items = allowedItems(mask, 40);
  CHECK(items.size() == 10 && items[0] == 0 && items[1] == 31 && items[2] == 32 && items.back() == 39);
}
