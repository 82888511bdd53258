// NEON kernels for arm64 (part of the armv8-a baseline, so always available there).
#if defined(__aarch64__)
#include <arm_neon.h>

#include "../../simd/scan.h"

namespace affinity::kernels::neon {
namespace {

template <bool Jaccard>
size_t scan(const ScanArgs& a, float* acc, size_t n, float threshold, int32_t* outIdx, float* outSim) {
  const float32x4_t zero = vdupq_n_f32(0.0f);
  const float32x4_t rowDen = vdupq_n_f32(a.rowDen);
  const float32x4_t shrink = vdupq_n_f32(a.shrink);
  const float32x4_t minAcc = vdupq_n_f32(a.minAcc);
  const float32x4_t thr = vdupq_n_f32(threshold);
  const float32x4_t relSlack = vdupq_n_f32(1.0f / (1 << 20));
  size_t count = 0, j = 0;
  float sims[4];
  uint32_t keepLanes[4];
  for (; j + 4 <= n; j += 4) {
    float32x4_t v = vld1q_f32(acc + j);
    uint32x4_t nonzero = vmvnq_u32(vceqq_f32(v, zero));
    if (vmaxvq_u32(nonzero) == 0) continue;
    vst1q_f32(acc + j, zero);
    float32x4_t col = vld1q_f32(a.colDen + j);
    float32x4_t den = Jaccard ? vaddq_f32(vsubq_f32(vaddq_f32(rowDen, col), v), shrink)
                              : vaddq_f32(vmulq_f32(rowDen, col), shrink);
    // Division-free prefilter, as in the AVX2 kernel; the exact test on acc / den decides.
    float32x4_t bound = vmulq_f32(thr, den);
    float32x4_t slack = vmulq_f32(vabsq_f32(bound), relSlack);
    uint32x4_t maybe = vandq_u32(nonzero, vandq_u32(vcgeq_f32(v, minAcc), vcgtq_f32(v, vsubq_f32(bound, slack))));
    if (vmaxvq_u32(maybe) == 0) continue;
    float32x4_t sim = vdivq_f32(v, den);
    uint32x4_t keep = vandq_u32(maybe, vcgtq_f32(sim, thr));
    if (vmaxvq_u32(keep) == 0) continue;
    vst1q_f32(sims, sim);
    vst1q_u32(keepLanes, keep);
    for (int lane = 0; lane < 4; ++lane) {
      if (keepLanes[lane] == 0) continue;
      outIdx[count] = static_cast<int32_t>(j + lane);
      outSim[count] = sims[lane];
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

}  // namespace affinity::kernels::neon
#endif
