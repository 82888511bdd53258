// Bandit state and decisions. Counts for the non-contextual policies; per-arm ridge models for the linear
// ones, kept as inverses updated with Sherman-Morrison rank-1 steps (O(d^2) per reward, no solve); the
// hybrid LinUCB of Li et al. (2010) with a shared part over x (outer) offer features. Every decision comes
// with its propensity: exact for the deterministic rules, a Monte Carlo estimate for Thompson sampling.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "control.h"
#include "random.h"

namespace affinity {

enum class BanditPolicy : int32_t { EpsilonGreedy = 0, Ucb1 = 1, Thompson = 2, LinUcb = 3, LinThompson = 4, LogisticThompson = 5 };

struct BanditOptions {
  BanditPolicy policy = BanditPolicy::EpsilonGreedy;
  int32_t dims = 0;       // context features (0: non-contextual; epsilon-greedy with dims > 0 is greedy on ridge)
  int32_t offerDims = 0;  // LinUCB only: offer features per arm; > 0 makes it hybrid (shared dims = dims * offerDims)
  double epsilon = 0.1;
  double alpha = 1;       // LinUCB width and UCB1's scale on sqrt(2 ln n / n_a)
  double scale = 1;       // Thompson: posterior scale v (linear), or prior precision scale (logistic)
  double lambda = 1;      // ridge penalty: A = lambda I + sum x x^T
  double priorAlpha = 1, priorBeta = 1;
  int32_t propensitySamples = 256;
};

struct BanditDecision {
  int32_t arm;
  double propensity;
};

// Everything a bandit must keep to continue exactly where it stopped (rng included).
struct BanditSnapshot {
  int32_t arms = 0;
  std::vector<double> count, rewardSum;                 // arms
  std::vector<double> ainv, b, theta;                   // arms * d * d, arms * d, arms * d
  std::vector<double> offerFeatures;                    // arms * offerDims
  std::vector<double> shared, a0, a0inv, b0;            // arms * d * k (B_a), k * k, k * k, k
  uint32_t rng[4] = {0, 0, 0, 0};
};

class BanditState {
 public:
  explicit BanditState(const BanditOptions& options, uint32_t seed);
  BanditState(const BanditOptions& options, const BanditSnapshot& snapshot);  // validates the shapes

  // Adds an arm with its offer features (offerDims of them; empty otherwise). Returns its index.
  int32_t addArm(std::span<const double> offerFeatures);
  int32_t arms() const { return arms_; }
  const BanditOptions& options() const { return o_; }

  // Chooses among candidates (arm indices, non-empty) for context x (dims values; empty when dims == 0).
  BanditDecision decide(std::span<const double> x, std::span<const int32_t> candidates);
  // The probability of each candidate under the policy for x (out[j] for candidates[j]), without touching
  // the state: Thompson estimates use their own generator seeded with `seed`.
  void probabilities(std::span<const double> x, std::span<const int32_t> candidates, uint32_t seed, int32_t samples,
                     std::span<double> out) const;
  void update(int32_t arm, std::span<const double> x, double reward);
  // probabilities() for each row of contexts (rows x dims): out is rows x candidates. Row r's Thompson
  // estimate is seeded with seed + r, so the result is the same whatever the thread count.
  void probabilitiesBatch(std::span<const double> contexts, int32_t rows, std::span<const int32_t> candidates, uint32_t seed,
                          int32_t samples, int threads, std::span<double> out, Control& control) const;

  BanditSnapshot snapshot() const;
  // The point estimate of an arm's linear model (theta; with hybrid, theta_a without the shared part).
  std::vector<double> coefficients(int32_t arm) const;
  // The linear model's mean (x . theta) and variance factor (x^T A^-1 x; the hybrid's s) of an arm for x.
  void linearTerms(int32_t arm, std::span<const double> x, double& mean, double& width) const;
  // The same terms as decisions compute them for a disjoint model: in float, with the active SIMD kernels
  // (x in float; the double state stays the reference that Sherman-Morrison updates).
  void fastTerms(int32_t arm, const float* x, double& mean, double& width) const;
  double count(int32_t arm) const { return count_[arm]; }
  double rewardSum(int32_t arm) const { return rewardSum_[arm]; }

 private:
  bool linear() const { return o_.dims > 0 && o_.policy != BanditPolicy::Ucb1 && o_.policy != BanditPolicy::Thompson; }
  bool hybrid() const { return o_.policy == BanditPolicy::LinUcb && o_.offerDims > 0; }
  int32_t sharedDims() const { return hybrid() ? o_.dims * o_.offerDims : 0; }
  void checkArgs(std::span<const double> x, std::span<const int32_t> candidates) const;
  // Each candidate's linear mean and variance factor for one context, computed once per decision.
  struct Terms {
    std::vector<double> mean, width;
  };
  void armTerms(std::span<const double> x, std::span<const int32_t> candidates, Terms& t) const;
  // The value each candidate is ranked by: means, upper bounds or one posterior draw (Thompson).
  void scores(const Terms& t, std::span<const int32_t> candidates, Sfc32* rng, std::vector<double>& out) const;
  double betaDraw(double a, double b, Sfc32& rng) const;
  bool sampled() const { return o_.policy == BanditPolicy::Thompson || o_.policy == BanditPolicy::LinThompson || o_.policy == BanditPolicy::LogisticThompson; }
  void thompsonShares(const Terms& t, std::span<const int32_t> candidates, Sfc32& rng, int32_t samples, std::span<double> out) const;
  void deterministicShares(const Terms& t, std::span<const int32_t> candidates, std::span<double> out) const;
  // Refreshes the float copy of an arm's disjoint model that decisions read (SIMD kernels).
  void refreshFast(int32_t arm);
  void hybridUpdate(int32_t arm, std::span<const double> x, double reward);
  void refreshShared();

  BanditOptions o_;
  int32_t arms_ = 0;
  Sfc32 rng_;
  std::vector<double> count_, rewardSum_, ainv_, b_, theta_, offerFeatures_, shared_, a0_, a0inv_, b0_, beta_;
  std::vector<float> ainvF_, thetaF_;
  std::vector<double> work_;
};

// Sherman-Morrison: ainv <- (A + w x x^T)^-1 given ainv = A^-1 (n x n, symmetric, row-major). `u` is
// n scratch values. The plain reference the tests hold it to is a direct solve.
void shermanMorrison(double* ainv, const double* x, double w, int32_t n, double* u);

}  // namespace affinity
