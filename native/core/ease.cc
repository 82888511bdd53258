#include "ease.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "error.h"
#include "threadpool.h"

namespace affinity {
namespace {

// The upper triangle of G = XᵀX, row j at a time: G[j][j:] = sum over the users u of item j of x_uj X[u][j:]
// (rows independent).
void gramOfItems(const CsrView& byUser, const CsrView& byItem, float* g, int threads, Control& control) {
  const size_t n = static_cast<size_t>(byItem.rows);
  constexpr size_t kRows = 16;
  ThreadPool::instance().parallelFor(
      (n + kRows - 1) / kRows, threads,
      [&](size_t task) {
        for (size_t j = task * kRows; j < std::min(n, task * kRows + kRows); ++j) {
          float* row = g + j * n;
          std::fill(row, row + n, 0.0f);
          for (int32_t p = byItem.indptr[j]; p < byItem.indptr[j + 1]; ++p) {
            const int32_t u = byItem.indices[p];
            const float w = byItem.data[p];
            // The user's items from j on (rows are sorted): the upper triangle, which is all the inversion reads.
            const int32_t* first = byUser.indices.data() + byUser.indptr[u];
            const int32_t* last = byUser.indices.data() + byUser.indptr[u + 1];
            for (const int32_t* q = std::lower_bound(first, last, static_cast<int32_t>(j)); q < last; ++q)
              row[*q] += w * byUser.data[static_cast<size_t>(q - byUser.indices.data())];
          }
        }
      },
      &control);
}

}  // namespace

double easeFitBytes(int64_t items, int32_t keep) {
  const double n = static_cast<double>(items);
  const double perRow = keep > 0 ? std::min<double>(keep, n - 1) : n - 1;
  return n * n * sizeof(float) + static_cast<double>(invertSpdScratchBytes(static_cast<size_t>(items))) + n * perRow * 8;
}

EaseFit easeFit(const CsrView& byUser, const CsrView& byItem, double lambda, int32_t keep, int threads, Control& control) {
  require(byUser.cols == byItem.rows && byUser.rows == byItem.cols && byUser.nnz() == byItem.nnz(), code::kDimMismatch,
          "the transposed interactions do not match");
  require(std::isfinite(lambda) && lambda > 0, code::kBadInput, "lambda must be a finite number > 0");
  require(keep >= 0, code::kBadInput, "keep must be >= 0");
  const size_t n = static_cast<size_t>(byUser.cols);
  EaseFit out;
  const auto start = std::chrono::steady_clock::now();
  UninitializedVector<float> p;
  try {
    p.resize(n * n);
  } catch (const std::bad_alloc&) {
    fail(code::kOutOfMemory, "EASE needs " + std::to_string(n * n * sizeof(float)) + " bytes for the Gram matrix of " + std::to_string(n) + " items");
  }
  gramOfItems(byUser, byItem, p.data(), threads, control);
  for (size_t j = 0; j < n; ++j) p[j * n + j] += static_cast<float>(lambda);
  out.gramSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  invertSpd(p.data(), n, threads, control, &out.inverse);

  // B[j][i] = -P[j][i] / P[i][i]: row j scatters item j's weight to every other item i.
  const auto weightsStart = std::chrono::steady_clock::now();
  const size_t perRow = n == 0 ? 0 : keep > 0 ? std::min<size_t>(static_cast<size_t>(keep), n - 1) : n - 1;
  EaseWeights& w = out.weights;
  w.items = static_cast<int32_t>(n);
  w.indptr.resize(n + 1);
  for (size_t j = 0; j <= n; ++j) w.indptr[j] = static_cast<int32_t>(j * perRow);
  std::vector<float> inverseDiagonal(n);
  for (size_t i = 0; i < n; ++i) inverseDiagonal[i] = 1.0f / p[i * n + i];
  w.indices.resize(n * perRow);
  if (perRow == n - 1) {
    // Every item but j, in item order. The weights overwrite P in place, row after row (row j's
    // entries move down by j, onto entries already read), so the largest buffer is allocated once.
    ThreadPool::instance().parallelFor(
        (n + 63) / 64, threads,
        [&](size_t task) {
          for (size_t j = task * 64; j < std::min(n, task * 64 + 64); ++j) {
            int32_t* idx = w.indices.data() + j * perRow;
            for (size_t i = 0; i < j; ++i) idx[i] = static_cast<int32_t>(i);
            for (size_t i = j + 1; i < n; ++i) idx[i - 1] = static_cast<int32_t>(i);
          }
        },
        &control);
    for (size_t j = 0; j < n; ++j) {
      const float* row = p.data() + j * n;
      float* val = p.data() + j * perRow;
      for (size_t i = 0; i < j; ++i) val[i] = -row[i] * inverseDiagonal[i];
      for (size_t i = j + 1; i < n; ++i) val[i - 1] = -row[i] * inverseDiagonal[i];
    }
    p.resize(n * perRow);
    w.data = std::move(p);
  } else {
    w.data.resize(n * perRow);
    ThreadPool::instance().parallelFor(
        (n + 63) / 64, threads,
        [&](size_t task) {
          std::vector<int32_t> order;
          for (size_t j = task * 64; j < std::min(n, task * 64 + 64); ++j) {
            const float* row = p.data() + j * n;
            const auto weight = [&](int32_t i) { return -row[i] * inverseDiagonal[static_cast<size_t>(i)]; };
            order.clear();
            for (size_t i = 0; i < n; ++i)
              if (i != j) order.push_back(static_cast<int32_t>(i));
            std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(perRow), order.end(), [&](int32_t a, int32_t b) {
              const float wa = std::fabs(weight(a)), wb = std::fabs(weight(b));
              return wa > wb || (wa == wb && a < b);
            });
            std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(perRow));
            for (size_t m = 0; m < perRow; ++m) w.indices[j * perRow + m] = order[m], w.data[j * perRow + m] = weight(order[m]);
          }
        },
        &control);
  }
  out.weightsSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - weightsStart).count();
  return out;
}

}  // namespace affinity
