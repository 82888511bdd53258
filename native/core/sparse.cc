#include "sparse.h"

#include <cmath>
#include <limits>
#include <string>

#include "error.h"

namespace affinity {
namespace {

// Stable counting sort of `order` by key(order[i]) in [0, buckets).
template <class Key>
std::vector<int64_t> countingSort(const std::vector<int64_t>& order, int32_t buckets, Key key) {
  std::vector<int64_t> start(static_cast<size_t>(buckets) + 1, 0);
  for (int64_t i : order) ++start[key(i) + 1];
  for (int32_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
  std::vector<int64_t> sorted(order.size());
  for (int64_t i : order) sorted[start[key(i)]++] = i;
  return sorted;
}

}  // namespace

Csr buildCsr(const Coo& coo, DuplicatePolicy policy) {
  const size_t n = coo.rowIdx.size();
  require(coo.rows >= 0 && coo.cols >= 0, code::kBadInput, "shape must be non-negative");
  require(coo.colIdx.size() == n, code::kDimMismatch,
          "rows and cols have different lengths (" + std::to_string(n) + " vs " + std::to_string(coo.colIdx.size()) + ")");
  require(coo.values.empty() || coo.values.size() == n, code::kDimMismatch, "values length differs from the number of interactions");
  require(coo.timestamps.empty() || coo.timestamps.size() == n, code::kDimMismatch,
          "timestamps length differs from the number of interactions");
  require(n <= static_cast<size_t>(std::numeric_limits<int32_t>::max()), code::kTooLarge, "more than 2^31-1 interactions");
  for (size_t i = 0; i < n; ++i) {
    if (coo.rowIdx[i] < 0 || coo.rowIdx[i] >= coo.rows || coo.colIdx[i] < 0 || coo.colIdx[i] >= coo.cols)
      fail(code::kBadInput, "interaction " + std::to_string(i) + " has an index outside the shape");
    if (!coo.values.empty() && !std::isfinite(coo.values[i]))
      fail(code::kBadInput, "value " + std::to_string(i) + " is not a finite number");
    if (!coo.timestamps.empty() && !std::isfinite(coo.timestamps[i]))
      fail(code::kBadInput, "timestamp " + std::to_string(i) + " is not a finite number");
  }

  // Two stable counting sorts (by col, then by row) give (row, col) order with input order kept
  // among duplicates, which is what Last needs.
  std::vector<int64_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<int64_t>(i);
  order = countingSort(order, coo.cols, [&](int64_t i) { return coo.colIdx[i]; });
  order = countingSort(order, coo.rows, [&](int64_t i) { return coo.rowIdx[i]; });

  Csr out;
  out.rows = coo.rows;
  out.cols = coo.cols;
  out.indptr.assign(static_cast<size_t>(coo.rows) + 1, 0);
  out.indices.reserve(n);
  out.data.reserve(n);
  const bool hasTs = !coo.timestamps.empty();
  if (hasTs) out.timestamps.reserve(n);
  auto valueOf = [&](int64_t i) { return coo.values.empty() ? 1.0f : coo.values[i]; };

  int32_t lastRow = -1, lastCol = -1;
  for (int64_t i : order) {
    int32_t r = coo.rowIdx[i], c = coo.colIdx[i];
    float v = valueOf(i);
    if (r == lastRow && c == lastCol) {
      float& merged = out.data.back();
      switch (policy) {
        case DuplicatePolicy::Sum: merged += v; break;
        case DuplicatePolicy::Max: merged = std::max(merged, v); break;
        case DuplicatePolicy::Last: merged = v; break;
      }
      if (hasTs) {
        double& ts = out.timestamps.back();
        ts = policy == DuplicatePolicy::Last ? coo.timestamps[i] : std::max(ts, coo.timestamps[i]);
      }
      continue;
    }
    out.indices.push_back(c);
    out.data.push_back(v);
    if (hasTs) out.timestamps.push_back(coo.timestamps[i]);
    ++out.indptr[r + 1];
    lastRow = r;
    lastCol = c;
  }
  for (int32_t r = 0; r < coo.rows; ++r) out.indptr[r + 1] += out.indptr[r];
  for (float v : out.data)
    require(std::isfinite(v), code::kBadInput, "merging duplicate interactions overflowed a float value");
  return out;
}

void validateCsr(const CsrView& m) {
  require(m.rows >= 0 && m.cols >= 0, code::kBadInput, "shape must be non-negative");
  require(m.indptr.size() == static_cast<size_t>(m.rows) + 1, code::kDimMismatch,
          "indptr must have rows + 1 = " + std::to_string(m.rows + 1) + " entries, got " + std::to_string(m.indptr.size()));
  require(m.data.size() == m.indices.size(), code::kDimMismatch, "indices and data have different lengths");
  require(m.indptr[0] == 0, code::kBadInput, "indptr[0] must be 0");
  require(static_cast<size_t>(m.indptr[m.rows]) == m.indices.size(), code::kDimMismatch,
          "indptr[rows] must equal the number of stored entries");
  for (int32_t r = 0; r < m.rows; ++r)
    require(m.indptr[r] <= m.indptr[r + 1], code::kBadInput, "indptr must be non-decreasing (row " + std::to_string(r) + ")");
  for (size_t i = 0; i < m.indices.size(); ++i) {
    require(m.indices[i] >= 0 && m.indices[i] < m.cols, code::kBadInput, "column index " + std::to_string(i) + " is out of range");
    require(std::isfinite(m.data[i]), code::kBadInput, "data[" + std::to_string(i) + "] is not a finite number");
  }
}

Csr transpose(const CsrView& m) {
  Csr t;
  t.rows = m.cols;
  t.cols = m.rows;
  t.indptr.assign(static_cast<size_t>(m.cols) + 1, 0);
  for (int32_t c : m.indices) ++t.indptr[c + 1];
  for (int32_t c = 0; c < m.cols; ++c) t.indptr[c + 1] += t.indptr[c];
  t.indices.resize(m.indices.size());
  t.data.resize(m.indices.size());
  const bool hasTs = !m.timestamps.empty();
  if (hasTs) t.timestamps.resize(m.indices.size());
  std::vector<int32_t> cursor(t.indptr.begin(), t.indptr.end() - 1);
  for (int32_t r = 0; r < m.rows; ++r) {
    for (int32_t p = m.indptr[r]; p < m.indptr[r + 1]; ++p) {
      int32_t dst = cursor[m.indices[p]]++;
      t.indices[dst] = r;
      t.data[dst] = m.data[p];
      if (hasTs) t.timestamps[dst] = m.timestamps[p];
    }
  }
  return t;
}

}  // namespace affinity
