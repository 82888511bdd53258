#include "knn.h"

#include <memory>
#include <string>

#include "bitset.h"
#include "error.h"
#include "threadpool.h"

namespace affinity {
namespace {

// Per-call scratch, reused across calls on one thread. The accumulator is dense (200 KB for 50k items)
// and the sets are bitmaps, so the random accesses of the scatter stay in cache. Everything a call
// marked is listed and cleared by the next prepare(), even after an exception.
class Scratch {
 public:
  void prepare(size_t n) {
    if (acc_.size() != n) {
      acc_.assign(n, 0.0f);
      touchedBits_.resize(n);
      bannedBits_.resize(n);
      allowedBits_.resize(n);
      touched_.clear();
      banned_.clear();
      allowed_.clear();
    }
    for (int32_t i : touched_) {
      acc_[i] = 0.0f;
      touchedBits_.erase(i);
    }
    for (int32_t i : banned_) bannedBits_.erase(i);
    for (int32_t i : allowed_) allowedBits_.erase(i);
    touched_.clear();
    banned_.clear();
    allowed_.clear();
  }

  void add(int32_t item, float value) {
    if (touchedBits_.insert(item)) touched_.push_back(item);
    acc_[item] += value;
  }
  void ban(int32_t item) {
    if (bannedBits_.insert(item)) banned_.push_back(item);
  }
  void allow(int32_t item) {
    if (allowedBits_.insert(item)) allowed_.push_back(item);
  }
  bool banned(int32_t item) const { return bannedBits_.test(item); }
  bool allowed(int32_t item) const { return allowedBits_.test(item); }
  const std::vector<int32_t>& touched() const { return touched_; }
  float score(int32_t item) const { return acc_[item]; }

 private:
  std::vector<float> acc_;
  BitSet touchedBits_, bannedBits_, allowedBits_;
  std::vector<int32_t> touched_, banned_, allowed_;
};

// Not inlined: in a -fPIC module each thread_local access is a __tls_get_addr call, and GCC otherwise
// propagates the variable into the hot loops and pays that call per element.
__attribute__((noinline)) Scratch& threadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

void checkModel(const TwoHop& m) {
  require(m.first.cols == m.second.rows, code::kDimMismatch, "model matrices do not fit together");
  require(m.seen.rows == m.first.rows && m.seen.cols == m.second.cols, code::kDimMismatch,
          "interaction matrix does not fit the model");
}

void checkUser(const TwoHop& m, int32_t user) {
  require(user >= 0 && user < m.first.rows, code::kUnknownId, "user index " + std::to_string(user) + " is out of range");
}

void checkItems(const TwoHop& m, std::span<const int32_t> items, const char* what) {
  for (int32_t i : items)
    require(i >= 0 && i < m.second.cols, code::kUnknownId, [&] { return std::string(what) + " item index " + std::to_string(i) + " is out of range"; });
}

void accumulate(const TwoHop& m, int32_t user, Scratch& s) {
  const int32_t* __restrict indptr = m.second.indptr.data();
  const int32_t* __restrict indices = m.second.indices.data();
  const float* __restrict data = m.second.data.data();
  for (int32_t p = m.first.indptr[user]; p < m.first.indptr[user + 1]; ++p) {
    const int32_t mid = m.first.indices[p];
    const float w = m.first.data[p];
    const int32_t end = indptr[mid + 1];
    for (int32_t q = indptr[mid]; q < end; ++q) s.add(indices[q], w * data[q]);
  }
}

void selectInto(const TwoHop& m, int32_t user, const RecommendFilter& f, Scratch& s, TopK& top) {
  s.prepare(static_cast<size_t>(m.second.cols));
  if (f.filterSeen)
    for (int32_t item : m.seen.rowIndices(user)) s.ban(item);
  for (int32_t item : f.exclude) s.ban(item);
  for (int32_t item : f.include) s.allow(item);
  const bool allowList = !f.include.empty();
  accumulate(m, user, s);
  for (int32_t item : s.touched()) {
    if (s.banned(item) || (allowList && !s.allowed(item)) || !f.allows(item)) continue;
    top.push(item, s.score(item));
  }
}

}  // namespace

std::vector<Scored> recommend(const TwoHop& model, int32_t user, int32_t k, const RecommendFilter& filter) {
  checkModel(model);
  checkUser(model, user);
  checkItems(model, filter.exclude, "excluded");
  checkItems(model, filter.include, "included");
  checkAllowed(filter.allowed, model.second.cols);
  require(k >= 0, code::kBadInput, "k must be non-negative");
  TopK top(static_cast<size_t>(std::min(k, model.second.cols)));
  selectInto(model, user, filter, threadScratch(), top);
  return std::move(top.sorted());
}

std::vector<float> scoreItems(const TwoHop& model, int32_t user, std::span<const int32_t> items) {
  checkModel(model);
  checkUser(model, user);
  checkItems(model, items, "scored");
  Scratch& s = threadScratch();
  s.prepare(static_cast<size_t>(model.second.cols));
  accumulate(model, user, s);
  std::vector<float> scores(items.size());
  for (size_t i = 0; i < items.size(); ++i) scores[i] = s.score(items[i]);
  return scores;
}

BatchResult recommendBatch(const TwoHop& model, std::span<const int32_t> users, int32_t k, const RecommendFilter& filter,
                           int threads, Control& control) {
  checkModel(model);
  for (int32_t u : users) checkUser(model, u);
  checkItems(model, filter.exclude, "excluded");
  checkItems(model, filter.include, "included");
  checkAllowed(filter.allowed, model.second.cols);
  require(k >= 0, code::kBadInput, "k must be non-negative");
  const int32_t kk = std::min(k, model.second.cols);
  BatchResult out;
  out.items.assign(users.size() * static_cast<size_t>(kk), -1);
  out.scores.assign(users.size() * static_cast<size_t>(kk), 0.0f);
  constexpr size_t kUsersPerTask = 64;
  const size_t tasks = (users.size() + kUsersPerTask - 1) / kUsersPerTask;
  control.setTotal(static_cast<int64_t>(users.size()));
  ThreadPool::instance().parallelFor(
      tasks, threads,
      [&](size_t task) {
        TopK top(static_cast<size_t>(kk));
        Scratch& s = threadScratch();
        const size_t begin = task * kUsersPerTask, end = std::min(users.size(), begin + kUsersPerTask);
        for (size_t u = begin; u < end; ++u) {
          top.reset(static_cast<size_t>(kk));
          selectInto(model, users[u], filter, s, top);
          const auto& best = top.sorted();
          for (size_t r = 0; r < best.size(); ++r) {
            out.items[u * kk + r] = best[r].index;
            out.scores[u * kk + r] = best[r].score;
          }
        }
        control.advance(static_cast<int64_t>(end - begin));
      },
      &control);
  return out;
}

}  // namespace affinity
