// AVX2 kernels (compiled with -mavx2 -mfma; only called when the CPU has both).
#include <immintrin.h>

#include "../../simd/scan.h"

namespace affinity::kernels::avx2 {
namespace {

template <bool Jaccard>
size_t scan(const ScanArgs& a, float* acc, size_t n, float threshold, int32_t* outIdx, float* outSim) {
  const __m256 zero = _mm256_setzero_ps();
  const __m256 rowDen = _mm256_set1_ps(a.rowDen);
  const __m256 shrink = _mm256_set1_ps(a.shrink);
  const __m256 minAcc = _mm256_set1_ps(a.minAcc);
  const __m256 thr = _mm256_set1_ps(threshold);
  const __m256 signMask = _mm256_set1_ps(-0.0f);
  const __m256 relSlack = _mm256_set1_ps(1.0f / (1 << 20));
  size_t count = 0, j = 0;
  alignas(32) float sims[8];
  for (; j + 8 <= n; j += 8) {
    __m256 v = _mm256_loadu_ps(acc + j);
    int nonzero = _mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NEQ_UQ));
    if (nonzero == 0) continue;  // most of a sparse row is untouched: skip the division
    _mm256_storeu_ps(acc + j, zero);
    __m256 col = _mm256_loadu_ps(a.colDen + j);
    // Same operation order as the scalar formula, without FMA, so every level gives identical bits.
    __m256 den = Jaccard ? _mm256_add_ps(_mm256_sub_ps(_mm256_add_ps(rowDen, col), v), shrink)
                         : _mm256_add_ps(_mm256_mul_ps(rowDen, col), shrink);
    // den > 0 wherever acc != 0, so sim > thr iff acc > thr * den. That product is a division-free
    // prefilter (with slack for its rounding); the exact test on acc / den decides.
    __m256 bound = _mm256_mul_ps(thr, den);
    __m256 slack = _mm256_mul_ps(_mm256_andnot_ps(signMask, bound), relSlack);
    __m256 maybe = _mm256_and_ps(_mm256_cmp_ps(v, minAcc, _CMP_GE_OQ), _mm256_cmp_ps(v, _mm256_sub_ps(bound, slack), _CMP_GT_OQ));
    int mask = _mm256_movemask_ps(maybe) & nonzero;
    if (mask == 0) continue;
    __m256 sim = _mm256_div_ps(v, den);
    mask &= _mm256_movemask_ps(_mm256_cmp_ps(sim, thr, _CMP_GT_OQ));
    if (mask == 0) continue;
    _mm256_store_ps(sims, sim);
    while (mask != 0) {
      int bit = __builtin_ctz(mask);
      mask &= mask - 1;
      outIdx[count] = static_cast<int32_t>(j + bit);
      outSim[count] = sims[bit];
      ++count;
    }
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

}  // namespace affinity::kernels::avx2
