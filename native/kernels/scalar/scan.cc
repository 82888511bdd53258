// Plain reference kernels: the ground truth every SIMD level is tested against.
#include "../../simd/scan.h"

namespace affinity::kernels::scalar {
namespace {

template <bool Jaccard>
size_t scan(const ScanArgs& a, float* acc, size_t n, float threshold, int32_t* outIdx, float* outSim) {
  size_t count = 0;
  for (size_t j = 0; j < n; ++j) {
    float v = acc[j];
    if (v == 0.0f) continue;
    acc[j] = 0.0f;
    if (!(v >= a.minAcc)) continue;
    float sim = Jaccard ? jaccardSimilarity(v, a.rowDen, a.colDen[j], a.shrink)
                        : ratioSimilarity(v, a.rowDen, a.colDen[j], a.shrink);
    if (sim > threshold) {
      outIdx[count] = static_cast<int32_t>(j);
      outSim[count] = sim;
      ++count;
    }
  }
  return count;
}

}  // namespace

size_t scanRatio(const ScanArgs& a, float* acc, size_t n, float t, int32_t* idx, float* sim) {
  return scan<false>(a, acc, n, t, idx, sim);
}
size_t scanJaccard(const ScanArgs& a, float* acc, size_t n, float t, int32_t* idx, float* sim) {
  return scan<true>(a, acc, n, t, idx, sim);
}

}  // namespace affinity::kernels::scalar
