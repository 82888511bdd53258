// Scoring with ALS factors: top-K for a user vector, batches, given candidates, similar rows.
#pragma once
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "als.h"
#include "recommend.h"

namespace affinity {

// Item factors as scoring streams them: panels of kPanelItems items (see simd/dense.h) in descending order
// of norm, with bounds that let a scan stop as soon as no later item can enter a user's top-k
// (Cauchy-Schwarz: x.y <= |x||y|). Under power-law popularity most items have tiny factors, so a scan
// reads a few percent of the catalogue, and the result is still exact.
struct ItemPanels {
  std::vector<float> panels;     // panel p holds the items at positions 16p .. 16p+15, zero-padded
  std::vector<int32_t> order;    // position -> item index
  std::vector<float> bias;       // item biases by position, padded to whole panels (explicit models only)
  std::vector<double> normBound;  // per panel: the largest |y| in this panel and all later ones
  std::vector<double> biasBound;  // per panel: the largest item bias in this panel and all later ones
};
ItemPanels alsPackItems(const AlsView& m);

// Panels of only the items a selective filter allows (at most 1/8 of the catalogue), in the same order:
// the early-stopping scan then runs over the filtered catalogue, as fast as an unfiltered one or faster.
// Built once per mask and kept (least recently used first out) while they fit a budget of floats; safe
// to use from several threads.
class PanelSubsets {
 public:
  explicit PanelSubsets(size_t budgetFloats) : budget_(budgetFloats) {}
  // The subset for a mask (m.panels must be set), built on a miss.
  std::shared_ptr<const ItemPanels> get(const AlsView& m, std::span<const uint32_t> mask);

 private:
  struct Entry {
    uint64_t hash;
    std::vector<uint32_t> mask;
    std::shared_ptr<const ItemPanels> panels;
    uint64_t lastUse;
  };
  std::mutex mutex_;
  std::vector<Entry> entries_;
  size_t budget_, used_ = 0;
  uint64_t clock_ = 0;
};

// Items scored by the recommend scans since the last call (summed over users), for benchmarks: how much
// of the catalogue a filtered or early-stopped scan touches. Reading resets it.
int64_t alsTakeScoredCount();

// A user to score for: a factor vector (a model row or a folded-in one), its bias and its seen items
// (sorted).
struct UserQuery {
  const float* factors;
  float bias = 0.0f;
  std::span<const int32_t> seen;
};

// m.panels must be set (alsPackItems). Scores are identical between the single and batch paths.
std::vector<Scored> alsRecommend(const AlsView& m, const UserQuery& q, int32_t k, const RecommendFilter& filter);

// Rows of `seen` (users x items) give each user's history for filterSeen.
BatchResult alsRecommendBatch(const AlsView& m, const CsrView& seen, std::span<const int32_t> users, int32_t k,
                              const RecommendFilter& filter, int threads, Control& control);

std::vector<float> alsScore(const AlsView& m, const UserQuery& q, std::span<const int32_t> items);

// Cosine similarity in factor space between one row and all others (items when byItems, else users).
// allowed: a bit per item (see RecommendFilter), for item neighbours; empty allows all.
std::vector<Scored> alsSimilar(const AlsView& m, bool byItems, int32_t row, int32_t k, std::span<const uint32_t> allowed = {});

}  // namespace affinity
