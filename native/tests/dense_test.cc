// Every SIMD level of the dense kernels against plain double-precision loops, on random inputs.
#include <cmath>
#include <random>

#include "../simd/dispatch.h"
#include "harness.h"

using namespace affinity;

namespace {


bool close(double got, double want, double scale) { return std::fabs(got - want) <= 1e-4 * std::max(1.0, scale); }

double refDot(const float* a, const float* b, size_t n, double* mag) {
  double s = 0, m = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i], m += std::fabs(static_cast<double>(a[i]) * b[i]);
  if (mag) *mag = m;
  return s;
}

}  // namespace

TEST(dense, every_level_matches_plain_loops) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const KernelTable& k : test::everyLevel()) {
    for (size_t f : {1, 3, 8, 15, 16, 31, 32, 33, 64, 100, 128}) {
      const size_t rows = 37;
      std::vector<float> base(rows * f), x(f), y(f), coeff(rows);
      for (auto& v : base) v = normal(rng);
      for (auto& v : x) v = normal(rng);
      for (auto& v : y) v = normal(rng);
      for (auto& v : coeff) v = normal(rng);
      double mag;
      CHECK(close(k.dot(x.data(), y.data(), f), refDot(x.data(), y.data(), f, &mag), mag));
      CHECK(close(k.dotChain(x.data(), y.data(), f), refDot(x.data(), y.data(), f, &mag), mag));
      std::vector<float> out(rows);
      k.dotRows(base.data(), f, rows, x.data(), f, out.data());
      for (size_t r = 0; r < rows; ++r) CHECK(close(out[r], refDot(base.data() + r * f, x.data(), f, &mag), mag));
      std::vector<int32_t> idx(rows);
      for (auto& i : idx) i = static_cast<int32_t>(rng() % rows);
      k.gatherDot(base.data(), idx.data(), rows, f, x.data(), out.data());
      for (size_t j = 0; j < rows; ++j) CHECK(close(out[j], refDot(base.data() + idx[j] * f, x.data(), f, &mag), mag));
      for (size_t n : {f, f / 2 + 1}) {  // all columns, and a leading part (triangular updates)
        std::vector<float> acc(y);
        k.gatherAxpy(base.data(), idx.data(), rows, f, n, coeff.data(), acc.data());
        for (size_t c = 0; c < f; ++c) {
          double want = y[c], m = std::fabs(y[c]);
          if (c < n)
            for (size_t j = 0; j < rows; ++j) want += static_cast<double>(coeff[j]) * base[idx[j] * f + c], m += std::fabs(coeff[j] * base[idx[j] * f + c]);
          CHECK(close(acc[c], want, m));
        }
      }
      for (bool withA : {true, false}) {  // the fused dot + update, with and without the constant term
        std::vector<float> acc(y), a(rows), b(rows);
        for (auto& v : a) v = normal(rng);
        for (auto& v : b) v = normal(rng);
        const RowGather ahead{base.data(), idx.data(), rows};  // prefetching must not change anything
        std::vector<float> dots(rows);
        k.gatherDotAxpy({base.data(), idx.data(), rows}, f, x.data(), withA ? a.data() : nullptr, b.data(), acc.data(),
                        withA ? dots.data() : nullptr, ahead);
        if (withA)
          for (size_t j = 0; j < rows; ++j) CHECK(close(dots[j], refDot(base.data() + idx[j] * f, x.data(), f, &mag), mag));
        for (size_t c = 0; c < f; ++c) {
          double want = y[c], m = std::fabs(y[c]);
          for (size_t j = 0; j < rows; ++j) {
            double dm;
            const double w = (withA ? a[j] : 0.0) + b[j] * refDot(base.data() + idx[j] * f, x.data(), f, &dm);
            want += w * base[idx[j] * f + c], m += (std::fabs(w) + std::fabs(b[j]) * dm) * std::fabs(base[idx[j] * f + c]);
          }
          CHECK(close(acc[c], want, m));
        }
      }
      for (size_t count : {rows, size_t{700}}) {  // one block of rows, and several
        std::vector<float> z(count * f), yr(count * f), gram(f * f), want(f * f, 0.0f);
        for (auto& v : z) v = normal(rng);
        for (auto& v : yr) v = normal(rng);
        for (auto& v : gram) v = normal(rng);
        const std::vector<float> start(gram);
        k.gramUpdate(z.data(), yr.data(), count, f, gram.data());
        for (size_t x = 0; x < f; ++x)
          for (size_t c = 0; c <= x; ++c) {
            double s = start[x * f + c], m = std::fabs(s);
            for (size_t j = 0; j < count; ++j) s += static_cast<double>(z[j * f + x]) * yr[j * f + c], m += std::fabs(z[j * f + x] * yr[j * f + c]);
            CHECK(close(gram[x * f + c], s, m));
          }
      }
      std::vector<float> ax(y);
      k.axpy(0.5f, x.data(), ax.data(), f);
      for (size_t c = 0; c < f; ++c) CHECK(close(ax[c], y[c] + 0.5 * x[c], 1));
      // One full tile against a packed panel of 16 items, with bias, offsets and thresholds.
      std::vector<float> users(kTileUsers * f), panel(f * kPanelItems), bias(kPanelItems), tile(kTileUsers * kPanelItems);
      for (auto& v : users) v = normal(rng);
      for (auto& v : panel) v = normal(rng);
      for (auto& v : bias) v = normal(rng);
      const float off[kTileUsers] = {0.5f, -1.0f, 0.0f, 2.0f, -0.25f, 1.0f}, thr[kTileUsers] = {0.0f, 1.0f, -INFINITY, INFINITY, 0.5f, -1.0f};
      for (size_t count = 1; count <= kTileUsers; ++count) {
        uint16_t hits[kTileUsers] = {};
        const uint32_t any = k.scoreTile(users.data(), count, panel.data(), f, bias.data(), off, thr, tile.data(), hits);
        uint32_t want = 0;
        for (size_t r = 0; r < count; ++r) {
          for (size_t t = 0; t < kPanelItems; ++t) {
            std::vector<float> item(f);
            for (size_t c = 0; c < f; ++c) item[c] = panel[c * kPanelItems + t];
            const double expect = refDot(users.data() + r * f, item.data(), f, &mag) + bias[t] + off[r];
            const float got = tile[r * kPanelItems + t];
            CHECK(close(got, expect, mag + 3));
            CHECK(((hits[r] >> t) & 1) == (got >= thr[r] ? 1u : 0u));
            // The single-pair chain gives the same bits as the tile.
            CHECK((k.dotChain(users.data() + r * f, item.data(), f) + bias[t]) + off[r] == got);
          }
          want |= hits[r];  // each bit checked above
        }
        CHECK(any == want);
      }
    }
  }
}
