// AVX-512F dense kernels (masked tails instead of scalar loops).
#include <immintrin.h>

#include "../../simd/dense.h"

namespace affinity::kernels::avx512 {

float dot(const float* a, const float* b, size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

void axpy(float alpha, const float* x, float* y, size_t n) {
  const __m512 a = _mm512_set1_ps(alpha);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

void dotRows(const float* rows, size_t stride, size_t count, const float* x, size_t n, float* out) {
  size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    const float* r0 = rows + r * stride;
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
      const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + i);
      s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r0 + i), xv, s0);
      s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r0 + stride + i), xv, s1);
      s2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r0 + 2 * stride + i), xv, s2);
      s3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r0 + 3 * stride + i), xv, s3);
    }
    out[r] = _mm512_reduce_add_ps(s0), out[r + 1] = _mm512_reduce_add_ps(s1);
    out[r + 2] = _mm512_reduce_add_ps(s2), out[r + 3] = _mm512_reduce_add_ps(s3);
  }
  for (; r < count; ++r) out[r] = dot(rows + r * stride, x, n);
}

void gatherDot(const float* base, const int32_t* idx, size_t count, size_t f, const float* x, float* out) {
  for (size_t j = 0; j < count; ++j) out[j] = dot(base + static_cast<size_t>(idx[j]) * f, x, f);
}

void gatherAxpy(const float* base, const int32_t* idx, size_t count, size_t f, const float* coeff, float* out) {
  // 64 columns at a time in four registers; masked for the last partial block.
  for (size_t c = 0; c < f; c += 64) {
    __m512 acc[4];
    __mmask16 mask[4];
    for (int b = 0; b < 4; ++b) {
      const size_t col = c + 16 * b;
      mask[b] = col >= f ? __mmask16(0) : (f - col >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (f - col)) - 1));
      acc[b] = _mm512_maskz_loadu_ps(mask[b], out + col);
    }
    for (size_t j = 0; j < count; ++j) {
      const float* r = base + static_cast<size_t>(idx[j]) * f + c;
      const __m512 w = _mm512_set1_ps(coeff[j]);
      for (int b = 0; b < 4; ++b) acc[b] = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[b], r + 16 * b), acc[b]);
    }
    for (int b = 0; b < 4; ++b) _mm512_mask_storeu_ps(out + c + 16 * b, mask[b], acc[b]);
  }
}

}  // namespace affinity::kernels::avx512
