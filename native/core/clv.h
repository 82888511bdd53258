// Customer lifetime value: the "buy till you die" models of Fader & Hardie, fitted by maximum likelihood.
//   BG/NBD (Fader, Hardie & Lee 2005): purchases Poisson(λ) while alive, λ ~ Gamma(r, α); after each
//     purchase the customer dies with probability p ~ Beta(a, b).
//   Pareto/NBD (Schmittlein, Morrison & Colombo 1987): lifetimes exponential(μ), μ ~ Gamma(s, β).
//   Gamma-Gamma (Fader & Hardie 2013): spend per purchase Gamma(p, ν), ν ~ Gamma(q, v).
// A customer is (x, t_x, T): repeat purchases, time of the last one and age, from the first purchase.
// Fits minimize the weighted mean negative log-likelihood over log-parameters (positivity without bounds)
// with L-BFGS and analytic gradients, summed in fixed chunks over customers (any thread count, same fit).
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "control.h"

namespace affinity {

// Gauss' hypergeometric function ₂F₁(a, b; c; z) and its partial derivatives, by its series (|z| < 1).
struct Hyp2f1 {
  double value, da, db, dc, dz;
};
Hyp2f1 hyp2f1Series(double a, double b, double c, double z);
// ₂F₁ alone, for 0 <= z < 1 (c not 0 or a negative integer): the series, or near z = 1 the 1 - z connection formula.
double hyp2f1(double a, double b, double c, double z);
double digamma(double x);

enum class ClvModel { BetaGeo, ParetoNbd, GammaGamma };

struct ClvData {
  std::span<const double> frequency;  // x: repeat purchases
  std::span<const double> recency;    // t_x (BG/NBD, Pareto/NBD)
  std::span<const double> age;        // T (BG/NBD, Pareto/NBD)
  std::span<const double> monetary;   // mean spend of the repeat purchases (Gamma-Gamma)
  std::span<const double> weights;    // customers each row stands for (grouped data); empty: 1
  size_t rows() const { return frequency.size(); }
};

struct ClvFitOptions {
  int32_t maxIterations = 500;
  double tolerance = 1e-7;  // on the gradient of the mean log-likelihood in log-parameters
  double penalizer = 0;  // adds penalizer · Σ params² to the objective (lifetimes' penalizer_coef); 0: plain ML
  int threads = 0;
};

struct ClvFit {
  std::vector<double> params;          // BG/NBD r, α, a, b; Pareto/NBD r, α, s, β; Gamma-Gamma p, q, v
  std::vector<double> standardErrors;  // from the inverse Hessian of the total negative log-likelihood; NaN where singular
  double logLikelihood = 0;            // total (weighted)
  int32_t iterations = 0;
  bool converged = false;
  double gradientNorm = 0;
};

int paramCount(ClvModel model);
// Validates rows: finite, x >= 0, 0 <= t_x <= T (purchase models; T = 0 for a first purchase on the last day); x > 0 and m > 0 rows only count for Gamma-Gamma.
void checkClvData(ClvModel model, const ClvData& data);
// Total weighted log-likelihood at params; fills the gradient with respect to the log-parameters when non-empty.
double clvLogLikelihood(ClvModel model, const ClvData& data, std::span<const double> params, std::span<double> gradLog,
                        int threads, Control& control);
ClvFit fitClv(ClvModel model, const ClvData& data, const ClvFitOptions& options, Control& control);

// Per-customer quantities, for rows of (x, t_x, T) (parallel over customers).
enum class ClvQuantity { ProbabilityAlive, ConditionalExpected };
void clvPerCustomer(ClvModel model, ClvQuantity what, std::span<const double> params, const ClvData& data, double t,
                    std::span<double> out, int threads, Control& control);
// Expected repeat purchases of a new customer by time t.
double clvExpected(ClvModel model, std::span<const double> params, double t);
// P(X(t) = n) for a new customer (BG/NBD, Pareto/NBD).
double clvProbabilityOfPurchases(ClvModel model, std::span<const double> params, double t, int32_t n);

}  // namespace affinity
