// Alternating least squares: implicit feedback (Hu, Koren & Volinsky 2008) solved by conjugate gradient
// warm-started from the previous factors (Takacs, Pilaszy & Tikk 2011) or exactly by Cholesky, and
// explicit ratings with global mean and user/item biases.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "aligned.h"
#include "control.h"
#include "sparse.h"
#include "topk.h"

namespace affinity {

enum class AlsSolver { CG, Cholesky };

// The option strings of the API, parsed once here: anything else is ERR_AFFINITY_BAD_INPUT.
AlsSolver parseAlsSolver(const std::string& name);    // "cg" | "cholesky"
bool parseAlsImplicit(const std::string& feedback);   // "implicit" | "explicit"

struct AlsOptions {
  int32_t factors = 64;
  int32_t iterations = 15;
  float regularization = 0.01f;
  float alpha = 1.0f;      // implicit: confidence c = 1 + alpha * r
  bool implicit = true;
  AlsSolver solver = AlsSolver::CG;
  int32_t cgSteps = 3;
  // lambda * (the row's number of ratings; implicit: of positive values) instead of lambda: ALS-WR, and
  // Spark MLlib's equations for both kinds of feedback. Implicit rows then solve exactly (Cholesky).
  bool scaleRegularization = false;
  bool biases = true;  // explicit: global mean and user/item biases; false solves x only (Spark's explicit model)
  uint64_t seed = 42;
  int threads = 0;
};

// The factors of a model. Scores: implicit x_u . y_i; explicit mean + b_u + b_i + x_u . y_i.
struct AlsModel {
  int32_t users = 0, items = 0, factors = 0;
  AlignedFloats userFactors;  // users * factors, rows gathered at random while training
  AlignedFloats itemFactors;  // items * factors
  bool implicit = true;
  float globalMean = 0.0f;
  std::vector<float> userBias, itemBias;  // explicit only
};

// Read-only view of a model whose arrays live elsewhere (JS typed arrays, a mapped file).
struct ItemPanels;
class PanelSubsets;

struct AlsView {
  int32_t users = 0, items = 0, factors = 0;
  std::span<const float> userFactors, itemFactors;
  bool implicit = true;
  float globalMean = 0.0f;
  std::span<const float> userBias, itemBias;
  std::span<const float> itemGram;    // Y'Y (f x f) when the caller caches it; computed on demand otherwise
  const ItemPanels* panels = nullptr;  // item factors packed for scoring (alsPackItems), when cached
  PanelSubsets* subsets = nullptr;     // panels of the items selective filters allow, cached per mask
  AlsView() = default;
  explicit AlsView(const AlsModel& m)
      : users(m.users), items(m.items), factors(m.factors), userFactors(m.userFactors), itemFactors(m.itemFactors),
        implicit(m.implicit), globalMean(m.globalMean), userBias(m.userBias), itemBias(m.itemBias) {}
  const float* user(int32_t u) const { return userFactors.data() + static_cast<size_t>(u) * factors; }
  const float* item(int32_t i) const { return itemFactors.data() + static_cast<size_t>(i) * factors; }
};

using IterationFn = std::function<void(int32_t iteration, double loss)>;

// Random initial factors, deterministic in the seed (independent of threads).
AlsModel alsInit(int32_t users, int32_t items, const AlsOptions& o);

// Runs o.iterations sweeps (users, then items) on `model` in place. `ui` is users x items, `iu` its
// transpose. Deterministic for a fixed seed whatever the thread count. onIteration receives the training
// objective of the factors after each iteration (implicit: sum over all pairs of c (p - x.y)^2; explicit:
// squared errors of observed ratings; both plus lambda times the squared norms of factors and biases).
void alsFit(const CsrView& ui, const CsrView& iu, const AlsOptions& o, AlsModel& model, Control& control,
            const IterationFn& onIteration);

// Re-solves only the given rows (users when byUsers, else items) against the other side's factors:
// partial updates and fold-in share this.
void alsSolveRows(const CsrView& rows, const AlsOptions& o, AlsModel& model, bool byUsers, std::span<const int32_t> which,
                  Control& control);

// Y'Y of the item factors (f x f): cached by callers that fold in often.
std::vector<float> alsItemGram(const AlsView& model);

// A visitor's history as fold-in and explanations need it: items ascending, repeated items summed (as
// training merges repeated interactions). Items must lie in [0, items).
struct History {
  std::vector<int32_t> items;
  std::vector<float> values;
};
History alsHistory(std::span<const int32_t> items, std::span<const float> values, int32_t itemCount);

// The factor of a user outside the model from (item, value) pairs of an alsHistory, by the training equations solved
// exactly (Cholesky). For explicit models `bias` receives the user's bias.
std::vector<float> alsFoldIn(const AlsView& model, const AlsOptions& o, std::span<const int32_t> items,
                             std::span<const float> values, float* bias);

struct Contribution {
  int32_t item;
  float score;
};
// Why `item` scores for this user: each past item's contribution (they sum to the fold-in score), and
// that score. Implicit: c_uj * y_i' W_u y_j with W_u the inverse of the user's weighted Gram matrix.
std::vector<Contribution> alsExplain(const AlsView& model, const AlsOptions& o, std::span<const int32_t> items,
                                     std::span<const float> values, int32_t item, float* total);

}  // namespace affinity
