// Item-item and user-user similarity: top-K neighbours per row, or a dense matrix for small sets.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "control.h"
#include "sparse.h"

namespace affinity {

enum class Axis { Users, Items };
enum class Measure { Cosine, Pearson, Jaccard, Dot, Lift };
enum class Weighting { None, TfIdf, Bm25 };

struct SimilarityOptions {
  Axis axis = Axis::Items;
  Measure measure = Measure::Cosine;
  Weighting weighting = Weighting::None;
  int32_t k = 50;               // neighbours per row (clamped to n - 1)
  float shrink = 0.0f;          // added to the denominator
  float minSimilarity = 0.0f;   // neighbours must score strictly above it
  float minSupport = 1.0f;      // jaccard and lift: minimum number of co-occurrences
  float bm25K1 = 100.0f;
  float bm25B = 0.8f;
  bool dense = false;
  int threads = 0;              // 0: every pool thread
};

struct SimilarityResult {
  int32_t n = 0;
  Csr topK;                  // n x n, each row ordered by descending similarity (when !dense)
  std::vector<float> dense;  // n * n, row-major, diagonal included (when dense)
};

inline constexpr int32_t kMaxDenseSimilarity = 16384;  // 1 GiB of float32

Measure parseMeasure(const std::string& name);
Weighting parseWeighting(const std::string& name);

// `interactions` is users x items. Rows of the result are users (Axis::Users) or items (Axis::Items).
SimilarityResult similarity(const CsrView& interactions, const SimilarityOptions& options, Control& control);

}  // namespace affinity
