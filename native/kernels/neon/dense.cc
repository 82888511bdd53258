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

void gatherDot(const float* base, const int32_t* idx, size_t count, size_t f, const float* x, float* out) {
  for (size_t j = 0; j < count; ++j) out[j] = dot(base + static_cast<size_t>(idx[j]) * f, x, f);
}

void gatherAxpy(const float* base, const int32_t* idx, size_t count, size_t stride, size_t n, const float* coeff, float* out) {
  for (size_t j = 0; j < count; ++j) axpy(coeff[j], base + static_cast<size_t>(idx[j]) * stride, out, n);
}


uint64_t scoreTile(const float* users, size_t count, const float* panel, size_t f, const float* bias, const float* base,
                   const float* threshold, float* out) {
  uint64_t mask = 0;
  for (size_t r = 0; r < count; ++r)
    for (size_t t = 0; t < kPanelItems; ++t) {
      float acc = 0.0f;
      for (size_t k = 0; k < f; ++k) acc += users[r * f + k] * panel[k * kPanelItems + t];
      const float s = (acc + (bias ? bias[t] : 0.0f)) + base[r];
      out[r * kPanelItems + t] = s;
      if (s >= threshold[r]) mask |= uint64_t{1} << (r * kPanelItems + t);
    }
  return mask;
}

float dotChain(const float* x, const float* y, size_t f) {
  float acc = 0.0f;
  for (size_t k = 0; k < f; ++k) acc += x[k] * y[k];
  return acc;
}

}  // namespace affinity::kernels::neon
#endif
