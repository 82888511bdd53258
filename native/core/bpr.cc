#include "bpr.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string>

#include "error.h"
#include "random.h"
#include "threadpool.h"
#include "../simd/dispatch.h"

namespace affinity {

float bprStep(float* xu, float* yi, float* yj, size_t width, float learningRate, float regularization, float* scratch) {
  // Whole-row passes of the SIMD dot and axpy kernels over rows already in L1 (y *= c is y += (c - 1) y).
  const KernelTable& k = activeKernels();
  float* diff = scratch;
  float* user = scratch + width;
  std::memcpy(diff, yi, width * sizeof(float));
  k.axpy(-1.0f, yj, diff, width);
  std::memcpy(user, xu, width * sizeof(float));
  const float x = k.dot(xu, diff, width);
  const float step = learningRate / (1.0f + std::exp(x));  // d/dx ln σ(x) = σ(-x)
  const float decay = -learningRate * regularization;
  k.axpy(decay, yi, yi, width);
  k.axpy(step, user, yi, width);
  k.axpy(decay, yj, yj, width);
  k.axpy(-step, user, yj, width);
  k.axpy(decay, xu, xu, width - 1);  // the bias's user component stays 1
  k.axpy(step, diff, xu, width - 1);
  return x;
}

namespace {

uint32_t below(Sfc32& rng, uint32_t n) { return static_cast<uint32_t>((static_cast<uint64_t>(rng.next()) * n) >> 32); }

uint32_t mix(uint32_t a, uint32_t b) {
  uint64_t h = (static_cast<uint64_t>(a) << 32 | b) * 0x9e3779b97f4a7c15ull;
  return static_cast<uint32_t>(h >> 29) ^ static_cast<uint32_t>(h);
}

}  // namespace

BprFit bprFit(const CsrView& data, const BprOptions& o, Control& control) {
  require(o.factors >= 1 && o.factors <= 1024, code::kBadInput, "factors must be in [1, 1024]");
  require(o.epochs >= 0, code::kBadInput, "epochs must be >= 0");
  require(std::isfinite(o.learningRate) && o.learningRate > 0, code::kBadInput, "learningRate must be a finite number > 0");
  require(std::isfinite(o.regularization) && o.regularization >= 0, code::kBadInput, "regularization must be a finite number >= 0");
  require(std::isfinite(o.learningRateDecay) && o.learningRateDecay >= 0, code::kBadInput, "learningRateDecay must be a finite number >= 0");
  const int32_t users = data.rows, items = data.cols;
  const int64_t nnz = data.nnz();
  require(nnz < (int64_t{1} << 32), code::kTooLarge, "BPR samples from at most 2^32 interactions");
  BprFit out;
  const size_t width = static_cast<size_t>(o.factors) + 1;
  out.width = static_cast<int32_t>(width);
  out.userFactors.resize(static_cast<size_t>(users) * width);
  out.itemFactors.resize(static_cast<size_t>(items) * width);
  Sfc32 init(o.seed);
  const float scale = 1.0f / static_cast<float>(o.factors);
  for (int32_t u = 0; u < users; ++u) {
    float* x = out.userFactors.data() + static_cast<size_t>(u) * width;
    for (size_t k = 0; k + 1 < width; ++k) x[k] = static_cast<float>(init.uniform() - 0.5) * scale;
    x[width - 1] = 1.0f;
  }
  for (int32_t i = 0; i < items; ++i) {
    float* y = out.itemFactors.data() + static_cast<size_t>(i) * width;
    for (size_t k = 0; k + 1 < width; ++k) y[k] = static_cast<float>(init.uniform() - 0.5) * scale;
    y[width - 1] = 0.0f;
  }
  if (nnz == 0 || items < 2) return out;
  std::vector<int32_t> rowOf(static_cast<size_t>(nnz));
  for (int32_t u = 0; u < users; ++u)
    for (int32_t p = data.indptr[u]; p < data.indptr[u + 1]; ++p) rowOf[static_cast<size_t>(p)] = u;

  constexpr int64_t kSamplesPerTask = 1 << 14;
  const size_t tasks = static_cast<size_t>((nnz + kSamplesPerTask - 1) / kSamplesPerTask);
  control.setTotal(static_cast<int64_t>(o.epochs) * nnz);
  for (int32_t epoch = 0; epoch < o.epochs; ++epoch) {
    const float lr = static_cast<float>(o.learningRate / (1.0 + o.learningRateDecay * epoch));
    const float reg = static_cast<float>(o.regularization);
    std::atomic<int64_t> correct{0}, skipped{0};
    ThreadPool::instance().parallelFor(
        tasks, o.threads,
        [&](size_t task) {
          Sfc32 rng(mix(o.seed + static_cast<uint32_t>(epoch), static_cast<uint32_t>(task)));
          std::vector<float> scratch(2 * width);
          const int64_t begin = static_cast<int64_t>(task) * kSamplesPerTask, end = std::min(nnz, begin + kSamplesPerTask);
          int64_t right = 0, skip = 0;
          // Each triple is drawn one step ahead and its three rows prefetched, so their cache misses
          // overlap the current step instead of stalling it.
          struct Triple {
            int32_t u, i, j;
          };
          const auto draw = [&]() -> Triple {
            const uint32_t p = below(rng, static_cast<uint32_t>(nnz));
            return {rowOf[p], data.indices[p], static_cast<int32_t>(below(rng, static_cast<uint32_t>(items)))};
          };
          const auto rowOfUser = [&](int32_t u) { return out.userFactors.data() + static_cast<size_t>(u) * width; };
          const auto rowOfItem = [&](int32_t i) { return out.itemFactors.data() + static_cast<size_t>(i) * width; };
          Triple next = draw();
          for (int64_t s = begin; s < end; ++s) {
            const Triple t = next;
            if (s + 1 < end) {
              next = draw();
              prefetchRow(rowOfUser(next.u), width), prefetchRow(rowOfItem(next.i), width), prefetchRow(rowOfItem(next.j), width);
            }
            if (t.j == t.i || (o.verifyNegatives && std::binary_search(data.indices.begin() + data.indptr[t.u], data.indices.begin() + data.indptr[t.u + 1], t.j))) {
              ++skip;
              continue;
            }
            const float x = bprStep(rowOfUser(t.u), rowOfItem(t.i), rowOfItem(t.j), width, lr, reg, scratch.data());
            right += x > 0;
          }
          correct += right;
          skipped += skip;
          control.advance(end - begin);
        },
        &control);
    const int64_t stepped = nnz - skipped.load();
    out.skipped += skipped.load();
    const double share = stepped > 0 ? static_cast<double>(correct.load()) / static_cast<double>(stepped) : 0.0;
    out.correct.push_back(share);
    control.event(epoch + 1, share);
  }
  for (float v : out.itemFactors) require(std::isfinite(v), code::kBadInput, "BPR diverged (a factor is not finite): lower learningRate");
  return out;
}

}  // namespace affinity
