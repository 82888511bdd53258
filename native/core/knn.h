// Neighbourhood scoring shared by ItemKNN and UserKNN. Both are a two-hop scatter:
//   ItemKNN: score(u, i) = sum over j in items(u) of r_uj * S[j, i]  (first = interactions, second = S)
//   UserKNN: score(u, i) = sum over v in S[u]    of S[u, v] * r_vi  (first = S, second = interactions)
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "control.h"
#include "sparse.h"
#include "recommend.h"
#include "topk.h"

namespace affinity {

struct TwoHop {
  CsrView first;   // row = the user; entries (middle, weight)
  CsrView second;  // row = middle; entries (item, weight)
  CsrView seen;    // users x items, for filterSeen
};


// Top-k items for one user, best first. Only items reached through a neighbour are candidates.
std::vector<Scored> recommend(const TwoHop& model, int32_t user, int32_t k, const RecommendFilter& filter);

// Exact scores of the given items for one user (0 where no neighbour links them).
std::vector<float> scoreItems(const TwoHop& model, int32_t user, std::span<const int32_t> items);

BatchResult recommendBatch(const TwoHop& model, std::span<const int32_t> users, int32_t k, const RecommendFilter& filter,
                           int threads, Control& control);

}  // namespace affinity
