#include "als_score.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <string>

#include "../simd/dispatch.h"
#include "bitset.h"
#include "error.h"
#include "threadpool.h"

namespace affinity {
namespace {

void checkItems(const AlsView& m, std::span<const int32_t> items, const char* what) {
  for (int32_t i : items)
    require(i >= 0 && i < m.items, code::kUnknownId, [&] { return std::string(what) + " item index " + std::to_string(i) + " is out of range"; });
}

// |v| in double: the bounds of the early-stopping scan are taken from it.
double norm(const float* v, size_t f) {
  double sq = 0;
  for (size_t k = 0; k < f; ++k) sq += static_cast<double>(v[k]) * v[k];
  return std::sqrt(sq);
}

// The order key of an item: its norm, with NaN first, so NaN panels' bounds are infinite and never end a
// scan early.
double normKey(const float* v, size_t f) {
  const double n = norm(v, f);
  return std::isnan(n) ? std::numeric_limits<double>::infinity() : n;
}

float offset(const AlsView& m, const UserQuery& q) { return m.implicit ? 0.0f : m.globalMean + q.bias; }

// One score, in the order every path uses: (x . y chain + item bias) + user offset.
float scoreOf(const AlsView& m, const KernelTable& k, const float* x, float base, int32_t item) {
  return (k.dotChain(x, m.item(item), m.factors) + (m.implicit ? 0.0f : m.itemBias[item])) + base;
}

std::atomic<int64_t> scoredItems{0};  // relaxed: a statistic, read by benchmarks between runs

constexpr size_t kPanelsPerBlock = 16;  // 256 items x f floats stay in L2 while a user group reuses them
constexpr size_t kUsersPerGroup = 64;
// Slack on the Cauchy-Schwarz bound for rounding: a float dot of f terms is within f * 2^-24 * |x||y| of
// the exact one (f <= 1024 here), and the bias sums add a few more ulps.
constexpr double kBoundSlack = 1e-4;

// Top-k over the whole catalogue for up to kUsersPerGroup users at once: item blocks outer, 6-user
// tiles inner, thresholds checked per score so only rare candidates reach the heaps and the filters.
// Items come in descending order of norm; a user is done once its top-k is full and no later item's
// bound reaches its threshold, and the scan ends when every user of the group is done.
void scanGroup(const AlsView& m, const ItemPanels& packed, const UserQuery* q, size_t users, const RecommendFilter& f,
               const BitSet* excluded, TopK* tops) {
  const KernelTable& k = activeKernels();
  const size_t fDim = static_cast<size_t>(m.factors);
  const size_t panels = packed.normBound.size();
  std::vector<float> xs(kUsersPerGroup * fDim), base(users), thr(users);
  std::vector<double> userNorm(users);
  for (size_t u = 0; u < users; ++u) {
    std::copy(q[u].factors, q[u].factors + fDim, xs.begin() + u * fDim);
    base[u] = offset(m, q[u]);
    thr[u] = tops[u].admissionThreshold(-std::numeric_limits<float>::infinity());
    userNorm[u] = norm(q[u].factors, fDim);
  }
  const auto done = [&](size_t u, size_t p) {
    if (!tops[u].full()) return false;
    const double dot = userNorm[u] * packed.normBound[p], shift = packed.biasBound[p] + base[u];
    return dot + shift + kBoundSlack * (dot + std::abs(packed.biasBound[p]) + std::abs(base[u])) < thr[u];
  };
  float tile[kTileUsers * kPanelItems];
  uint16_t hits[kTileUsers];
  int64_t scored = 0;
  for (size_t pb = 0; pb < panels; pb += kPanelsPerBlock) {
    const size_t pEnd = std::min(panels, pb + kPanelsPerBlock);
    bool anyActive = false;
    for (size_t ub = 0; ub < users; ub += kTileUsers) {
      const size_t count = std::min(kTileUsers, users - ub);
      for (size_t p = pb; p < pEnd; ++p) {
        bool active = false;
        for (size_t r = 0; r < count && !active; ++r) active = !done(ub + r, p);
        if (!active) break;  // bounds only fall and thresholds only rise: done for the later panels too
        anyActive = true;
        scored += static_cast<int64_t>(count * kPanelItems);
        if (k.scoreTile(xs.data() + ub * fDim, count, packed.panels.data() + p * fDim * kPanelItems, fDim,
                        packed.bias.empty() ? nullptr : packed.bias.data() + p * kPanelItems, base.data() + ub,
                        thr.data() + ub, tile, hits) == 0)
          continue;
        for (size_t r = 0; r < count; ++r) {
          const size_t u = ub + r;
          for (uint32_t mask = hits[r]; mask != 0; mask &= mask - 1) {
            const size_t t = static_cast<size_t>(__builtin_ctz(mask));
            const size_t position = p * kPanelItems + t;
            const float s = tile[r * kPanelItems + t];
            if (position >= packed.order.size() || s < thr[u]) continue;  // padding, or raised meanwhile
            const int32_t i = packed.order[position];
            if ((excluded && excluded->test(i)) || !f.allows(i)) continue;
            if (f.filterSeen && std::binary_search(q[u].seen.begin(), q[u].seen.end(), i)) continue;
            tops[u].push(i, s);
            if (tops[u].full()) thr[u] = tops[u].admissionThreshold(-std::numeric_limits<float>::infinity());
          }
        }
      }
    }
    if (!anyActive) break;
  }
  scoredItems.fetch_add(scored, std::memory_order_relaxed);
}

// A mask keeping at most this share of the catalogue is scanned over panels of its own items: over the
// whole catalogue the scan would go deep (only allowed items raise its threshold) through panels that
// hold few of them. Above it, the full panels are scanned and the mask tested on candidates.
constexpr int64_t kSubsetBelow = 8;  // 1/8 of the items

// The items to score one by one: those a request names (include, within the mask); nullopt to scan.
std::optional<std::vector<int32_t>> listedCandidates(const RecommendFilter& f) {
  if (f.include.empty()) return std::nullopt;
  std::vector<int32_t> out;
  for (int32_t i : f.include)
    if (f.allows(i)) out.push_back(i);
  return out;
}

// What a scan reads: the full panels, or the cached subset of a selective mask.
std::shared_ptr<const ItemPanels> scanPanels(const AlsView& m, const RecommendFilter& f) {
  if (!f.allowed.empty() && m.subsets != nullptr && allowedCount(f.allowed, m.items) * kSubsetBelow <= m.items)
    return m.subsets->get(m, f.allowed);
  return std::shared_ptr<const ItemPanels>(m.panels, [](const ItemPanels*) {});  // owned by the model
}

void selectListed(const AlsView& m, const UserQuery& q, const RecommendFilter& f, std::span<const int32_t> list, TopK& top) {
  const KernelTable& k = activeKernels();
  scoredItems.fetch_add(static_cast<int64_t>(list.size()), std::memory_order_relaxed);
  for (int32_t i : list) {
    if ((f.filterSeen && std::binary_search(q.seen.begin(), q.seen.end(), i)) ||
        std::find(f.exclude.begin(), f.exclude.end(), i) != f.exclude.end())
      continue;
    top.push(i, scoreOf(m, k, q.factors, offset(m, q), i));
  }
}

void requirePanels(const AlsView& m) {
  require(m.panels != nullptr && m.panels->order.size() == static_cast<size_t>(m.items), code::kInternal,
          "item panels are missing");
}

}  // namespace

int64_t alsTakeScoredCount() { return scoredItems.exchange(0, std::memory_order_relaxed); }

namespace {

// Packs the given items, already in descending order of norm key, into panels with their bounds.
ItemPanels packOrdered(const AlsView& m, std::vector<int32_t>&& order) {
  const size_t f = static_cast<size_t>(m.factors), items = order.size();
  const size_t panels = (items + kPanelItems - 1) / kPanelItems;
  ItemPanels out;
  out.order = std::move(order);
  out.panels.assign(panels * kPanelItems * f, 0.0f);
  if (!m.implicit) out.bias.assign(panels * kPanelItems, 0.0f);
  out.normBound.assign(panels, 0.0);
  out.biasBound.assign(panels, m.implicit ? 0.0 : -std::numeric_limits<double>::infinity());
  for (size_t pos = 0; pos < items; ++pos) {
    const size_t i = static_cast<size_t>(out.order[pos]), p = pos / kPanelItems;
    putPanelItem(out.panels.data(), f, pos, m.itemFactors.data() + i * f);
    out.normBound[p] = std::max(out.normBound[p], normKey(m.item(static_cast<int32_t>(i)), f));
    if (!m.implicit) {
      out.bias[pos] = m.itemBias[i];
      out.biasBound[p] = std::max(out.biasBound[p], std::isnan(m.itemBias[i]) ? std::numeric_limits<double>::infinity()
                                                                               : static_cast<double>(m.itemBias[i]));
    }
  }
  for (size_t p = panels; p-- > 1;) {
    out.normBound[p - 1] = std::max(out.normBound[p - 1], out.normBound[p]);
    out.biasBound[p - 1] = std::max(out.biasBound[p - 1], out.biasBound[p]);
  }
  return out;
}

}  // namespace

ItemPanels alsPackItems(const AlsView& m) {
  const size_t f = static_cast<size_t>(m.factors), items = static_cast<size_t>(m.items);
  std::vector<double> key(items);
  for (size_t i = 0; i < items; ++i) key[i] = normKey(m.item(static_cast<int32_t>(i)), f);
  std::vector<int32_t> order(items);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return key[a] > key[b] || (key[a] == key[b] && a < b); });
  return packOrdered(m, std::move(order));
}

std::shared_ptr<const ItemPanels> PanelSubsets::get(const AlsView& m, std::span<const uint32_t> mask) {
  uint64_t hash = 1469598103934665603ull;  // FNV-1a over the words
  for (uint32_t w : mask) hash = (hash ^ w) * 1099511628211ull;
  std::lock_guard<std::mutex> lock(mutex_);
  for (Entry& e : entries_)
    if (e.hash == hash && std::equal(e.mask.begin(), e.mask.end(), mask.begin(), mask.end())) {
      e.lastUse = ++clock_;
      return e.panels;
    }
  std::vector<int32_t> order;
  for (int32_t i : m.panels->order)
    if ((mask[static_cast<size_t>(i) >> 5] >> (i & 31)) & 1u) order.push_back(i);
  auto panels = std::make_shared<const ItemPanels>(packOrdered(m, std::move(order)));
  const size_t cost = panels->panels.size();
  while (!entries_.empty() && used_ + cost > budget_) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.lastUse < b.lastUse; });
    used_ -= oldest->panels->panels.size();
    entries_.erase(oldest);
  }
  if (cost <= budget_) {
    entries_.push_back({hash, std::vector<uint32_t>(mask.begin(), mask.end()), panels, ++clock_});
    used_ += cost;
  }
  return panels;
}

std::vector<Scored> alsRecommend(const AlsView& m, const UserQuery& q, int32_t k, const RecommendFilter& filter) {
  checkItems(m, filter.exclude, "excluded");
  checkItems(m, filter.include, "included");
  checkAllowed(filter.allowed, m.items);
  require(k >= 0, code::kBadInput, "k must be non-negative");
  TopK top(static_cast<size_t>(std::min(k, m.items)));
  if (const auto listed = listedCandidates(filter)) {
    selectListed(m, q, filter, *listed, top);
  } else {
    requirePanels(m);
    BitSet excluded;
    if (!filter.exclude.empty()) {
      excluded.resize(static_cast<size_t>(m.items));
      for (int32_t i : filter.exclude) excluded.insert(i);
    }
    scanGroup(m, *scanPanels(m, filter), &q, 1, filter, filter.exclude.empty() ? nullptr : &excluded, &top);
  }
  return std::move(top.sorted());
}

BatchResult alsRecommendBatch(const AlsView& m, const CsrView& seen, std::span<const int32_t> users, int32_t k,
                              const RecommendFilter& filter, int threads, Control& control) {
  checkItems(m, filter.exclude, "excluded");
  checkItems(m, filter.include, "included");
  require(k >= 0, code::kBadInput, "k must be non-negative");
  require(seen.rows == m.users && seen.cols == m.items, code::kDimMismatch, "interactions do not match the model");
  checkAllowed(filter.allowed, m.items);
  for (int32_t u : users) require(u >= 0 && u < m.users, code::kUnknownId, [&] { return "user index " + std::to_string(u) + " is out of range"; });
  const auto listed = listedCandidates(filter);
  std::shared_ptr<const ItemPanels> panels;
  if (!listed) requirePanels(m), panels = scanPanels(m, filter);
  const int32_t kk = std::min(k, m.items);
  BatchResult out;
  out.items.assign(users.size() * static_cast<size_t>(kk), -1);
  out.scores.assign(users.size() * static_cast<size_t>(kk), 0.0f);
  BitSet excluded;
  if (!filter.exclude.empty()) {
    excluded.resize(static_cast<size_t>(m.items));
    for (int32_t i : filter.exclude) excluded.insert(i);
  }
  const size_t tasks = (users.size() + kUsersPerGroup - 1) / kUsersPerGroup;
  control.setTotal(static_cast<int64_t>(users.size()));
  ThreadPool::instance().parallelFor(
      tasks, threads,
      [&](size_t task) {
        const size_t begin = task * kUsersPerGroup, end = std::min(users.size(), begin + kUsersPerGroup);
        std::vector<UserQuery> q;
        std::vector<TopK> tops(end - begin, TopK(static_cast<size_t>(kk)));
        for (size_t r = begin; r < end; ++r) {
          const int32_t u = users[r];
          q.push_back({m.user(u), m.implicit ? 0.0f : m.userBias[u], seen.rowIndices(u)});
        }
        if (!listed)
          scanGroup(m, *panels, q.data(), q.size(), filter, filter.exclude.empty() ? nullptr : &excluded, tops.data());
        else
          for (size_t r = 0; r < q.size(); ++r) selectListed(m, q[r], filter, *listed, tops[r]);
        for (size_t r = begin; r < end; ++r) {
          const auto& best = tops[r - begin].sorted();
          for (size_t j = 0; j < best.size(); ++j) {
            out.items[r * kk + j] = best[j].index;
            out.scores[r * kk + j] = best[j].score;
          }
        }
        control.advance(static_cast<int64_t>(end - begin));
      },
      &control);
  return out;
}

std::vector<float> alsScore(const AlsView& m, const UserQuery& q, std::span<const int32_t> items) {
  checkItems(m, items, "scored");
  const KernelTable& k = activeKernels();
  std::vector<float> out(items.size());
  for (size_t j = 0; j < items.size(); ++j) out[j] = scoreOf(m, k, q.factors, offset(m, q), items[j]);
  return out;
}

std::vector<Scored> alsSimilar(const AlsView& m, bool byItems, int32_t row, int32_t k, std::span<const uint32_t> allowed) {
  const int32_t n = byItems ? m.items : m.users;
  require(byItems || allowed.empty(), code::kBadInput, "an item mask filters item neighbours only");
  checkAllowed(allowed, n);
  RecommendFilter mask;
  mask.allowed = allowed;
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
    if (j == row || !mask.allows(j)) continue;
    const float* y = rows + static_cast<size_t>(j) * m.factors;
    const float norm = std::sqrt(kt.dot(y, y, m.factors));
    if (norm == 0 || self == 0) continue;
    top.push(j, dots[j] / (self * norm));
  }
  return std::move(top.sorted());
}

}  // namespace affinity
