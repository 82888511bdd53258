// Scoring with ALS factors: top-K for a user vector, batches, given candidates, similar rows.
#pragma once
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
