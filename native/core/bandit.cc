#include "bandit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "../simd/dispatch.h"
#include "error.h"
#include "spd.h"
#include "threadpool.h"

namespace affinity {

namespace {

constexpr int32_t kMaxDims = 4096;
constexpr int32_t kMaxShared = 1024;

double dot(const double* a, const double* b, int32_t n) {
  double s = 0;
  for (int32_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// y = M x for M (rows x cols, row-major).
void multiply(const double* m, const double* x, int32_t rows, int32_t cols, double* y) {
  for (int32_t i = 0; i < rows; ++i) y[i] = dot(m + static_cast<size_t>(i) * cols, x, cols);
}

double openUniform(Sfc32& rng) { return (rng.next() + 0.5) / 4294967296.0; }

double normalDraw(Sfc32& rng) {
  const double u1 = openUniform(rng), u2 = openUniform(rng);
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// Marsaglia and Tsang (2000); shapes below 1 by the boost Gamma(a) = Gamma(a + 1) U^(1/a).
double gammaDraw(double shape, Sfc32& rng) {
  if (shape < 1) return gammaDraw(shape + 1, rng) * std::pow(openUniform(rng), 1 / shape);
  const double d = shape - 1.0 / 3, c = 1 / std::sqrt(9 * d);
  for (;;) {
    const double x = normalDraw(rng);
    double v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const double u = openUniform(rng);
    if (u < 1 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
  }
}

int32_t uniformIndex(Sfc32& rng, size_t n) { return static_cast<int32_t>((static_cast<uint64_t>(rng.next()) * n) >> 32); }

void requireFinite(std::span<const double> v, const char* what) {
  for (double x : v) require(std::isfinite(x), code::kBadInput, [&] { return std::string(what) + " must be finite numbers"; });
}

}  // namespace

void shermanMorrison(double* ainv, const double* x, double w, int32_t n, double* u) {
  multiply(ainv, x, n, n, u);
  const double c = w / (1 + w * dot(x, u, n));
  for (int32_t i = 0; i < n; ++i) {
    const double ci = c * u[i];
    double* row = ainv + static_cast<size_t>(i) * n;
    for (int32_t j = 0; j < n; ++j) row[j] -= ci * u[j];
  }
}


BanditState::BanditState(const BanditOptions& o, uint32_t seed) : o_(o), rng_(seed) {
  const bool needsDims = o.policy == BanditPolicy::LinUcb || o.policy == BanditPolicy::LinThompson || o.policy == BanditPolicy::LogisticThompson;
  require(o.dims >= 0 && o.dims <= kMaxDims, code::kBadInput, "dims must be in [0, 4096]");
  require(!needsDims || o.dims > 0, code::kBadInput, "a linear policy needs dims > 0 (the context's length)");
  require(o.offerDims >= 0 && (o.offerDims == 0 || o.policy == BanditPolicy::LinUcb), code::kBadInput, "offer features (hybrid) are for linucb");
  require(static_cast<int64_t>(o.dims) * o.offerDims <= kMaxShared, code::kBadInput, "dims * offerDims (the hybrid's shared features) must be at most 1024");
  require(o.epsilon >= 0 && o.epsilon <= 1, code::kBadInput, "epsilon must be in [0, 1]");
  require(o.alpha >= 0 && std::isfinite(o.alpha), code::kBadInput, "alpha must be a finite number >= 0");
  require(o.scale >= 0 && std::isfinite(o.scale), code::kBadInput, "scale must be a finite number >= 0");
  require(o.lambda > 0 && std::isfinite(o.lambda), code::kBadInput, "lambda must be a finite number > 0");
  require(o.priorAlpha > 0 && o.priorBeta > 0 && std::isfinite(o.priorAlpha + o.priorBeta), code::kBadInput, "the Beta prior must be positive");
  require(o.propensitySamples >= 1 && o.propensitySamples <= 1000000, code::kBadInput, "propensitySamples must be in [1, 1000000]");
  if (hybrid()) {
    const int32_t k = sharedDims();
    a0_.assign(static_cast<size_t>(k) * k, 0.0);
    a0inv_.assign(static_cast<size_t>(k) * k, 0.0);
    for (int32_t i = 0; i < k; ++i) a0_[i * k + i] = o.lambda, a0inv_[i * k + i] = 1 / o.lambda;
    b0_.assign(k, 0.0);
    beta_.assign(k, 0.0);
  }
}

BanditState::BanditState(const BanditOptions& o, const BanditSnapshot& s) : BanditState(o, 0) {
  const size_t n = s.arms, d = o_.dims, k = sharedDims();
  require(s.arms >= 0 && s.count.size() == n && s.rewardSum.size() == n, code::kBadInput, "bandit state: counts do not match the arms");
  const bool lin = linear();
  require(s.ainv.size() == (lin ? n * d * d : 0) && s.b.size() == (lin ? n * d : 0) && s.theta.size() == (lin ? n * d : 0), code::kBadInput,
          "bandit state: the linear models do not match arms x dims");
  require(s.offerFeatures.size() == n * o_.offerDims && s.shared.size() == n * d * k && (k == 0 || (s.a0.size() == k * k && s.a0inv.size() == k * k && s.b0.size() == k)),
          code::kBadInput, "bandit state: the hybrid's shared model does not match");
  for (auto* v : {&s.count, &s.rewardSum, &s.ainv, &s.b, &s.theta, &s.offerFeatures, &s.shared, &s.a0, &s.a0inv, &s.b0}) requireFinite(*v, "bandit state");
  for (size_t a = 0; a < n; ++a) require(s.count[a] >= 0, code::kBadInput, "bandit state: negative count");
  if (o_.policy == BanditPolicy::Thompson)
    for (size_t a = 0; a < n; ++a) require(s.rewardSum[a] >= 0 && s.rewardSum[a] <= s.count[a], code::kBadInput, "bandit state: rewards outside [0, count]");
  arms_ = s.arms;
  count_ = s.count, rewardSum_ = s.rewardSum, ainv_ = s.ainv, b_ = s.b, theta_ = s.theta, offerFeatures_ = s.offerFeatures, shared_ = s.shared;
  if (k > 0) {
    a0_ = s.a0, a0inv_ = s.a0inv, b0_ = s.b0;
    beta_.assign(k, 0.0);
    multiply(a0inv_.data(), b0_.data(), static_cast<int32_t>(k), static_cast<int32_t>(k), beta_.data());
  }
  rng_ = Sfc32::restore(s.rng);
  for (int32_t a = 0; a < arms_; ++a) refreshFast(a);
}

int32_t BanditState::addArm(std::span<const double> features) {
  require(arms_ < 1000000, code::kTooLarge, "a bandit holds at most 1,000,000 arms");
  require(features.size() == static_cast<size_t>(hybrid() ? o_.offerDims : 0), code::kDimMismatch,
          hybrid() ? "each arm of a hybrid needs offerDims offer features" : "only a hybrid linucb takes offer features");
  requireFinite(features, "offer features");
  count_.push_back(0);
  rewardSum_.push_back(0);
  if (linear()) {
    const size_t d = o_.dims, at = ainv_.size();
    ainv_.resize(at + d * d, 0.0);
    for (size_t i = 0; i < d; ++i) ainv_[at + i * d + i] = 1 / o_.lambda;
    b_.resize(b_.size() + d, 0.0);
    theta_.resize(theta_.size() + d, 0.0);
    refreshFast(arms_);
  }
  if (hybrid()) {
    offerFeatures_.insert(offerFeatures_.end(), features.begin(), features.end());
    shared_.resize(shared_.size() + static_cast<size_t>(o_.dims) * sharedDims(), 0.0);
  }
  return arms_++;
}

void BanditState::checkArgs(std::span<const double> x, std::span<const int32_t> candidates) const {
  require(x.size() == static_cast<size_t>(o_.dims), code::kDimMismatch, [&] { return "the context must have " + std::to_string(o_.dims) + " values"; });
  requireFinite(x, "the context");
  require(!candidates.empty(), code::kBadInput, "no candidate arm to choose from");
  for (int32_t a : candidates) require(a >= 0 && a < arms_, code::kBadInput, "a candidate is not an arm of this bandit");
}

void BanditState::linearTerms(int32_t arm, std::span<const double> x, double& mean, double& width) const {
  const int32_t d = o_.dims;
  // Per thread: probabilities() runs on many rows at once from one const state.
  thread_local std::vector<double> work;
  work.resize(static_cast<size_t>(d) * 2 + static_cast<size_t>(sharedDims()) * 2);
  double* u = work.data();
  const double* ainv = ainv_.data() + static_cast<size_t>(arm) * d * d;
  multiply(ainv, x.data(), d, d, u);
  width = dot(x.data(), u, d);
  if (!hybrid()) {
    mean = dot(x.data(), theta_.data() + static_cast<size_t>(arm) * d, d);
    return;
  }
  // Li et al. (2010), algorithm 2, with u = A_a^-1 x and w = B_a^T u:
  //   mean = z.beta + u.(b_a - B_a beta),  s = (z - w)^T A0^-1 (z - w) + x.u
  const int32_t m = o_.offerDims, k = sharedDims();
  const double* f = offerFeatures_.data() + static_cast<size_t>(arm) * m;
  const double* bm = shared_.data() + static_cast<size_t>(arm) * d * k;
  const double* ba = b_.data() + static_cast<size_t>(arm) * d;
  double* zw = u + d;
  double* t = zw + k;
  double zBeta = 0, residual = 0;
  for (int32_t i = 0; i < d; ++i) {
    const double* bi = bm + static_cast<size_t>(i) * k;
    residual += u[i] * (ba[i] - dot(bi, beta_.data(), k));
  }
  for (int32_t i = 0; i < d; ++i)
    for (int32_t j = 0; j < m; ++j) zw[i * m + j] = x[i] * f[j];
  for (int32_t c = 0; c < k; ++c) {
    zBeta += zw[c] * beta_[c];
    double w = 0;
    for (int32_t i = 0; i < d; ++i) w += bm[static_cast<size_t>(i) * k + c] * u[i];
    zw[c] -= w;
  }
  multiply(a0inv_.data(), zw, k, k, t);
  mean = zBeta + residual;
  width += dot(zw, t, k);
}

double BanditState::betaDraw(double a, double b, Sfc32& rng) const {
  const double g = gammaDraw(a, rng);
  return g / (g + gammaDraw(b, rng));
}

void BanditState::fastTerms(int32_t arm, const float* x, double& mean, double& width) const {
  const KernelTable& k = activeKernels();
  const size_t d = o_.dims;
  thread_local std::vector<float> u;
  u.resize(d);
  k.dotRows(ainvF_.data() + arm * d * d, d, d, x, d, u.data());
  width = k.dot(x, u.data(), d);
  mean = k.dot(x, thetaF_.data() + arm * d, d);
}

void BanditState::refreshFast(int32_t arm) {
  if (!linear() || hybrid()) return;
  const size_t d = o_.dims;
  if (ainvF_.size() < (arm + 1) * d * d) ainvF_.resize((arm + 1) * d * d), thetaF_.resize((arm + 1) * d);
  std::copy(ainv_.begin() + arm * d * d, ainv_.begin() + (arm + 1) * d * d, ainvF_.begin() + arm * d * d);
  std::copy(theta_.begin() + arm * d, theta_.begin() + (arm + 1) * d, thetaF_.begin() + arm * d);
}

void BanditState::armTerms(std::span<const double> x, std::span<const int32_t> candidates, Terms& t) const {
  t.mean.resize(candidates.size());
  t.width.resize(candidates.size());
  if (!linear()) return;
  if (hybrid()) {
    for (size_t j = 0; j < candidates.size(); ++j) linearTerms(candidates[j], x, t.mean[j], t.width[j]);
    return;
  }
  thread_local std::vector<float> xf;
  xf.assign(x.begin(), x.end());
  for (size_t j = 0; j < candidates.size(); ++j) fastTerms(candidates[j], xf.data(), t.mean[j], t.width[j]);
}

void BanditState::scores(const Terms& t, std::span<const int32_t> candidates, Sfc32* rng, std::vector<double>& out) const {
  out.resize(candidates.size());
  const double inf = std::numeric_limits<double>::infinity();
  double total = 0;
  if (o_.policy == BanditPolicy::Ucb1)
    for (int32_t a = 0; a < arms_; ++a) total += count_[a];
  for (size_t j = 0; j < candidates.size(); ++j) {
    const int32_t a = candidates[j];
    const double n = count_[a];
    const double sd = std::sqrt(std::max(t.width[j], 0.0));
    switch (o_.policy) {
      case BanditPolicy::EpsilonGreedy:
        out[j] = linear() ? t.mean[j] : n > 0 ? rewardSum_[a] / n : inf;
        break;
      case BanditPolicy::Ucb1:
        out[j] = n > 0 ? rewardSum_[a] / n + o_.alpha * std::sqrt(2 * std::log(std::max(total, 1.0)) / n) : inf;
        break;
      case BanditPolicy::Thompson:
        out[j] = betaDraw(o_.priorAlpha + rewardSum_[a], o_.priorBeta + n - rewardSum_[a], *rng);
        break;
      case BanditPolicy::LinUcb:
        out[j] = t.mean[j] + o_.alpha * sd;
        break;
      case BanditPolicy::LinThompson:
      case BanditPolicy::LogisticThompson:
        out[j] = t.mean[j] + o_.scale * sd * normalDraw(*rng);
        break;
    }
  }
}

void BanditState::deterministicShares(const Terms& t, std::span<const int32_t> candidates, std::span<double> out) const {
  std::vector<double> values;
  scores(t, candidates, nullptr, values);
  const double best = *std::max_element(values.begin(), values.end());
  size_t ties = 0;
  for (double v : values) ties += v == best;
  const double explore = o_.policy == BanditPolicy::EpsilonGreedy ? o_.epsilon : 0;
  for (size_t j = 0; j < values.size(); ++j)
    out[j] = (values[j] == best ? (1 - explore) / ties : 0) + explore / values.size();
}

void BanditState::thompsonShares(const Terms& t, std::span<const int32_t> candidates, Sfc32& rng, int32_t samples,
                                 std::span<double> out) const {
  std::fill(out.begin(), out.end(), 0.0);
  std::vector<double> values;
  for (int32_t s = 0; s < samples; ++s) {
    scores(t, candidates, &rng, values);
    out[std::max_element(values.begin(), values.end()) - values.begin()] += 1;
  }
  for (double& p : out) p /= samples;
}

BanditDecision BanditState::decide(std::span<const double> x, std::span<const int32_t> candidates) {
  checkArgs(x, candidates);
  std::vector<double> shares(candidates.size());
  Terms t;
  armTerms(x, candidates, t);
  if (sampled()) {
    std::vector<double> values;
    scores(t, candidates, &rng_, values);
    const size_t chosen = std::max_element(values.begin(), values.end()) - values.begin();
    // The draw that decided counts as one of the samples, so a chosen arm never has propensity 0.
    thompsonShares(t, candidates, rng_, o_.propensitySamples, shares);
    const double propensity = (1 + shares[chosen] * o_.propensitySamples) / (1 + o_.propensitySamples);
    return {candidates[chosen], propensity};
  }
  deterministicShares(t, candidates, shares);
  const double explore = o_.policy == BanditPolicy::EpsilonGreedy ? o_.epsilon : 0;
  // Always two draws, so the generator advances the same whatever the outcome.
  const double u = rng_.uniform();
  const int32_t pick = uniformIndex(rng_, candidates.size());
  size_t chosen;
  if (u < explore) {
    chosen = pick;
  } else {
    std::vector<size_t> best;
    const double top = *std::max_element(shares.begin(), shares.end());
    for (size_t j = 0; j < shares.size(); ++j)
      if (shares[j] == top) best.push_back(j);
    chosen = best[(static_cast<uint64_t>(pick) * best.size()) / candidates.size()];
  }
  return {candidates[chosen], shares[chosen]};
}

void BanditState::probabilities(std::span<const double> x, std::span<const int32_t> candidates, uint32_t seed, int32_t samples,
                                std::span<double> out) const {
  checkArgs(x, candidates);
  require(out.size() == candidates.size(), code::kDimMismatch, "one probability per candidate");
  require(samples >= 1 && samples <= 1000000, code::kBadInput, "samples must be in [1, 1000000]");
  Terms t;
  armTerms(x, candidates, t);
  if (!sampled()) return deterministicShares(t, candidates, out);
  Sfc32 rng(seed);
  thompsonShares(t, candidates, rng, samples, out);
}

void BanditState::probabilitiesBatch(std::span<const double> contexts, int32_t rows, std::span<const int32_t> candidates, uint32_t seed,
                                     int32_t samples, int threads, std::span<double> out, Control& control) const {
  const size_t d = o_.dims, c = candidates.size();
  require(rows >= 0 && contexts.size() == rows * d, code::kDimMismatch, "contexts must hold rows x dims values");
  require(out.size() == rows * c, code::kDimMismatch, "out must hold rows x candidates values");
  if (rows == 0) return;
  checkArgs(contexts.subspan(0, d), candidates);
  requireFinite(contexts, "the contexts");
  constexpr size_t kBlock = 256;
  const size_t blocks = (static_cast<size_t>(rows) + kBlock - 1) / kBlock;
  ThreadPool::instance().parallelFor(
      blocks, threads,
      [&](size_t block) {
        const size_t end = std::min<size_t>(rows, (block + 1) * kBlock);
        for (size_t r = block * kBlock; r < end; ++r)
          probabilities(contexts.subspan(r * d, d), candidates, seed + static_cast<uint32_t>(r), samples, out.subspan(r * c, c));
        control.advance(static_cast<int64_t>(end - block * kBlock));
      },
      &control);
}

void BanditState::update(int32_t arm, std::span<const double> x, double reward) {
  require(arm >= 0 && arm < arms_, code::kBadInput, "the arm is not an arm of this bandit");
  require(x.size() == static_cast<size_t>(o_.dims), code::kDimMismatch, [&] { return "the context must have " + std::to_string(o_.dims) + " values"; });
  requireFinite(x, "the context");
  require(std::isfinite(reward), code::kBadInput, "the reward must be a finite number");
  require((o_.policy != BanditPolicy::Thompson && o_.policy != BanditPolicy::LogisticThompson) || (reward >= 0 && reward <= 1), code::kBadInput,
          "thompson and logistic-thompson take rewards in [0, 1]");
  count_[arm] += 1;
  rewardSum_[arm] += reward;
  if (!linear()) return;
  if (hybrid()) return hybridUpdate(arm, x, reward);
  const int32_t d = o_.dims;
  double* ainv = ainv_.data() + static_cast<size_t>(arm) * d * d;
  double* theta = theta_.data() + static_cast<size_t>(arm) * d;
  work_.resize(d);
  if (o_.policy == BanditPolicy::LogisticThompson) {
    // One extended-Kalman step of a Laplace posterior: precision += p(1-p) x x^T, mean += Sigma x (y - p).
    const double p = 1 / (1 + std::exp(-dot(x.data(), theta, d)));
    shermanMorrison(ainv, x.data(), std::max(p * (1 - p), 1e-6), d, work_.data());
    multiply(ainv, x.data(), d, d, work_.data());
    for (int32_t i = 0; i < d; ++i) theta[i] += work_[i] * (reward - p);
    return refreshFast(arm);
  }
  double* b = b_.data() + static_cast<size_t>(arm) * d;
  shermanMorrison(ainv, x.data(), 1, d, work_.data());
  for (int32_t i = 0; i < d; ++i) b[i] += reward * x[i];
  multiply(ainv, b, d, d, theta);
  refreshFast(arm);
}

void BanditState::hybridUpdate(int32_t arm, std::span<const double> x, double reward) {
  const int32_t d = o_.dims, m = o_.offerDims, k = sharedDims();
  double* ainv = ainv_.data() + static_cast<size_t>(arm) * d * d;
  double* bm = shared_.data() + static_cast<size_t>(arm) * d * k;
  double* ba = b_.data() + static_cast<size_t>(arm) * d;
  const double* f = offerFeatures_.data() + static_cast<size_t>(arm) * m;
  std::vector<double> c(static_cast<size_t>(d) * k), u(d), z(k);
  // sign * (B^T A^-1 B) into A0 and sign * (B^T A^-1 b) into b0.
  auto fold = [&](double sign) {
    for (int32_t i = 0; i < d; ++i)
      for (int32_t col = 0; col < k; ++col) {
        double s = 0;
        for (int32_t p = 0; p < d; ++p) s += ainv[i * d + p] * bm[static_cast<size_t>(p) * k + col];
        c[static_cast<size_t>(i) * k + col] = s;
      }
    for (int32_t r = 0; r < k; ++r) {
      double v = 0;
      for (int32_t i = 0; i < d; ++i) v += c[static_cast<size_t>(i) * k + r] * ba[i];
      b0_[r] += sign * v;
      for (int32_t col = 0; col < k; ++col) {
        double s = 0;
        for (int32_t i = 0; i < d; ++i) s += bm[static_cast<size_t>(i) * k + r] * c[static_cast<size_t>(i) * k + col];
        a0_[static_cast<size_t>(r) * k + col] += sign * s;
      }
    }
  };
  fold(+1);
  for (int32_t i = 0; i < d; ++i)
    for (int32_t j = 0; j < m; ++j) z[i * m + j] = x[i] * f[j];
  shermanMorrison(ainv, x.data(), 1, d, u.data());
  for (int32_t i = 0; i < d; ++i) {
    for (int32_t col = 0; col < k; ++col) bm[static_cast<size_t>(i) * k + col] += x[i] * z[col];
    ba[i] += reward * x[i];
  }
  for (int32_t r = 0; r < k; ++r) {
    b0_[r] += reward * z[r];
    for (int32_t col = 0; col < k; ++col) a0_[static_cast<size_t>(r) * k + col] += z[r] * z[col];
  }
  fold(-1);
  refreshShared();
}

void BanditState::refreshShared() {
  const int32_t k = sharedDims();
  // Symmetrize first: the folds add and subtract the same products, so rounding is all that differs.
  for (int32_t r = 0; r < k; ++r)
    for (int32_t c = r + 1; c < k; ++c) {
      const double v = 0.5 * (a0_[r * k + c] + a0_[c * k + r]);
      a0_[r * k + c] = a0_[c * k + r] = v;
    }
  a0inv_ = a0_;
  require(invertSpd(a0inv_.data(), k), code::kInternal, "the hybrid's shared matrix lost positive definiteness");
  multiply(a0inv_.data(), b0_.data(), k, k, beta_.data());
}

std::vector<double> BanditState::coefficients(int32_t arm) const {
  require(arm >= 0 && arm < arms_, code::kBadInput, "the arm is not an arm of this bandit");
  const int32_t d = o_.dims;
  if (!linear()) return {};
  if (!hybrid()) return {theta_.begin() + static_cast<size_t>(arm) * d, theta_.begin() + static_cast<size_t>(arm + 1) * d};
  const int32_t k = sharedDims();
  std::vector<double> r(d), out(d);
  for (int32_t i = 0; i < d; ++i) r[i] = b_[static_cast<size_t>(arm) * d + i] - dot(shared_.data() + (static_cast<size_t>(arm) * d + i) * k, beta_.data(), k);
  multiply(ainv_.data() + static_cast<size_t>(arm) * d * d, r.data(), d, d, out.data());
  return out;
}

BanditSnapshot BanditState::snapshot() const {
  BanditSnapshot s;
  s.arms = arms_;
  s.count = count_, s.rewardSum = rewardSum_, s.ainv = ainv_, s.b = b_, s.theta = theta_, s.offerFeatures = offerFeatures_, s.shared = shared_;
  s.a0 = a0_, s.a0inv = a0inv_, s.b0 = b0_;
  rng_.save(s.rng);
  return s;
}

}  // namespace affinity
