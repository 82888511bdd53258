// The similarity "scan" kernel: turns one row of accumulated co-occurrence products into similarity
// values, keeps those above a threshold and clears the accumulator for the next row.
#pragma once
#include <cstddef>
#include <cstdint>

namespace affinity {

struct ScanArgs {
  const float* colDen = nullptr;  // per-candidate term of the denominator (offset to the block)
  float rowDen = 1.0f;            // the row's own term
  float shrink = 0.0f;
  float minAcc = -__builtin_inff();  // accumulated values below this are no candidates (minimum support)
};

// For j in [0, n) with acc[j] != 0 and acc[j] >= minAcc, computes the similarity and emits (j, sim)
// when sim > threshold. Sets acc[j] = 0 for every j. Returns the number of emitted pairs (<= n).
using ScanFn = size_t (*)(const ScanArgs& args, float* acc, size_t n, float threshold, int32_t* outIdx, float* outSim);

// The formulas every level implements, written once. `static` keeps each translation unit's copy
// private, so an AVX-compiled copy can never stand in for the baseline one at link time.
// ratio:   acc / (rowDen * colDen + shrink)                (cosine, pearson, dot, lift)
// jaccard: acc / ((rowDen + colDen - acc) + shrink)         (counts |A|, |B|, |A∩B|)
static inline float ratioSimilarity(float acc, float rowDen, float colDen, float shrink) {
  return acc / (rowDen * colDen + shrink);
}
static inline float jaccardSimilarity(float acc, float rowDen, float colDen, float shrink) {
  return acc / (((rowDen + colDen) - acc) + shrink);
}

// The plain loop over [begin, n), appending to out at `count`: the scalar kernel, and every SIMD kernel's
// tail. Returns the new count.
template <bool Jaccard>
static inline size_t scanRange(const ScanArgs& a, float* acc, size_t begin, size_t n, float threshold, int32_t* outIdx,
                               float* outSim, size_t count) {
  for (size_t j = begin; j < n; ++j) {
    const float v = acc[j];
    if (v == 0.0f) continue;
    acc[j] = 0.0f;
    if (!(v >= a.minAcc)) continue;
    const float sim = Jaccard ? jaccardSimilarity(v, a.rowDen, a.colDen[j], a.shrink) : ratioSimilarity(v, a.rowDen, a.colDen[j], a.shrink);
    if (sim > threshold) {
      outIdx[count] = static_cast<int32_t>(j);
      outSim[count] = sim;
      ++count;
    }
  }
  return count;
}

#define AFFINITY_DECLARE_SCAN_KERNELS(ns)                                                                  \
  namespace ns {                                                                                           \
  size_t scanRatio(const ScanArgs& args, float* acc, size_t n, float threshold, int32_t* outIdx, float* outSim);   \
  size_t scanJaccard(const ScanArgs& args, float* acc, size_t n, float threshold, int32_t* outIdx, float* outSim); \
  }

namespace kernels {
AFFINITY_DECLARE_SCAN_KERNELS(scalar)
AFFINITY_DECLARE_SCAN_KERNELS(avx2)
AFFINITY_DECLARE_SCAN_KERNELS(avx512)
AFFINITY_DECLARE_SCAN_KERNELS(neon)
}  // namespace kernels

}  // namespace affinity
