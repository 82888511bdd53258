#include "knn.h"

#include <memory>
#include <string>

#include "error.h"
#include "threadpool.h"

namespace affinity {
namespace {

// Per-call scratch, reused across calls on one thread. Generations replace clearing between calls.
class Scratch {
 public:
  void prepare(size_t n) {
    if (acc_.size() != n) {
      acc_.assign(n, 0.0f);
      touched_.assign(n, 0);
      banned_.assign(n, 0);
      allowed_.assign(n, 0);
      gen_ = 0;
    }
    if (++gen_ == 0) {  // wrapped: old stamps could collide
      std::fill(touched_.begin(), touched_.end(), 0);
      std::fill(banned_.begin(), banned_.end(), 0);
      std::fill(allowed_.begin(), allowed_.end(), 0);
      gen_ = 1;
    }
    list_.clear();
  }

  void add(int32_t item, float value) {
    if (touched_[item] != gen_) {
      touched_[item] = gen_;
      list_.push_back(item);
    }
    acc_[item] += value;
  }
  void ban(int32_t item) { banned_[item] = gen_; }
  void allow(int32_t item) { allowed_[item] = gen_; }
  bool banned(int32_t item) const { return banned_[item] == gen_; }
  bool allowed(int32_t item) const { return allowed_[item] == gen_; }
  const std::vector<int32_t>& touched() const { return list_; }
  float peek(int32_t item) const { return touched_[item] == gen_ ? acc_[item] : 0.0f; }
  // Reads and clears the accumulated score (touched entries must all be taken before the next call).
  float take(int32_t item) {
    float v = acc_[item];
    acc_[item] = 0.0f;
    return v;
  }

 private:
  std::vector<float> acc_;
  std::vector<uint32_t> touched_, banned_, allowed_;
  std::vector<int32_t> list_;
  uint32_t gen_ = 0;
};

Scratch& threadScratch() {
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
    require(i >= 0 && i < m.second.cols, code::kUnknownId, std::string(what) + " item index " + std::to_string(i) + " is out of range");
}

void accumulate(const TwoHop& m, int32_t user, Scratch& s) {
  for (int32_t p = m.first.indptr[user]; p < m.first.indptr[user + 1]; ++p) {
    const int32_t mid = m.first.indices[p];
    const float w = m.first.data[p];
    for (int32_t q = m.second.indptr[mid]; q < m.second.indptr[mid + 1]; ++q) s.add(m.second.indices[q], w * m.second.data[q]);
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
    const float score = s.take(item);
    if (s.banned(item) || (allowList && !s.allowed(item))) continue;
    top.push(item, score);
  }
}

}  // namespace

std::vector<Scored> recommend(const TwoHop& model, int32_t user, int32_t k, const RecommendFilter& filter) {
  checkModel(model);
  checkUser(model, user);
  checkItems(model, filter.exclude, "excluded");
  checkItems(model, filter.include, "included");
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
  // Read the wanted scores before clearing the accumulator (an item may be asked for twice).
  std::vector<float> scores(items.size());
  for (size_t i = 0; i < items.size(); ++i) scores[i] = s.peek(items[i]);
  for (int32_t item : s.touched()) s.take(item);
  return scores;
}

BatchResult recommendBatch(const TwoHop& model, std::span<const int32_t> users, int32_t k, const RecommendFilter& filter,
                           int threads, Control& control) {
  checkModel(model);
  for (int32_t u : users) checkUser(model, u);
  checkItems(model, filter.exclude, "excluded");
  checkItems(model, filter.include, "included");
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
