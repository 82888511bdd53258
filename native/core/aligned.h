// Arrays read as rows of cache lines (factor matrices) start on a 64-byte line. malloc's large blocks start
// 16 bytes into a page, so a 256-byte row (f = 64) spanned five lines instead of four, and every random row
// gather fetched a fifth more from memory.
#pragma once
#include <cstddef>
#include <memory>
#include <new>
#include <utility>
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

namespace affinity {

// Leaves new elements uninitialized (resize without a memset): for large buffers written in full right
// after, in parallel, so their pages are first touched by the threads that fill them rather than faulted
// in by one thread's memset (a third of EASE's fit at 3,700 items went there).
template <class T>
struct Uninitialized : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = Uninitialized<U>;
  };
  Uninitialized() = default;
  template <class U>
  Uninitialized(const Uninitialized<U>&) noexcept {}
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0)
      ::new (static_cast<void*>(p)) U;
    else
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

template <class T>
using UninitializedVector = std::vector<T, Uninitialized<T>>;

}  // namespace affinity
