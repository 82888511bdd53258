// Plain reference kernels: the ground truth every SIMD level is tested against.
#include "../../simd/scan.h"

namespace affinity::kernels::scalar {
namespace {

template <bool Jaccard>
size_t scan(const ScanArgs& a, float* acc, size_t n, float threshold, int32_t* outIdx, float* outSim) {
  return scanRange<Jaccard>(a, acc, 0, n, threshold, outIdx, outSim, 0);
}

}  // namespace

size_t scanRatio(const ScanArgs& a, float* acc, size_t n, float t, int32_t* idx, float* sim) {
  return scan<false>(a, acc, n, t, idx, sim);
}
size_t scanJaccard(const ScanArgs& a, float* acc, size_t n, float t, int32_t* idx, float* sim) {
  return scan<true>(a, acc, n, t, idx, sim);
}

}  // namespace affinity::kernels::scalar
