// L2-regularized logistic regression trained with L-BFGS, on dense or sparse (CSR) features.
//   loss(w, b) = (1/S) Σ s_i [log(1 + e^{z_i}) - y_i z_i] + (l2/2) |w|²,  z_i = x_i·w + b,  S = Σ s_i
// s_i are sample weights (class weights folded in by the caller); the intercept b is not penalized.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "control.h"
#include "kmeans.h"
#include "sparse.h"

namespace affinity {

struct LogisticData {
  DenseRows dense;            // used when sparse.rows == 0 and dense.rows > 0
  CsrView sparse;             // used when sparse.rows > 0
  std::span<const float> labels;   // 0 or 1 per row
  std::span<const float> weights;  // per row, empty: all 1
  int32_t rows() const { return sparse.rows > 0 ? sparse.rows : dense.rows; }
  int32_t dims() const { return sparse.rows > 0 ? sparse.cols : dense.dims; }
};

struct LogisticOptions {
  double l2 = 1e-4;
  bool fitIntercept = true;
  int32_t maxIterations = 200;
  double tolerance = 1e-6;  // converged when every gradient component is at most this
  int32_t memory = 10;      // L-BFGS correction pairs
  int threads = 0;
};

struct LogisticResult {
  std::vector<double> coefficients;  // dims
  double intercept = 0;
  int32_t iterations = 0;
  bool converged = false;
  double loss = 0;
  double gradientNorm = 0;  // max |component| at the end
};

// Checks shapes, labels in {0, 1}, finite non-negative weights with a positive sum, finite features.
void checkLogisticData(const LogisticData& data);

// The loss at (coefficients, intercept); fills gradient (dims + 1, the intercept last) when non-empty.
double logisticLoss(const LogisticData& data, std::span<const double> coefficients, double intercept, double l2,
                    std::span<double> gradient, int threads, Control& control);

// Reports (iteration, loss) through control.event; cancellable between iterations.
LogisticResult fitLogistic(const LogisticData& data, const LogisticOptions& options, Control& control);

}  // namespace affinity
