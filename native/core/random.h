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

  // The generator's state, to save and resume exactly (bandits keep theirs in the model file).
  void save(uint32_t out[4]) const { out[0] = a_, out[1] = b_, out[2] = c_, out[3] = d_; }
  static Sfc32 restore(const uint32_t in[4]) {
    Sfc32 g(0);
    g.a_ = in[0], g.b_ = in[1], g.c_ = in[2], g.d_ = in[3];
    return g;
  }

 private:
  uint32_t a_ = 0x9e3779b9u, b_ = 0x243f6a88u, c_ = 0xb7e15162u, d_;
};

}  // namespace affinity
