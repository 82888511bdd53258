#include "als_score.h"

#include <cmath>
#include <limits>
#include <string>

#include "../simd/dispatch.h"
#include "bitset.h"
#include "error.h"
#include "threadpool.h"

namespace affinity {
namespace {

void checkItems(const AlsView& m, std::span<const int32_t> items, const char* what) {
  for (int32_t i : items)
    require(i >= 0 && i < m.items, code::kUnknownId, std::string(what) + " item index " + std::to_string(i) + " is out of range");
}

float offset(const AlsView& m, const UserQuery& q) { return m.implicit ? 0.0f : m.globalMean + q.bias; }

// Scores every item into `scores` (itemBias and the user's offset included), then selects the top k
// that pass the filter. `banned` is scratch sized to the catalogue and left clear.
void selectTop(const AlsView& m, const UserQuery& q, const RecommendFilter& f, std::vector<float>& scores, BitSet& banned,
               TopK& top) {
  const KernelTable& k = activeKernels();
  const float base = offset(m, q);
  if (!f.include.empty()) {
    for (int32_t i : f.include) {
      if ((f.filterSeen && std::binary_search(q.seen.begin(), q.seen.end(), i)) ||
          std::find(f.exclude.begin(), f.exclude.end(), i) != f.exclude.end())
        continue;
      float s = k.dot(q.factors, m.item(i), m.factors) + base + (m.implicit ? 0.0f : m.itemBias[i]);
      top.push(i, s);
    }
    return;
  }
  scores.resize(static_cast<size_t>(m.items));
  k.dotRows(m.itemFactors.data(), m.factors, m.items, q.factors, m.factors, scores.data());
  if (f.filterSeen)
    for (int32_t i : q.seen) banned.insert(i);
  for (int32_t i : f.exclude) banned.insert(i);
  const float* bias = m.implicit ? nullptr : m.itemBias.data();
  float threshold = -std::numeric_limits<float>::infinity();
  for (int32_t i = 0; i < m.items; ++i) {
    const float s = scores[i] + (bias ? bias[i] : 0.0f) + base;
    if (s < threshold || banned.test(i)) continue;
    top.push(i, s);
    if (top.full()) threshold = top.admissionThreshold(-std::numeric_limits<float>::infinity());
  }
  if (f.filterSeen)
    for (int32_t i : q.seen) banned.erase(i);
  for (int32_t i : f.exclude) banned.erase(i);
}

}  // namespace

std::vector<Scored> alsRecommend(const AlsView& m, const UserQuery& q, int32_t k, const RecommendFilter& filter) {
  checkItems(m, filter.exclude, "excluded");
  checkItems(m, filter.include, "included");
  require(k >= 0, code::kBadInput, "k must be non-negative");
  std::vector<float> scores;
  BitSet banned;
  banned.resize(static_cast<size_t>(m.items));
  TopK top(static_cast<size_t>(std::min(k, m.items)));
  selectTop(m, q, filter, scores, banned, top);
  return std::move(top.sorted());
}

BatchResult alsRecommendBatch(const AlsView& m, const CsrView& seen, std::span<const int32_t> users, int32_t k,
                              const RecommendFilter& filter, int threads, Control& control) {
  checkItems(m, filter.exclude, "excluded");
  checkItems(m, filter.include, "included");
  require(k >= 0, code::kBadInput, "k must be non-negative");
  require(seen.rows == m.users && seen.cols == m.items, code::kDimMismatch, "interactions do not match the model");
  for (int32_t u : users) require(u >= 0 && u < m.users, code::kUnknownId, "user index " + std::to_string(u) + " is out of range");
  const int32_t kk = std::min(k, m.items);
  BatchResult out;
  out.items.assign(users.size() * static_cast<size_t>(kk), -1);
  out.scores.assign(users.size() * static_cast<size_t>(kk), 0.0f);
  constexpr size_t kUsersPerTask = 32;
  const size_t tasks = (users.size() + kUsersPerTask - 1) / kUsersPerTask;
  control.setTotal(static_cast<int64_t>(users.size()));
  ThreadPool::instance().parallelFor(
      tasks, threads,
      [&](size_t task) {
        std::vector<float> scores;
        BitSet banned;
        banned.resize(static_cast<size_t>(m.items));
        TopK top(static_cast<size_t>(kk));
        const size_t end = std::min(users.size(), (task + 1) * kUsersPerTask);
        for (size_t r = task * kUsersPerTask; r < end; ++r) {
          const int32_t u = users[r];
          top.reset(static_cast<size_t>(kk));
          UserQuery q{m.user(u), m.implicit ? 0.0f : m.userBias[u], seen.rowIndices(u)};
          selectTop(m, q, filter, scores, banned, top);
          const auto& best = top.sorted();
          for (size_t j = 0; j < best.size(); ++j) {
            out.items[r * kk + j] = best[j].index;
            out.scores[r * kk + j] = best[j].score;
          }
        }
        control.advance(static_cast<int64_t>(end - task * kUsersPerTask));
      },
      &control);
  return out;
}

std::vector<float> alsScore(const AlsView& m, const UserQuery& q, std::span<const int32_t> items) {
  checkItems(m, items, "scored");
  const KernelTable& k = activeKernels();
  std::vector<float> out(items.size());
  for (size_t j = 0; j < items.size(); ++j)
    out[j] = k.dot(q.factors, m.item(items[j]), m.factors) + offset(m, q) + (m.implicit ? 0.0f : m.itemBias[items[j]]);
  return out;
}

std::vector<Scored> alsSimilar(const AlsView& m, bool byItems, int32_t row, int32_t k) {
  const int32_t n = byItems ? m.items : m.users;
  require(row >= 0 && row < n, code::kUnknownId, "index " + std::to_string(row) + " is out of range");
  require(k >= 0, code::kBadInput, "k must be non-negative");
  const float* rows = byItems ? m.itemFactors.data() : m.userFactors.data();
  const KernelTable& kt = activeKernels();
  std::vector<float> dots(static_cast<size_t>(n));
  const float* x = rows + static_cast<size_t>(row) * m.factors;
  kt.dotRows(rows, m.factors, n, x, m.factors, dots.data());
  const float self = std::sqrt(kt.dot(x, x, m.factors));
  TopK top(static_cast<size_t>(std::min(k, std::max(n - 1, 0))));
  for (int32_t j = 0; j < n; ++j) {
    if (j == row) continue;
    const float* y = rows + static_cast<size_t>(j) * m.factors;
    const float norm = std::sqrt(kt.dot(y, y, m.factors));
    if (norm == 0 || self == 0) continue;
    top.push(j, dots[j] / (self * norm));
  }
  return std::move(top.sorted());
}

}  // namespace affinity
