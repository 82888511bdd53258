#include "lbfgs.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace affinity {
namespace {

double dotProduct(std::span<const double> a, std::span<const double> b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

double maxAbs(std::span<const double> v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

}  // namespace

LbfgsResult minimizeLbfgs(const Objective& objective, std::vector<double> x, const LbfgsOptions& o, Control& control) {
  const size_t n = x.size();
  std::vector<double> g(n), xNew(n), gNew(n), direction(n);
  struct Pair {
    std::vector<double> s, y;
    double rho;
  };
  std::deque<Pair> history;
  control.setTotal(o.maxIterations);
  LbfgsResult out;
  double f = objective(x, g);
  int32_t it = 0;
  for (; it < o.maxIterations; ++it) {
    control.throwIfCancelled();
    if (maxAbs(g) <= o.tolerance) {
      out.converged = true;
      break;
    }
    // Two-loop recursion: direction = -H g.
    for (size_t j = 0; j < n; ++j) direction[j] = -g[j];
    std::vector<double> alpha(history.size());
    for (size_t h = history.size(); h-- > 0;) {
      alpha[h] = history[h].rho * dotProduct(history[h].s, direction);
      for (size_t j = 0; j < n; ++j) direction[j] -= alpha[h] * history[h].y[j];
    }
    if (!history.empty()) {
      const Pair& last = history.back();
      const double scale = dotProduct(last.s, last.y) / dotProduct(last.y, last.y);
      for (double& v : direction) v *= scale;
    }
    for (size_t h = 0; h < history.size(); ++h) {
      const double beta = history[h].rho * dotProduct(history[h].y, direction);
      for (size_t j = 0; j < n; ++j) direction[j] += (alpha[h] - beta) * history[h].s[j];
    }
    double slope = dotProduct(g, direction);
    if (!(slope < 0)) {  // not a descent direction: restart from steepest descent
      history.clear();
      for (size_t j = 0; j < n; ++j) direction[j] = -g[j];
      slope = -dotProduct(g, g);
    }
    double step = history.empty() ? std::min(1.0, 1.0 / std::sqrt(dotProduct(g, g))) : 1.0;
    double fNew = 0;
    bool accepted = false;
    for (int tries = 0; tries < 60; ++tries, step *= 0.5) {
      for (size_t j = 0; j < n; ++j) xNew[j] = x[j] + step * direction[j];
      fNew = objective(xNew, gNew);
      // A step into a region where the objective is not finite is too long, never accepted.
      if (std::isfinite(fNew) && fNew <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
    }
    if (!accepted) break;  // no decrease possible at double precision: as good as it gets
    Pair pair{std::vector<double>(n), std::vector<double>(n), 0};
    for (size_t j = 0; j < n; ++j) {
      pair.s[j] = xNew[j] - x[j];
      pair.y[j] = gNew[j] - g[j];
    }
    const double sy = dotProduct(pair.s, pair.y);
    if (sy > 1e-12) {
      pair.rho = 1.0 / sy;
      history.push_back(std::move(pair));
      if (history.size() > static_cast<size_t>(std::max(1, o.memory))) history.pop_front();
    }
    x.swap(xNew);
    g.swap(gNew);
    f = fNew;
    control.event(it + 1, f);
    control.advance(1);
  }
  if (!out.converged && maxAbs(g) <= o.tolerance) out.converged = true;
  out.x = std::move(x);
  out.value = f;
  out.iterations = it;
  out.gradientNorm = maxAbs(g);
  return out;
}

}  // namespace affinity
