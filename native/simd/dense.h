// Dense vector kernels for factor models (ALS). Each level sums in its own order, so results agree to
// rounding, not to the bit; tests compare with a relative tolerance.
#pragma once
#include <cstddef>
#include <cstdint>

namespace affinity {

using DotFn = float (*)(const float* a, const float* b, size_t n);
using AxpyFn = void (*)(float alpha, const float* x, float* y, size_t n);  // y += alpha * x
// out[r] = rows[r * stride .. + n] . x for r in [0, count): scores of many items against one user.
using DotRowsFn = void (*)(const float* rows, size_t stride, size_t count, const float* x, size_t n, float* out);

// out[j] = base[idx[j] * f ..] . x : dots of gathered rows (a user's items) with one vector.
using GatherDotFn = void (*)(const float* base, const int32_t* idx, size_t count, size_t f, const float* x, float* out);
// out += sum_j coeff[j] * base[idx[j] * f ..] : a weighted sum of gathered rows, accumulated in registers.
using GatherAxpyFn = void (*)(const float* base, const int32_t* idx, size_t count, size_t f, const float* coeff, float* out);

#define AFFINITY_DECLARE_DENSE_KERNELS(ns)                                                             \
  namespace ns {                                                                                       \
  float dot(const float* a, const float* b, size_t n);                                                 \
  void axpy(float alpha, const float* x, float* y, size_t n);                                          \
  void dotRows(const float* rows, size_t stride, size_t count, const float* x, size_t n, float* out);  \
  void gatherDot(const float* base, const int32_t* idx, size_t count, size_t f, const float* x, float* out); \
  void gatherAxpy(const float* base, const int32_t* idx, size_t count, size_t f, const float* coeff, float* out); \
  }

namespace kernels {
AFFINITY_DECLARE_DENSE_KERNELS(scalar)
AFFINITY_DECLARE_DENSE_KERNELS(avx2)
AFFINITY_DECLARE_DENSE_KERNELS(avx512)
AFFINITY_DECLARE_DENSE_KERNELS(neon)
}  // namespace kernels

}  // namespace affinity
