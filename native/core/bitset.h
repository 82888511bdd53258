// A set of small integers as bits: 1/32 of the memory of a stamp array, so it stays in L1/L2 while the
// accumulators it guards are hit at random.
#pragma once
#include <cstdint>
#include <vector>

namespace affinity {

class BitSet {
 public:
  void resize(size_t n) { words_.assign((n + 63) / 64, 0); }
  bool test(int32_t i) const { return (words_[static_cast<size_t>(i) >> 6] >> (i & 63)) & 1u; }
  // Sets the bit; returns true when it was clear.
  bool insert(int32_t i) {
    uint64_t& w = words_[static_cast<size_t>(i) >> 6];
    const uint64_t bit = uint64_t{1} << (i & 63);
    const bool fresh = (w & bit) == 0;
    w |= bit;
    return fresh;
  }
  void erase(int32_t i) { words_[static_cast<size_t>(i) >> 6] &= ~(uint64_t{1} << (i & 63)); }

 private:
  std::vector<uint64_t> words_;
};

}  // namespace affinity
