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

}  // namespace affinity::kernels::scalar
