#include "similarity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>

#include "../simd/dispatch.h"
#include "bitset.h"
#include "error.h"
#include "threadpool.h"
#include "topk.h"

namespace affinity {
namespace {

constexpr int32_t kRowsPerTask = 32;
constexpr size_t kScanBlock = 4096;
// A row whose scatter touches fewer than n / kColdRowRatio entries tracks the touched entries instead
// of scanning the whole accumulator (bench/similarity measured the break-even).
constexpr int64_t kColdRowRatio = 256;

// The matrix whose rows are the vectors to compare, with values prepared for the measure.
Csr vectorsFor(const CsrView& interactions, const SimilarityOptions& o) {
  Csr a = o.axis == Axis::Items ? transpose(interactions) : Csr{interactions.rows, interactions.cols,
                                                                 {interactions.indptr.begin(), interactions.indptr.end()},
                                                                 {interactions.indices.begin(), interactions.indices.end()},
                                                                 {interactions.data.begin(), interactions.data.end()},
                                                                 {}};
  a.timestamps.clear();
  const bool binary = o.measure == Measure::Jaccard || o.measure == Measure::Lift;
  if (binary) std::fill(a.data.begin(), a.data.end(), 1.0f);

  if (o.weighting != Weighting::None) {
    // Vectors are documents and their coordinates terms: idf(t) = log(N) - log1p(df(t)).
    std::vector<int32_t> df(static_cast<size_t>(a.cols), 0);
    for (int32_t c : a.indices) ++df[c];
    std::vector<double> idf(df.size());
    const double logN = std::log(std::max<double>(a.rows, 1));
    for (size_t t = 0; t < df.size(); ++t) idf[t] = logN - std::log1p(static_cast<double>(df[t]));
    if (o.weighting == Weighting::TfIdf) {
      for (size_t p = 0; p < a.indices.size(); ++p) {
        require(a.data[p] >= 0, code::kBadInput, "tfidf weighting needs non-negative values");
        a.data[p] = static_cast<float>(std::sqrt(static_cast<double>(a.data[p])) * idf[a.indices[p]]);
      }
    } else {
      std::vector<double> length(static_cast<size_t>(a.rows), 0.0);
      double total = 0;
      for (int32_t r = 0; r < a.rows; ++r) {
        for (int32_t p = a.indptr[r]; p < a.indptr[r + 1]; ++p) length[r] += a.data[p];
        total += length[r];
      }
      const double avg = a.rows > 0 && total > 0 ? total / a.rows : 1.0;
      for (int32_t r = 0; r < a.rows; ++r) {
        const double norm = (1.0 - o.bm25B) + o.bm25B * length[r] / avg;
        for (int32_t p = a.indptr[r]; p < a.indptr[r + 1]; ++p) {
          const double x = a.data[p];
          a.data[p] = static_cast<float>(x * (o.bm25K1 + 1.0) / (o.bm25K1 * norm + x) * idf[a.indices[p]]);
        }
      }
    }
  }

  if (o.measure == Measure::Pearson) {
    // Centre each vector on the mean of its stored values (the sparse convention: absent is unknown).
    for (int32_t r = 0; r < a.rows; ++r) {
      const int32_t begin = a.indptr[r], end = a.indptr[r + 1];
      if (begin == end) continue;
      double sum = 0;
      for (int32_t p = begin; p < end; ++p) sum += a.data[p];
      const double mean = sum / (end - begin);
      for (int32_t p = begin; p < end; ++p) a.data[p] = static_cast<float>(a.data[p] - mean);
    }
  }
  for (float v : a.data) require(std::isfinite(v), code::kBadInput, "weighted values overflowed");
  return a;
}

struct Denominators {
  std::vector<float> row, col;
  ScanFn kernel;
  bool jaccard = false;
};

Denominators denominatorsFor(const Csr& a, const SimilarityOptions& o) {
  Denominators d;
  const size_t n = static_cast<size_t>(a.rows);
  d.row.assign(n, 1.0f);
  switch (o.measure) {
    case Measure::Cosine:
    case Measure::Pearson:
      for (size_t r = 0; r < n; ++r) {
        double s = 0;
        for (int32_t p = a.indptr[r]; p < a.indptr[r + 1]; ++p) s += static_cast<double>(a.data[p]) * a.data[p];
        d.row[r] = static_cast<float>(std::sqrt(s));
      }
      d.col = d.row;
      break;
    case Measure::Dot:
      d.col = d.row;
      break;
    case Measure::Jaccard:
      for (size_t r = 0; r < n; ++r) d.row[r] = static_cast<float>(a.indptr[r + 1] - a.indptr[r]);
      d.col = d.row;
      d.jaccard = true;
      break;
    case Measure::Lift: {
      // lift = P(a and b) / (P(a) P(b)) = co * N / (n_a * n_b), N = number of baskets.
      const double baskets = std::max<int32_t>(a.cols, 1);
      d.col.resize(n);
      for (size_t r = 0; r < n; ++r) {
        const double count = a.indptr[r + 1] - a.indptr[r];
        d.col[r] = static_cast<float>(count);
        d.row[r] = static_cast<float>(count / baskets);
      }
      break;
    }
  }
  d.kernel = d.jaccard ? activeKernels().scanJaccard : activeKernels().scanRatio;
  return d;
}

struct RowScratch;

// Scratch buffers are per job (stamps are only unique within one job), lent to whichever thread runs a task.
class ScratchPool {
 public:
  std::unique_ptr<RowScratch> take(size_t n);
  void give(std::unique_ptr<RowScratch> s) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(s));
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<RowScratch>> free_;
};

struct RowScratch {
  std::vector<float> acc;
  BitSet seen;  // entries of `touched`; cleared as they are consumed
  std::vector<int32_t> touched;
  std::vector<int32_t> candIdx;
  std::vector<float> candSim;
  TopK top;
  explicit RowScratch(size_t n) : acc(n, 0.0f), candIdx(kScanBlock), candSim(kScanBlock) { seen.resize(n); }
};

std::unique_ptr<RowScratch> ScratchPool::take(size_t n) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
      auto s = std::move(free_.back());
      free_.pop_back();
      return s;
    }
  }
  return std::make_unique<RowScratch>(n);
}

class ScratchLease {
 public:
  ScratchLease(ScratchPool& pool, size_t n) : pool_(pool), scratch_(pool.take(n)) {}
  ~ScratchLease() { pool_.give(std::move(scratch_)); }
  RowScratch& operator*() { return *scratch_; }

 private:
  ScratchPool& pool_;
  std::unique_ptr<RowScratch> scratch_;
};

class SimilarityJob {
 public:
  SimilarityJob(const SimilarityOptions& o, Control& control) : o_(o), control_(control) {}

  SimilarityResult run(const CsrView& interactions) {
    a_ = vectorsFor(interactions, o_);
    at_ = transpose(a_.view());
    den_ = denominatorsFor(a_, o_);
    // Implicit data is mostly all ones: then w * 1 == w exactly and the value array need not be read.
    unitValues_ = std::all_of(at_.data.begin(), at_.data.end(), [](float v) { return v == 1.0f; });
    n_ = a_.rows;
    minAcc_ = (o_.measure == Measure::Jaccard || o_.measure == Measure::Lift) ? o_.minSupport
                                                                              : -std::numeric_limits<float>::infinity();
    SimilarityResult result;
    result.n = n_;
    if (o_.dense) {
      require(n_ <= kMaxDenseSimilarity, code::kTooLarge,
              "dense similarity is limited to " + std::to_string(kMaxDenseSimilarity) + " rows; use top-K (dense: false)");
      result.dense.assign(static_cast<size_t>(n_) * n_, 0.0f);
    }
    k_ = std::max<int32_t>(0, std::min<int32_t>(o_.k, std::max(n_ - 1, 0)));
    const size_t tasks = (static_cast<size_t>(n_) + kRowsPerTask - 1) / kRowsPerTask;
    std::vector<std::vector<Scored>> taskNeighbours(o_.dense ? 0 : tasks);
    std::vector<std::vector<int32_t>> taskCounts(o_.dense ? 0 : tasks);
    control_.setTotal(n_);

    ThreadPool::instance().parallelFor(
        tasks, o_.threads,
        [&](size_t task) {
          ScratchLease scratch(scratchPool_, static_cast<size_t>(n_));
          const int32_t begin = static_cast<int32_t>(task) * kRowsPerTask;
          const int32_t end = std::min(n_, begin + kRowsPerTask);
          for (int32_t row = begin; row < end; ++row) {
            if (o_.dense) {
              denseRow(*scratch, row, result.dense.data() + static_cast<size_t>(row) * n_);
            } else {
              auto& best = topRow(*scratch, row);
              taskCounts[task].push_back(static_cast<int32_t>(best.size()));
              taskNeighbours[task].insert(taskNeighbours[task].end(), best.begin(), best.end());
              best.clear();
            }
          }
          control_.advance(end - begin);
        },
        &control_);

    if (!o_.dense) assemble(result.topK, taskNeighbours, taskCounts);
    return result;
  }

 private:
  int64_t work(int32_t row) const {
    int64_t w = 0;
    for (int32_t f : a_.view().rowIndices(row)) w += at_.indptr[f + 1] - at_.indptr[f];
    return w;
  }

  // acc[j] += w * value over every feature of the row. The feature lists live in a matrix far larger
  // than the cache, so the next list is prefetched while this one is summed.
  template <bool TrackTouched, bool UnitValues>
  void scatterImpl(RowScratch& s, int32_t row) const {
    float* __restrict acc = s.acc.data();
    const int32_t* __restrict atIndptr = at_.indptr.data();
    const int32_t* __restrict atIndices = at_.indices.data();
    const float* __restrict atData = at_.data.data();
    const int32_t begin = a_.indptr[row], end = a_.indptr[row + 1];
    for (int32_t p = begin; p < end; ++p) {
      if (p + 1 < end) {
        const int32_t next = atIndptr[a_.indices[p + 1]];
        __builtin_prefetch(atIndices + next);
        __builtin_prefetch(atIndices + next + 16);
        if constexpr (!UnitValues) __builtin_prefetch(atData + next);
      }
      const int32_t f = a_.indices[p];
      const float w = a_.data[p];
      const int32_t stop = atIndptr[f + 1];
      for (int32_t q = atIndptr[f]; q < stop; ++q) {
        const int32_t j = atIndices[q];
        if constexpr (TrackTouched) {
          if (s.seen.insert(j)) s.touched.push_back(j);
        }
        if constexpr (UnitValues)
          acc[j] += w;
        else
          acc[j] += w * atData[q];
      }
    }
  }

  template <bool TrackTouched>
  void scatter(RowScratch& s, int32_t row) const {
    if (unitValues_)
      scatterImpl<TrackTouched, true>(s, row);
    else
      scatterImpl<TrackTouched, false>(s, row);
  }

  std::vector<Scored>& topRow(RowScratch& s, int32_t row) {
    s.top.reset(static_cast<size_t>(k_));
    ScanArgs args;
    args.rowDen = den_.row[row];
    args.shrink = o_.shrink;
    args.minAcc = minAcc_;
    if (work(row) * kColdRowRatio < n_) {
      s.touched.clear();
      scatter<true>(s, row);
      for (int32_t j : s.touched) {
        const float v = s.acc[j];
        s.acc[j] = 0.0f;
        s.seen.erase(j);
        if (j == row || v == 0.0f || !(v >= minAcc_)) continue;
        const float sim = den_.jaccard ? jaccardSimilarity(v, args.rowDen, den_.col[j], o_.shrink)
                                       : ratioSimilarity(v, args.rowDen, den_.col[j], o_.shrink);
        if (sim > o_.minSimilarity) s.top.push(j, sim);
      }
    } else {
      scatter<false>(s, row);
      s.acc[row] = 0.0f;  // a vector is not its own neighbour
      for (size_t start = 0; start < static_cast<size_t>(n_); start += kScanBlock) {
        const size_t len = std::min(kScanBlock, static_cast<size_t>(n_) - start);
        args.colDen = den_.col.data() + start;
        const float threshold = s.top.admissionThreshold(o_.minSimilarity);
        const size_t found = den_.kernel(args, s.acc.data() + start, len, threshold, s.candIdx.data(), s.candSim.data());
        for (size_t c = 0; c < found; ++c) s.top.push(static_cast<int32_t>(start) + s.candIdx[c], s.candSim[c]);
      }
    }
    return s.top.sorted();
  }

  void denseRow(RowScratch& s, int32_t row, float* out) const {
    scatter<false>(s, row);
    for (int32_t j = 0; j < n_; ++j) {
      const float v = s.acc[j];
      s.acc[j] = 0.0f;
      if (v == 0.0f || !(v >= minAcc_)) continue;
      out[j] = den_.jaccard ? jaccardSimilarity(v, den_.row[row], den_.col[j], o_.shrink)
                            : ratioSimilarity(v, den_.row[row], den_.col[j], o_.shrink);
    }
  }

  void assemble(Csr& out, const std::vector<std::vector<Scored>>& neighbours,
                const std::vector<std::vector<int32_t>>& counts) const {
    out.rows = out.cols = n_;
    out.indptr.assign(static_cast<size_t>(n_) + 1, 0);
    size_t total = 0;
    for (const auto& t : neighbours) total += t.size();
    require(total <= static_cast<size_t>(std::numeric_limits<int32_t>::max()), code::kTooLarge,
            "the similarity matrix has more than 2^31-1 entries; lower k");
    out.indices.reserve(total);
    out.data.reserve(total);
    int32_t row = 0;
    for (size_t t = 0; t < neighbours.size(); ++t) {
      for (int32_t c : counts[t]) {
        out.indptr[row + 1] = out.indptr[row] + c;
        ++row;
      }
      for (const Scored& s : neighbours[t]) {
        out.indices.push_back(s.index);
        out.data.push_back(s.score);
      }
    }
  }

  const SimilarityOptions& o_;
  Control& control_;
  Csr a_, at_;
  Denominators den_;
  int32_t n_ = 0, k_ = 0;
  float minAcc_ = 0;
  bool unitValues_ = false;
  ScratchPool scratchPool_;
};

}  // namespace

Measure parseMeasure(const std::string& name) {
  if (name == "cosine") return Measure::Cosine;
  if (name == "pearson") return Measure::Pearson;
  if (name == "jaccard") return Measure::Jaccard;
  if (name == "dot") return Measure::Dot;
  if (name == "lift") return Measure::Lift;
  fail(code::kBadInput, "unknown measure '" + name + "' (expected cosine, pearson, jaccard, dot or lift)");
}

Weighting parseWeighting(const std::string& name) {
  if (name == "none") return Weighting::None;
  if (name == "tfidf") return Weighting::TfIdf;
  if (name == "bm25") return Weighting::Bm25;
  fail(code::kBadInput, "unknown weighting '" + name + "' (expected none, tfidf or bm25)");
}

SimilarityResult similarity(const CsrView& interactions, const SimilarityOptions& options, Control& control) {
  require(options.k >= 0, code::kBadInput, "k must be non-negative");
  require(std::isfinite(options.shrink) && options.shrink >= 0, code::kBadInput, "shrink must be a finite number >= 0");
  require(!std::isnan(options.minSimilarity), code::kBadInput, "minSimilarity must be a number");
  require(std::isfinite(options.minSupport) && options.minSupport >= 0, code::kBadInput, "minSupport must be >= 0");
  require(options.bm25K1 > 0 && options.bm25B >= 0 && options.bm25B <= 1, code::kBadInput, "bm25 needs K1 > 0 and 0 <= B <= 1");
  const bool binary = options.measure == Measure::Jaccard || options.measure == Measure::Lift;
  require(!(binary && options.weighting != Weighting::None), code::kBadInput,
          "weighting applies to cosine, pearson and dot; jaccard and lift use presence only");
  SimilarityJob job(options, control);
  return job.run(interactions);
}

}  // namespace affinity
