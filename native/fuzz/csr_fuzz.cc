// libFuzzer target: the native half of the model-file loader. Bytes become a CSR matrix (shape, indptr,
// indices, data) and a factor array, as a crafted file could hold them; verification must refuse what
// is unsafe with an affinity::Error, and whatever it accepts must be safe for the code that then indexes
// with it (transpose, column counts, top-k scans), which runs here under ASan/UBSan.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../core/crc32.h"
#include "../core/error.h"
#include "../core/sparse.h"

using namespace affinity;

namespace {
template <class T>
std::vector<T> take(const uint8_t*& p, const uint8_t* end, size_t count) {
  std::vector<T> out;
  for (size_t k = 0; k < count && p + sizeof(T) <= end; ++k, p += sizeof(T)) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    out.push_back(v);
  }
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  (void)crc32(data, size, 0);
  const int32_t rows = data[0] % 64, cols = data[1] % 64;
  const bool sorted = data[2] & 1;
  const size_t nnz = data[3] % 128;
  const uint8_t* p = data + 4;
  const uint8_t* end = data + size;
  auto indptr = take<int32_t>(p, end, static_cast<size_t>(rows) + 1);
  auto indices = take<int32_t>(p, end, nnz);
  auto values = take<float>(p, end, nnz);
  CsrView m;
  m.rows = rows, m.cols = cols;
  m.indptr = indptr, m.indices = indices, m.data = values;
  try {
    if (sorted) validateCanonicalCsr(m);
    else validateCsr(m);
  } catch (const Error&) {
    return 0;
  }
  // Accepted: everything downstream must hold.
  const auto counts = columnCounts(m);
  int64_t total = 0;
  for (int32_t c : counts) total += c;
  if (total != static_cast<int64_t>(m.indices.size())) __builtin_trap();
  Csr t = transpose(m, 1);
  if (t.rows != cols || t.indices.size() != m.indices.size()) __builtin_trap();
  validateCsr(t.view());
  if (sorted) validateCanonicalCsr(t.view());  // the transpose of a canonical matrix is canonical
  return 0;
}
