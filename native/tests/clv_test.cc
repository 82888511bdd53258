// The lifetime-value models: ₂F₁ against closed forms, gradients against finite differences, and
// parameters recovered from customers simulated with known ones (any thread count, the same fit).
#include <cmath>
#include <random>

#include "../core/clv.h"
#include "harness.h"

using namespace affinity;

namespace {

bool close(double got, double want, double rel) { return std::abs(got - want) <= rel * std::max(1.0, std::abs(want)); }

struct Simulated {
  std::vector<double> x, tx, T, m;
  ClvData data() const { return {x, tx, T, m, {}}; }
};

// Customers from known parameters: the purchase process of the model, ages uniform in [20, 40] weeks.
Simulated simulate(ClvModel model, const std::vector<double>& p, int customers, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Simulated s;
  for (int c = 0; c < customers; ++c) {
    const double T = 20 + 20 * u(rng);
    const double lambda = std::gamma_distribution<double>(p[0], 1 / p[1])(rng);
    double death = T;
    double dropout = 0;
    if (model == ClvModel::ParetoNbd) {
      const double mu = std::gamma_distribution<double>(p[2], 1 / p[3])(rng);
      death = std::min(T, std::exponential_distribution<double>(mu)(rng));
    } else {
      const double ga = std::gamma_distribution<double>(p[2], 1)(rng), gb = std::gamma_distribution<double>(p[3], 1)(rng);
      dropout = ga / (ga + gb);
    }
    double t = 0, last = 0;
    int x = 0;
    std::exponential_distribution<double> gap(lambda);
    while (true) {
      t += gap(rng);
      if (t > death) break;
      ++x, last = t;
      if (model == ClvModel::BetaGeo && u(rng) < dropout) break;  // dies just after this purchase
    }
    s.x.push_back(x), s.tx.push_back(last), s.T.push_back(T);
  }
  return s;
}

}  // namespace

TEST(clv, hyp2f1_matches_closed_forms) {
  for (double z : {0.1, 0.5, 0.9, 0.95, 0.99}) CHECK(close(hyp2f1(1, 1, 2, z), -std::log1p(-z) / z, 1e-11));
  for (double z2 : {0.3, 0.7, 0.95, 0.995}) CHECK(close(hyp2f1(0.5, 0.5, 1.5, z2), std::asin(std::sqrt(z2)) / std::sqrt(z2), 1e-10));
  for (double z : {0.2, 0.93, 0.98}) CHECK(close(hyp2f1(0.3, 2.5, 2.5, z), std::pow(1 - z, -0.3), 1e-10));
  for (double z2 : {0.2, 0.8}) CHECK(close(hyp2f1Series(0.5, 1, 1.5, -z2).value, std::atan(std::sqrt(z2)) / std::sqrt(z2), 1e-12));
  CHECK(hyp2f1(2, 3, 4, 0) == 1);
  // c below 0 (BG/NBD with a + b < 1): 2F1(a, b; b; z) = (1 - z)^-a holds there too.
  for (double z : {0.3, 0.95}) CHECK(close(hyp2f1(0.4, -0.3, -0.3, z), std::pow(1 - z, -0.4), 1e-9));
  CHECK_THROWS_CODE(hyp2f1(1, 1, -2, 0.5), code::kBadInput);
  CHECK_THROWS_CODE(hyp2f1Series(1, 1, 2, 1.0), code::kBadInput);
}

TEST(clv, hyp2f1_derivatives_match_finite_differences) {
  const double a = 2.7, b = 1.6, c = 3.7;
  for (double z : {0.05, 0.4, 0.8}) {
    const Hyp2f1 f = hyp2f1Series(a, b, c, z);
    const double h = 1e-6;
    auto F = [](double a_, double b_, double c_, double z_) { return hyp2f1Series(a_, b_, c_, z_).value; };
    CHECK(close(f.da, (F(a + h, b, c, z) - F(a - h, b, c, z)) / (2 * h), 1e-7));
    CHECK(close(f.db, (F(a, b + h, c, z) - F(a, b - h, c, z)) / (2 * h), 1e-7));
    CHECK(close(f.dc, (F(a, b, c + h, z) - F(a, b, c - h, z)) / (2 * h), 1e-7));
    CHECK(close(f.dz, (F(a, b, c, z + h) - F(a, b, c, z - h)) / (2 * h), 1e-7));
  }
}

TEST(clv, log_likelihood_gradients_match_finite_differences) {
  Control control;
  Simulated bg = simulate(ClvModel::BetaGeo, {0.4, 4, 0.8, 2.5}, 300, 1);
  Simulated pn = simulate(ClvModel::ParetoNbd, {0.6, 9, 0.7, 12}, 300, 2);
  Simulated gg = bg;
  std::mt19937 rng(3);
  for (double& x : gg.x) gg.m.push_back(x > 0 ? 5 + 40 * std::uniform_real_distribution<double>(0, 1)(rng) : 0);
  struct Case {
    ClvModel model;
    const Simulated* s;
    std::vector<double> at;
  };
  // For Pareto/NBD both orderings of α and β (the two branches of A0).
  for (const Case& k : {Case{ClvModel::BetaGeo, &bg, {0.5, 3.5, 0.9, 2.2}}, Case{ClvModel::ParetoNbd, &pn, {0.5, 8, 0.8, 11}},
                        Case{ClvModel::ParetoNbd, &pn, {0.5, 13, 0.8, 9}}, Case{ClvModel::GammaGamma, &gg, {6, 3.5, 15}}}) {
    const ClvData d = k.s->data();
    std::vector<double> g(k.at.size());
    clvLogLikelihood(k.model, d, k.at, g, 2, control);
    for (size_t j = 0; j < k.at.size(); ++j) {
      // g is the derivative in log p_j: central differences in log space.
      const double h = 1e-6;
      std::vector<double> up = k.at, down = k.at;
      up[j] *= std::exp(h), down[j] *= std::exp(-h);
      const double fd = (clvLogLikelihood(k.model, d, up, {}, 1, control) - clvLogLikelihood(k.model, d, down, {}, 1, control)) / (2 * h);
      CHECK(close(g[j], fd, 1e-5));
    }
  }
}

TEST(clv, per_frequency_table_gives_the_direct_likelihood) {
  Control control;
  Simulated s = simulate(ClvModel::BetaGeo, {0.4, 4, 0.8, 2.5}, 2000, 5);
  Simulated nudged = s;  // frequencies that are not integers take the direct path
  for (double& x : nudged.x)
    if (x > 0) x += 1e-9;
  const std::vector<double> at = {0.45, 3.8, 0.7, 2.9};
  std::vector<double> g1(4), g2(4);
  const double l1 = clvLogLikelihood(ClvModel::BetaGeo, s.data(), at, g1, 2, control);
  const double l2 = clvLogLikelihood(ClvModel::BetaGeo, nudged.data(), at, g2, 2, control);
  CHECK(close(l1, l2, 1e-7));
  for (int j = 0; j < 4; ++j) CHECK(close(g1[j], g2[j], 1e-6));
}

TEST(clv, fits_recover_simulated_parameters_for_any_thread_count) {
  Control control;
  struct Case {
    ClvModel model;
    std::vector<double> truth;
    double tolerance;
  };
  for (const Case& k : {Case{ClvModel::BetaGeo, {0.5, 5, 0.8, 2.5}, 0.2}, Case{ClvModel::ParetoNbd, {0.7, 8, 0.9, 10}, 0.3}}) {
    Simulated s = simulate(k.model, k.truth, 40000, 7);
    ClvFitOptions one, two;
    one.threads = 1, two.threads = 2;
    ClvFit a = fitClv(k.model, s.data(), one, control);
    ClvFit b = fitClv(k.model, s.data(), two, control);
    CHECK(a.converged);
    CHECK(a.params == b.params);
    for (size_t j = 0; j < k.truth.size(); ++j) {
      CHECK(std::abs(a.params[j] - k.truth[j]) <= k.tolerance * k.truth[j]);
      CHECK(a.standardErrors[j] > 0 && a.standardErrors[j] < k.truth[j]);
    }
  }
}

TEST(clv, purchase_count_distributions_sum_to_one_with_the_expected_mean) {
  for (auto [model, params] : {std::pair{ClvModel::BetaGeo, std::vector<double>{0.243, 4.414, 0.793, 2.426}},
                               std::pair{ClvModel::ParetoNbd, std::vector<double>{0.553, 10.578, 0.606, 11.669}},
                               std::pair{ClvModel::ParetoNbd, std::vector<double>{0.553, 14.0, 0.606, 9.0}}}) {
    for (double t : {1.0, 39.0, 78.0}) {
      double total = 0, mean = 0;
      for (int32_t n = 0; n < 400; ++n) {
        const double p = clvProbabilityOfPurchases(model, params, t, n);
        CHECK(p >= -1e-12 && p <= 1);
        total += p, mean += n * p;
      }
      CHECK(close(total, 1, 1e-8));
      CHECK(close(mean, clvExpected(model, params, t), 1e-6));
    }
  }
}

TEST(clv, rejects_bad_customers) {
  Control control;
  std::vector<double> x = {1, 0}, tx = {5, 0}, T = {4, 3};
  CHECK_THROWS_CODE(fitClv(ClvModel::BetaGeo, {x, tx, T, {}, {}}, {}, control), code::kBadInput);  // recency > T
  std::vector<double> T2 = {6};
  CHECK_THROWS_CODE(fitClv(ClvModel::BetaGeo, {x, tx, T2, {}, {}}, {}, control), code::kDimMismatch);
  std::vector<double> nan = {NAN, 0};
  CHECK_THROWS_CODE(fitClv(ClvModel::BetaGeo, {nan, tx, {T.data(), 2}, {}, {}}, {}, control), code::kBadInput);
  std::vector<double> zeros = {0, 0}, m = {0, 0};
  CHECK_THROWS_CODE(fitClv(ClvModel::GammaGamma, {zeros, {}, {}, m, {}}, {}, control), code::kBadInput);
}
