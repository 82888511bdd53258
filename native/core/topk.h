// Bounded top-K selection with a total order: higher score first, then lower index. Because the
// order is total, the result does not depend on the order candidates arrive in (threads, SIMD paths).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace affinity {

struct Scored {
  int32_t index;
  float score;
};

inline bool ranksAbove(const Scored& a, const Scored& b) {
  return a.score > b.score || (a.score == b.score && a.index < b.index);
}

class TopK {
 public:
  explicit TopK(size_t k = 0) : k_(k) { heap_.reserve(std::min<size_t>(k, 1 << 16)); }
  void reset(size_t k) {
    k_ = k;
    heap_.clear();
  }
  bool full() const { return heap_.size() >= k_; }
  // A candidate must score at least this much to have a chance (ties are settled by index in push).
  float admissionThreshold(float floor) const {
    if (!full() || k_ == 0) return floor;
    return std::max(floor, std::nextafter(heap_.front().score, -INFINITY));
  }
  void push(int32_t index, float score) {
    if (k_ == 0) return;
    Scored c{index, score};
    if (heap_.size() < k_) {
      heap_.push_back(c);
      std::push_heap(heap_.begin(), heap_.end(), ranksAbove);
    } else if (ranksAbove(c, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), ranksAbove);
      heap_.back() = c;
      std::push_heap(heap_.begin(), heap_.end(), ranksAbove);
    }
  }
  // Best first. Leaves the selector empty.
  std::vector<Scored>& sorted() {
    std::sort_heap(heap_.begin(), heap_.end(), ranksAbove);
    return heap_;
  }

 private:
  size_t k_;
  std::vector<Scored> heap_;  // heap whose front is the worst kept candidate
};

}  // namespace affinity
