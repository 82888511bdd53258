// Arrays read as rows of cache lines (factor matrices) start on a 64-byte line. malloc's large blocks start
// 16 bytes into a page, so a 256-byte row (f = 64) spanned five lines instead of four, and every random row
// gather fetched a fifth more from memory.
#pragma once
#include <cstddef>
#include <new>
#include <vector>

namespace affinity {

template <class T>
struct CacheAligned {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  CacheAligned() = default;
  template <class U>
  CacheAligned(const CacheAligned<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, size_t) noexcept { ::operator delete(p, kAlign); }
  template <class U>
  bool operator==(const CacheAligned<U>&) const noexcept { return true; }
};

using AlignedFloats = std::vector<float, CacheAligned<float>>;

}  // namespace affinity
