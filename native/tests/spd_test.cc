// The tiled Zᵀ Y kernel and the blocked SPD inversion built on it, at every SIMD level, against plain
// double-precision loops on random inputs.
#include <cmath>
#include <random>

#include "../core/control.h"
#include "../core/spd.h"
#include "../simd/dispatch.h"
#include "harness.h"

using namespace affinity;

namespace {

// A random SPD matrix: MᵀM / rows + ridge I, conditioned by `ridge`.
std::vector<double> randomSpd(size_t n, double ridge, std::mt19937& rng) {
  std::normal_distribution<double> normal;
  const size_t rows = n + 7;
  std::vector<double> m(rows * n), a(n * n, 0.0);
  for (auto& v : m) v = normal(rng);
  for (size_t k = 0; k < rows; ++k)
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) a[i * n + j] += m[k * n + i] * m[k * n + j] / static_cast<double>(rows);
  for (size_t i = 0; i < n; ++i) a[i * n + i] += ridge;
  return a;
}

}  // namespace

TEST(spd, gemm_tn_matches_plain_loops_with_strides) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  for (const KernelTable& k : test::everyLevel())
    for (size_t m : {1, 5, 6, 7, 13}) 
      for (size_t n : {1, 7, 8, 15, 16, 17, 40}) {
        const size_t count = 29, ldz = m + 3, ldy = n + 5, lda = n + 2;
        std::vector<float> z(count * ldz), y(count * ldy), a(m * lda);
        for (auto& v : z) v = normal(rng);
        for (auto& v : y) v = normal(rng);
        for (auto& v : a) v = normal(rng);
        const std::vector<float> start(a);
        k.gemmTN(z.data(), ldz, y.data(), ldy, count, m, n, a.data(), lda);
        for (size_t x = 0; x < m; ++x)
          for (size_t c = 0; c < lda; ++c) {
            if (c >= n) {  // past the rectangle: untouched
              CHECK(a[x * lda + c] == start[x * lda + c]);
              continue;
            }
            double want = start[x * lda + c], mag = std::fabs(want);
            for (size_t j = 0; j < count; ++j) want += static_cast<double>(z[j * ldz + x]) * y[j * ldy + c], mag += std::fabs(z[j * ldz + x] * y[j * ldy + c]);
            CHECK(std::fabs(a[x * lda + c] - want) <= 1e-5 * (1 + mag));
          }
      }
}

TEST(spd, blocked_inverse_matches_the_reference) {
  std::mt19937 rng(17);
  // Sizes around the block (256), tile (6, 16) and chunk (128) edges, so every partial path runs.
  for (const KernelTable& k : test::everyLevel()) {
    setSimdLevel(simdLevelName(k.level));
    for (size_t n : {1, 2, 17, 255, 256, 300, 530}) {
      std::vector<double> a = randomSpd(n, 0.5, rng), want = a;
      CHECK(invertSpd(want.data(), static_cast<int32_t>(n)));
      std::vector<float> got(a.begin(), a.end());
      for (size_t i = 0; i < n; ++i)  // only the upper triangle may be read
        for (size_t j = 0; j < i; ++j) got[i * n + j] = NAN;
      Control control;
      SpdInverseStats stats;
      invertSpd(got.data(), n, 2, control, &stats);
      double scale = 0;
      for (double v : want) scale = std::max(scale, std::fabs(v));
      for (size_t i = 0; i < n * n; ++i) CHECK(std::fabs(got[i] - want[i]) <= 2e-4 * scale);
      CHECK(stats.flops == static_cast<double>(n) * n * n);
    }
  }
  setSimdLevel(simdLevelName(cpuFeatures().levels.back()));
}

TEST(spd, rejects_what_is_not_positive_definite) {
  std::vector<float> a = {1, 2, 2, 1};  // eigenvalues 3 and -1
  Control control;
  CHECK_THROWS_CODE(invertSpd(a.data(), 2, 1, control), code::kBadInput);
  std::vector<float> b = {1, NAN, NAN, 1};
  CHECK_THROWS_CODE(invertSpd(b.data(), 2, 1, control), code::kBadInput);
}
