// EASE (Steck 2019): the closed-form shallow autoencoder B = I - P diag(1/diag P), P = (XᵀX + λI)⁻¹,
// with B's diagonal zero. Its rows are item-to-item weights: score(u, i) = sum_j x_uj B[j][i], the
// second hop of a TwoHop (native/core/knn.h), so every neighbourhood scan serves it.
#pragma once
#include <cstdint>

#include "aligned.h"
#include "control.h"
#include "sparse.h"
#include "spd.h"

namespace affinity {

// items x items as CSR: row j holds B[j][i] for i != j (all of them in item order, or the `keep` largest in
// magnitude, also in item order).
struct EaseWeights {
  int32_t items = 0;
  std::vector<int32_t> indptr;
  UninitializedVector<int32_t> indices;
  UninitializedVector<float> data;
};

struct EaseFit {
  EaseWeights weights;
  double gramSeconds = 0;
  double weightsSeconds = 0;  // B from P, into the CSR
  SpdInverseStats inverse;
};

// byUser: users x items; byItem: the same matrix transposed (items x users).
EaseFit easeFit(const CsrView& byUser, const CsrView& byItem, double lambda, int32_t keep, int threads, Control& control);

// The bytes easeFit holds at its peak for n items (the Gram matrix, the inversion's scratch, the weights).
double easeFitBytes(int64_t items, int32_t keep);

}  // namespace affinity
