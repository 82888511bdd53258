// What every recommender takes and returns: filters and batch results.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace affinity {

struct RecommendFilter {
  bool filterSeen = true;
  std::span<const int32_t> exclude;  // item indices never returned
  std::span<const int32_t> include;  // when non-empty, only these items are returned
};

struct BatchResult {
  std::vector<int32_t> items;  // users.size() * k, -1 where fewer than k candidates
  std::vector<float> scores;   // same shape, 0 in the padding
};

}  // namespace affinity
