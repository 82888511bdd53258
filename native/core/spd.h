// Inverse of a large symmetric positive definite matrix (EASE's (XᵀX + λI)⁻¹): a blocked Cholesky
// factorization A = RᵀR, W = R⁻ᵀ, and A⁻¹ = WᵀW, each step's bulk a packed Zᵀ Y update on the tiled
// gemmTN kernel, run on the compute pool. float storage; the diagonal blocks factor in double.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "control.h"

namespace affinity {

struct SpdInverseStats {
  double seconds = 0;
  double flops = 0;  // multiply-adds count 2; n³ in all for the three steps
};

// a: n x n row-major, symmetric (only the upper triangle is read). On return a holds A⁻¹ (both
// triangles). Throws ERR_AFFINITY_BAD_INPUT when A is not numerically positive definite.
void invertSpd(float* a, size_t n, int threads, Control& control, SpdInverseStats* stats = nullptr);

// The unblocked one, in double, in place (n x n row-major): small matrices (bandits' ridge matrices) and
// the reference the blocked one is tested against. False when A is not positive definite.
bool invertSpd(double* a, int32_t n);

// Bytes invertSpd allocates beyond `a` for n x n (what a memory budget must allow for).
size_t invertSpdScratchBytes(size_t n);

}  // namespace affinity
