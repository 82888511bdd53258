// sfc32, the same generator as src/random.ts, so native and TypeScript draw identical sequences
// from one seed (the k-means tests compare seedings with a TypeScript reference).
#pragma once
#include <cstdint>

namespace affinity {

class Sfc32 {
 public:
  explicit Sfc32(uint32_t seed) : d_(seed) {
    for (int i = 0; i < 15; ++i) next();
  }
  uint32_t next() {
    const uint32_t t = a_ + b_ + d_;
    d_ += 1;
    a_ = b_ ^ (b_ >> 9);
    b_ = c_ + (c_ << 3);
    c_ = (c_ << 21) | (c_ >> 11);
    c_ += t;
    return t;
  }
  // Uniform in [0, 1).
  double uniform() { return next() / 4294967296.0; }

 private:
  uint32_t a_ = 0x9e3779b9u, b_ = 0x243f6a88u, c_ = 0xb7e15162u, d_;
};

}  // namespace affinity
