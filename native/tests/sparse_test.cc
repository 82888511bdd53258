#include <random>

#include "../core/control.h"
#include "../core/sparse.h"
#include "harness.h"

using namespace affinity;

TEST(sparse, merges_duplicates_by_policy) {
  std::vector<int32_t> r{1, 0, 1, 1}, c{2, 1, 2, 0};
  std::vector<float> v{1, 5, 3, 7};
  std::vector<double> t{10, 20, 5, 1};
  Coo coo{2, 3, r, c, v, t};
  Csr sum = buildCsr(coo, DuplicatePolicy::Sum);
  CHECK((sum.indptr == std::vector<int32_t>{0, 1, 3}));
  CHECK((sum.indices == std::vector<int32_t>{1, 0, 2}));
  CHECK((sum.data == std::vector<float>{5, 7, 4}));
  CHECK((sum.timestamps == std::vector<double>{20, 1, 10}));
  CHECK((buildCsr(coo, DuplicatePolicy::Max).data == std::vector<float>{5, 7, 3}));
  Csr last = buildCsr(coo, DuplicatePolicy::Last);
  CHECK((last.data == std::vector<float>{5, 7, 3}));
  CHECK((last.timestamps == std::vector<double>{20, 1, 5}));
}

TEST(sparse, rejects_bad_coo) {
  std::vector<int32_t> r{0}, c{3};
  CHECK_THROWS_CODE(buildCsr(Coo{1, 3, r, c, {}, {}}, DuplicatePolicy::Sum), code::kBadInput);
  std::vector<int32_t> c2{0};
  std::vector<float> nan{std::numeric_limits<float>::quiet_NaN()};
  CHECK_THROWS_CODE(buildCsr(Coo{1, 3, r, c2, nan, {}}, DuplicatePolicy::Sum), code::kBadInput);
  std::vector<int32_t> c3{0, 1};
  CHECK_THROWS_CODE(buildCsr(Coo{1, 3, r, c3, {}, {}}, DuplicatePolicy::Sum), code::kDimMismatch);
  std::vector<float> huge{3e38f, 3e38f};
  std::vector<int32_t> rr{0, 0}, cc{0, 0};
  CHECK_THROWS_CODE(buildCsr(Coo{1, 1, rr, cc, huge, {}}, DuplicatePolicy::Sum), code::kBadInput);
}

TEST(sparse, transpose_twice_is_identity) {
  std::mt19937 rng(5);
  std::vector<int32_t> r, c;
  std::vector<float> v;
  for (int i = 0; i < 5000; ++i) {
    r.push_back(static_cast<int32_t>(rng() % 97));
    c.push_back(static_cast<int32_t>(rng() % 61));
    v.push_back(static_cast<float>(rng() % 100));
  }
  Csr m = buildCsr(Coo{97, 61, r, c, v, {}}, DuplicatePolicy::Sum);
  Csr t = transpose(m.view());
  CHECK(t.rows == 61 && t.cols == 97);
  Csr back = transpose(t.view());
  CHECK(back.indptr == m.indptr && back.indices == m.indices && back.data == m.data);
  validateCsr(t.view());
}

// Large enough to be split between threads: every split gives the transpose built directly from the
// swapped coordinates, timestamps included.
TEST(sparse, transpose_in_parallel_equals_the_direct_build) {
  std::mt19937 rng(9);
  std::vector<int32_t> r, c;
  std::vector<float> v;
  std::vector<double> ts;
  for (int i = 0; i < 200000; ++i) {
    r.push_back(static_cast<int32_t>(rng() % 3001));
    c.push_back(static_cast<int32_t>(rng() % 499));
    v.push_back(static_cast<float>(rng() % 100));
    ts.push_back(static_cast<double>(rng()));
  }
  Csr m = buildCsr(Coo{3001, 499, r, c, v, ts}, DuplicatePolicy::Last);
  Csr want = buildCsr(Coo{499, 3001, c, r, v, ts}, DuplicatePolicy::Last);
  for (int threads : {1, 2, 0}) {
    Csr t = transpose(m.view(), threads);
    CHECK(t.indptr == want.indptr && t.indices == want.indices && t.data == want.data && t.timestamps == want.timestamps);
  }
  std::vector<int32_t> bad(m.indices);
  bad[150000] = 499;
  CsrView broken = m.view();
  broken.indices = bad;
  CHECK_THROWS_CODE(transpose(broken, 0), code::kBadInput);
}

TEST(sparse, validate_rejects_malformed_csr) {
  std::vector<int32_t> indptr{0, 3, 2}, indices{0, 1};
  std::vector<float> data{1, 1};
  CsrView m{2, 2, indptr, indices, data, {}};
  CHECK_THROWS_CODE(validateCsr(m), code::kBadInput);
  std::vector<int32_t> indptr2{0, 1, 2}, indices2{0, 5};
  CsrView m2{2, 2, indptr2, indices2, data, {}};
  CHECK_THROWS_CODE(validateCsr(m2), code::kBadInput);
}

TEST(sparse, multiply_matches_dense_product) {
  std::mt19937 rng(2);
  auto random = [&](int32_t rows, int32_t cols, int nnz) {
    std::vector<int32_t> r, c;
    std::vector<float> v;
    for (int i = 0; i < nnz; ++i) {
      r.push_back(static_cast<int32_t>(rng() % rows));
      c.push_back(static_cast<int32_t>(rng() % cols));
      v.push_back(static_cast<float>(rng() % 7) - 3.0f);
    }
    return buildCsr(Coo{rows, cols, r, c, v, {}}, DuplicatePolicy::Sum);
  };
  Csr a = random(700, 40, 3000), b = random(40, 90, 800);
  Control control;
  Csr p = multiply(a.view(), b.view(), 0, control);
  validateCsr(p.view());
  auto dense = [](const Csr& m) {
    std::vector<double> d(static_cast<size_t>(m.rows) * m.cols, 0);
    for (int32_t r = 0; r < m.rows; ++r)
      for (int32_t q = m.indptr[r]; q < m.indptr[r + 1]; ++q) d[r * m.cols + m.indices[q]] = m.data[q];
    return d;
  };
  std::vector<double> da = dense(a), db = dense(b), dp = dense(p);
  for (int32_t r = 0; r < 700; ++r)
    for (int32_t c = 0; c < 90; ++c) {
      double s = 0;
      for (int32_t m = 0; m < 40; ++m) s += da[r * 40 + m] * db[m * 90 + c];
      CHECK(std::abs(s - dp[r * 90 + c]) < 1e-3);
    }
  CHECK_THROWS_CODE(multiply(b.view(), b.view(), 0, control), code::kDimMismatch);
}
