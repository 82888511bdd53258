#include "als.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>

#include "../simd/dispatch.h"
#include "eigen.h"
#include "error.h"
#include "linalg.h"
#include "threadpool.h"

namespace affinity {
namespace {

constexpr size_t kRowsPerTask = 64;
constexpr size_t kGramChunk = 2048;

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void initRows(AlignedFloats& out, int32_t rows, int32_t f, uint64_t seed, int threads) {
  out.resize(static_cast<size_t>(rows) * f);
  // Uniform in [0, 0.01), one stream per row so the values do not depend on threads.
  const size_t chunks = (static_cast<size_t>(rows) + kGramChunk - 1) / kGramChunk;
  ThreadPool::instance().parallelFor(
      chunks, threads,
      [&](size_t c) {
        const int32_t end = static_cast<int32_t>(std::min<size_t>(rows, (c + 1) * kGramChunk));
        for (int32_t r = static_cast<int32_t>(c * kGramChunk); r < end; ++r) {
          uint64_t state = splitmix64(seed ^ (static_cast<uint64_t>(r) * 0x9e3779b97f4a7c15ull));
          for (int32_t k = 0; k < f; ++k) {
            state = splitmix64(state);
            out[static_cast<size_t>(r) * f + k] = static_cast<float>((state >> 40) * (1.0 / (1ull << 24)) * 0.01);
          }
        }
      },
      nullptr);
}

// G = sum of y y' over the rows (f x f, full, symmetric), reduced in a fixed chunk order: the same bits for any
// thread count.
std::vector<float> gram(const float* y, int32_t rows, int32_t f, int threads, const Control* control) {
  const size_t chunks = (static_cast<size_t>(rows) + kGramChunk - 1) / kGramChunk;
  std::vector<std::vector<float>> partial(chunks, std::vector<float>(static_cast<size_t>(f) * f, 0.0f));
  const KernelTable& k = activeKernels();
  ThreadPool::instance().parallelFor(
      chunks, threads,
      [&](size_t c) {
        const size_t begin = c * kGramChunk, end = std::min<size_t>(rows, begin + kGramChunk);
        const float* block = y + begin * f;
        k.gramUpdate(block, block, end - begin, static_cast<size_t>(f), partial[c].data());
      },
      control);
  std::vector<double> sum(static_cast<size_t>(f) * f, 0.0);
  for (const auto& p : partial)
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += p[i];
  std::vector<float> g(sum.begin(), sum.end());
  for (size_t a = 0; a < static_cast<size_t>(f); ++a)  // the kernel fills the lower triangle
    for (size_t b = a + 1; b < static_cast<size_t>(f); ++b) g[a * f + b] = g[b * f + a];
  return g;
}

// The Gram matrix of one side's factors.
std::vector<float> sideGram(const AlsModel& m, bool ofItems, int threads, const Control* control) {
  return gram(ofItems ? m.itemFactors.data() : m.userFactors.data(), ofItems ? m.items : m.users, m.factors, threads, control);
}

// G + lambda I of the side held fixed in a sweep (implicit ALS): the full f x f matrix, or only its
// diagonal once both sides are turned to G's eigenbasis (then the matrix is diagonal).
struct GramTerm {
  std::vector<float> full;
  std::vector<float> diagonal;
};

GramTerm regularized(std::vector<float> g, int32_t f, float lambda) {
  for (int32_t a = 0; a < f; ++a) g[static_cast<size_t>(a) * f + a] += lambda;
  return {std::move(g), {}};
}

// Every row y of `rows` (count x f) becomes y Q, where Q's columns are the rows of `vectors`. The columns
// of Q are packed as panels of "items" for the 6 x 16 scoring tile, which is a register-blocked product.
void turnRows(float* rows, int32_t count, int32_t f, const std::vector<double>& vectors, int threads) {
  const size_t fd = static_cast<size_t>(f), panels = (fd + kPanelItems - 1) / kPanelItems;
  std::vector<float> packed(panels * fd * kPanelItems, 0.0f);
  for (size_t c = 0; c < fd; ++c) putPanelItem(packed.data(), fd, c, vectors.data() + c * fd);
  constexpr size_t kRowsPerBlock = 1536;
  const size_t blocks = (static_cast<size_t>(count) + kRowsPerBlock - 1) / kRowsPerBlock;
  const KernelTable& k = activeKernels();
  // Not cancellable: a fit stopped here would leave the two sides in different bases.
  ThreadPool::instance().parallelFor(
      blocks, threads,
      [&](size_t block) {
        const float zero[kTileUsers] = {}, never[kTileUsers] = {INFINITY, INFINITY, INFINITY, INFINITY, INFINITY, INFINITY};
        float tile[kTileUsers * kPanelItems], turned[kTileUsers * 1024];  // f <= 1024 (checkOptions)
        uint16_t hits[kTileUsers];
        const size_t end = std::min<size_t>(count, (block + 1) * kRowsPerBlock);
        for (size_t r = block * kRowsPerBlock; r < end; r += kTileUsers) {
          const size_t n = std::min(kTileUsers, end - r);
          float* x = rows + r * fd;
          for (size_t p = 0; p < panels; ++p) {
            k.scoreTile(x, n, packed.data() + p * fd * kPanelItems, fd, nullptr, zero, never, tile, hits);
            const size_t width = std::min(kPanelItems, fd - p * kPanelItems);
            for (size_t u = 0; u < n; ++u) std::copy_n(tile + u * kPanelItems, width, turned + u * fd + p * kPanelItems);
          }
          std::copy_n(turned, n * fd, x);
        }
      },
      nullptr);
}

// Turns both sides' factors to the eigenbasis of g = Q diag(values) Q' (the fixed side's Gram matrix):
// every row x becomes x Q. Scores, norms and so the objective are the same in any orthonormal basis
// shared by both sides, and in this one G + lambda I is the diagonal values + lambda: the G p of each CG
// step costs f instead of f^2 (at f = 128 most of a user sweep). Falls back to the full matrix if the
// decomposition fails.
GramTerm inEigenbasis(AlsModel& m, std::vector<float> g, const AlsOptions& o) {
  const int32_t f = m.factors;
  std::vector<double> values, vectors;
  if (!symmetricEigen(static_cast<size_t>(f), std::vector<double>(g.begin(), g.end()), values, vectors))
    return regularized(std::move(g), f, o.regularization);
  turnRows(m.userFactors.data(), m.users, f, vectors, o.threads);
  turnRows(m.itemFactors.data(), m.items, f, vectors, o.threads);
  GramTerm t;
  t.diagonal.resize(static_cast<size_t>(f));
  for (int32_t a = 0; a < f; ++a) t.diagonal[a] = static_cast<float>(std::max(values[a], 0.0)) + o.regularization;  // G is semidefinite
  return t;
}

// <G_u + lambda I, G_i> = the sum over items of y' (G_u + lambda I) y, in double.
double gramInner(const GramTerm& users, std::span<const float> itemGram, int32_t f) {
  double s = 0;
  if (!users.diagonal.empty()) {
    for (int32_t a = 0; a < f; ++a) s += static_cast<double>(users.diagonal[a]) * itemGram[static_cast<size_t>(a) * f + a];
    return s;
  }
  for (size_t i = 0; i < users.full.size(); ++i) s += static_cast<double>(users.full[i]) * itemGram[i];
  return s;
}

struct Scratch {
  std::vector<float> r, p, ap, tmp, a, b, aug, v, coeff, negCoeff, conf, stepDots, chunkY, chunkZ;
  std::vector<int32_t> iota;
  std::vector<float> work;
  void resize(size_t d) {
    r.resize(d), p.resize(d), ap.resize(d), tmp.resize(d), b.resize(d), aug.resize(d);
    a.resize(d * d);
  }
};

// Buffers for copies of long rows' factor rows, lent to the tasks of the sweeps of one fit and freed
// with it. Each is sized once for the longest row, so its pages are faulted in once per fit: buffers
// reallocated as rows grow, or freed after each task, had every long row clear fresh pages (5% of a
// lastfm fit at f = 128); buffers kept per thread for good would hold hundreds of MB.
class RowCopies {
 public:
  explicit RowCopies(size_t floats) : floats_(floats) {}

  class Lease {
   public:
    explicit Lease(RowCopies& pool) : pool_(pool) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (buffer_) pool_.giveBack(std::move(buffer_));
    }
    // Room for the longest row's copy, left uninitialized: a vector would zero every float before the
    // copy overwrites it.
    float* room() {
      if (!buffer_) buffer_ = pool_.take();
      return buffer_.get();
    }

   private:
    RowCopies& pool_;
    std::unique_ptr<float[]> buffer_;
  };

 private:
  std::unique_ptr<float[]> take() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_.empty()) return std::unique_ptr<float[]>(new float[floats_]);
    std::unique_ptr<float[]> b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void giveBack(std::unique_ptr<float[]>&& b) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(b));
  }
  const size_t floats_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<float[]>> free_;
};

size_t longestRow(const CsrView& rows) {
  int32_t longest = 0;
  for (int32_t r = 0; r < rows.rows; ++r) longest = std::max(longest, rows.indptr[r + 1] - rows.indptr[r]);
  return static_cast<size_t>(longest);
}

// Buffers of the thread: sweeps and fold-ins run often and must not fault fresh pages in every time. Not
// inlined so the thread_local lookup happens once per call (see knn.cc).
__attribute__((noinline)) Scratch& threadScratch() {
  thread_local Scratch w;
  return w;
}

// One side of a sweep: rows of `m` are the entities solved for, `other` the fixed factors.
struct SweepSide {
  const float* other;            // fixed factors (n_other x f)
  const float* otherBias;        // explicit: fixed biases, else null
  float* mine;                   // factors solved (n x f)
  float* myBias;                 // explicit: biases solved, else null
  const GramTerm* gram;          // implicit: G + lambda I of `other`
};

const int32_t* iota(Scratch& w, size_t n) {
  if (w.iota.size() < n) {
    const size_t old = w.iota.size();
    w.iota.resize(n);
    for (size_t j = old; j < n; ++j) w.iota[j] = static_cast<int32_t>(j);
  }
  return w.iota.data();
}

// y = (G + lambda I) v: a diagonal scaling in the eigenbasis, else a sum of the matrix's rows weighted by v,
// accumulated in registers.
void applyGram(const GramTerm& g, int32_t f, const float* v, float* y, Scratch& w) {
  if (!g.diagonal.empty()) {
    for (int32_t a = 0; a < f; ++a) y[a] = g.diagonal[a] * v[a];
    return;
  }
  std::fill(y, y + f, 0.0f);
  activeKernels().gatherAxpy(g.full.data(), iota(w, static_cast<size_t>(f)), static_cast<size_t>(f), f, f, v, y);
}

// The factor rows a solve reads. Long rows (popular items, heavy users) no longer fit in L2: their factor
// rows are copied together once so every pass streams a contiguous block instead of gathering from all
// over memory.
RowGather factorRows(const float* other, int32_t f, std::span<const int32_t> idx, Scratch& w, RowCopies::Lease& room) {
  const size_t n = idx.size();
  if (n * static_cast<size_t>(f) <= 16384) return {other, idx.data(), n};
  float* copy = room.room();
  for (size_t j = 0; j < n; ++j) {
    if (j + 8 < n) prefetchRow(other + static_cast<size_t>(idx[j + 8]) * f, f);
    std::copy_n(other + static_cast<size_t>(idx[j]) * f, f, copy + j * f);
  }
  return {copy, iota(w, n), n};
}

// Implicit, conjugate gradient warm-started from x, with confidence c = 1 + alpha r:
//   A p = (G + lambda I) p + sum_j (c_j - 1) (y_j . p) y_j,  r = b - A x = -(G + lambda I) x + sum_j (c_j - (c_j - 1) y_j . x) y_j.
// Each product is one fused pass over the row's factor rows. The rows of the next solve (`next`) are
// prefetched during the passes, so its first pass finds them in cache. With `dots`, also returns each
// y_j . x of the solution, kept up to date from the passes' own dots (x moves along p, so y_j . x moves by
// the step times y_j . p): the loss needs no pass of its own.
void solveImplicitCG(const SweepSide& s, const AlsOptions& o, int32_t f, RowGather rows, std::span<const float> val,
                     float* x, Scratch& w, std::span<const int32_t> next, float* dots) {
  const KernelTable& k = activeKernels();
  const size_t n = rows.count;
  w.conf.resize(n), w.coeff.resize(n), w.negCoeff.resize(n);
  for (size_t j = 0; j < n; ++j) {
    w.coeff[j] = o.alpha * val[j];
    w.negCoeff[j] = -w.coeff[j];
    w.conf[j] = 1.0f + w.coeff[j];
  }
  const size_t passes = 1 + static_cast<size_t>(o.cgSteps);
  const auto ahead = [&](size_t pass) {
    const size_t from = next.size() * pass / passes, to = next.size() * (pass + 1) / passes;
    return RowGather{s.other, next.data() + from, to - from};
  };
  float* r = w.r.data();
  float* p = w.p.data();
  float* ap = w.ap.data();
  applyGram(*s.gram, f, x, r, w);
  for (int32_t a = 0; a < f; ++a) r[a] = -r[a];
  float* stepDots = dots ? (w.stepDots.resize(n), w.stepDots.data()) : nullptr;
  k.gatherDotAxpy(rows, f, x, w.conf.data(), w.negCoeff.data(), r, dots, ahead(0));
  std::copy(r, r + f, p);
  float rs = k.dot(r, r, f);
  for (int32_t step = 0; step < o.cgSteps && rs > 1e-20f; ++step) {
    applyGram(*s.gram, f, p, ap, w);
    k.gatherDotAxpy(rows, f, p, nullptr, w.coeff.data(), ap, stepDots, ahead(static_cast<size_t>(step) + 1));
    const float pap = k.dot(p, ap, f);
    if (!(pap > 0)) break;
    const float step_ = rs / pap;
    k.axpy(step_, p, x, f);
    if (dots) k.axpy(step_, stepDots, dots, n);
    k.axpy(-step_, ap, r, f);
    const float rsNew = k.dot(r, r, f);
    const float beta = rsNew / rs;
    for (int32_t a = 0; a < f; ++a) p[a] = r[a] + beta * p[a];
    rs = rsNew;
  }
}

// a (d x d, lower triangle) += sum_j weight_j v_j v_j' for j < n, where fill(j, v) writes row v_j (d floats)
// and returns weight_j. Rows are copied together in chunks so the tiled kernel reads contiguous memory.
template <class Fill>
void addWeightedGram(size_t n, size_t d, const Fill& fill, float* a, Scratch& w) {
  constexpr size_t kChunkRows = 256;
  w.chunkY.resize(kChunkRows * d), w.chunkZ.resize(kChunkRows * d);
  for (size_t j0 = 0; j0 < n; j0 += kChunkRows) {
    const size_t rows = std::min(kChunkRows, n - j0);
    for (size_t j = 0; j < rows; ++j) {
      float* v = w.chunkY.data() + j * d;
      const float weight = fill(j0 + j, v);
      for (size_t c = 0; c < d; ++c) w.chunkZ[j * d + c] = weight * v[c];
    }
    activeKernels().gramUpdate(w.chunkZ.data(), w.chunkY.data(), rows, d, a);
  }
}

// How many of a row's values count as ratings for scaled regularization (Spark counts the positive ones
// in implicit feedback); at least 1, so an empty row stays regularized.
float ratingCount(const AlsOptions& o, std::span<const float> val) {
  size_t n = val.size();
  if (o.implicit) n = static_cast<size_t>(std::count_if(val.begin(), val.end(), [](float v) { return v > 0; }));
  return static_cast<float>(std::max<size_t>(n, 1));
}

// The row's lambda on top of the shared G + lambda I of implicit training: lambda (n - 1) when scaled.
float implicitExtraLambda(const AlsOptions& o, std::span<const float> val) {
  return o.scaleRegularization ? o.regularization * (ratingCount(o, val) - 1.0f) : 0.0f;
}

// Implicit, exact: A = G + lambda I + Y'(C - I)Y and b = Y'C p, lower triangle only (what Cholesky reads).
void implicitSystem(const float* gram, float lambda, const float* other, const AlsOptions& o, int32_t f,
                    std::span<const int32_t> idx, std::span<const float> val, Scratch& w) {
  const KernelTable& k = activeKernels();
  const size_t n = idx.size();
  std::copy(gram, gram + static_cast<size_t>(f) * f, w.a.begin());
  for (int32_t a = 0; a < f; ++a) w.a[static_cast<size_t>(a) * f + a] += lambda;
  std::fill(w.b.begin(), w.b.begin() + f, 0.0f);
  w.coeff.resize(n);
  for (size_t j = 0; j < n; ++j) w.coeff[j] = 1.0f + o.alpha * val[j];
  k.gatherAxpy(other, idx.data(), n, f, f, w.coeff.data(), w.b.data());
  addWeightedGram(
      n, static_cast<size_t>(f),
      [&](size_t j, float* v) {
        std::copy_n(other + static_cast<size_t>(idx[j]) * f, f, v);
        return o.alpha * val[j];
      },
      w.a.data(), w);
}

// Explicit: unknowns [x, bias] against rows [y_j, 1], targets r - mean - otherBias_j; without biases
// (Spark's model), x alone against y_j with targets r. Returns the system's dimension.
int32_t explicitSystem(const float* other, const float* otherBias, float mean, float lambda, int32_t f, bool biases,
                       std::span<const int32_t> idx, std::span<const float> val, Scratch& w) {
  const KernelTable& k = activeKernels();
  const int32_t d = biases ? f + 1 : f;
  std::fill(w.a.begin(), w.a.begin() + static_cast<size_t>(d) * d, 0.0f);
  std::fill(w.b.begin(), w.b.begin() + d, 0.0f);
  float* aug = w.aug.data();
  for (size_t j = 0; j < idx.size(); ++j) {
    std::copy(other + static_cast<size_t>(idx[j]) * f, other + static_cast<size_t>(idx[j] + 1) * f, aug);
    if (biases) aug[f] = 1.0f;
    k.axpy(biases ? val[j] - mean - otherBias[idx[j]] : val[j], aug, w.b.data(), d);
  }
  addWeightedGram(
      idx.size(), static_cast<size_t>(d),
      [&](size_t j, float* v) {
        std::copy_n(other + static_cast<size_t>(idx[j]) * f, f, v);
        if (biases) v[f] = 1.0f;
        return 1.0f;
      },
      w.a.data(), w);
  for (int32_t a = 0; a < d; ++a) w.a[static_cast<size_t>(a) * d + a] += lambda;
  return d;
}

// `dots` (CG only, else null): see solveImplicitCG.
void solveRow(const SweepSide& s, const AlsOptions& o, const AlsModel& m, int32_t f, int32_t row,
              std::span<const int32_t> idx, RowGather rows, std::span<const float> val, Scratch& w, std::span<const int32_t> next,
              float* dots) {
  float* x = s.mine + static_cast<size_t>(row) * f;
  if (!o.implicit) {
    if (idx.empty()) {
      std::fill(x, x + f, 0.0f);
      s.myBias[row] = 0.0f;
      return;
    }
    const float lambda = o.regularization * (o.scaleRegularization ? ratingCount(o, val) : 1.0f);
    const int32_t d = explicitSystem(s.other, s.otherBias, m.globalMean, lambda, f, o.biases, idx, val, w);
    if (!choleskySolve(w.a.data(), w.b.data(), w.tmp.data(), d, w.work))
      fail(code::kBadInput, "ALS system is not positive definite: the values are too extreme for float precision (or regularization is not > 0)");
    std::copy(w.tmp.begin(), w.tmp.begin() + f, x);
    s.myBias[row] = o.biases ? w.tmp[f] : 0.0f;
    return;
  }
  if (o.solver == AlsSolver::CG && !o.scaleRegularization) {
    solveImplicitCG(s, o, f, rows, val, x, w, next, dots);
    return;
  }
  implicitSystem(s.gram->full.data(), implicitExtraLambda(o, val), s.other, o, f, idx, val, w);
  if (!choleskySolve(w.a.data(), w.b.data(), x, f, w.work))
    fail(code::kBadInput, "ALS system is not positive definite: the values are too extreme for float precision (or regularization is not > 0)");
}

// This row's share of the training objective, taken right after it is solved with the other side fixed,
// so the item sweep adds up the loss of the finished iteration while each row's factors are in cache.
// Implicit: per observed pair c (1 - s)^2 - s^2 in place of its s^2; the s^2 of all pairs and the
// regularization, the sum over rows of x' (G + lambda I) x, is one product of Gram matrices (alsFit).
// Explicit: squared errors and lambda (|x|^2 + bias^2). `dots` are the y_j . x if the solver kept them, else null.
double rowLoss(const SweepSide& s, const AlsOptions& o, float mean, int32_t f, int32_t row, std::span<const int32_t> idx,
               RowGather rows, std::span<const float> val, Scratch& w, const float* dots) {
  const KernelTable& k = activeKernels();
  const float* x = s.mine + static_cast<size_t>(row) * f;
  if (dots == nullptr) {
    w.v.resize(idx.size());
    k.gatherDot(rows.base, rows.idx, rows.count, f, x, w.v.data());
    dots = w.v.data();
  }
  double sum = 0;
  if (o.implicit) {
    for (size_t j = 0; j < idx.size(); ++j) {
      const double c = 1.0 + static_cast<double>(o.alpha) * val[j], dot = dots[j];
      sum += c * (1 - dot) * (1 - dot) - dot * dot;
    }
    return sum + static_cast<double>(implicitExtraLambda(o, val)) * k.dot(x, x, f);
  }
  const double bias = s.myBias[row];
  sum = o.regularization * (static_cast<double>(k.dot(x, x, f)) + bias * bias);
  for (size_t j = 0; j < idx.size(); ++j) {
    const double e = val[j] - (mean + s.otherBias[idx[j]] + bias + dots[j]);
    sum += e * e;
  }
  return sum;
}

// Solves the rows (all, or `which`) of one side. With `loss`, adds their rowLoss, summed in a fixed
// order whatever the thread count.
void sweep(const CsrView& rows, const AlsOptions& o, AlsModel& m, bool byUsers, std::span<const int32_t> which,
           Control& control, double* loss, const GramTerm& gram, RowCopies& copies) {
  const int32_t f = m.factors;
  SweepSide s;
  s.other = byUsers ? m.itemFactors.data() : m.userFactors.data();
  s.mine = byUsers ? m.userFactors.data() : m.itemFactors.data();
  s.otherBias = m.implicit ? nullptr : (byUsers ? m.itemBias.data() : m.userBias.data());
  s.myBias = m.implicit ? nullptr : (byUsers ? m.userBias.data() : m.itemBias.data());
  s.gram = &gram;
  const bool cg = o.implicit && o.solver == AlsSolver::CG && !o.scaleRegularization;  // solveRow's choice
  const size_t count = which.empty() ? static_cast<size_t>(rows.rows) : which.size();
  const size_t tasks = (count + kRowsPerTask - 1) / kRowsPerTask;
  std::vector<double> partialLoss(loss ? tasks : 0, 0.0);
  ThreadPool::instance().parallelFor(
      tasks, o.threads,
      [&](size_t task) {
        Scratch& w = threadScratch();
        RowCopies::Lease room(copies);
        w.resize(static_cast<size_t>(f) + 1);
        iota(w, static_cast<size_t>(f));  // applyGram's indices exist before any copied row's: no reallocation under them
        const size_t end = std::min(count, (task + 1) * kRowsPerTask);
        const auto rowAt = [&](size_t at) { return which.empty() ? static_cast<int32_t>(at) : which[at]; };
        for (size_t i = task * kRowsPerTask; i < end; ++i) {
          const int32_t row = rowAt(i);
          const std::span<const int32_t> idx = rows.rowIndices(row), next = i + 1 < end ? rows.rowIndices(rowAt(i + 1)) : std::span<const int32_t>();
          const RowGather gathered = cg ? factorRows(s.other, f, idx, w, room) : RowGather{s.other, idx.data(), idx.size()};
          float* dots = loss && cg ? (w.v.resize(idx.size()), w.v.data()) : nullptr;
          solveRow(s, o, m, f, row, idx, gathered, rows.rowData(row), w, next, dots);
          if (loss) partialLoss[task] += rowLoss(s, o, m.globalMean, f, row, idx, gathered, rows.rowData(row), w, dots);
        }
        control.advance(static_cast<int64_t>(end - task * kRowsPerTask));
      },
      &control);
  if (loss)
    for (double p : partialLoss) *loss += p;
}

double sumOfSquares(std::span<const float> values) {
  double sum = 0;
  for (float v : values) sum += static_cast<double>(v) * v;
  return sum;
}

void checkOptions(const AlsOptions& o) {
  require(o.factors >= 1 && o.factors <= 1024, code::kBadInput, "factors must be in [1, 1024]");
  require(o.iterations >= 0, code::kBadInput, "iterations must be >= 0");
  require(std::isfinite(o.regularization) && o.regularization > 0, code::kBadInput, "regularization must be > 0");
  require(std::isfinite(o.alpha) && o.alpha >= 0, code::kBadInput, "alpha must be >= 0");
  require(o.cgSteps >= 1, code::kBadInput, "cgSteps must be >= 1");
}

void checkValues(const CsrView& ui, const AlsOptions& o) {
  if (!o.implicit) return;
  for (float v : ui.data) require(v >= 0, code::kBadInput, "implicit feedback values must be >= 0 (confidence 1 + alpha * value)");
}

}  // namespace

AlsModel alsInit(int32_t users, int32_t items, const AlsOptions& o) {
  checkOptions(o);
  AlsModel m;
  m.users = users, m.items = items, m.factors = o.factors, m.implicit = o.implicit;
  initRows(m.userFactors, users, o.factors, o.seed, o.threads);
  initRows(m.itemFactors, items, o.factors, splitmix64(o.seed + 1), o.threads);
  if (!o.implicit) {
    m.userBias.assign(static_cast<size_t>(users), 0.0f);
    m.itemBias.assign(static_cast<size_t>(items), 0.0f);
  }
  return m;
}

void alsFit(const CsrView& ui, const CsrView& iu, const AlsOptions& o, AlsModel& m, Control& control,
            const IterationFn& onIteration) {
  checkOptions(o);
  checkValues(ui, o);
  require(ui.rows == m.users && ui.cols == m.items && iu.rows == m.items && iu.cols == m.users, code::kDimMismatch,
          "interactions do not match the model's shape");
  require(m.factors == o.factors && m.implicit == o.implicit, code::kDimMismatch, "model and options disagree");
  if (!o.implicit) {
    double sum = 0;
    for (float v : ui.data) sum += v;
    m.globalMean = ui.data.empty() || !o.biases ? 0.0f : static_cast<float>(sum / static_cast<double>(ui.data.size()));
  }
  control.setTotal(static_cast<int64_t>(o.iterations) * (m.users + m.items));
  // Each side's Gram matrix is computed once per iteration: the items' serves the loss of one iteration and
  // the user sweep of the next. CG, which only multiplies by it, runs in its eigenbasis when that pays: a
  // decomposition costs about f^3 (2.6 s at f = 1024), what it saves about f^2 per row and CG pass. The rule
  // depends on the shapes only, so the model is the same for any thread count.
  const bool diagonalize = o.implicit && o.solver == AlsSolver::CG &&
                           int64_t{m.factors} * 64 <= (int64_t{m.users} + m.items) * (1 + o.cgSteps);
  const auto fixedSide = [&](std::vector<float> g) {
    if (!o.implicit) return GramTerm{};
    return diagonalize ? inEigenbasis(m, std::move(g), o) : regularized(std::move(g), m.factors, o.regularization);
  };
  const auto gramOf = [&](bool ofItems) {
    if (!o.implicit) return std::vector<float>();
    return sideGram(m, ofItems, o.threads, &control);
  };
  RowCopies copies(std::max(longestRow(ui), longestRow(iu)) * m.factors);
  std::vector<float> itemGram = gramOf(true);
  for (int32_t it = 0; it < o.iterations; ++it) {
    sweep(ui, o, m, true, {}, control, nullptr, fixedSide(std::move(itemGram)), copies);
    const GramTerm users = fixedSide(gramOf(false));
    // The item sweep sums the per-pair terms; the users' regularization is a part it does not see.
    double loss = onIteration ? o.regularization * (sumOfSquares(m.userFactors) + sumOfSquares(m.userBias)) : 0.0;
    sweep(iu, o, m, false, {}, control, onIteration ? &loss : nullptr, users, copies);
    if (o.implicit && (onIteration || it + 1 < o.iterations)) {
      itemGram = gramOf(true);
      if (onIteration) loss += gramInner(users, itemGram, m.factors);  // the s^2 of all pairs and the items' regularization
    }
    control.throwIfCancelled();
    if (onIteration) onIteration(it, loss);
  }
}

void alsSolveRows(const CsrView& rows, const AlsOptions& o, AlsModel& m, bool byUsers, std::span<const int32_t> which,
                  Control& control) {
  checkOptions(o);
  checkValues(rows, o);
  const int32_t n = byUsers ? m.users : m.items;
  require(rows.rows == n && rows.cols == (byUsers ? m.items : m.users), code::kDimMismatch, "rows do not match the model");
  for (int32_t r : which) require(r >= 0 && r < n, code::kUnknownId, [&] { return "row " + std::to_string(r) + " is out of range"; });
  control.setTotal(static_cast<int64_t>(which.size()));
  RowCopies copies(longestRow(rows) * m.factors);
  GramTerm other;  // users are solved against the items' Gram matrix
  if (o.implicit)
    other = regularized(sideGram(m, byUsers, o.threads, &control), m.factors, o.regularization);
  sweep(rows, o, m, byUsers, which, control, nullptr, other, copies);
}

namespace {


void checkHistory(const AlsView& m, std::span<const int32_t> items, std::span<const float> values, const AlsOptions& o) {
  require(items.size() == values.size(), code::kDimMismatch, "items and values have different lengths");
  for (size_t j = 0; j < items.size(); ++j) {
    require(items[j] >= 0 && items[j] < m.items, code::kUnknownId, [&] { return "item index " + std::to_string(items[j]) + " is out of range"; });
    require(std::isfinite(values[j]), code::kBadInput, "values must be finite");
    require(!m.implicit || values[j] >= 0, code::kBadInput, "implicit feedback values must be >= 0");
  }
  require(o.regularization > 0, code::kBadInput, "regularization must be > 0");
}

// Builds the user's system (A, b) as training does, into w.a / w.b. Returns its dimension.
int32_t userSystem(const AlsView& m, const AlsOptions& o, std::span<const float> itemGram, std::span<const int32_t> items,
                   std::span<const float> values, Scratch& w) {
  const int32_t f = m.factors;
  w.resize(static_cast<size_t>(f) + 1);
  const float lambda = o.regularization * (o.scaleRegularization ? ratingCount(o, values) : 1.0f);
  if (m.implicit) {
    implicitSystem(itemGram.data(), lambda, m.itemFactors.data(), o, f, items, values, w);
    return f;
  }
  return explicitSystem(m.itemFactors.data(), m.itemBias.data(), m.globalMean, lambda, f, o.biases, items, values, w);
}

}  // namespace

std::vector<float> alsItemGram(const AlsView& m) { return gram(m.itemFactors.data(), m.items, m.factors, 1, nullptr); }

std::vector<float> alsFoldIn(const AlsView& m, const AlsOptions& o, std::span<const int32_t> items,
                             std::span<const float> values, float* bias) {
  checkHistory(m, items, values, o);
  Scratch& w = threadScratch();
  std::vector<float> computed;
  if (m.implicit && m.itemGram.empty()) computed = alsItemGram(m);
  const int32_t d = userSystem(m, o, m.itemGram.empty() ? std::span<const float>(computed) : m.itemGram, items, values, w);
  std::vector<float> x(static_cast<size_t>(d));
  if (!choleskySolve(w.a.data(), w.b.data(), x.data(), d, w.work)) fail(code::kBadInput, "fold-in system is not positive definite: the history values are too extreme for float precision");
  if (bias != nullptr) *bias = d > m.factors ? x[m.factors] : 0.0f;
  x.resize(static_cast<size_t>(m.factors));
  return x;
}

std::vector<Contribution> alsExplain(const AlsView& m, const AlsOptions& o, std::span<const int32_t> items,
                                     std::span<const float> values, int32_t item, float* total) {
  checkHistory(m, items, values, o);
  require(item >= 0 && item < m.items, code::kUnknownId, "item index " + std::to_string(item) + " is out of range");
  Scratch w;
  std::vector<float> computed;
  if (m.implicit && m.itemGram.empty()) computed = alsItemGram(m);
  const int32_t d = userSystem(m, o, m.itemGram.empty() ? std::span<const float>(computed) : m.itemGram, items, values, w);
  const int32_t f = m.factors;
  // score = q' A^-1 b with b = sum_j w_j q_j: solve A z = q once, then contribution_j = w_j (z . q_j).
  std::vector<float> q(static_cast<size_t>(d), 1.0f), z(static_cast<size_t>(d));
  std::copy(m.item(item), m.item(item) + f, q.begin());
  if (!choleskySolve(w.a.data(), q.data(), z.data(), d, w.work)) fail(code::kBadInput, "explain system is not positive definite: the history values are too extreme for float precision");
  const KernelTable& k = activeKernels();
  std::vector<Contribution> out;
  std::vector<float> qj(static_cast<size_t>(d), 1.0f);
  double sum = 0;
  for (size_t j = 0; j < items.size(); ++j) {
    std::copy(m.item(items[j]), m.item(items[j]) + f, qj.begin());
    const float weight = m.implicit ? 1.0f + o.alpha * values[j] : o.biases ? values[j] - m.globalMean - m.itemBias[items[j]] : values[j];
    const float c = weight * k.dot(z.data(), qj.data(), d);
    out.push_back({items[j], c});
    sum += c;
  }
  std::sort(out.begin(), out.end(), [](const Contribution& a, const Contribution& b) {
    return std::fabs(a.score) > std::fabs(b.score) || (std::fabs(a.score) == std::fabs(b.score) && a.item < b.item);
  });
  if (total != nullptr) *total = static_cast<float>(sum);
  return out;
}

AlsSolver parseAlsSolver(const std::string& name) {
  if (name == "cg") return AlsSolver::CG;
  if (name == "cholesky") return AlsSolver::Cholesky;
  fail(code::kBadInput, "solver must be 'cg' or 'cholesky', got '" + name + "'");
}

bool parseAlsImplicit(const std::string& feedback) {
  if (feedback == "implicit") return true;
  if (feedback == "explicit") return false;
  fail(code::kBadInput, "feedback must be 'implicit' or 'explicit', got '" + feedback + "'");
}

History alsHistory(std::span<const int32_t> items, std::span<const float> values, int32_t itemCount) {
  require(items.size() == values.size(), code::kDimMismatch, "history items and values have different lengths");
  std::vector<std::pair<int32_t, float>> pairs(items.size());
  for (size_t j = 0; j < items.size(); ++j) {
    require(items[j] >= 0 && items[j] < itemCount, code::kBadInput, "history item index out of range");
    pairs[j] = {items[j], values[j]};
  }
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  History h;
  for (const auto& [i, v] : pairs) {
    if (!h.items.empty() && h.items.back() == i) {
      h.values.back() += v;
    } else {
      h.items.push_back(i);
      h.values.push_back(v);
    }
  }
  return h;
}

}  // namespace affinity
