#include "logreg.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "error.h"
#include "lbfgs.h"
#include "threadpool.h"

namespace affinity {
namespace {

// A fixed chunking (not per thread) keeps the sums, and so the fit, identical for any thread count.
constexpr int32_t kRowsPerChunk = 2048;
constexpr size_t kMaxChunks = 64;

double softplus(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }
double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

double dotProduct(std::span<const double> a, std::span<const double> b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}


}  // namespace

void checkLogisticData(const LogisticData& d) {
  const int32_t rows = d.rows();
  require(rows > 0, code::kBadInput, "logistic regression needs at least one row");
  require(d.dims() > 0, code::kBadInput, "logistic regression needs at least one feature");
  if (d.sparse.rows > 0) {
    validateCsr(d.sparse);
  } else {
    require(d.dense.values.size() == static_cast<size_t>(rows) * d.dense.dims, code::kDimMismatch,
            "features must hold rows * dims values");
    for (size_t i = 0; i < d.dense.values.size(); ++i)
      require(std::isfinite(d.dense.values[i]), code::kBadInput,
              "features row " + std::to_string(i / d.dense.dims) + " holds a non-finite value");
  }
  require(d.labels.size() == static_cast<size_t>(rows), code::kDimMismatch,
          "labels has " + std::to_string(d.labels.size()) + " entries, expected " + std::to_string(rows));
  for (size_t i = 0; i < d.labels.size(); ++i)
    require(d.labels[i] == 0.0f || d.labels[i] == 1.0f, code::kBadInput, [&] { return "labels[" + std::to_string(i) + "] must be 0 or 1"; });
  if (!d.weights.empty()) {
    require(d.weights.size() == static_cast<size_t>(rows), code::kDimMismatch, "weights must have one entry per row");
    double sum = 0;
    for (size_t i = 0; i < d.weights.size(); ++i) {
      require(std::isfinite(d.weights[i]) && d.weights[i] >= 0, code::kBadInput,
              "weights[" + std::to_string(i) + "] must be a finite number >= 0");
      sum += d.weights[i];
    }
    require(sum > 0, code::kBadInput, "the weights sum to 0");
  }
}

double logisticLoss(const LogisticData& d, std::span<const double> w, double b, double l2, std::span<double> gradient,
                    int threads, Control& control) {
  const int32_t rows = d.rows();
  const int32_t dims = d.dims();
  const size_t chunks = std::min(kMaxChunks, (static_cast<size_t>(rows) + kRowsPerChunk - 1) / kRowsPerChunk);
  const int32_t perChunk = static_cast<int32_t>((static_cast<size_t>(rows) + chunks - 1) / chunks);
  const bool wantGradient = !gradient.empty();
  std::vector<double> losses(chunks, 0.0), weightSums(chunks, 0.0);
  std::vector<std::vector<double>> partial(wantGradient ? chunks : 0);
  ThreadPool::instance().parallelFor(
      chunks, threads,
      [&](size_t chunk) {
        const int32_t begin = static_cast<int32_t>(chunk) * perChunk;
        const int32_t end = std::min(rows, begin + perChunk);
        std::vector<double> g(wantGradient ? dims + 1 : 0, 0.0);
        double loss = 0, weightSum = 0;
        for (int32_t i = begin; i < end; ++i) {
          double z = b;
          if (d.sparse.rows > 0) {
            for (int32_t p = d.sparse.indptr[i]; p < d.sparse.indptr[i + 1]; ++p) z += d.sparse.data[p] * w[d.sparse.indices[p]];
          } else {
            const float* x = d.dense.row(i);
            for (int32_t j = 0; j < dims; ++j) z += x[j] * w[j];
          }
          const double s = d.weights.empty() ? 1.0 : d.weights[i];
          const double y = d.labels[i];
          loss += s * (softplus(z) - y * z);
          weightSum += s;
          if (!wantGradient) continue;
          const double r = s * (sigmoid(z) - y);
          if (d.sparse.rows > 0) {
            for (int32_t p = d.sparse.indptr[i]; p < d.sparse.indptr[i + 1]; ++p) g[d.sparse.indices[p]] += r * d.sparse.data[p];
          } else {
            const float* x = d.dense.row(i);
            for (int32_t j = 0; j < dims; ++j) g[j] += r * x[j];
          }
          g[dims] += r;
        }
        losses[chunk] = loss;
        weightSums[chunk] = weightSum;
        if (wantGradient) partial[chunk] = std::move(g);
      },
      &control);
  double loss = 0, weightSum = 0;
  for (size_t c = 0; c < chunks; ++c) {
    loss += losses[c];
    weightSum += weightSums[c];
  }
  const double penalty = 0.5 * l2 * dotProduct(w, w);
  if (wantGradient) {
    std::fill(gradient.begin(), gradient.end(), 0.0);
    for (size_t c = 0; c < chunks; ++c)
      for (int32_t j = 0; j <= dims; ++j) gradient[j] += partial[c][j];
    for (int32_t j = 0; j <= dims; ++j) gradient[j] /= weightSum;
    for (int32_t j = 0; j < dims; ++j) gradient[j] += l2 * w[j];
  }
  return loss / weightSum + penalty;
}

LogisticResult fitLogistic(const LogisticData& d, const LogisticOptions& o, Control& control) {
  checkLogisticData(d);
  require(o.l2 >= 0 && std::isfinite(o.l2), code::kBadInput, "l2 must be a finite number >= 0");
  require(o.maxIterations >= 1, code::kBadInput, "maxIterations must be at least 1");
  require(o.tolerance > 0, code::kBadInput, "tolerance must be positive");
  const int32_t dims = d.dims();
  // The parameter vector is the coefficients followed by the intercept.
  auto objective = [&](std::span<const double> at, std::span<double> grad) {
    double f = logisticLoss(d, at.subspan(0, dims), at[dims], o.l2, grad, o.threads, control);
    if (!o.fitIntercept) grad[dims] = 0;
    return f;
  };
  LbfgsResult r = minimizeLbfgs(objective, std::vector<double>(static_cast<size_t>(dims) + 1, 0.0),
                                {o.maxIterations, o.tolerance, o.memory}, control);
  LogisticResult out;
  out.coefficients.assign(r.x.begin(), r.x.begin() + dims);
  out.intercept = r.x[dims];
  out.iterations = r.iterations;
  out.converged = r.converged;
  out.loss = r.value;
  out.gradientNorm = r.gradientNorm;
  return out;
}

}  // namespace affinity
