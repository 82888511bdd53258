// Compressed sparse rows. Views borrow memory (JS typed arrays); Csr owns it.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace affinity {

class Control;

struct CsrView {
  int32_t rows = 0;
  int32_t cols = 0;
  std::span<const int32_t> indptr;   // rows + 1
  std::span<const int32_t> indices;  // nnz, sorted and unique within each row
  std::span<const float> data;       // nnz
  std::span<const double> timestamps;  // nnz or empty

  int64_t nnz() const { return static_cast<int64_t>(indices.size()); }
  std::span<const int32_t> rowIndices(int32_t r) const { return indices.subspan(indptr[r], indptr[r + 1] - indptr[r]); }
  std::span<const float> rowData(int32_t r) const { return data.subspan(indptr[r], indptr[r + 1] - indptr[r]); }
};

struct Csr {
  int32_t rows = 0;
  int32_t cols = 0;
  std::vector<int32_t> indptr;
  std::vector<int32_t> indices;
  std::vector<float> data;
  std::vector<double> timestamps;

  CsrView view() const { return {rows, cols, indptr, indices, data, timestamps}; }
};

enum class DuplicatePolicy { Sum, Max, Last };

struct Coo {
  int32_t rows = 0;
  int32_t cols = 0;
  std::span<const int32_t> rowIdx;
  std::span<const int32_t> colIdx;
  std::span<const float> values;        // empty: every value is 1
  std::span<const double> timestamps;   // empty: none
};

// Sorts by (row, col) and merges duplicate pairs. Sum adds values, Max keeps the largest, Last keeps
// the one that came last in input order; the merged timestamp is the latest (Last: the last one's).
// Rejects out-of-range indices and non-finite values or timestamps with ERR_AFFINITY_BAD_INPUT.
Csr buildCsr(const Coo& coo, DuplicatePolicy policy);

// Checks a caller-supplied CSR: shape, monotone indptr, indices in range, finite data.
void validateCsr(const CsrView& m);
// validateCsr, and each row's columns strictly increasing (sorted, no duplicates): what the scans assume
// of stored matrices (model files), where a caller's matrix would first go through buildCsr.
void validateCanonicalCsr(const CsrView& m);

// Stored entries per column (items' interaction counts). Indices out of range are an error.
std::vector<int32_t> columnCounts(const CsrView& m);

// Indices 0..n-1 by descending count, ties by ascending index (a counting sort). Counts must be >= 0.
std::vector<int32_t> orderByCount(std::span<const int32_t> counts);

// CSR of the transpose (equivalently, the CSC of m). Keeps rows sorted. On up to `threads` threads (0 = the
// pool's); the result is the same for any count.
Csr transpose(const CsrView& m, int threads = 1);

// a * b (Gustavson's row-by-row product), rows sorted; entries that sum to exactly 0 are kept.
// Parallel over rows of a; deterministic (each row is summed in a fixed order).
Csr multiply(const CsrView& a, const CsrView& b, int threads, Control& control);

}  // namespace affinity
