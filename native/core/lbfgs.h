// L-BFGS (Nocedal & Wright, algorithm 7.5) with a backtracking Armijo line search: the one minimizer of
// smooth objectives in the core (logistic regression, the lifetime-value models).
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "control.h"

namespace affinity {

struct LbfgsOptions {
  int32_t maxIterations = 200;
  double tolerance = 1e-6;  // converged when every gradient component is at most this
  int32_t memory = 10;      // correction pairs
};

struct LbfgsResult {
  std::vector<double> x;
  double value = 0;
  double gradientNorm = 0;  // max |component| at the end
  int32_t iterations = 0;
  bool converged = false;
};

// f(x, gradient) returns the objective at x and fills the gradient. Reports (iteration, value) through
// control.event and is cancellable between iterations.
using Objective = std::function<double(std::span<const double> x, std::span<double> gradient)>;
LbfgsResult minimizeLbfgs(const Objective& f, std::vector<double> x0, const LbfgsOptions& options, Control& control);

}  // namespace affinity
