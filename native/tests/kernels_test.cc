// Every SIMD level of the scan kernels against a plain loop, on random inputs.
#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "../simd/dispatch.h"
#include "harness.h"

using namespace affinity;

namespace {


// The definition, written as plainly as possible.
std::map<int32_t, float> expected(bool jaccard, const ScanArgs& a, const std::vector<float>& acc, float threshold) {
  std::map<int32_t, float> out;
  for (size_t j = 0; j < acc.size(); ++j) {
    float v = acc[j];
    if (v == 0.0f || v < a.minAcc) continue;
    float sim = jaccard ? v / (((a.rowDen + a.colDen[j]) - v) + a.shrink) : v / (a.rowDen * a.colDen[j] + a.shrink);
    if (sim > threshold) out[static_cast<int32_t>(j)] = sim;
  }
  return out;
}

}  // namespace

TEST(kernels, every_level_matches_the_plain_loop) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> uni(0.0f, 1.0f);
  for (const KernelTable& table : test::everyLevel()) {
    for (int round = 0; round < 300; ++round) {
      const size_t n = 1 + rng() % 700;
      const bool jaccard = round % 2 == 1;
      std::vector<float> acc(n), colDen(n);
      const float density = uni(rng);
      for (size_t j = 0; j < n; ++j) {
        colDen[j] = jaccard ? 1.0f + std::floor(uni(rng) * 50) : 0.1f + uni(rng) * 5;
        if (uni(rng) < density) acc[j] = jaccard ? 1.0f + std::floor(uni(rng) * colDen[j]) : (uni(rng) - 0.3f) * 4;
      }
      ScanArgs a;
      a.colDen = colDen.data();
      a.rowDen = jaccard ? 1.0f + std::floor(uni(rng) * 50) : 0.1f + uni(rng) * 5;
      a.shrink = round % 3 == 0 ? 0.0f : uni(rng) * 3;
      a.minAcc = round % 5 == 0 ? 2.0f : -INFINITY;
      const float thresholds[] = {-INFINITY, -0.5f, 0.0f, 0.05f, 0.3f, 0.9f};
      const float threshold = thresholds[round % 6];
      auto want = expected(jaccard, a, acc, threshold);
      std::vector<int32_t> idx(n);
      std::vector<float> sim(n);
      const size_t found = (jaccard ? table.scanJaccard : table.scanRatio)(a, acc.data(), n, threshold, idx.data(), sim.data());
      CHECK(found == want.size());
      for (size_t c = 0; c < found; ++c) {
        auto it = want.find(idx[c]);
        CHECK(it != want.end());
        CHECK(it->second == sim[c]);  // bit-identical: same formula, no FMA
      }
      CHECK(std::all_of(acc.begin(), acc.end(), [](float v) { return v == 0.0f; }));
    }
  }
}

TEST(kernels, dispatch_reports_and_refuses) {
  CHECK(!cpuFeatures().levels.empty());
  CHECK(cpuFeatures().levels.front() == SimdLevel::Scalar);
  CHECK_THROWS_CODE(setSimdLevel("sse9"), code::kBadInput);
  for (SimdLevel level : {SimdLevel::Avx2, SimdLevel::Avx512, SimdLevel::Neon}) {
    const auto& levels = cpuFeatures().levels;
    if (std::find(levels.begin(), levels.end(), level) == levels.end())
      CHECK_THROWS_CODE(setSimdLevel(simdLevelName(level)), code::kSimdUnavailable);
  }
}
