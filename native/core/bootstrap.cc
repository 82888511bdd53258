#include "bootstrap.h"

#include "error.h"
#include "random.h"
#include "threadpool.h"

namespace affinity {

std::vector<double> bootstrapMeans(std::span<const double> term, std::span<const double> weight, int32_t resamples, uint32_t seed,
                                   int threads, Control& control) {
  const size_t n = term.size();
  require(n > 0, code::kBadInput, "the bootstrap needs rows");
  require(n <= 0xffffffffu, code::kTooLarge, "the bootstrap takes at most 2^32 - 1 rows");
  require(weight.empty() || weight.size() == n, code::kDimMismatch, "weight must have one value per term");
  require(resamples >= 0, code::kBadInput, "resamples must be >= 0");
  std::vector<double> out(resamples);
  control.setTotal(resamples);
  // Terms and weights side by side: one cache line per drawn row rather than two.
  std::vector<double> pairs;
  if (!weight.empty()) {
    pairs.resize(2 * n);
    for (size_t i = 0; i < n; ++i) pairs[2 * i] = term[i], pairs[2 * i + 1] = weight[i];
  }
  ThreadPool::instance().parallelFor(
      resamples, threads,
      [&](size_t b) {
        Sfc32 rng(seed ^ static_cast<uint32_t>(0x9e3779b9u * (b + 1)));
        if (pairs.empty()) {
          double sum = 0;
          for (size_t j = 0; j < n; ++j) sum += term[(static_cast<uint64_t>(rng.next()) * n) >> 32];
          out[b] = sum / n;
        } else {
          double sum = 0, total = 0;
          for (size_t j = 0; j < n; ++j) {
            const double* p = &pairs[2 * ((static_cast<uint64_t>(rng.next()) * n) >> 32)];
            sum += p[0], total += p[1];
          }
          out[b] = total > 0 ? sum / total : 0;
        }
        control.advance(1);
      },
      &control);
  return out;
}

}  // namespace affinity
