// Plain reference dense kernels.
#include "../../simd/dense.h"

namespace affinity::kernels::scalar {

float dot(const float* a, const float* b, size_t n) {
  float s = 0.0f;
  for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy(float alpha, const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

void dotRows(const float* rows, size_t stride, size_t count, const float* x, size_t n, float* out) {
  for (size_t r = 0; r < count; ++r) out[r] = dot(rows + r * stride, x, n);
}

void gatherDot(const float* base, const int32_t* idx, size_t count, size_t f, const float* x, float* out) {
  for (size_t j = 0; j < count; ++j) out[j] = dot(base + static_cast<size_t>(idx[j]) * f, x, f);
}

void gatherAxpy(const float* base, const int32_t* idx, size_t count, size_t stride, size_t n, const float* coeff, float* out) {
  for (size_t j = 0; j < count; ++j) axpy(coeff[j], base + static_cast<size_t>(idx[j]) * stride, out, n);
}

void gatherDotAxpy(RowGather rows, size_t f, const float* x, const float* a, const float* b, float* out, float* dots, RowGather) {
  for (size_t j = 0; j < rows.count; ++j) {
    const float* row = rows.base + static_cast<size_t>(rows.idx[j]) * f;
    const float d = dot(row, x, f);
    if (dots) dots[j] = d;
    axpy((a ? a[j] : 0.0f) + b[j] * d, row, out, f);
  }
}

uint32_t scoreTile(const float* users, size_t count, const float* panel, size_t f, const float* bias, const float* base,
                   const float* threshold, float* out, uint16_t* hits) {
  uint32_t any = 0;
  for (size_t r = 0; r < count; ++r) {
    hits[r] = 0;
    for (size_t t = 0; t < kPanelItems; ++t) {
      float acc = 0.0f;
      for (size_t k = 0; k < f; ++k) acc += users[r * f + k] * panel[k * kPanelItems + t];
      const float s = (acc + (bias ? bias[t] : 0.0f)) + base[r];
      out[r * kPanelItems + t] = s;
      if (s >= threshold[r]) hits[r] = static_cast<uint16_t>(hits[r] | (1u << t));
    }
    any |= hits[r];
  }
  return any;
}

void gramUpdate(const float* z, const float* y, size_t count, size_t f, float* a) {
  for (size_t j = 0; j < count; ++j)
    for (size_t x = 0; x < f; ++x)
      for (size_t c = 0; c <= x; ++c) a[x * f + c] += z[j * f + x] * y[j * f + c];
}

void gemmTN(const float* z, size_t ldz, const float* y, size_t ldy, size_t count, size_t m, size_t n, float* a, size_t lda) {
  for (size_t j = 0; j < count; ++j)
    for (size_t x = 0; x < m; ++x)
      for (size_t c = 0; c < n; ++c) a[x * lda + c] += z[j * ldz + x] * y[j * ldy + c];
}

float dotChain(const float* x, const float* y, size_t f) {
  float acc = 0.0f;
  for (size_t k = 0; k < f; ++k) acc += x[k] * y[k];
  return acc;
}

}  // namespace affinity::kernels::scalar
