// NEON dense kernels for arm64.
#if defined(__aarch64__)
#include <arm_neon.h>

#include "../../simd/dense.h"

namespace affinity::kernels::neon {

float dot(const float* a, const float* b, size_t n) {
  float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
  }
  float s = vaddvq_f32(vaddq_f32(s0, s1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy(float alpha, const float* x, float* y, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), alpha));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

void dotRows(const float* rows, size_t stride, size_t count, const float* x, size_t n, float* out) {
  for (size_t r = 0; r < count; ++r) out[r] = dot(rows + r * stride, x, n);
}

}  // namespace affinity::kernels::neon
#endif
