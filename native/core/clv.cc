#include "clv.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "error.h"
#include "lbfgs.h"
#include "threadpool.h"

namespace affinity {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr size_t kRowsPerChunk = 4096;
constexpr size_t kMaxChunks = 256;
constexpr int kMaxSeriesTerms = 2'000'000;

// log(e^a + e^b), either may be -inf.
double logAddExp(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

// log Γ(x) for x > 0 (where the sign glibc's lgamma records is always +).
double logGamma(double x) { return std::lgamma(x); }

// Γ(x) as log |Γ(x)| and its sign, for x > 0 or a negative non-integer (by reflection).
struct SignedLogGamma {
  double log, sign;
};
SignedLogGamma logAbsGamma(double x) {
  if (x > 0) return {logGamma(x), 1.0};
  const double s = std::sin(std::numbers::pi * x);
  return {std::log(std::numbers::pi) - std::log(std::abs(s)) - logGamma(1 - x), s > 0 ? 1.0 : -1.0};
}

// A customer's log-likelihood and its gradient with respect to the natural parameters.
struct Row {
  double x, tx, T, m;
};

// What a BG/NBD row's likelihood takes from its frequency alone: computed once per distinct (integer) x
// and parameter vector by recurrences, so a row costs a few logarithms instead of eight special functions.
struct BetaGeoTerms {
  double constant;  // lgamma(r+x) - lgamma(r) + lgamma(a+b) + lgamma(b+x) - lgamma(b) - lgamma(a+b+x)
  double dr, da, db;  // their derivatives in r, a, b
  double logB;        // log(b + x - 1)
};

std::vector<BetaGeoTerms> betaGeoTable(const double* p, int32_t maxX) {
  const double r = p[0], a = p[2], b = p[3];
  std::vector<BetaGeoTerms> t(static_cast<size_t>(maxX) + 1);
  double lr = 0, lb = 0, lab = 0, pr = 0, pb = 0, pab = 0;  // Σ_{k<x} log(r+k), log(b+k), log(a+b+k) and 1/(·)
  for (int32_t x = 0; x <= maxX; ++x) {
    t[x] = {lr + lb - lab, pr, -pab, pb - pab, x > 0 ? std::log(b + x - 1) : 0};
    lr += std::log(r + x), lb += std::log(b + x), lab += std::log(a + b + x);
    pr += 1 / (r + x), pb += 1 / (b + x), pab += 1 / (a + b + x);
  }
  return t;
}

double betaGeoRow(const double* p, const Row& c, double* g, const BetaGeoTerms* cached) {
  const double r = p[0], alpha = p[1], a = p[2], b = p[3];
  const double x = c.x;
  BetaGeoTerms k;
  if (cached) {
    k = *cached;
  } else {
    k.constant = logGamma(r + x) - logGamma(r) + logGamma(a + b) + logGamma(b + x) - logGamma(b) - logGamma(a + b + x);
    k.dr = digamma(r + x) - digamma(r);
    k.da = digamma(a + b) - digamma(a + b + x);
    k.db = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x);
    k.logB = x > 0 ? std::log(b + x - 1) : 0;
  }
  const double logAlpha = std::log(alpha), logAT = std::log(alpha + c.T);
  const double logAtx = x > 0 ? std::log(alpha + c.tx) : 0;
  const double a3 = -(r + x) * logAT;
  const double a4 = x > 0 ? std::log(a) - k.logB - (r + x) * logAtx : kNegInf;
  const double l = logAddExp(a3, a4);
  if (g) {
    const double w3 = std::exp(a3 - l), w4 = x > 0 ? std::exp(a4 - l) : 0.0;
    g[0] = k.dr + logAlpha - w3 * logAT - w4 * logAtx;
    g[1] = r / alpha - w3 * (r + x) / (alpha + c.T) - (x > 0 ? w4 * (r + x) / (alpha + c.tx) : 0);
    g[2] = k.da + (x > 0 ? w4 / a : 0);
    g[3] = k.db - (x > 0 ? w4 / std::exp(k.logB) : 0);
  }
  return k.constant + r * logAlpha + l;
}

double paretoRow(const double* p, const Row& c, double* g) {
  const double r = p[0], alpha = p[1], s = p[2], beta = p[3];
  const double x = c.x, rsf = r + s + x;
  const double a1 = logGamma(r + x) - logGamma(r) + r * std::log(alpha) + s * std::log(beta);
  const double a2 = -(r + x) * std::log(alpha + c.T) - s * std::log(beta + c.T);
  // A0 = F(z1)/q1^rsf - F(z2)/q2^rsf with the larger of α, β in q and z = |α - β| / q.
  const bool alphaLarger = alpha >= beta;
  const double big = alphaLarger ? alpha : beta, d = std::abs(alpha - beta);
  const double bb = alphaLarger ? s + 1 : r + x;
  const double q1 = big + c.tx, q2 = big + c.T;
  const Hyp2f1 f1 = hyp2f1Series(rsf, bb, rsf + 1, d / q1);
  const Hyp2f1 f2 = hyp2f1Series(rsf, bb, rsf + 1, d / q2);
  const double u1 = std::log(f1.value) - rsf * std::log(q1);
  const double u2 = std::log(f2.value) - rsf * std::log(q2);
  const double rho = std::exp(u2 - u1);  // <= 1: t_x <= T
  const double logA0 = rho < 1 ? u1 + std::log1p(-rho) : kNegInf;
  const double a3 = logA0 == kNegInf ? kNegInf : std::log(s) - std::log(rsf) + logA0;
  const double l = logAddExp(a2, a3);
  if (g) {
    const double w2 = std::exp(a2 - l), w3 = a3 == kNegInf ? 0.0 : std::exp(a3 - l);
    // d u_k for each parameter: through a = rsf and c = rsf + 1 (r, s), b (s or r), z and q (α, β).
    auto du = [&](const Hyp2f1& f, double q, double t, double out[4]) {
      const double z = d / q;
      const double dRsf = (f.da + f.dc) / f.value - std::log(q);
      const double dB = f.db / f.value;
      const double dZ = f.dz / f.value;
      double dzAlpha, dzBeta, dqAlpha, dqBeta;
      if (alphaLarger) {
        dzAlpha = (beta + t) / (q * q), dzBeta = -1 / q, dqAlpha = 1, dqBeta = 0;
      } else {
        dzAlpha = -1 / q, dzBeta = (alpha + t) / (q * q), dqAlpha = 0, dqBeta = 1;
      }
      (void)z;
      out[0] = dRsf + (alphaLarger ? 0 : dB);
      out[2] = dRsf + (alphaLarger ? dB : 0);
      out[1] = dZ * dzAlpha - rsf * dqAlpha / q;
      out[3] = dZ * dzBeta - rsf * dqBeta / q;
    };
    double d1[4], d2[4];
    du(f1, q1, c.tx, d1);
    du(f2, q2, c.T, d2);
    double dA0[4];
    for (int k = 0; k < 4; ++k) dA0[k] = (d1[k] - rho * d2[k]) / (1 - rho);
    const double ga1[4] = {digamma(r + x) - digamma(r) + std::log(alpha), r / alpha, std::log(beta), s / beta};
    const double ga2[4] = {-std::log(alpha + c.T), -(r + x) / (alpha + c.T), -std::log(beta + c.T), -s / (beta + c.T)};
    const double ga3[4] = {-1 / rsf + dA0[0], dA0[1], 1 / s - 1 / rsf + dA0[2], dA0[3]};
    for (int k = 0; k < 4; ++k) g[k] = ga1[k] + w2 * ga2[k] + (w3 > 0 ? w3 * ga3[k] : 0);
  }
  return a1 + l;
}

double gammaGammaRow(const double* p, const Row& c, double* g) {
  const double pp = p[0], q = p[1], v = p[2];
  const double x = c.x, m = c.m, px = pp * x;
  const double l = logGamma(px + q) - logGamma(px) - logGamma(q) + q * std::log(v) + (px - 1) * std::log(m) +
                   px * std::log(x) - (px + q) * std::log(x * m + v);
  if (g) {
    g[0] = x * (digamma(px + q) - digamma(px) + std::log(m) + std::log(x) - std::log(x * m + v));
    g[1] = digamma(px + q) - digamma(q) + std::log(v) - std::log(x * m + v);
    g[2] = q / v - (px + q) / (x * m + v);
  }
  return l;
}

bool countsForModel(ClvModel model, const ClvData& d, size_t i) {
  return model != ClvModel::GammaGamma || (d.frequency[i] > 0 && d.monetary[i] > 0);
}

Row rowOf(const ClvData& d, size_t i) {
  return {d.frequency[i], d.recency.empty() ? 0 : d.recency[i], d.age.empty() ? 0 : d.age[i], d.monetary.empty() ? 0 : d.monetary[i]};
}

double rowLogLikelihood(ClvModel model, const double* p, const Row& c, double* g, const std::vector<BetaGeoTerms>& table) {
  switch (model) {
    case ClvModel::BetaGeo:
      return betaGeoRow(p, c, g, c.x < static_cast<double>(table.size()) && c.x == std::floor(c.x) ? &table[static_cast<size_t>(c.x)] : nullptr);
    case ClvModel::ParetoNbd:
      return paretoRow(p, c, g);
    case ClvModel::GammaGamma:
      return gammaGammaRow(p, c, g);
  }
  return 0;
}

const char* nameOf(ClvModel model) {
  return model == ClvModel::BetaGeo ? "BetaGeo" : model == ClvModel::ParetoNbd ? "ParetoNBD" : "GammaGamma";
}

// Inverts a small symmetric matrix (Gauss-Jordan with partial pivoting); false when singular.
bool invert(std::vector<double>& a, int n) {
  std::vector<double> inv(static_cast<size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) inv[i * n + i] = 1;
  for (int col = 0; col < n; ++col) {
    int pivot = col;
    for (int r = col + 1; r < n; ++r)
      if (std::abs(a[r * n + col]) > std::abs(a[pivot * n + col])) pivot = r;
    if (!(std::abs(a[pivot * n + col]) > 1e-300)) return false;
    for (int k = 0; k < n; ++k) std::swap(a[col * n + k], a[pivot * n + k]), std::swap(inv[col * n + k], inv[pivot * n + k]);
    const double diag = a[col * n + col];
    for (int k = 0; k < n; ++k) a[col * n + k] /= diag, inv[col * n + k] /= diag;
    for (int r = 0; r < n; ++r) {
      if (r == col) continue;
      const double f = a[r * n + col];
      for (int k = 0; k < n; ++k) a[r * n + k] -= f * a[col * n + k], inv[r * n + k] -= f * inv[col * n + k];
    }
  }
  a.swap(inv);
  return true;
}

}  // namespace

double digamma(double x) {
  double result = 0;
  while (x < 6) {
    result -= 1 / x;
    x += 1;
  }
  const double f = 1 / (x * x);
  return result + std::log(x) - 0.5 / x - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}

Hyp2f1 hyp2f1Series(double a, double b, double c, double z) {
  require(std::abs(z) < 1, code::kBadInput, [&] { return "2F1 series needs |z| < 1, got " + std::to_string(z); });
  // term_n = (a)_n (b)_n / ((c)_n n!) z^n; d term_n / da = term_n Σ_{k<n} 1/(a+k), and so on.
  double term = 1, sum = 1, sa = 0, sb = 0, sc = 0, sz = 0;
  double ha = 0, hb = 0, hc = 0;
  for (int n = 0; n < kMaxSeriesTerms; ++n) {
    ha += 1 / (a + n), hb += 1 / (b + n), hc += 1 / (c + n);
    term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
    sum += term;
    sa += term * ha, sb += term * hb, sc -= term * hc;
    sz += term * (n + 1);
    const double scale = std::abs(term) * (1 + std::abs(ha) + std::abs(hb) + std::abs(hc) + n);
    if (scale <= 1e-17 * (std::abs(sum) + std::abs(sa) + std::abs(sb) + std::abs(sc) + std::abs(sz)) || term == 0) {
      const double dz = z == 0 ? a * b / c : sz / z;
      return {sum, sa, sb, sc, dz};
    }
  }
  fail(code::kInternal, "2F1(" + std::to_string(a) + ", " + std::to_string(b) + "; " + std::to_string(c) + "; " +
                            std::to_string(z) + ") did not converge");
}

namespace {

// The series of ₂F₁ alone: a third of the work of hyp2f1Series, for the per-customer forecasts.
double hyp2f1ValueSeries(double a, double b, double c, double z) {
  double term = 1, sum = 1;
  for (int n = 0; n < kMaxSeriesTerms; ++n) {
    term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
    sum += term;
    if (std::abs(term) <= 1e-17 * std::abs(sum)) return sum;
  }
  fail(code::kInternal, "2F1(" + std::to_string(a) + ", " + std::to_string(b) + "; " + std::to_string(c) + "; " +
                            std::to_string(z) + ") did not converge");
}

}  // namespace

double hyp2f1(double a, double b, double c, double z) {
  require(z >= 0 && z < 1 && !(c <= 0 && c == std::floor(c)), code::kBadInput,
          "2F1 is evaluated for 0 <= z < 1, and c must not be 0 or a negative integer");
  const double gap = c - a - b;
  // Near z = 1 the series crawls; the connection formula in 1 - z converges fast there (gap not an integer).
  if (z > 0.9 && std::abs(gap - std::round(gap)) > 1e-6) {
    const double w = 1 - z;
    auto [lc, sc] = logAbsGamma(c);
    auto [lg, sg] = logAbsGamma(gap);
    auto [lca, sca] = logAbsGamma(c - a);
    auto [lcb, scb] = logAbsGamma(c - b);
    auto [lmg, smg] = logAbsGamma(-gap);
    auto [la, sa] = logAbsGamma(a);
    auto [lb, sb] = logAbsGamma(b);
    const double first = sc * sg * sca * scb * std::exp(lc + lg - lca - lcb) * hyp2f1ValueSeries(a, b, 1 - gap, w);
    const double second = sc * smg * sa * sb * std::exp(gap * std::log(w) + lc + lmg - la - lb) * hyp2f1ValueSeries(c - a, c - b, 1 + gap, w);
    return first + second;
  }
  return hyp2f1ValueSeries(a, b, c, z);
}

int paramCount(ClvModel model) { return model == ClvModel::GammaGamma ? 3 : 4; }

void checkClvData(ClvModel model, const ClvData& d) {
  const size_t n = d.rows();
  require(n > 0, code::kBadInput, "no customers");
  const bool purchases = model != ClvModel::GammaGamma;
  if (purchases) {
    require(d.recency.size() == n && d.age.size() == n, code::kDimMismatch, "frequency, recency and T must have one entry per customer");
  } else {
    require(d.monetary.size() == n, code::kDimMismatch, "frequency and monetary must have one entry per customer");
  }
  require(d.weights.empty() || d.weights.size() == n, code::kDimMismatch, "weights must have one entry per customer");
  size_t counted = 0;
  for (size_t i = 0; i < n; ++i) {
    const double x = d.frequency[i];
    require(std::isfinite(x) && x >= 0, code::kBadInput, [&] { return "frequency[" + std::to_string(i) + "] must be a finite number >= 0"; });
    if (purchases) {
      const double tx = d.recency[i], T = d.age[i];
      require(std::isfinite(T) && T >= 0, code::kBadInput, [&] { return "T[" + std::to_string(i) + "] must be a finite number >= 0"; });
      require(std::isfinite(tx) && tx >= 0 && tx <= T, code::kBadInput,
              [&] { return "recency[" + std::to_string(i) + "] must be in [0, T] (" + std::to_string(tx) + ", T " + std::to_string(T) + ")"; });
    } else {
      require(std::isfinite(d.monetary[i]) && d.monetary[i] >= 0, code::kBadInput,
              [&] { return "monetary[" + std::to_string(i) + "] must be a finite number >= 0"; });
    }
    if (!d.weights.empty())
      require(std::isfinite(d.weights[i]) && d.weights[i] >= 0, code::kBadInput, [&] { return "weights[" + std::to_string(i) + "] must be a finite number >= 0"; });
    if (countsForModel(model, d, i) && (d.weights.empty() || d.weights[i] > 0)) ++counted;
  }
  require(counted > 0, code::kBadInput,
          model == ClvModel::GammaGamma ? "Gamma-Gamma needs customers with at least one repeat purchase and positive spend"
                                        : "no customers with a positive weight");
}

double clvLogLikelihood(ClvModel model, const ClvData& d, std::span<const double> params, std::span<double> gradLog, int threads,
                        Control& control) {
  const int k = paramCount(model);
  const size_t n = d.rows();
  const size_t chunks = std::min(kMaxChunks, (n + kRowsPerChunk - 1) / kRowsPerChunk);
  const size_t per = (n + chunks - 1) / chunks;
  const bool wantGradient = !gradLog.empty();
  std::vector<double> sums(chunks, 0.0), grads(wantGradient ? chunks * k : 0, 0.0);
  // Integer frequencies up to a bound share their per-frequency terms (real data: a few hundred at most).
  std::vector<BetaGeoTerms> table;
  if (model == ClvModel::BetaGeo) {
    double maxX = 0;
    for (double x : d.frequency) maxX = std::max(maxX, x);
    table = betaGeoTable(params.data(), static_cast<int32_t>(std::min(maxX, 100000.0)));
  }
  ThreadPool::instance().parallelFor(
      chunks, threads,
      [&](size_t chunk) {
        double s = 0, g[4] = {0, 0, 0, 0}, rowGrad[4];
        for (size_t i = chunk * per; i < std::min(n, (chunk + 1) * per); ++i) {
          if (!countsForModel(model, d, i)) continue;
          const double w = d.weights.empty() ? 1.0 : d.weights[i];
          if (w == 0) continue;
          s += w * rowLogLikelihood(model, params.data(), rowOf(d, i), wantGradient ? rowGrad : nullptr, table);
          if (wantGradient)
            for (int j = 0; j < k; ++j) g[j] += w * rowGrad[j];
        }
        sums[chunk] = s;
        if (wantGradient) std::copy(g, g + k, grads.begin() + chunk * k);
      },
      &control);
  double total = 0;
  for (double s : sums) total += s;
  if (wantGradient) {
    std::fill(gradLog.begin(), gradLog.end(), 0.0);
    for (size_t c = 0; c < chunks; ++c)
      for (int j = 0; j < k; ++j) gradLog[j] += grads[c * k + j];
    for (int j = 0; j < k; ++j) gradLog[j] *= params[j];  // d/d log p = p d/dp
  }
  return total;
}

ClvFit fitClv(ClvModel model, const ClvData& d, const ClvFitOptions& o, Control& control) {
  checkClvData(model, d);
  require(o.maxIterations >= 1, code::kBadInput, "maxIterations must be at least 1");
  require(o.tolerance > 0, code::kBadInput, "tolerance must be positive");
  require(std::isfinite(o.penalizer) && o.penalizer >= 0, code::kBadInput, "penalizer must be a finite number >= 0");
  const int k = paramCount(model);
  double weightSum = 0;
  for (size_t i = 0; i < d.rows(); ++i)
    if (countsForModel(model, d, i)) weightSum += d.weights.empty() ? 1.0 : d.weights[i];
  std::vector<double> params(k);
  auto objective = [&](std::span<const double> theta, std::span<double> grad) {
    for (int j = 0; j < k; ++j) params[j] = std::exp(theta[j]);
    for (int j = 0; j < k; ++j)
      if (!std::isfinite(params[j]) || params[j] <= 0) return std::numeric_limits<double>::infinity();
    double ll = clvLogLikelihood(model, d, params, grad, o.threads, control);
    double f = -ll / weightSum;
    for (int j = 0; j < k; ++j) {
      grad[j] = -grad[j] / weightSum + 2 * o.penalizer * params[j] * params[j];
      f += o.penalizer * params[j] * params[j];
    }
    return std::isfinite(f) ? f : std::numeric_limits<double>::infinity();
  };
  LbfgsResult r = minimizeLbfgs(objective, std::vector<double>(k, 0.0), {o.maxIterations, o.tolerance, 10}, control);
  ClvFit out;
  out.params.resize(k);
  for (int j = 0; j < k; ++j) out.params[j] = std::exp(r.x[j]);
  out.iterations = r.iterations;
  out.converged = r.converged;
  out.gradientNorm = r.gradientNorm;
  require(std::isfinite(r.value), code::kBadInput, std::string(nameOf(model)) + ": the likelihood is not finite at any parameters tried");
  out.logLikelihood = clvLogLikelihood(model, d, out.params, {}, o.threads, control);
  // Standard errors: the Hessian of the total negative log-likelihood in the natural parameters, by central
  // differences of the analytic gradient.
  auto gradientAt = [&](const std::vector<double>& p) {
    std::vector<double> gl(k);
    clvLogLikelihood(model, d, p, gl, o.threads, control);
    for (int j = 0; j < k; ++j) gl[j] /= p[j];
    return gl;
  };
  std::vector<double> hessian(static_cast<size_t>(k) * k);
  for (int j = 0; j < k; ++j) {
    std::vector<double> up = out.params, down = out.params;
    const double h = 1e-5 * out.params[j];
    up[j] += h, down[j] -= h;
    const std::vector<double> gu = gradientAt(up), gd = gradientAt(down);
    for (int i = 0; i < k; ++i) hessian[i * k + j] = -(gu[i] - gd[i]) / (2 * h);
  }
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < i; ++j) hessian[i * k + j] = hessian[j * k + i] = 0.5 * (hessian[i * k + j] + hessian[j * k + i]);
  out.standardErrors.assign(k, std::numeric_limits<double>::quiet_NaN());
  if (invert(hessian, k))
    for (int j = 0; j < k; ++j)
      if (hessian[j * k + j] > 0) out.standardErrors[j] = std::sqrt(hessian[j * k + j]);
  return out;
}

namespace {

double betaGeoAlive(const double* p, const Row& c) {
  if (c.x == 0) return 1;
  const double r = p[0], alpha = p[1], a = p[2], b = p[3];
  const double logRatio = std::log(a) - std::log(b + c.x - 1) + (r + c.x) * (std::log(alpha + c.T) - std::log(alpha + c.tx));
  return 1 / (1 + std::exp(logRatio));
}

double betaGeoConditional(const double* p, const Row& c, double t) {
  const double r = p[0], alpha = p[1], a = p[2], b = p[3], x = c.x;
  const double z = t / (alpha + c.T + t);
  const double bracket = 1 - std::exp((r + x) * std::log((alpha + c.T) / (alpha + c.T + t))) * hyp2f1(r + x, b + x, a + b + x - 1, z);
  return (a + b + x - 1) / (a - 1) * bracket * betaGeoAlive(p, c);
}

// log A0 of the Pareto/NBD likelihood (see paretoRow), without derivatives.
double paretoLogA0(const double* p, const Row& c) {
  const double r = p[0], alpha = p[1], s = p[2], beta = p[3], rsf = r + s + c.x;
  const bool alphaLarger = alpha >= beta;
  const double big = alphaLarger ? alpha : beta, d = std::abs(alpha - beta), bb = alphaLarger ? s + 1 : r + c.x;
  const double u1 = std::log(hyp2f1ValueSeries(rsf, bb, rsf + 1, d / (big + c.tx))) - rsf * std::log(big + c.tx);
  const double u2 = std::log(hyp2f1ValueSeries(rsf, bb, rsf + 1, d / (big + c.T))) - rsf * std::log(big + c.T);
  const double rho = std::exp(u2 - u1);
  return rho < 1 ? u1 + std::log1p(-rho) : kNegInf;
}

double paretoAlive(const double* p, const Row& c) {
  const double r = p[0], alpha = p[1], s = p[2], beta = p[3], rsf = r + s + c.x;
  const double logA0 = paretoLogA0(p, c);
  if (logA0 == kNegInf) return 1;
  const double logRatio = std::log(s) - std::log(rsf) + (r + c.x) * std::log(alpha + c.T) + s * std::log(beta + c.T) + logA0;
  return 1 / (1 + std::exp(logRatio));
}

// (1 - y^(s-1)) / (s - 1), continuous at s = 1 (where it is -log y).
double powerGap(double y, double s) {
  const double e = s - 1;
  return std::abs(e) < 1e-12 ? -std::log(y) : -std::expm1(e * std::log(y)) / e;
}

double paretoConditional(const double* p, const Row& c, double t) {
  const double r = p[0], alpha = p[1], s = p[2], beta = p[3];
  return paretoAlive(p, c) * (r + c.x) * (beta + c.T) / (alpha + c.T) * powerGap((beta + c.T) / (beta + c.T + t), s);
}

double gammaGammaSpend(const double* p, const Row& c) {
  const double pp = p[0], q = p[1], v = p[2];
  if (!(c.x > 0)) return pp * v / (q - 1);  // the population mean
  return pp * (v + c.x * c.m) / (pp * c.x + q - 1);
}

void checkParams(ClvModel model, std::span<const double> params) {
  require(params.size() == static_cast<size_t>(paramCount(model)), code::kDimMismatch, "wrong number of parameters");
  for (double v : params) require(std::isfinite(v) && v > 0, code::kBadInput, "parameters must be finite and positive");
}

}  // namespace

void clvPerCustomer(ClvModel model, ClvQuantity what, std::span<const double> params, const ClvData& d, double t,
                    std::span<double> out, int threads, Control& control) {
  checkParams(model, params);
  checkClvData(model, d);
  require(out.size() == d.rows(), code::kDimMismatch, "output must have one entry per customer");
  require(std::isfinite(t) && t >= 0, code::kBadInput, "t must be a finite number >= 0");
  if (model == ClvModel::GammaGamma)
    require(params[1] > 1, code::kBadInput, "the expected spend needs q > 1 (the population mean p v / (q - 1) is infinite otherwise)");
  const size_t n = d.rows();
  const size_t chunks = std::min(kMaxChunks, (n + kRowsPerChunk - 1) / kRowsPerChunk);
  const size_t per = (n + chunks - 1) / chunks;
  control.setTotal(static_cast<int64_t>(chunks));
  ThreadPool::instance().parallelFor(
      chunks, threads,
      [&](size_t chunk) {
        for (size_t i = chunk * per; i < std::min(n, (chunk + 1) * per); ++i) {
          const Row c = rowOf(d, i);
          const double* p = params.data();
          double v = 0;
          if (model == ClvModel::GammaGamma) v = gammaGammaSpend(p, c);
          else if (what == ClvQuantity::ProbabilityAlive) v = model == ClvModel::BetaGeo ? betaGeoAlive(p, c) : paretoAlive(p, c);
          else v = t == 0 ? 0 : model == ClvModel::BetaGeo ? betaGeoConditional(p, c, t) : paretoConditional(p, c, t);
          out[i] = v;
        }
        control.advance(1);
      },
      &control);
}

double clvExpected(ClvModel model, std::span<const double> params, double t) {
  checkParams(model, params);
  require(model != ClvModel::GammaGamma, code::kBadInput, "expected purchases come from a purchase model");
  require(std::isfinite(t) && t >= 0, code::kBadInput, "t must be a finite number >= 0");
  if (t == 0) return 0;
  if (model == ClvModel::BetaGeo) {
    const double r = params[0], alpha = params[1], a = params[2], b = params[3];
    require(a + b > 1, code::kBadInput, "BG/NBD expected purchases need a + b > 1");
    return (a + b - 1) / (a - 1) * (1 - std::exp(r * std::log(alpha / (alpha + t))) * hyp2f1(r, b, a + b - 1, t / (alpha + t)));
  }
  const double r = params[0], alpha = params[1], s = params[2], beta = params[3];
  return r * beta / alpha * powerGap(beta / (beta + t), s);
}

double clvProbabilityOfPurchases(ClvModel model, std::span<const double> params, double t, int32_t n) {
  checkParams(model, params);
  require(model != ClvModel::GammaGamma, code::kBadInput, "P(X(t) = n) comes from a purchase model");
  require(std::isfinite(t) && t > 0 && n >= 0, code::kBadInput, "t must be > 0 and n >= 0");
  auto logBeta = [](double x, double y) { return logGamma(x) + logGamma(y) - logGamma(x + y); };
  if (model == ClvModel::ParetoNbd) {
    // Fader & Hardie (2006), "Deriving an expression for P(X(t) = x) under the Pareto/NBD model".
    const double r = params[0], alpha = params[1], s = params[2], beta = params[3], x = n;
    const double alive = std::exp(logGamma(r + x) - logGamma(r) - logGamma(x + 1) + r * std::log(alpha / (alpha + t)) +
                                  x * std::log(t / (alpha + t)) + s * std::log(beta / (beta + t)));
    const bool alphaLarger = alpha >= beta;
    const double big = alphaLarger ? alpha : beta, d = std::abs(alpha - beta), second = alphaLarger ? s + 1 : r + x;
    const double c = r + s + x + 1;
    const double b1 = hyp2f1ValueSeries(r + s, second, c, d / big) * std::exp(-(r + s) * std::log(big));
    double b2 = 0;
    for (int32_t j = 0; j <= n; ++j)
      b2 += std::exp(logGamma(r + s + j) - logGamma(r + s) - logGamma(j + 1.0) + j * std::log(t) - (r + s + j) * std::log(big + t)) *
            hyp2f1ValueSeries(r + s + j, second, c, d / (big + t));
    const double scale = std::exp(r * std::log(alpha) + s * std::log(beta) + logBeta(r + x, s + 1) - logBeta(r, s));
    return alive + scale * (b1 - b2);
  }
  const double r = params[0], alpha = params[1], a = params[2], b = params[3];
  const double lp = std::log(alpha / (alpha + t)), lq = std::log(t / (alpha + t));
  // Fader, Hardie & Lee (2005), equation 8.
  const double first = std::exp(logBeta(a, b + n) - logBeta(a, b) + logGamma(r + n) - logGamma(r) - logGamma(n + 1.0) + r * lp + n * lq);
  if (n == 0) return first;
  double partial = 0;
  for (int32_t j = 0; j < n; ++j) partial += std::exp(logGamma(r + j) - logGamma(r) - logGamma(j + 1.0) + r * lp + j * lq);
  return first + std::exp(logBeta(a + 1, b + n - 1) - logBeta(a, b)) * (1 - partial);
}

}  // namespace affinity
