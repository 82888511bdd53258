// AVX-512F dense kernels (masked tails instead of scalar loops).
#include <immintrin.h>

#include <algorithm>

#include "../../simd/dense.h"

namespace affinity::kernels::avx512 {
namespace {

// The horizontal sum in the tree _mm512_reduce_add_ps uses (halves, then quarters, then pairs), so results
// are unchanged. Written out over a stored copy: GCC 12's reduce and cast intrinsics read an undefined
// vector and warn in every build, and this runs once per dot product, not per element.
inline float reduceAdd(__m512 v) {
  alignas(64) float x[16];
  _mm512_store_ps(x, v);
  float q[4];
  for (int i = 0; i < 4; ++i) q[i] = (x[i + 8] + x[i]) + (x[i + 12] + x[i + 4]);
  return (q[0] + q[2]) + (q[1] + q[3]);
}

}  // namespace

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
  return reduceAdd(_mm512_add_ps(s0, s1));
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
    out[r] = reduceAdd(s0), out[r + 1] = reduceAdd(s1);
    out[r + 2] = reduceAdd(s2), out[r + 3] = reduceAdd(s3);
  }
  for (; r < count; ++r) out[r] = dot(rows + r * stride, x, n);
}

void gatherDot(const float* base, const int32_t* idx, size_t count, size_t f, const float* x, float* out) {
  for (size_t j = 0; j < count; ++j) out[j] = dot(base + static_cast<size_t>(idx[j]) * f, x, f);
}

void gatherAxpy(const float* base, const int32_t* idx, size_t count, size_t stride, size_t f, const float* coeff, float* out) {
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
      const float* r = base + static_cast<size_t>(idx[j]) * stride + c;
      const __m512 w = _mm512_set1_ps(coeff[j]);
      for (int b = 0; b < 4; ++b) acc[b] = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask[b], r + 16 * b), acc[b]);
    }
    for (int b = 0; b < 4; ++b) _mm512_mask_storeu_ps(out + c + 16 * b, mask[b], acc[b]);
  }
}


void gatherDotAxpy(RowGather rows, size_t f, const float* x, const float* a, const float* b, float* out, float* dots,
                   RowGather ahead) {
  AheadPrefetch prefetch(ahead, f, rows.count);
  for (size_t j = 0; j < rows.count; ++j) {
    const float* row = rows.base + static_cast<size_t>(rows.idx[j]) * f;
    const float d = dot(row, x, f);
    if (dots) dots[j] = d;
    axpy((a ? a[j] : 0.0f) + b[j] * d, row, out, f);
    prefetch.advance(1);
  }
}

uint32_t scoreTile(const float* users, size_t count, const float* panel, size_t f, const float* bias, const float* base,
                   const float* threshold, float* out, uint16_t* hits) {
  const __m512 b = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
  auto finish = [&](size_t r, __m512 acc) -> uint32_t {
    const __m512 s = _mm512_add_ps(_mm512_add_ps(acc, b), _mm512_set1_ps(base[r]));
    _mm512_storeu_ps(out + r * kPanelItems, s);
    hits[r] = static_cast<uint16_t>(_mm512_cmp_ps_mask(s, _mm512_set1_ps(threshold[r]), _CMP_GE_OQ));
    return hits[r];
  };
  if (count == 1) {  // single requests: one accumulator, same chain as the 6-user tile
    __m512 a = _mm512_setzero_ps();
    for (size_t k = 0; k < f; ++k) a = _mm512_fmadd_ps(_mm512_set1_ps(users[k]), _mm512_loadu_ps(panel + k * kPanelItems), a);
    return finish(0, a);
  }
  // 6 users x 16 items: one zmm per user.
  const float* u[6];
  for (size_t r = 0; r < 6; ++r) u[r] = r < count ? users + r * f : users;
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  __m512 a4 = _mm512_setzero_ps(), a5 = _mm512_setzero_ps();
  for (size_t k = 0; k < f; ++k) {
    const __m512 y = _mm512_loadu_ps(panel + k * kPanelItems);
    a0 = _mm512_fmadd_ps(_mm512_set1_ps(u[0][k]), y, a0);
    a1 = _mm512_fmadd_ps(_mm512_set1_ps(u[1][k]), y, a1);
    a2 = _mm512_fmadd_ps(_mm512_set1_ps(u[2][k]), y, a2);
    a3 = _mm512_fmadd_ps(_mm512_set1_ps(u[3][k]), y, a3);
    a4 = _mm512_fmadd_ps(_mm512_set1_ps(u[4][k]), y, a4);
    a5 = _mm512_fmadd_ps(_mm512_set1_ps(u[5][k]), y, a5);
  }
  const __m512 acc[6] = {a0, a1, a2, a3, a4, a5};
  uint32_t any = 0;
  for (size_t r = 0; r < count; ++r) any |= finish(r, acc[r]);
  return any;
}

float dotChain(const float* x, const float* y, size_t f) {
  float acc = 0.0f;
  for (size_t k = 0; k < f; ++k) acc = __builtin_fmaf(x[k], y[k], acc);
  return acc;
}

// Every AVX-512 CPU runs AVX2+FMA: the 6 x 16 register tiles of the AVX2 level serve here as well.
void gramUpdate(const float* z, const float* y, size_t count, size_t f, float* a) { avx2::gramUpdate(z, y, count, f, a); }
namespace {

// a[x0 + r][c0 .. c0 + 16) += sum_j z_j[x0 + r] y_j[c0 .. c0 + 16) for r < rows (<= 6): six zmm accumulators,
// per row j one load and six broadcasts feed six 16-wide FMAs (the AVX2 tile needs twelve 8-wide ones).
// Rows past `rows` repeat the last one and are not stored.
void gemmTile16(const float* z, size_t ldz, const float* y, size_t ldy, size_t count, float* a, size_t lda, size_t x0, size_t rows, size_t c0) {
  size_t x[6];
  for (size_t r = 0; r < 6; ++r) x[r] = x0 + std::min(r, rows - 1);
  __m512 s0 = _mm512_loadu_ps(a + x[0] * lda + c0), s1 = _mm512_loadu_ps(a + x[1] * lda + c0), s2 = _mm512_loadu_ps(a + x[2] * lda + c0);
  __m512 s3 = _mm512_loadu_ps(a + x[3] * lda + c0), s4 = _mm512_loadu_ps(a + x[4] * lda + c0), s5 = _mm512_loadu_ps(a + x[5] * lda + c0);
  for (size_t j = 0; j < count; ++j) {
    const float* zj = z + j * ldz;
    const __m512 yj = _mm512_loadu_ps(y + j * ldy + c0);
    s0 = _mm512_fmadd_ps(_mm512_set1_ps(zj[x[0]]), yj, s0);
    s1 = _mm512_fmadd_ps(_mm512_set1_ps(zj[x[1]]), yj, s1);
    s2 = _mm512_fmadd_ps(_mm512_set1_ps(zj[x[2]]), yj, s2);
    s3 = _mm512_fmadd_ps(_mm512_set1_ps(zj[x[3]]), yj, s3);
    s4 = _mm512_fmadd_ps(_mm512_set1_ps(zj[x[4]]), yj, s4);
    s5 = _mm512_fmadd_ps(_mm512_set1_ps(zj[x[5]]), yj, s5);
  }
  const __m512 sums[6] = {s0, s1, s2, s3, s4, s5};
  for (size_t r = 0; r < rows; ++r) _mm512_storeu_ps(a + (x0 + r) * lda + c0, sums[r]);
}

}  // namespace

// Whole 16-column tiles in zmm registers; the last columns (fewer than 16) through the AVX2 tiles.
void gemmTN(const float* z, size_t ldz, const float* y, size_t ldy, size_t count, size_t m, size_t n, float* a, size_t lda) {
  const size_t whole = n / 16 * 16;
  for (size_t x0 = 0; x0 < m; x0 += 6)
    for (size_t c0 = 0; c0 < whole; c0 += 16) gemmTile16(z, ldz, y, ldy, count, a, lda, x0, std::min<size_t>(6, m - x0), c0);
  if (whole < n) avx2::gemmTN(z, ldz, y + whole, ldy, count, m, n - whole, a + whole, lda);
}

}  // namespace affinity::kernels::avx512
