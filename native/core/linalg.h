// Small dense symmetric positive definite solves (f x f, f <= a few hundred).
#pragma once
#include <cmath>
#include <cstddef>
#include <vector>

#include "../simd/dispatch.h"

namespace affinity {

// Solves A x = b for SPD A (n x n, row-major; only the lower triangle is read), writing x. The factor is
// float, built a column at a time: the column's entries below the diagonal are one batch of row dots
// (dotRows) instead of a call per entry. The triangular solves accumulate in double. `work` is scratch.
// Returns false when A is not (numerically) positive definite.
inline bool choleskySolve(const float* a, const float* b, float* x, size_t n, std::vector<float>& work) {
  const KernelTable& k = activeKernels();
  work.resize(n * n + n);
  float* l = work.data();
  float* dots = l + n * n;
  for (size_t j = 0; j < n; ++j) {
    float* lj = l + j * n;  // row j is final up to column j: earlier columns wrote it
    const float s = a[j * n + j] - k.dot(lj, lj, j);
    if (!(s > 0)) return false;
    lj[j] = std::sqrt(s);
    if (j + 1 == n) break;
    k.dotRows(l + (j + 1) * n, n, n - j - 1, lj, j, dots);
    for (size_t i = j + 1; i < n; ++i) l[i * n + j] = (a[i * n + j] - dots[i - j - 1]) / lj[j];
  }
  std::vector<double> y(n);
  for (size_t i = 0; i < n; ++i) {
    double s = b[i];
    for (size_t j = 0; j < i; ++j) s -= static_cast<double>(l[i * n + j]) * y[j];
    y[i] = s / l[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {
    double s = y[i];
    for (size_t j = i + 1; j < n; ++j) s -= static_cast<double>(l[j * n + i]) * y[j];
    y[i] = s / l[i * n + i];
  }
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(y[i]);
  return true;
}

}  // namespace affinity
