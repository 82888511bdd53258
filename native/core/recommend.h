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
  // When non-empty, a bit per item (bit i of word i / 32): only items whose bit is set are returned. A
  // catalogue filter arrives this way, precomputed and cached, so it costs a bit test inside the scan.
  std::span<const uint32_t> allowed;
  bool allows(int32_t item) const {
    return allowed.empty() || ((allowed[static_cast<size_t>(item) >> 5] >> (item & 31)) & 1u);
  }
};

// The items a mask allows, ascending: what a very selective filter scores directly instead of scanning.
std::vector<int32_t> allowedItems(std::span<const uint32_t> allowed, int32_t items);
// Set bits of the mask among the first `items` items.
int64_t allowedCount(std::span<const uint32_t> allowed, int32_t items);
// Rejects a mask that does not have one bit per item.
void checkAllowed(std::span<const uint32_t> allowed, int32_t items);

struct BatchResult {
  std::vector<int32_t> items;  // users.size() * k, -1 where fewer than k candidates
  std::vector<float> scores;   // same shape, 0 in the padding
};

}  // namespace affinity
