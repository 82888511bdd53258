// Scoring with ALS factors: top-K for a user vector, batches, given candidates, similar rows.
#pragma once
#include <span>
#include <vector>

#include "als.h"
#include "recommend.h"

namespace affinity {

// Item factors in panels of kPanelItems items (see simd/dense.h), zero-padded: what scoring streams.
std::vector<float> alsPackItems(const AlsView& m);

// A user to score for: a factor vector (a model row or a folded-in one), its bias and its seen items
// (sorted).
struct UserQuery {
  const float* factors;
  float bias = 0.0f;
  std::span<const int32_t> seen;
};

// m.itemPanels must be set (alsPackItems). Scores are identical between the single and batch paths.
std::vector<Scored> alsRecommend(const AlsView& m, const UserQuery& q, int32_t k, const RecommendFilter& filter);

// Rows of `seen` (users x items) give each user's history for filterSeen.
BatchResult alsRecommendBatch(const AlsView& m, const CsrView& seen, std::span<const int32_t> users, int32_t k,
                              const RecommendFilter& filter, int threads, Control& control);

std::vector<float> alsScore(const AlsView& m, const UserQuery& q, std::span<const int32_t> items);

// Cosine similarity in factor space between one row and all others (items when byItems, else users).
std::vector<Scored> alsSimilar(const AlsView& m, bool byItems, int32_t row, int32_t k);

}  // namespace affinity
