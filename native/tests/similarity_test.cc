#include <algorithm>
#include <cmath>
#include <random>

#include "../core/similarity.h"
#include "harness.h"

using namespace affinity;

TEST(similarity, cosine_top_k_matches_brute_force) {
  std::mt19937 rng(3);
  const int users = 150, items = 80;
  std::vector<int32_t> r, c;
  std::vector<float> v;
  std::vector<double> dense(static_cast<size_t>(users) * items, 0.0);
  for (int u = 0; u < users; ++u)
    for (int i = 0; i < items; ++i)
      if (rng() % 10 == 0) {
        r.push_back(u);
        c.push_back(i);
        v.push_back(1.0f + static_cast<float>(rng() % 5));
        dense[static_cast<size_t>(u) * items + i] = v.back();
      }
  Csr x = buildCsr(Coo{users, items, r, c, v, {}}, DuplicatePolicy::Sum);
  SimilarityOptions o;
  o.k = 5;
  Control control;
  SimilarityResult res = similarity(x.view(), o, control);
  for (int i = 0; i < items; ++i) {
    std::vector<std::pair<double, int>> all;
    for (int j = 0; j < items; ++j) {
      if (j == i) continue;
      double dot = 0, ni = 0, nj = 0;
      for (int u = 0; u < users; ++u) {
        double a = dense[static_cast<size_t>(u) * items + i], b = dense[static_cast<size_t>(u) * items + j];
        dot += a * b, ni += a * a, nj += b * b;
      }
      if (dot > 0) all.push_back({-dot / std::sqrt(ni * nj), j});
    }
    std::sort(all.begin(), all.end());
    const int32_t begin = res.topK.indptr[i], end = res.topK.indptr[i + 1];
    CHECK(end - begin == static_cast<int32_t>(std::min<size_t>(5, all.size())));
    for (int32_t p = begin; p < end; ++p) CHECK(std::fabs(res.topK.data[p] + all[p - begin].first) < 1e-5);
  }
}

TEST(similarity, cancellation_stops_the_job) {
  std::vector<int32_t> r(1000), c(1000);
  for (int i = 0; i < 1000; ++i) r[i] = i % 50, c[i] = i % 37;
  Csr x = buildCsr(Coo{50, 37, r, c, {}, {}}, DuplicatePolicy::Max);
  int32_t flag = 1;
  Control control(&flag, nullptr);
  CHECK_THROWS_CODE(similarity(x.view(), SimilarityOptions{}, control), code::kCancelled);
}
