// Trees and forests: fit and predict as async jobs; the forest travels as a plain object of TypedArrays.
#include <napi.h>

#include <memory>

#include "../native/core/trees.h"
#include "glue.h"

namespace affinity::glue {
namespace {

DenseRows rowsArg(const Napi::Value& v, const char* what) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be { values, rows, dims }");
  Napi::Object o = v.As<Napi::Object>();
  DenseRows x{typedArray<float>(o.Get("values"), what), int32Arg(o.Get("rows"), "rows", 0, kMaxDim),
              int32Arg(o.Get("dims"), "dims", 1, kMaxDim)};
  if (x.values.size() != static_cast<size_t>(x.rows) * x.dims)
    throw makeError(v.Env(), code::kDimMismatch, std::string(what) + " must hold rows * dims values");
  return x;
}

ForestView forestArg(const Napi::Value& v) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), "forest must be an object");
  Napi::Object o = v.As<Napi::Object>();
  ForestView f;
  f.features = int32Arg(o.Get("features"), "features", 1, kMaxDim);
  f.outputs = int32Arg(o.Get("outputs"), "outputs", 1, 1024);
  f.treeOffsets = typedArray<int32_t>(o.Get("treeOffsets"), "treeOffsets");
  f.feature = typedArray<int32_t>(o.Get("feature"), "feature");
  f.left = typedArray<int32_t>(o.Get("left"), "left");
  f.right = typedArray<int32_t>(o.Get("right"), "right");
  f.catOffset = typedArray<int32_t>(o.Get("catOffset"), "catOffset");
  f.threshold = typedArray<float>(o.Get("threshold"), "threshold");
  f.value = typedArray<float>(o.Get("value"), "value");
  f.flags = typedArray<uint8_t>(o.Get("flags"), "flags");
  f.catBits = typedArray<uint32_t>(o.Get("catBits"), "catBits");
  return f;
}

Napi::Object forestToJs(Napi::Env env, Forest&& f) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("features", f.features);
  o.Set("outputs", f.outputs);
  o.Set("treeOffsets", toTypedArray(env, std::move(f.treeOffsets)));
  o.Set("feature", toTypedArray(env, std::move(f.feature)));
  o.Set("left", toTypedArray(env, std::move(f.left)));
  o.Set("right", toTypedArray(env, std::move(f.right)));
  o.Set("catOffset", toTypedArray(env, std::move(f.catOffset)));
  o.Set("threshold", toTypedArray(env, std::move(f.threshold)));
  o.Set("flags", toTypedArray(env, std::move(f.flags)));
  o.Set("samples", toTypedArray(env, std::move(f.samples)));
  o.Set("impurity", toTypedArray(env, std::move(f.impurity)));
  o.Set("value", toTypedArray(env, std::move(f.value)));
  o.Set("catBits", toTypedArray(env, std::move(f.catBits)));
  return o;
}

// forestFit(x, categorical|null, target|null, channel|null, weights|null, options, cancel, onProgress)
Napi::Value forestFitJs(const Napi::CallbackInfo& info) {
  TreeData data;
  data.x = rowsArg(info[0], "x");
  data.categorical = typedArray<uint8_t>(info[1], "categorical", true);
  data.target = typedArray<float>(info[2], "target", true);
  data.channel = typedArray<int32_t>(info[3], "channel", true);
  data.weights = typedArray<float>(info[4], "weights", true);
  if (!info[5].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
  Napi::Object o = info[5].As<Napi::Object>();
  ForestOptions options;
  options.tree.task = static_cast<TreeTask>(int32Arg(o.Get("task"), "task", 0, 2));
  options.tree.criterion = static_cast<SplitCriterion>(int32Arg(o.Get("criterion"), "criterion", 0, 4));
  options.tree.outputs = int32Arg(o.Get("outputs"), "outputs", 1, 1024);
  options.tree.maxDepth = int32Arg(o.Get("maxDepth"), "maxDepth", 0, 1 << 20);
  options.tree.minSamplesSplit = int32Arg(o.Get("minSamplesSplit"), "minSamplesSplit", 2, kMaxDim);
  options.tree.minSamplesLeaf = int32Arg(o.Get("minSamplesLeaf"), "minSamplesLeaf", 1, kMaxDim);
  options.tree.minSamplesArm = int32Arg(o.Get("minSamplesArm"), "minSamplesArm", 1, kMaxDim);
  options.tree.maxFeatures = int32Arg(o.Get("maxFeatures"), "maxFeatures", 0, kMaxDim);
  options.tree.minImpurityDecrease = numberArg(o.Get("minImpurityDecrease"), "minImpurityDecrease");
  options.tree.honest = boolArg(o.Get("honest"), "honest");
  options.trees = int32Arg(o.Get("trees"), "trees", 1, 100000);
  options.bootstrap = boolArg(o.Get("bootstrap"), "bootstrap");
  options.maxBins = int32Arg(o.Get("maxBins"), "maxBins", 2, kMaxBins);
  options.seed = static_cast<uint32_t>(numberArg(o.Get("seed"), "seed"));
  options.threads = int32Arg(o.Get("threads"), "threads", 0, 256);
  auto result = std::make_shared<ForestResult>();
  return runJob(
      info, {info[0].As<Napi::Object>().Get("values"), info[1], info[2], info[3], info[4]}, info[6], info[7],
      [data, options, result](Control& control) { *result = fitForest(data, options, control); },
      [result](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("forest", forestToJs(env, std::move(result->forest)));
        out.Set("importances", toTypedArray(env, std::move(result->importances)));
        out.Set("oobValue", toTypedArray(env, std::move(result->oobValue)));
        out.Set("oobScore", result->oobScore);
        out.Set("depth", toTypedArray(env, std::move(result->depth)));
        out.Set("leaves", toTypedArray(env, std::move(result->leaves)));
        return out;
      });
}

// A forest packed for walking: validated once when built, then shared with every job that predicts with it
// (a job keeps the pack alive even if the JS object is collected meanwhile).
class ForestModelWrap : public Wrap<ForestModelWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "ForestModel",
                       {method<&ForestModelWrap::predict>("predict"), method<&ForestModelWrap::predictSync>("predictSync"),
                        method<&ForestModelWrap::apply>("apply"), method<&ForestModelWrap::applySync>("applySync")});
  }

  // new ForestModel(forest): throws ERR_AFFINITY_BAD_INPUT when the arrays could walk out of bounds.
  explicit ForestModelWrap(const Napi::CallbackInfo& info) : Wrap<ForestModelWrap>(info) {
    guard(info, [&] {
      packed_ = std::make_shared<const PackedForest>(packForest(forestArg(info[0])));
      return info.Env().Undefined();
    });
  }

 private:
  // predict(x, firstTree, lastTree, threads, cancel, onProgress) -> Promise<Float32Array rows * outputs>
  Napi::Value predict(const Napi::CallbackInfo& info) {
    const DenseRows x = rowsArg(info[0], "x");
    const int32_t first = int32Arg(info[1], "firstTree", 0, kMaxDim), last = int32Arg(info[2], "lastTree", 0, kMaxDim);
    const int threads = int32Arg(info[3], "threads", 0, 256);
    auto packed = packed_;
    auto result = std::make_shared<std::vector<float>>();
    return runJob(
        info, {info[0].As<Napi::Object>().Get("values")}, info[4], info[5],
        [packed, x, first, last, threads, result](Control& control) {
          *result = predictForest(*packed, x, first, last, threads, control);
        },
        [result](Napi::Env env) -> Napi::Value { return toTypedArray(env, std::move(*result)); });
  }

  // predictSync(x): on the calling thread, for at most 64 rows (a served request).
  Napi::Value predictSync(const Napi::CallbackInfo& info) {
    const DenseRows x = rowsArg(info[0], "x");
    if (x.rows > 64) throw makeError(info.Env(), code::kTooLarge, "predictSync takes at most 64 rows; use predict");
    Control control;
    return toTypedArray(info.Env(), predictForest(*packed_, x, 0, packed_->trees(), 1, control));
  }

  // apply(x, threads, cancel, onProgress) -> Promise<Int32Array rows * trees> of leaf indices
  Napi::Value apply(const Napi::CallbackInfo& info) {
    const DenseRows x = rowsArg(info[0], "x");
    const int threads = int32Arg(info[1], "threads", 0, 256);
    auto packed = packed_;
    auto result = std::make_shared<std::vector<int32_t>>();
    return runJob(
        info, {info[0].As<Napi::Object>().Get("values")}, info[2], info[3],
        [packed, x, threads, result](Control& control) { *result = applyForest(*packed, x, threads, control); },
        [result](Napi::Env env) -> Napi::Value { return toTypedArray(env, std::move(*result)); });
  }

  // applySync(x): leaf indices (rows * trees) on the calling thread, for at most 64 rows.
  Napi::Value applySync(const Napi::CallbackInfo& info) {
    const DenseRows x = rowsArg(info[0], "x");
    if (x.rows > 64) throw makeError(info.Env(), code::kTooLarge, "applySync takes at most 64 rows; use apply");
    Control control;
    return toTypedArray(info.Env(), applyForest(*packed_, x, 1, control));
  }

  std::shared_ptr<const PackedForest> packed_;
};

// treeBins(x, categorical|null, maxBins) -> { bins: Uint8Array features * rows, edges: Float32Array[], binCount }
Napi::Value treeBinsJs(const Napi::CallbackInfo& info) {
  const DenseRows x = rowsArg(info[0], "x");
  Control control;
  BinnedFeatures b = binFeatures(x, typedArray<uint8_t>(info[1], "categorical", true), int32Arg(info[2], "maxBins", 2, kMaxBins), 0, control);
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array edges = Napi::Array::New(env, b.edges.size());
  for (size_t f = 0; f < b.edges.size(); ++f) edges.Set(f, toTypedArray(env, std::move(b.edges[f])));
  out.Set("bins", toTypedArray(env, std::move(b.bins)));
  out.Set("edges", edges);
  out.Set("binCount", toTypedArray(env, std::move(b.binCount)));
  return out;
}

}  // namespace

void initTrees(Napi::Env env, Napi::Object exports) {
  exports.Set("forestFit", fn<forestFitJs>(env, "forestFit"));
  exports.Set("ForestModel", ForestModelWrap::define(env));
  exports.Set("treeBins", fn<treeBinsJs>(env, "treeBins"));
}

}  // namespace affinity::glue
