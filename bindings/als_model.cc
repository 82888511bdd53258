// ALS in JS: alsFit / alsSolveRows (async jobs over factor arrays) and AlsModel, the scoring object
// that keeps the factor arrays referenced and caches Y'Y for fold-in.
#include <napi.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "../native/core/als.h"
#include "../native/core/als_score.h"
#include "glue.h"

namespace affinity::glue {
namespace {

AlsOptions alsOptions(const Napi::Value& v) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), "options must be an object");
  Napi::Object o = v.As<Napi::Object>();
  AlsOptions a;
  a.factors = int32Arg(o.Get("factors"), "factors", 1, 1024);
  a.iterations = int32Arg(o.Get("iterations"), "iterations", 0, 100000);
  a.regularization = static_cast<float>(numberArg(o.Get("regularization"), "regularization"));
  a.alpha = static_cast<float>(numberArg(o.Get("alpha"), "alpha"));
  a.implicit = parseAlsImplicit(stringArg(o.Get("feedback"), "feedback"));
  a.solver = parseAlsSolver(stringArg(o.Get("solver"), "solver"));
  a.cgSteps = int32Arg(o.Get("cgSteps"), "cgSteps", 1, 1000);
  a.scaleRegularization = boolArg(o.Get("scaleRegularization"), "scaleRegularization");
  a.biases = o.Has("biases") ? boolArg(o.Get("biases"), "biases") : true;
  a.seed = static_cast<uint64_t>(numberArg(o.Get("seed"), "seed"));
  a.threads = int32Arg(o.Get("threads"), "threads", 0, 256);
  return a;
}

// { users, items, factors, implicit, globalMean, userFactors, itemFactors, userBias?, itemBias? }
AlsView alsViewArg(const Napi::Value& v) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), "model must be an object");
  Napi::Object o = v.As<Napi::Object>();
  AlsView m;
  m.users = int32Arg(o.Get("users"), "users", 0, kMaxDim);
  m.items = int32Arg(o.Get("items"), "items", 0, kMaxDim);
  m.factors = int32Arg(o.Get("factors"), "factors", 1, 1024);
  m.implicit = boolArg(o.Get("implicit"), "implicit");
  m.globalMean = static_cast<float>(numberArg(o.Get("globalMean"), "globalMean"));
  m.userFactors = typedArray<float>(o.Get("userFactors"), "userFactors");
  m.itemFactors = typedArray<float>(o.Get("itemFactors"), "itemFactors");
  m.userBias = typedArray<float>(o.Get("userBias"), "userBias", true);
  m.itemBias = typedArray<float>(o.Get("itemBias"), "itemBias", true);
  const size_t f = static_cast<size_t>(m.factors);
  if (m.userFactors.size() != static_cast<size_t>(m.users) * f || m.itemFactors.size() != static_cast<size_t>(m.items) * f ||
      (!m.implicit && (m.userBias.size() != static_cast<size_t>(m.users) || m.itemBias.size() != static_cast<size_t>(m.items))))
    throw makeError(v.Env(), code::kDimMismatch, "model arrays do not match its dimensions");
  return m;
}

AlsModel ownedCopy(const AlsView& v) {
  AlsModel m;
  m.users = v.users, m.items = v.items, m.factors = v.factors, m.implicit = v.implicit, m.globalMean = v.globalMean;
  m.userFactors.assign(v.userFactors.begin(), v.userFactors.end());
  m.itemFactors.assign(v.itemFactors.begin(), v.itemFactors.end());
  m.userBias.assign(v.userBias.begin(), v.userBias.end());
  m.itemBias.assign(v.itemBias.begin(), v.itemBias.end());
  return m;
}

Napi::Object modelToJs(Napi::Env env, AlsModel&& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("users", m.users);
  o.Set("items", m.items);
  o.Set("factors", m.factors);
  o.Set("implicit", m.implicit);
  o.Set("globalMean", m.globalMean);
  o.Set("userFactors", toTypedArray(env, std::move(m.userFactors)));
  o.Set("itemFactors", toTypedArray(env, std::move(m.itemFactors)));
  o.Set("userBias", m.implicit ? env.Null() : toTypedArray(env, std::move(m.userBias)));
  o.Set("itemBias", m.implicit ? env.Null() : toTypedArray(env, std::move(m.itemBias)));
  return o;
}

// alsFit(ui, iu, options, start|null, cancel, onProgress, onIteration) -> Promise<model & { losses }>
Napi::Value alsFitJs(const Napi::CallbackInfo& info) {
  CsrView ui = csrArg(info[0], "interactions");
  CsrView iu = csrArg(info[1], "transpose");
  AlsOptions o = alsOptions(info[2]);
  bool warm = !(info[3].IsNull() || info[3].IsUndefined());
  auto model = std::make_shared<AlsModel>();
  if (warm) *model = ownedCopy(alsViewArg(info[3]));
  auto losses = std::make_shared<std::vector<double>>();
  return runJob(
      info, {info[0], info[1]}, info[4], info[5],
      [ui, iu, o, warm, model, losses](Control& control) {
        if (!warm) *model = alsInit(ui.rows, ui.cols, o);
        alsFit(ui, iu, o, *model, control, [&](int32_t it, double loss) {
          losses->push_back(loss);
          control.event(it, loss);
        });
      },
      [model, losses](Napi::Env env) -> Napi::Value {
        Napi::Object out = modelToJs(env, std::move(*model));
        out.Set("losses", toTypedArray(env, std::move(*losses)));
        return out;
      },
      info[6]);
}

// alsSolveRows(rows csr, options, model, byUsers, which Int32Array, cancel, onProgress) -> Promise<model>
Napi::Value alsSolveRowsJs(const Napi::CallbackInfo& info) {
  CsrView rows = csrArg(info[0], "rows");
  AlsOptions o = alsOptions(info[1]);
  auto model = std::make_shared<AlsModel>(ownedCopy(alsViewArg(info[2])));
  bool byUsers = boolArg(info[3], "byUsers");
  auto which = typedArray<int32_t>(info[4], "which");
  return runJob(
      info, {info[0], info[4]}, info[5], info[6],
      [rows, o, model, byUsers, which](Control& control) { alsSolveRows(rows, o, *model, byUsers, which, control); },
      [model](Napi::Env env) -> Napi::Value { return modelToJs(env, std::move(*model)); });
}

class AlsModelWrap : public Wrap<AlsModelWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "AlsModel",
                       {method<&AlsModelWrap::recommend>("recommend"), method<&AlsModelWrap::recommendFor>("recommendFor"),
                        method<&AlsModelWrap::foldIn>("foldIn"), method<&AlsModelWrap::score>("score"),
                        method<&AlsModelWrap::scoreFor>("scoreFor"), method<&AlsModelWrap::similar>("similar"),
                        method<&AlsModelWrap::explain>("explain"),
                        method<&AlsModelWrap::recommendBatch>("recommendBatch"),
                        method<&AlsModelWrap::recommendForAsync>("recommendForAsync"),
                        method<&AlsModelWrap::similarAsync>("similarAsync"),
                        method<&AlsModelWrap::prepareAsync>("prepareAsync")});
  }

  // new AlsModel(model, seen csr, options)
  explicit AlsModelWrap(const Napi::CallbackInfo& info) : Wrap<AlsModelWrap>(info) {
    guard(info, [&] {
      model_ = alsViewArg(info[0]);
      seen_ = csrArg(info[1], "seen");
      options_ = alsOptions(info[2]);
      if (seen_.rows != model_.users || seen_.cols != model_.items)
        throw makeError(info.Env(), code::kDimMismatch, "interactions do not match the model");
      keep_.push_back(Napi::Persistent(info[0].As<Napi::Object>()));
      keep_.push_back(Napi::Persistent(info[1].As<Napi::Object>()));
      return info.Env().Undefined();
    });
  }

 private:
  // The scoring panels and Y'Y are built on first use, or ahead of it by prepareAsync on a worker thread.
  // Either way they are installed on the JS thread and never replaced, so views copied into jobs stay valid.
  void install(ItemPanels&& panels) {
    if (model_.panels != nullptr) return;
    panels_ = std::move(panels);
    model_.panels = &panels_;
    // Filtered subsets may hold as many floats as the panels themselves, all masks together.
    subsets_ = std::make_unique<PanelSubsets>(panels_.panels.size());
    model_.subsets = subsets_.get();
  }
  void install(std::vector<float>&& gram) {
    if (!model_.implicit || !model_.itemGram.empty()) return;
    gram_ = std::move(gram);
    model_.itemGram = gram_;
  }
  const AlsView& withPanels() {
    if (model_.panels == nullptr) install(alsPackItems(model_));
    return model_;
  }
  const AlsView& withGram() {
    if (model_.implicit && model_.itemGram.empty()) install(alsItemGram(model_));
    return model_;
  }

  // prepareAsync(cancel) -> Promise<void>: what the first requests would otherwise build on the JS thread
  // (tens of milliseconds for a large catalogue), so a server can load a model without stalling.
  Napi::Value prepareAsync(const Napi::CallbackInfo& info) {
    AlsView view = model_;
    auto panels = std::make_shared<ItemPanels>();
    auto gram = std::make_shared<std::vector<float>>();
    return runJob(
        info, {info.This()}, info[0], info.Env().Null(),
        [view, panels, gram](Control&) {
          if (view.panels == nullptr) *panels = alsPackItems(view);
          if (view.implicit && view.itemGram.empty()) *gram = alsItemGram(view);
        },
        [this, panels, gram](Napi::Env env) -> Napi::Value {
          install(std::move(*panels));  // each install keeps what is already there
          install(std::move(*gram));
          return env.Undefined();
        });
  }

  int32_t userArg(const Napi::Value& v) { return int32Arg(v, "user", 0, kMaxDim); }

  void checkUser(Napi::Env env, int32_t u) {
    if (u >= model_.users) throw makeError(env, code::kUnknownId, "user index " + std::to_string(u) + " is out of range");
  }

  UserQuery queryFor(int32_t u) { return {model_.user(u), model_.implicit ? 0.0f : model_.userBias[u], seen_.rowIndices(u)}; }

  // A visitor's factor from sorted, merged (item, value) pairs.
  struct Folded {
    std::vector<float> factors;
    float bias = 0;
    std::vector<int32_t> items;
  };
  History merged(const Napi::Value& items, const Napi::Value& values) {
    return alsHistory(typedArray<int32_t>(items, "items"), typedArray<float>(values, "values"), model_.items);
  }
  Folded fold(const Napi::Value& items, const Napi::Value& values) {
    History h = merged(items, values);
    Folded out;
    out.factors = alsFoldIn(withGram(), options_, h.items, h.values, &out.bias);
    out.items = std::move(h.items);
    return out;
  }

  // recommend(user, k, filterSeen, exclude, include)
  Napi::Value recommend(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      int32_t u = userArg(info[0]);
      checkUser(info.Env(), u);
      int32_t k = int32Arg(info[1], "k", 0, kMaxDim);
      return scoredToJs(info.Env(), alsRecommend(withPanels(), queryFor(u), k, filterArg(info, 2)));
    });
  }

  // recommendFor(items, values, k, filterSeen, exclude, include): fold-in, then recommend
  Napi::Value recommendFor(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      Folded f = fold(info[0], info[1]);
      int32_t k = int32Arg(info[2], "k", 0, kMaxDim);
      return scoredToJs(info.Env(), alsRecommend(withPanels(), UserQuery{f.factors.data(), f.bias, f.items}, k, filterArg(info, 3)));
    });
  }

  // recommendForAsync(items, values, k, filterSeen, exclude, include, cancel) -> Promise<{ items, scores }>:
  // fold-in and a catalogue scan off the JS thread (servers).
  Napi::Value recommendForAsync(const Napi::CallbackInfo& info) {
    History h = merged(info[0], info[1]);
    int32_t k = int32Arg(info[2], "k", 0, kMaxDim);
    RecommendFilter filter = filterArg(info, 3);
    withGram();
    withPanels();
    AlsView view = model_;
    AlsOptions options = options_;
    auto result = std::make_shared<std::vector<Scored>>();
    return runJob(
        info, {info.This(), info[4], info[5]}, info[6], info.Env().Null(),
        [view, options, h, k, filter, result](Control&) {
          float bias = 0;
          std::vector<float> x = alsFoldIn(view, options, h.items, h.values, &bias);
          *result = alsRecommend(view, UserQuery{x.data(), bias, h.items}, k, filter);
        },
        [result](Napi::Env env) -> Napi::Value { return scoredToJs(env, *result); });
  }

  // foldIn(items, values) -> { factors: Float32Array, bias }
  Napi::Value foldIn(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      Folded f = fold(info[0], info[1]);
      Napi::Object o = Napi::Object::New(info.Env());
      o.Set("factors", toTypedArray(info.Env(), std::move(f.factors)));
      o.Set("bias", f.bias);
      return o;
    });
  }

  // score(user, items) -> Float32Array
  Napi::Value score(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      int32_t u = userArg(info[0]);
      checkUser(info.Env(), u);
      return toTypedArray(info.Env(), alsScore(model_, queryFor(u), typedArray<int32_t>(info[1], "items")));
    });
  }

  // scoreFor(items, values, candidates) -> Float32Array
  Napi::Value scoreFor(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      Folded f = fold(info[0], info[1]);
      return toTypedArray(info.Env(), alsScore(model_, UserQuery{f.factors.data(), f.bias, f.items}, typedArray<int32_t>(info[2], "candidates")));
    });
  }

  // similar(byItems, row, k, allowed|null) -> { items, scores }
  Napi::Value similar(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      bool byItems = boolArg(info[0], "byItems");
      return scoredToJs(info.Env(), alsSimilar(model_, byItems, int32Arg(info[1], "row", 0, kMaxDim), int32Arg(info[2], "k", 0, kMaxDim),
                                               typedArray<uint32_t>(info[3], "allowed", true)));
    });
  }

  // similarAsync(byItems, row, k, allowed|null, cancel) -> Promise<{ items, scores }>: the same scan on a worker thread.
  Napi::Value similarAsync(const Napi::CallbackInfo& info) {
    bool byItems = boolArg(info[0], "byItems");
    int32_t row = int32Arg(info[1], "row", 0, kMaxDim);
    int32_t k = int32Arg(info[2], "k", 0, kMaxDim);
    auto allowed = typedArray<uint32_t>(info[3], "allowed", true);
    AlsView view = model_;
    auto result = std::make_shared<std::vector<Scored>>();
    return runJob(
        info, {info.This(), info[3]}, info[4], info.Env().Null(),
        [view, byItems, row, k, allowed, result](Control&) { *result = alsSimilar(view, byItems, row, k, allowed); },
        [result](Napi::Env env) -> Napi::Value { return scoredToJs(env, *result); });
  }

  // explain(items, values, item) -> { items, scores, total }
  Napi::Value explain(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      float total = 0;
      History h = merged(info[0], info[1]);
      auto parts = alsExplain(withGram(), options_, h.items, h.values, int32Arg(info[2], "item", 0, kMaxDim), &total);
      std::vector<Scored> asScored;
      for (auto& p : parts) asScored.push_back({p.item, p.score});
      Napi::Object o = scoredToJs(info.Env(), asScored);
      o.Set("total", total);
      return o;
    });
  }

  // recommendBatch(users, k, filterSeen, exclude, include, threads, cancel, onProgress) -> Promise
  Napi::Value recommendBatch(const Napi::CallbackInfo& info) {
    AlsView model = withPanels();
    CsrView seen = seen_;
    return runRecommendBatch(info, [model, seen](auto users, int32_t k, const RecommendFilter& filter, int threads, Control& control) {
      return alsRecommendBatch(model, seen, users, k, filter, threads, control);
    });
  }


  AlsView model_;
  CsrView seen_;
  AlsOptions options_;
  std::vector<float> gram_;
  ItemPanels panels_;
  std::unique_ptr<PanelSubsets> subsets_;
  std::vector<Napi::ObjectReference> keep_;
};

}  // namespace

void initAls(Napi::Env env, Napi::Object exports) {
  exports.Set("alsFit", fn<alsFitJs>(env, "alsFit"));
  exports.Set("alsSolveRows", fn<alsSolveRowsJs>(env, "alsSolveRows"));
  exports.Set("AlsModel", AlsModelWrap::define(env));
}

}  // namespace affinity::glue
