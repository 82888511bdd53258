#include "recommend.h"

#include <bit>
#include <string>

#include "error.h"

namespace affinity {

void checkAllowed(std::span<const uint32_t> allowed, int32_t items) {
  if (allowed.empty()) return;
  const size_t words = (static_cast<size_t>(items) + 31) / 32;
  require(allowed.size() == words, code::kDimMismatch,
          "the allowed-items mask has " + std::to_string(allowed.size()) + " words, expected " + std::to_string(words));
}

int64_t allowedCount(std::span<const uint32_t> allowed, int32_t items) {
  int64_t n = 0;
  const size_t full = static_cast<size_t>(items) / 32;
  for (size_t w = 0; w < full; ++w) n += std::popcount(allowed[w]);
  if (items % 32) n += std::popcount(allowed[full] & ((1u << (items % 32)) - 1));
  return n;
}

std::vector<int32_t> allowedItems(std::span<const uint32_t> allowed, int32_t items) {
  std::vector<int32_t> out;
  out.reserve(static_cast<size_t>(allowedCount(allowed, items)));
  for (size_t w = 0; w < allowed.size(); ++w)
    for (uint32_t bits = allowed[w]; bits != 0; bits &= bits - 1) {
      const int32_t i = static_cast<int32_t>(w * 32 + static_cast<size_t>(std::countr_zero(bits)));
      if (i < items) out.push_back(i);
    }
  return out;
}

}  // namespace affinity
