// AVX-512F kernels (compiled with -mavx512f; only called when the CPU has it). Candidates are written
// with compress-stores instead of a bit loop.
#include <immintrin.h>

#include "../../simd/scan.h"

namespace affinity::kernels::avx512 {
namespace {

template <bool Jaccard>
size_t scan(const ScanArgs& a, float* acc, size_t n, float threshold, int32_t* outIdx, float* outSim) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512 rowDen = _mm512_set1_ps(a.rowDen);
  const __m512 shrink = _mm512_set1_ps(a.shrink);
  const __m512 minAcc = _mm512_set1_ps(a.minAcc);
  const __m512 thr = _mm512_set1_ps(threshold);
  const __m512 relSlack = _mm512_set1_ps(1.0f / (1 << 20));
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  size_t count = 0, j = 0;
  for (; j + 16 <= n; j += 16) {
    __m512 v = _mm512_loadu_ps(acc + j);
    __mmask16 nonzero = _mm512_cmp_ps_mask(v, zero, _CMP_NEQ_UQ);
    if (nonzero == 0) continue;
    _mm512_storeu_ps(acc + j, zero);
    __m512 col = _mm512_loadu_ps(a.colDen + j);
    __m512 den = Jaccard ? _mm512_add_ps(_mm512_sub_ps(_mm512_add_ps(rowDen, col), v), shrink)
                         : _mm512_add_ps(_mm512_mul_ps(rowDen, col), shrink);
    // Division-free prefilter, as in the AVX2 kernel; the exact test on acc / den decides.
    __m512 bound = _mm512_mul_ps(thr, den);
    __m512 slack = _mm512_mul_ps(_mm512_abs_ps(bound), relSlack);
    __mmask16 keep = nonzero & _mm512_cmp_ps_mask(v, minAcc, _CMP_GE_OQ) & _mm512_cmp_ps_mask(v, _mm512_sub_ps(bound, slack), _CMP_GT_OQ);
    if (keep == 0) continue;
    __m512 sim = _mm512_div_ps(v, den);
    keep &= _mm512_cmp_ps_mask(sim, thr, _CMP_GT_OQ);
    if (keep == 0) continue;
    __m512i idx = _mm512_add_epi32(lane, _mm512_set1_epi32(static_cast<int32_t>(j)));
    _mm512_mask_compressstoreu_epi32(outIdx + count, keep, idx);
    _mm512_mask_compressstoreu_ps(outSim + count, keep, sim);
    count += static_cast<size_t>(__builtin_popcount(keep));
  }
  return scanRange<Jaccard>(a, acc, j, n, threshold, outIdx, outSim, count);
}

}  // namespace

size_t scanRatio(const ScanArgs& a, float* acc, size_t n, float t, int32_t* idx, float* sim) {
  return scan<false>(a, acc, n, t, idx, sim);
}
size_t scanJaccard(const ScanArgs& a, float* acc, size_t n, float t, int32_t* idx, float* sim) {
  return scan<true>(a, acc, n, t, idx, sim);
}

}  // namespace affinity::kernels::avx512
