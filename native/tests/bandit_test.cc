// Bandits: Sherman-Morrison and the hybrid against direct ridge solves, propensities against the
// frequencies of repeated decisions, exact resumption from a snapshot, bad input.
#include <cmath>
#include <random>

#include "../core/bandit.h"
#include "../core/spd.h"
#include "harness.h"

using namespace affinity;

namespace {

// Solves M x = r by Gaussian elimination with partial pivoting: the plain reference.
std::vector<double> solve(std::vector<double> m, std::vector<double> r) {
  const size_t n = r.size();
  for (size_t c = 0; c < n; ++c) {
    size_t p = c;
    for (size_t i = c + 1; i < n; ++i)
      if (std::abs(m[i * n + c]) > std::abs(m[p * n + c])) p = i;
    for (size_t j = 0; j < n; ++j) std::swap(m[c * n + j], m[p * n + j]);
    std::swap(r[c], r[p]);
    for (size_t i = c + 1; i < n; ++i) {
      const double f = m[i * n + c] / m[c * n + c];
      for (size_t j = c; j < n; ++j) m[i * n + j] -= f * m[c * n + j];
      r[i] -= f * r[c];
    }
  }
  std::vector<double> x(n);
  for (size_t i = n; i-- > 0;) {
    double s = r[i];
    for (size_t j = i + 1; j < n; ++j) s -= m[i * n + j] * x[j];
    x[i] = s / m[i * n + i];
  }
  return x;
}

std::vector<double> randomVector(std::mt19937& rng, size_t n) {
  std::normal_distribution<double> g;
  std::vector<double> v(n);
  for (double& x : v) x = g(rng);
  return v;
}

BanditOptions linucb(int32_t dims, int32_t offerDims = 0) {
  BanditOptions o;
  o.policy = BanditPolicy::LinUcb;
  o.dims = dims;
  o.offerDims = offerDims;
  o.lambda = 0.7;
  o.alpha = 0.5;
  return o;
}

}  // namespace

TEST(bandit, sherman_morrison_matches_direct_ridge) {
  std::mt19937 rng(3);
  const int32_t d = 7, arms = 3, steps = 300;
  BanditState s(linucb(d), 1);
  for (int a = 0; a < arms; ++a) s.addArm({});
  std::vector<std::vector<double>> gram(arms, std::vector<double>(d * d, 0.0)), xr(arms, std::vector<double>(d, 0.0));
  for (int a = 0; a < arms; ++a)
    for (int i = 0; i < d; ++i) gram[a][i * d + i] = 0.7;
  std::uniform_int_distribution<int> pick(0, arms - 1);
  for (int t = 0; t < steps; ++t) {
    const int a = pick(rng);
    auto x = randomVector(rng, d);
    const double r = std::uniform_real_distribution<double>(-1, 2)(rng);
    s.update(a, x, r);
    for (int i = 0; i < d; ++i) {
      xr[a][i] += r * x[i];
      for (int j = 0; j < d; ++j) gram[a][i * d + j] += x[i] * x[j];
    }
  }
  for (int a = 0; a < arms; ++a) {
    const auto theta = solve(gram[a], xr[a]);
    const auto got = s.coefficients(a);
    for (int i = 0; i < d; ++i) CHECK(std::abs(got[i] - theta[i]) < 1e-9);
    // width = x^T A^-1 x against the solve of A y = x
    const auto x = randomVector(rng, d);
    const auto y = solve(gram[a], x);
    double want = 0, mean = 0, width = 0;
    for (int i = 0; i < d; ++i) want += x[i] * y[i];
    s.linearTerms(a, x, mean, width);
    CHECK(std::abs(width - want) < 1e-9 * (1 + want));
    // Decisions read a float copy through the SIMD kernels: the same terms to float precision.
    std::vector<float> xf(x.begin(), x.end());
    double fastMean = 0, fastWidth = 0;
    s.fastTerms(a, xf.data(), fastMean, fastWidth);
    CHECK(std::abs(fastWidth - width) < 1e-5 * (1 + width));
    CHECK(std::abs(fastMean - mean) < 1e-5 * (1 + std::abs(mean)));
  }
}

TEST(bandit, invert_spd_matches_solve) {
  std::mt19937 rng(9);
  for (int n : {1, 2, 5, 17}) {
    std::vector<double> a(n * n, 0.0);
    for (int t = 0; t < n + 3; ++t) {
      auto v = randomVector(rng, n);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) a[i * n + j] += v[i] * v[j];
    }
    for (int i = 0; i < n; ++i) a[i * n + i] += 0.1;
    auto inv = a;
    CHECK(invertSpd(inv.data(), n));
    for (int c = 0; c < n; ++c) {
      std::vector<double> e(n, 0.0);
      e[c] = 1;
      const auto col = solve(a, e);
      for (int i = 0; i < n; ++i) CHECK(std::abs(inv[i * n + c] - col[i]) < 1e-8 * (1 + std::abs(col[i])));
    }
  }
  std::vector<double> indefinite{1, 2, 2, 1};
  CHECK(!invertSpd(indefinite.data(), 2));
}

// The hybrid's mean and width are those of one joint ridge regression over [z, x in the arm's block]
// (Li et al. derive algorithm 2 by block elimination of it): solve that system directly and compare.
TEST(bandit, hybrid_matches_joint_ridge) {
  std::mt19937 rng(11);
  const int32_t d = 3, m = 2, k = d * m, arms = 3, steps = 120;
  BanditState s(linucb(d, m), 5);
  std::vector<std::vector<double>> features;
  for (int a = 0; a < arms; ++a) features.push_back(randomVector(rng, m)), s.addArm(features.back());
  const int32_t n = k + arms * d;
  std::vector<double> gram(n * n, 0.0), xr(n, 0.0);
  for (int i = 0; i < n; ++i) gram[i * n + i] = 0.7;
  auto row = [&](int a, const std::vector<double>& x) {
    std::vector<double> v(n, 0.0);
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < m; ++j) v[i * m + j] = x[i] * features[a][j];
    for (int i = 0; i < d; ++i) v[k + a * d + i] = x[i];
    return v;
  };
  std::uniform_int_distribution<int> pick(0, arms - 1);
  for (int t = 0; t < steps; ++t) {
    const int a = pick(rng);
    auto x = randomVector(rng, d);
    const double r = std::uniform_real_distribution<double>(0, 1)(rng);
    s.update(a, x, r);
    const auto v = row(a, x);
    for (int i = 0; i < n; ++i) {
      xr[i] += r * v[i];
      for (int j = 0; j < n; ++j) gram[i * n + j] += v[i] * v[j];
    }
  }
  const auto coef = solve(gram, xr);
  for (int a = 0; a < arms; ++a) {
    const auto x = randomVector(rng, d);
    const auto v = row(a, x);
    const auto y = solve(gram, v);
    double wantMean = 0, wantWidth = 0, mean = 0, width = 0;
    for (int i = 0; i < n; ++i) wantMean += v[i] * coef[i], wantWidth += v[i] * y[i];
    s.linearTerms(a, x, mean, width);
    CHECK(std::abs(mean - wantMean) < 1e-8);
    CHECK(std::abs(width - wantWidth) < 1e-8);
    const auto theta = s.coefficients(a);
    for (int i = 0; i < d; ++i) CHECK(std::abs(theta[i] - coef[k + a * d + i]) < 1e-8);
  }
}

// Repeated decisions from one state are draws from the policy: their frequencies match probabilities().
TEST(bandit, propensities_match_decision_frequencies) {
  for (auto policy : {BanditPolicy::EpsilonGreedy, BanditPolicy::Thompson, BanditPolicy::LinThompson, BanditPolicy::LogisticThompson}) {
    BanditOptions o;
    o.policy = policy;
    o.dims = policy == BanditPolicy::EpsilonGreedy || policy == BanditPolicy::Thompson ? 0 : 2;
    o.epsilon = 0.3;
    o.propensitySamples = 500;  // kept small: this suite also runs under ASan and under qemu
    BanditState s(o, 21);
    for (int a = 0; a < 3; ++a) s.addArm({});
    std::mt19937 rng(4);
    std::vector<double> x(o.dims, 0.5);
    for (int t = 0; t < 12; ++t) s.update(t % 3, x, (t % 3 == 1) ? 1.0 : (t % 2) * 1.0);
    const std::vector<int32_t> candidates{0, 1, 2};
    std::vector<double> p(3), freq(3, 0.0);
    s.probabilities(x, candidates, 99, 100000, p);
    const int n = 4000;
    double propensityBias = 0;
    for (int t = 0; t < n; ++t) {
      const auto dcs = s.decide(x, candidates);
      freq[dcs.arm] += 1.0 / n;
      propensityBias += (dcs.propensity - p[dcs.arm]) / n;
    }
    for (int a = 0; a < 3; ++a) CHECK(std::abs(freq[a] - p[a]) < 0.03);
    // Each logged propensity is an estimate from its own draws: on average it is the policy's probability.
    CHECK(std::abs(propensityBias) < 0.01);
  }
}

TEST(bandit, ucb_tries_every_arm_then_is_deterministic) {
  BanditOptions o;
  o.policy = BanditPolicy::Ucb1;
  BanditState s(o, 3);
  for (int a = 0; a < 4; ++a) s.addArm({});
  const std::vector<int32_t> all{0, 1, 2, 3};
  std::vector<int> seen(4, 0);
  for (int t = 0; t < 4; ++t) {
    const auto d = s.decide({}, all);
    CHECK(d.propensity == 1.0 / (4 - t));
    seen[d.arm]++;
    s.update(d.arm, {}, d.arm == 2 ? 1 : 0);
  }
  for (int a = 0; a < 4; ++a) CHECK(seen[a] == 1);
  const auto d = s.decide({}, all);
  CHECK(d.arm == 2 && d.propensity == 1);
}

TEST(bandit, snapshot_resumes_exactly) {
  for (auto policy : {BanditPolicy::Thompson, BanditPolicy::LinUcb, BanditPolicy::LinThompson}) {
    BanditOptions o = linucb(policy == BanditPolicy::Thompson ? 0 : 3, policy == BanditPolicy::LinUcb ? 2 : 0);
    o.policy = policy;
    BanditState s(o, 8);
    std::mt19937 rng(1);
    for (int a = 0; a < 4; ++a) s.addArm(o.offerDims ? randomVector(rng, 2) : std::vector<double>{});
    const std::vector<int32_t> all{0, 1, 2, 3};
    std::vector<double> x(o.dims, 0.25);
    for (int t = 0; t < 30; ++t) s.update(s.decide(x, all).arm, x, t % 3 == 0);
    BanditState copy(o, s.snapshot());
    for (int t = 0; t < 30; ++t) {
      const auto a = s.decide(x, all), b = copy.decide(x, all);
      CHECK(a.arm == b.arm && a.propensity == b.propensity);
      s.update(a.arm, x, t % 2), copy.update(b.arm, x, t % 2);
    }
  }
}

TEST(bandit, logistic_thompson_learns_the_sign) {
  BanditOptions o;
  o.policy = BanditPolicy::LogisticThompson;
  o.dims = 2;
  BanditState s(o, 2);
  s.addArm({});
  std::mt19937 rng(6);
  std::uniform_real_distribution<double> u(0, 1);
  for (int t = 0; t < 4000; ++t) {
    std::vector<double> x{1, u(rng) * 2 - 1};
    const double p = 1 / (1 + std::exp(-(-0.5 + 2 * x[1])));
    s.update(0, x, u(rng) < p ? 1 : 0);
  }
  const auto theta = s.coefficients(0);
  CHECK(std::abs(theta[0] + 0.5) < 0.2);
  CHECK(std::abs(theta[1] - 2) < 0.35);
}

TEST(bandit, bad_input_has_codes) {
  BanditOptions o = linucb(2);
  BanditState s(o, 1);
  s.addArm({});
  const std::vector<int32_t> none, wrong{3}, one{0};
  std::vector<double> x{1, 0}, shortX{1}, nan{1, std::nan("")};
  CHECK_THROWS_CODE(s.decide(x, none), code::kBadInput);
  CHECK_THROWS_CODE(s.decide(x, wrong), code::kBadInput);
  CHECK_THROWS_CODE(s.decide(shortX, one), code::kDimMismatch);
  CHECK_THROWS_CODE(s.decide(nan, one), code::kBadInput);
  CHECK_THROWS_CODE(s.update(0, x, std::nan("")), code::kBadInput);
  CHECK_THROWS_CODE(s.update(1, x, 1), code::kBadInput);
  BanditOptions bad = o;
  bad.dims = 0;
  CHECK_THROWS_CODE(BanditState(bad, 1), code::kBadInput);
  BanditOptions beta;
  beta.policy = BanditPolicy::Thompson;
  BanditState t(beta, 1);
  t.addArm({});
  CHECK_THROWS_CODE(t.update(0, {}, 2), code::kBadInput);
  BanditSnapshot broken = s.snapshot();
  broken.ainv.pop_back();
  CHECK_THROWS_CODE(BanditState(o, broken), code::kBadInput);
}
