// Small dense symmetric positive definite solves (f x f, f <= a few hundred).
#pragma once
#include <cmath>
#include <cstddef>
#include <vector>

#include "../simd/dispatch.h"

namespace affinity {

// Solves A x = b for SPD A (n x n, row-major; only the lower triangle is read), writing x. The factor is
// float with SIMD row dots; the triangular solves accumulate in double. `work` is scratch.
// Returns false when A is not (numerically) positive definite.
inline bool choleskySolve(const float* a, const float* b, float* x, size_t n, std::vector<float>& work) {
  const KernelTable& k = activeKernels();
  work.resize(n * n);
  float* l = work.data();
  for (size_t i = 0; i < n; ++i) {
    float* li = l + i * n;
    for (size_t j = 0; j <= i; ++j) {
      const float* lj = l + j * n;
      const float s = a[i * n + j] - k.dot(li, lj, j);
      if (i == j) {
        if (!(s > 0)) return false;
        li[i] = std::sqrt(s);
      } else {
        li[j] = s / lj[j];
      }
    }
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
