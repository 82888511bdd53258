#include "sparse.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "control.h"
#include "error.h"
#include "threadpool.h"

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

// How often each column in [0, cols) occurs among `indices`; an index out of range is bad input.
std::vector<int32_t> countColumns(std::span<const int32_t> indices, int32_t cols) {
  std::vector<int32_t> counts(static_cast<size_t>(cols), 0);
  for (int32_t c : indices) {
    require(c >= 0 && c < cols, code::kBadInput, "column index out of range");
    ++counts[static_cast<size_t>(c)];
  }
  return counts;
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
    require(m.indptr[r] <= m.indptr[r + 1], code::kBadInput, [&] { return "indptr must be non-decreasing (row " + std::to_string(r) + ")"; });
  for (size_t i = 0; i < m.indices.size(); ++i) {
    require(m.indices[i] >= 0 && m.indices[i] < m.cols, code::kBadInput, [&] { return "column index " + std::to_string(i) + " is out of range"; });
    require(std::isfinite(m.data[i]), code::kBadInput, [&] { return "data[" + std::to_string(i) + "] is not a finite number"; });
  }
}

void validateCanonicalCsr(const CsrView& m) {
  validateCsr(m);
  for (int32_t r = 0; r < m.rows; ++r)
    for (int32_t p = m.indptr[r] + 1; p < m.indptr[r + 1]; ++p)
      require(m.indices[p - 1] < m.indices[p], code::kBadInput, [&] { return "row " + std::to_string(r) + " has unsorted or repeated columns"; });
}

std::vector<int32_t> columnCounts(const CsrView& m) { return countColumns(m.indices, m.cols); }

std::vector<int32_t> orderByCount(std::span<const int32_t> counts) {
  int32_t most = 0;
  for (int32_t c : counts) {
    require(c >= 0, code::kBadInput, "counts must be non-negative");
    most = std::max(most, c);
  }
  // Bucket b holds count most - b; filling buckets in index order keeps ties by index.
  std::vector<size_t> next(static_cast<size_t>(most) + 2, 0);
  for (int32_t c : counts) ++next[static_cast<size_t>(most - c) + 1];
  for (size_t b = 1; b < next.size(); ++b) next[b] += next[b - 1];
  std::vector<int32_t> order(counts.size());
  for (size_t i = 0; i < counts.size(); ++i) order[next[static_cast<size_t>(most - counts[i])]++] = static_cast<int32_t>(i);
  return order;
}

Csr transpose(const CsrView& m, int threads) {
  Csr t;
  t.rows = m.cols;
  t.cols = m.rows;
  const size_t nnz = m.indices.size();
  ThreadPool& pool = ThreadPool::instance();
  // Row ranges of about equal size, one per part: each part counts its entries per column, then places them.
  // Parts take their places in row order, so every column lists its rows in ascending order.
  const size_t wanted = static_cast<size_t>(threads <= 0 ? pool.threads() : std::min(threads, pool.threads()));
  const size_t parts = nnz < (size_t{1} << 16) ? 1 : std::min<size_t>(wanted, static_cast<size_t>(std::max(m.rows, 1)));
  std::vector<int32_t> first(parts + 1, m.rows);
  for (size_t p = 0; p < parts; ++p)
    first[p] = static_cast<int32_t>(std::lower_bound(m.indptr.begin(), m.indptr.end() - 1, static_cast<int64_t>(nnz * p / parts)) - m.indptr.begin());
  std::vector<std::vector<int32_t>> place(parts);
  pool.parallelFor(
      parts, static_cast<int>(parts),
      [&](size_t p) {
        const int32_t from = m.indptr[first[p]], to = m.indptr[first[p + 1]];
        place[p] = countColumns(m.indices.subspan(static_cast<size_t>(from), static_cast<size_t>(to - from)), m.cols);
      },
      nullptr);
  t.indptr.assign(static_cast<size_t>(m.cols) + 1, 0);
  for (int32_t c = 0; c < m.cols; ++c) {
    int32_t at = t.indptr[c];
    for (size_t p = 0; p < parts; ++p) {
      const int32_t count = place[p][static_cast<size_t>(c)];
      place[p][static_cast<size_t>(c)] = at;  // counts become each part's first slot in the column
      at += count;
    }
    t.indptr[c + 1] = at;
  }
  t.indices.resize(nnz);
  t.data.resize(nnz);
  const bool hasTs = !m.timestamps.empty();
  if (hasTs) t.timestamps.resize(nnz);
  pool.parallelFor(
      parts, static_cast<int>(parts),
      [&](size_t p) {
        std::vector<int32_t>& cursor = place[p];
        for (int32_t r = first[p]; r < first[p + 1]; ++r)
          for (int32_t i = m.indptr[r]; i < m.indptr[r + 1]; ++i) {
            const int32_t dst = cursor[static_cast<size_t>(m.indices[static_cast<size_t>(i)])]++;
            t.indices[static_cast<size_t>(dst)] = r;
            t.data[static_cast<size_t>(dst)] = m.data[static_cast<size_t>(i)];
            if (hasTs) t.timestamps[static_cast<size_t>(dst)] = m.timestamps[static_cast<size_t>(i)];
          }
      },
      nullptr);
  return t;
}

Csr multiply(const CsrView& a, const CsrView& b, int threads, Control& control) {
  require(a.cols == b.rows, code::kDimMismatch,
          "cannot multiply a " + std::to_string(a.rows) + "x" + std::to_string(a.cols) + " matrix by a " +
              std::to_string(b.rows) + "x" + std::to_string(b.cols) + " one");
  constexpr int32_t kRowsPerTask = 256;
  const size_t tasks = (static_cast<size_t>(a.rows) + kRowsPerTask - 1) / kRowsPerTask;
  struct Part {
    std::vector<int32_t> counts, indices;
    std::vector<float> data;
  };
  std::vector<Part> parts(tasks);
  control.setTotal(static_cast<int64_t>(tasks));
  ThreadPool::instance().parallelFor(
      tasks, threads,
      [&](size_t task) {
        std::vector<float> acc(b.cols, 0.0f);
        std::vector<char> seen(b.cols, 0);
        std::vector<int32_t> touched;
        Part& part = parts[task];
        const int32_t begin = static_cast<int32_t>(task) * kRowsPerTask;
        const int32_t end = std::min(a.rows, begin + kRowsPerTask);
        // Reserved from an upper bound (the products summed): growing the vectors would copy them and
        // fault fresh pages in again at every doubling, which costs more than the arithmetic here.
        size_t bound = 0;
        for (int32_t p = a.indptr[begin]; p < a.indptr[end]; ++p) bound += static_cast<size_t>(b.indptr[a.indices[p] + 1] - b.indptr[a.indices[p]]);
        bound = std::min(bound, static_cast<size_t>(end - begin) * static_cast<size_t>(b.cols));
        part.indices.reserve(bound);
        part.data.reserve(bound);
        part.counts.reserve(static_cast<size_t>(end - begin));
        for (int32_t r = begin; r < end; ++r) {
          touched.clear();
          for (int32_t p = a.indptr[r]; p < a.indptr[r + 1]; ++p) {
            const int32_t mid = a.indices[p];
            const float v = a.data[p];
            for (int32_t q = b.indptr[mid]; q < b.indptr[mid + 1]; ++q) {
              const int32_t c = b.indices[q];
              if (!seen[c]) {
                seen[c] = 1;
                touched.push_back(c);
              }
              acc[c] += v * b.data[q];
            }
          }
          std::sort(touched.begin(), touched.end());
          part.counts.push_back(static_cast<int32_t>(touched.size()));
          for (int32_t c : touched) {
            part.indices.push_back(c);
            part.data.push_back(acc[c]);
            acc[c] = 0.0f;
            seen[c] = 0;
          }
        }
        control.advance(1);
      },
      &control);
  Csr out;
  out.rows = a.rows;
  out.cols = b.cols;
  out.indptr.reserve(static_cast<size_t>(a.rows) + 1);
  out.indptr.push_back(0);
  size_t total = 0;
  for (const Part& part : parts) total += part.indices.size();
  out.indices.reserve(total);
  out.data.reserve(total);
  for (const Part& part : parts) {
    for (int32_t count : part.counts) {
      require(static_cast<int64_t>(out.indptr.back()) + count <= std::numeric_limits<int32_t>::max(), code::kBadInput,
              "the product has more than 2^31 - 1 entries");
      out.indptr.push_back(out.indptr.back() + count);
    }
    out.indices.insert(out.indices.end(), part.indices.begin(), part.indices.end());
    out.data.insert(out.data.end(), part.data.begin(), part.data.end());
  }
  return out;
}

}  // namespace affinity
