// AVX2+FMA dense kernels.
#include <immintrin.h>

#include <algorithm>

#include "../../simd/dense.h"

namespace affinity::kernels::avx2 {
namespace {

inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

}  // namespace

float dot(const float* a, const float* b, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy(float alpha, const float* x, float* y, size_t n) {
  const __m256 a = _mm256_set1_ps(alpha);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

namespace {

// out[0..8) = rows r[0..8) . x: eight FMA chains (enough to cover the FMA latency), then one combined
// horizontal sum: pairwise hadds put row t's dot in lane t once the two 128-bit halves are added.
inline void dot8(const float* const r[8], const float* x, size_t n, float* out) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  __m256 s4 = _mm256_setzero_ps(), s5 = _mm256_setzero_ps(), s6 = _mm256_setzero_ps(), s7 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i);
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(r[0] + i), xv, s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(r[1] + i), xv, s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(r[2] + i), xv, s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(r[3] + i), xv, s3);
    s4 = _mm256_fmadd_ps(_mm256_loadu_ps(r[4] + i), xv, s4);
    s5 = _mm256_fmadd_ps(_mm256_loadu_ps(r[5] + i), xv, s5);
    s6 = _mm256_fmadd_ps(_mm256_loadu_ps(r[6] + i), xv, s6);
    s7 = _mm256_fmadd_ps(_mm256_loadu_ps(r[7] + i), xv, s7);
  }
  const __m256 h01 = _mm256_hadd_ps(s0, s1), h23 = _mm256_hadd_ps(s2, s3), h45 = _mm256_hadd_ps(s4, s5), h67 = _mm256_hadd_ps(s6, s7);
  const __m256 q0 = _mm256_hadd_ps(h01, h23), q1 = _mm256_hadd_ps(h45, h67);
  _mm256_storeu_ps(out, _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20), _mm256_permute2f128_ps(q0, q1, 0x31)));
  for (; i < n; ++i)
    for (size_t t = 0; t < 8; ++t) out[t] += r[t][i] * x[i];
}

}  // namespace

void dotRows(const float* rows, size_t stride, size_t count, const float* x, size_t n, float* out) {
  size_t r = 0;
  for (; r + 8 <= count; r += 8) {
    const float* block[8];
    for (size_t t = 0; t < 8; ++t) block[t] = rows + (r + t) * stride;
    dot8(block, x, n, out + r);
  }
  for (; r < count; ++r) out[r] = dot(rows + r * stride, x, n);
}

void gatherDot(const float* base, const int32_t* idx, size_t count, size_t f, const float* x, float* out) {
  size_t j = 0;
  for (; j + 8 <= count; j += 8) {
    // The rows are scattered over the factor matrix: fetch the next block while this one is summed.
    for (size_t q = j + 8; q < std::min(count, j + 16); ++q) prefetchRow(base + static_cast<size_t>(idx[q]) * f, f);
    const float* block[8];
    for (size_t t = 0; t < 8; ++t) block[t] = base + static_cast<size_t>(idx[j + t]) * f;
    dot8(block, x, f, out + j);
  }
  for (; j < count; ++j) out[j] = dot(base + static_cast<size_t>(idx[j]) * f, x, f);
}

namespace {

// out[0 .. 8 kChains) += sum_j coeff[j] * row_j[0 .. 8 kChains): the columns stay in named registers while
// every row is added (an accumulator array would be spilled). Inlined with constant indices, the unused
// registers of the 4-chain version vanish.
template <int kChains>
void gatherAxpyColumns(const float* base, const int32_t* idx, size_t count, size_t stride, const float* coeff, float* out) {
  static_assert(kChains == 4 || kChains == 8);
  const auto load = [&](int i) { return i < kChains ? _mm256_loadu_ps(out + 8 * i) : _mm256_setzero_ps(); };
  __m256 a0 = load(0), a1 = load(1), a2 = load(2), a3 = load(3), a4 = load(4), a5 = load(5), a6 = load(6), a7 = load(7);
  for (size_t j = 0; j < count; ++j) {
    const float* r = base + static_cast<size_t>(idx[j]) * stride;
    const __m256 w = _mm256_broadcast_ss(coeff + j);
    const auto add = [&](int i, __m256& acc) {
      if (i < kChains) acc = _mm256_fmadd_ps(w, _mm256_loadu_ps(r + 8 * i), acc);
    };
    add(0, a0), add(1, a1), add(2, a2), add(3, a3), add(4, a4), add(5, a5), add(6, a6), add(7, a7);
  }
  const auto put = [&](int i, __m256 acc) {
    if (i < kChains) _mm256_storeu_ps(out + 8 * i, acc);
  };
  put(0, a0), put(1, a1), put(2, a2), put(3, a3), put(4, a4), put(5, a5), put(6, a6), put(7, a7);
}

}  // namespace

void gatherAxpy(const float* base, const int32_t* idx, size_t count, size_t stride, size_t n, const float* coeff, float* out) {
  // 64 columns at a time: eight chains keep both FMA units busy (four would wait on the FMA latency at
  // every row). Then 32, then 8 at a time.
  size_t c = 0;
  for (; c + 64 <= n; c += 64) gatherAxpyColumns<8>(base + c, idx, count, stride, coeff, out + c);
  for (; c + 32 <= n; c += 32) gatherAxpyColumns<4>(base + c, idx, count, stride, coeff, out + c);
  for (; c + 8 <= n; c += 8) {
    // Four chains over the rows: one chain would wait on the FMA latency at every row.
    __m256 a0 = _mm256_loadu_ps(out + c), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    const auto row = [&](size_t j) { return _mm256_loadu_ps(base + static_cast<size_t>(idx[j]) * stride + c); };
    size_t j = 0;
    for (; j + 4 <= count; j += 4) {
      a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(coeff + j), row(j), a0);
      a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(coeff + j + 1), row(j + 1), a1);
      a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(coeff + j + 2), row(j + 2), a2);
      a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(coeff + j + 3), row(j + 3), a3);
    }
    for (; j < count; ++j) a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(coeff + j), row(j), a0);
    _mm256_storeu_ps(out + c, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  }
  for (; c < n; ++c)
    for (size_t j = 0; j < count; ++j) out[c] += coeff[j] * base[static_cast<size_t>(idx[j]) * stride + c];
}

void gatherDotAxpy(RowGather rows, size_t f, const float* x, const float* a, const float* b, float* out, float* dots,
                   RowGather ahead) {
  const size_t n = rows.count;
  const auto row = [&](size_t j) { return rows.base + static_cast<size_t>(rows.idx[j]) * f; };
  AheadPrefetch prefetch(ahead, f, n);
  size_t j = 0;
  // Eight rows at a time: their dots (dot8), then the eight weighted rows added to out while they are
  // still in L1. The rows are not prefetched here: the caller's previous solve prefetched them (`ahead`),
  // and later passes find them in cache, where prefetches would only take load slots.
  for (; j + 8 <= n; j += 8) {
    const float* r[8] = {row(j), row(j + 1), row(j + 2), row(j + 3), row(j + 4), row(j + 5), row(j + 6), row(j + 7)};
    float w[8];
    dot8(r, x, f, w);
    if (dots) std::copy_n(w, 8, dots + j);
    for (size_t t = 0; t < 8; ++t) w[t] = (a ? a[j + t] : 0.0f) + b[j + t] * w[t];
    const __m256 w0 = _mm256_set1_ps(w[0]), w1 = _mm256_set1_ps(w[1]), w2 = _mm256_set1_ps(w[2]), w3 = _mm256_set1_ps(w[3]);
    const __m256 w4 = _mm256_set1_ps(w[4]), w5 = _mm256_set1_ps(w[5]), w6 = _mm256_set1_ps(w[6]), w7 = _mm256_set1_ps(w[7]);
    size_t c = 0;
    for (; c + 8 <= f; c += 8) {
      // Two chains of four: half the latency of one chain of eight.
      __m256 even = _mm256_fmadd_ps(w0, _mm256_loadu_ps(r[0] + c), _mm256_loadu_ps(out + c));
      __m256 odd = _mm256_mul_ps(w1, _mm256_loadu_ps(r[1] + c));
      even = _mm256_fmadd_ps(w2, _mm256_loadu_ps(r[2] + c), even);
      odd = _mm256_fmadd_ps(w3, _mm256_loadu_ps(r[3] + c), odd);
      even = _mm256_fmadd_ps(w4, _mm256_loadu_ps(r[4] + c), even);
      odd = _mm256_fmadd_ps(w5, _mm256_loadu_ps(r[5] + c), odd);
      even = _mm256_fmadd_ps(w6, _mm256_loadu_ps(r[6] + c), even);
      odd = _mm256_fmadd_ps(w7, _mm256_loadu_ps(r[7] + c), odd);
      _mm256_storeu_ps(out + c, _mm256_add_ps(even, odd));
    }
    for (; c < f; ++c)
      for (size_t t = 0; t < 8; ++t) out[c] += w[t] * r[t][c];
    prefetch.advance(8);
  }
  for (; j < n; ++j) {
    const float d = dot(row(j), x, f);
    if (dots) dots[j] = d;
    axpy((a ? a[j] : 0.0f) + b[j] * d, row(j), out, f);
    prefetch.advance(1);
  }
}

uint32_t scoreTile(const float* users, size_t count, const float* panel, size_t f, const float* bias, const float* base,
                   const float* threshold, float* out, uint16_t* hits) {
  const __m256 b0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
  const __m256 b1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
  auto finish = [&](size_t r, __m256 lo, __m256 hi) -> uint32_t {
    const __m256 off = _mm256_set1_ps(base[r]), thr = _mm256_set1_ps(threshold[r]);
    const __m256 s0 = _mm256_add_ps(_mm256_add_ps(lo, b0), off), s1 = _mm256_add_ps(_mm256_add_ps(hi, b1), off);
    _mm256_storeu_ps(out + r * kPanelItems, s0);
    _mm256_storeu_ps(out + r * kPanelItems + 8, s1);
    hits[r] = static_cast<uint16_t>(_mm256_movemask_ps(_mm256_cmp_ps(s0, thr, _CMP_GE_OQ)) |
                                    (_mm256_movemask_ps(_mm256_cmp_ps(s1, thr, _CMP_GE_OQ)) << 8));
    return hits[r];
  };
  if (count == 1) {
    // One user (single requests): a sixth of the 6-user work. Each lane stays one sequential chain over
    // k, so the scores equal the 6-user tile's bit for bit.
    __m256 a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps();
    for (size_t k = 0; k < f; ++k) {
      const __m256 x = _mm256_broadcast_ss(users + k);
      a00 = _mm256_fmadd_ps(x, _mm256_loadu_ps(panel + k * kPanelItems), a00);
      a01 = _mm256_fmadd_ps(x, _mm256_loadu_ps(panel + k * kPanelItems + 8), a01);
    }
    return finish(0, a00, a01);
  }
  // 6 users x 16 items: 12 named accumulators (an array would be spilled to the stack every iteration),
  // enough independent chains to cover the FMA latency; per k two panel loads and six broadcasts feed
  // twelve FMAs.
  const float* u0 = users;
  const float* u1 = count > 1 ? users + f : users;
  const float* u2 = count > 2 ? users + 2 * f : users;
  const float* u3 = count > 3 ? users + 3 * f : users;
  const float* u4 = count > 4 ? users + 4 * f : users;
  const float* u5 = count > 5 ? users + 5 * f : users;
  __m256 a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps(), a10 = _mm256_setzero_ps(), a11 = _mm256_setzero_ps();
  __m256 a20 = _mm256_setzero_ps(), a21 = _mm256_setzero_ps(), a30 = _mm256_setzero_ps(), a31 = _mm256_setzero_ps();
  __m256 a40 = _mm256_setzero_ps(), a41 = _mm256_setzero_ps(), a50 = _mm256_setzero_ps(), a51 = _mm256_setzero_ps();
  for (size_t k = 0; k < f; ++k) {
    const __m256 y0 = _mm256_loadu_ps(panel + k * kPanelItems), y1 = _mm256_loadu_ps(panel + k * kPanelItems + 8);
    __m256 x = _mm256_broadcast_ss(u0 + k);
    a00 = _mm256_fmadd_ps(x, y0, a00), a01 = _mm256_fmadd_ps(x, y1, a01);
    x = _mm256_broadcast_ss(u1 + k);
    a10 = _mm256_fmadd_ps(x, y0, a10), a11 = _mm256_fmadd_ps(x, y1, a11);
    x = _mm256_broadcast_ss(u2 + k);
    a20 = _mm256_fmadd_ps(x, y0, a20), a21 = _mm256_fmadd_ps(x, y1, a21);
    x = _mm256_broadcast_ss(u3 + k);
    a30 = _mm256_fmadd_ps(x, y0, a30), a31 = _mm256_fmadd_ps(x, y1, a31);
    x = _mm256_broadcast_ss(u4 + k);
    a40 = _mm256_fmadd_ps(x, y0, a40), a41 = _mm256_fmadd_ps(x, y1, a41);
    x = _mm256_broadcast_ss(u5 + k);
    a50 = _mm256_fmadd_ps(x, y0, a50), a51 = _mm256_fmadd_ps(x, y1, a51);
  }
  uint32_t any = finish(0, a00, a01);
  if (count > 1) any |= finish(1, a10, a11);
  if (count > 2) any |= finish(2, a20, a21);
  if (count > 3) any |= finish(3, a30, a31);
  if (count > 4) any |= finish(4, a40, a41);
  if (count > 5) any |= finish(5, a50, a51);
  return any;
}

float dotChain(const float* x, const float* y, size_t f) {
  float acc = 0.0f;
  for (size_t k = 0; k < f; ++k) acc = __builtin_fmaf(x[k], y[k], acc);
  return acc;
}

namespace {

// a[x][c0 .. c0 + 8W) += sum_j z_j[x] y_j[c0 .. c0 + 8W) for x = x0 .. x0 + rows - 1 (rows <= 6), W = 1 or 2,
// where z_j = z + j * ldz, y_j = y + j * ldy and a's rows are lda apart: twelve named accumulators stay in
// registers over all the rows (an accumulator array was written back to the stack after every row); per
// row j, W loads and six broadcasts feed 6W FMAs. Rows past `rows` repeat the last one and are not stored.
template <int W>
void gramTile(const float* z, size_t ldz, const float* y, size_t ldy, size_t count, float* a, size_t lda, size_t x0,
              size_t rows, size_t c0) {
  float* out[6];
  size_t x[6];
  for (size_t r = 0; r < 6; ++r) x[r] = x0 + std::min(r, rows - 1), out[r] = a + x[r] * lda + c0;
  const auto high = [&](const float* p) { return W > 1 ? _mm256_loadu_ps(p + 8) : _mm256_setzero_ps(); };
  __m256 s00 = _mm256_loadu_ps(out[0]), s01 = high(out[0]), s10 = _mm256_loadu_ps(out[1]), s11 = high(out[1]);
  __m256 s20 = _mm256_loadu_ps(out[2]), s21 = high(out[2]), s30 = _mm256_loadu_ps(out[3]), s31 = high(out[3]);
  __m256 s40 = _mm256_loadu_ps(out[4]), s41 = high(out[4]), s50 = _mm256_loadu_ps(out[5]), s51 = high(out[5]);
  for (size_t j = 0; j < count; ++j) {
    const float* zj = z + j * ldz;
    const __m256 y0 = _mm256_loadu_ps(y + j * ldy + c0), y1 = high(y + j * ldy + c0);
    // Row r's pair of accumulators takes z_j[x_r] times y_j; inlined, they stay named registers.
    const auto update = [&](size_t r, __m256& lo, __m256& hi) {
      const __m256 b = _mm256_broadcast_ss(zj + x[r]);
      lo = _mm256_fmadd_ps(b, y0, lo);
      if constexpr (W > 1) hi = _mm256_fmadd_ps(b, y1, hi);
    };
    update(0, s00, s01), update(1, s10, s11), update(2, s20, s21);
    update(3, s30, s31), update(4, s40, s41), update(5, s50, s51);
  }
  const __m256 sums[6][2] = {{s00, s01}, {s10, s11}, {s20, s21}, {s30, s31}, {s40, s41}, {s50, s51}};
  for (size_t r = 0; r < rows; ++r)
    for (int w = 0; w < W; ++w) _mm256_storeu_ps(out[r] + 8 * w, sums[r][w]);
}

// Columns [c0, columnEnd(x)) of rows x0 .. x0 + rows - 1 in whole register tiles, the rest one entry at a time.
template <class ColumnEnd>
void tileRows(const float* z, size_t ldz, const float* y, size_t ldy, size_t count, float* a, size_t lda, size_t x0,
              size_t rows, size_t width, ColumnEnd columnEnd) {
  const size_t columns = columnEnd(x0 + rows - 1);
  size_t c0 = 0;
  for (; c0 < columns && c0 + 16 <= width; c0 += 16) gramTile<2>(z, ldz, y, ldy, count, a, lda, x0, rows, c0);
  for (; c0 < columns && c0 + 8 <= width; c0 += 8) gramTile<1>(z, ldz, y, ldy, count, a, lda, x0, rows, c0);
  for (; c0 < columns; ++c0)
    for (size_t r = x0; r < x0 + rows; ++r) {
      if (c0 >= columnEnd(r)) continue;
      float s = 0.0f;
      for (size_t j = 0; j < count; ++j) s += z[j * ldz + r] * y[j * ldy + c0];
      a[r * lda + c0] += s;
    }
}

}  // namespace

void gramUpdate(const float* z, const float* y, size_t count, size_t f, float* a) {
  // Blocks of rows small enough for L2, so each tile re-reads them from cache, not memory.
  const size_t block = std::max<size_t>(16, (size_t{96} << 10) / (2 * f * sizeof(float)));
  for (size_t j0 = 0; j0 < count; j0 += block) {
    const size_t n = std::min(block, count - j0);
    for (size_t x0 = 0; x0 < f; x0 += 6)  // the lower triangle: row x up to column x
      tileRows(z + j0 * f, f, y + j0 * f, f, n, a, f, x0, std::min<size_t>(6, f - x0), f, [](size_t x) { return x + 1; });
  }
}

void gemmTN(const float* z, size_t ldz, const float* y, size_t ldy, size_t count, size_t m, size_t n, float* a, size_t lda) {
  for (size_t x0 = 0; x0 < m; x0 += 6)
    tileRows(z, ldz, y, ldy, count, a, lda, x0, std::min<size_t>(6, m - x0), n, [n](size_t) { return n; });
}

}  // namespace affinity::kernels::avx2
