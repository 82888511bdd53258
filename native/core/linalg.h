// Small dense symmetric positive definite solves (f x f, f <= a few hundred), in double for stability.
#pragma once
#include <cmath>
#include <cstddef>
#include <vector>

#include "error.h"

namespace affinity {

// Solves A x = b for SPD A (n x n, row-major, float), writing x. Uses `work` (n*n doubles) as scratch.
// Returns false when A is not positive definite.
inline bool choleskySolve(const float* a, const float* b, float* x, size_t n, std::vector<double>& work) {
  work.resize(n * n);
  double* l = work.data();
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j <= i; ++j) {
      double s = a[i * n + j];
      for (size_t k = 0; k < j; ++k) s -= l[i * n + k] * l[j * n + k];
      if (i == j) {
        if (!(s > 0)) return false;
        l[i * n + i] = std::sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  std::vector<double> y(n);
  for (size_t i = 0; i < n; ++i) {
    double s = b[i];
    for (size_t k = 0; k < i; ++k) s -= l[i * n + k] * y[k];
    y[i] = s / l[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {
    double s = y[i];
    for (size_t k = i + 1; k < n; ++k) s -= l[k * n + i] * y[k];
    y[i] = s / l[i * n + i];
  }
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(y[i]);
  return true;
}

}  // namespace affinity
