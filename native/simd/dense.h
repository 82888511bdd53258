// Dense vector kernels for factor models (ALS). Each level sums in its own order, so results agree to
// rounding, not to the bit; tests compare with a relative tolerance.
#pragma once
#include <cstddef>
#include <cstdint>

namespace affinity {

using DotFn = float (*)(const float* a, const float* b, size_t n);
using AxpyFn = void (*)(float alpha, const float* x, float* y, size_t n);  // y += alpha * x
// out[r] = rows[r * stride .. + n] . x for r in [0, count): scores of many items against one user.
using DotRowsFn = void (*)(const float* rows, size_t stride, size_t count, const float* x, size_t n, float* out);

// out[j] = base[idx[j] * f ..] . x : dots of gathered rows (a user's items) with one vector.
using GatherDotFn = void (*)(const float* base, const int32_t* idx, size_t count, size_t f, const float* x, float* out);
// out[0..n) += sum_j coeff[j] * base[idx[j] * stride ..] : a weighted sum of (the first n columns of)
// gathered rows, accumulated in registers.
using GatherAxpyFn = void (*)(const float* base, const int32_t* idx, size_t count, size_t stride, size_t n, const float* coeff,
                              float* out);

// Rows gathered by index: base[idx[j] * f ..] for j in [0, count).
struct RowGather {
  const float* base = nullptr;
  const int32_t* idx = nullptr;
  size_t count = 0;
};
// out[0..f) += sum_j (a[j] + b[j] * (row_j . x)) * row_j, a may be null (0). One pass: each row serves its
// dot and its update while it is in L1 (the residual and every CG product of implicit ALS have this form).
// dots, unless null, gets each row_j . x. Meanwhile the rows of `ahead` (the next solve's) are prefetched,
// spread evenly over the rows processed.
using GatherDotAxpyFn = void (*)(RowGather rows, size_t f, const float* x, const float* a, const float* b, float* out,
                                 float* dots, RowGather ahead);

inline void prefetchRow(const float* row, size_t f) {
  const char* bytes = reinterpret_cast<const char*>(row);
  for (size_t line = 0; line < f * sizeof(float); line += 64) __builtin_prefetch(bytes + line, 0, 3);
}

// Prefetches the rows of `ahead` spread evenly over `total` units of work: after `done` units, the first
// count * done / total of them. Kept as a running remainder: a division per step cost more than the rest.
class AheadPrefetch {
 public:
  AheadPrefetch(const RowGather& ahead, size_t f, size_t total) : ahead_(ahead), f_(f), total_(total) {}
  void advance(size_t units) {
    credit_ += ahead_.count * units;
    for (; credit_ >= total_ && next_ < ahead_.count; credit_ -= total_)
      prefetchRow(ahead_.base + static_cast<size_t>(ahead_.idx[next_++]) * f_, f_);
  }

 private:
  RowGather ahead_;
  size_t f_, total_, next_ = 0, credit_ = 0;
};

// a[x * f + c] += sum_j z[j * f + x] * y[j * f + c] over `count` contiguous rows, for the lower triangle
// c <= x (Zᵀ Y; with z = y the Gram matrix, with z = weights * y a weighted one). Entries above the
// diagonal may be updated too (whole register tiles): callers read or mirror the lower triangle only.
using GramUpdateFn = void (*)(const float* z, const float* y, size_t count, size_t f, float* a);
// a[x * lda + c] += sum_j z[j * ldz + x] * y[j * ldy + c] over `count` rows, for the whole m x n rectangle:
// the same tiles with strides, for the trailing updates of blocked factorizations. Callers pack z and y
// (ldz, ldy small) so each tile streams them from L1.
using GemmTnFn = void (*)(const float* z, size_t ldz, const float* y, size_t ldy, size_t count, size_t m, size_t n, float* a,
                          size_t lda);

// Item factors packed in panels of kPanelItems: panel[k * kPanelItems + t] = y_{item t}[k].
inline constexpr size_t kPanelItems = 16;
inline constexpr size_t kTileUsers = 6;
// Writes v (f values) as item `pos` of consecutive panels: lane pos % kPanelItems of panel pos / kPanelItems.
template <class T>
inline void putPanelItem(float* panels, size_t f, size_t pos, const T* v) {
  float* panel = panels + (pos / kPanelItems) * f * kPanelItems + pos % kPanelItems;
  for (size_t k = 0; k < f; ++k) panel[k * kPanelItems] = static_cast<float>(v[k]);
}
// out[r * 16 + t] = (x_r . y_t + bias[t]) + base[r] for up to kTileUsers user rows (row-major, stride f)
// against one panel; bias may be null (0). hits[r] gets bit t set where out[r * 16 + t] >= threshold[r]:
// the only scores worth a look. Returns the OR of the hits. Every dot is one multiply-add chain over k in
// order, so a 1-user call and a 6-user call agree bit for bit.
using ScoreTileFn = uint32_t (*)(const float* users, size_t count, const float* panel, size_t f, const float* bias,
                                 const float* base, const float* threshold, float* out, uint16_t* hits);
// The same chain for one (user, item) pair: scores of single items that agree with ScoreTileFn.
using DotChainFn = float (*)(const float* x, const float* y, size_t f);

#define AFFINITY_DECLARE_DENSE_KERNELS(ns)                                                             \
  namespace ns {                                                                                       \
  float dot(const float* a, const float* b, size_t n);                                                 \
  void axpy(float alpha, const float* x, float* y, size_t n);                                          \
  void dotRows(const float* rows, size_t stride, size_t count, const float* x, size_t n, float* out);  \
  void gatherDot(const float* base, const int32_t* idx, size_t count, size_t f, const float* x, float* out); \
  void gatherAxpy(const float* base, const int32_t* idx, size_t count, size_t stride, size_t n, const float* coeff, float* out); \
  void gatherDotAxpy(RowGather rows, size_t f, const float* x, const float* a, const float* b, float* out, float* dots, \
                     RowGather ahead);                                                                                  \
  uint32_t scoreTile(const float* users, size_t count, const float* panel, size_t f, const float* bias,  \
                     const float* base, const float* threshold, float* out, uint16_t* hits);              \
  float dotChain(const float* x, const float* y, size_t f);                                              \
  void gramUpdate(const float* z, const float* y, size_t count, size_t f, float* a);                     \
  void gemmTN(const float* z, size_t ldz, const float* y, size_t ldy, size_t count, size_t m, size_t n, float* a, size_t lda); \
  }

namespace kernels {
AFFINITY_DECLARE_DENSE_KERNELS(scalar)
AFFINITY_DECLARE_DENSE_KERNELS(avx2)
AFFINITY_DECLARE_DENSE_KERNELS(avx512)
AFFINITY_DECLARE_DENSE_KERNELS(neon)
}  // namespace kernels

}  // namespace affinity
