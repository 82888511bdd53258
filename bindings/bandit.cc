// Bandits and their evaluation: the native state behind src/analytics/bandit.ts, and the bootstrap of
// src/analytics/ope.ts. Decisions and updates run on the calling
// thread (microseconds: a served request); probabilities over a log's contexts is a job.
#include <napi.h>

#include <memory>

#include "../native/core/bandit.h"
#include "../native/core/bootstrap.h"
#include "glue.h"

namespace affinity::glue {
namespace {

BanditOptions banditOptionsArg(const Napi::Value& v) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), "options must be an object");
  Napi::Object o = v.As<Napi::Object>();
  BanditOptions b;
  b.policy = static_cast<BanditPolicy>(int32Arg(o.Get("policy"), "policy", 0, 5));
  b.dims = int32Arg(o.Get("dims"), "dims", 0, kMaxDim);
  b.offerDims = int32Arg(o.Get("offerDims"), "offerDims", 0, kMaxDim);
  b.epsilon = numberArg(o.Get("epsilon"), "epsilon");
  b.alpha = numberArg(o.Get("alpha"), "alpha");
  b.scale = numberArg(o.Get("scale"), "scale");
  b.lambda = numberArg(o.Get("lambda"), "lambda");
  b.priorAlpha = numberArg(o.Get("priorAlpha"), "priorAlpha");
  b.priorBeta = numberArg(o.Get("priorBeta"), "priorBeta");
  b.propensitySamples = int32Arg(o.Get("propensitySamples"), "propensitySamples", 1, 1000000);
  return b;
}

std::vector<double> doubles(const Napi::Object& o, const char* name) {
  auto s = typedArray<double>(o.Get(name), name);
  return {s.begin(), s.end()};
}

BanditSnapshot snapshotArg(const Napi::Value& v) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), "state must be an object");
  Napi::Object o = v.As<Napi::Object>();
  BanditSnapshot s;
  s.arms = int32Arg(o.Get("arms"), "arms", 0, kMaxDim);
  s.count = doubles(o, "count"), s.rewardSum = doubles(o, "rewardSum"), s.ainv = doubles(o, "ainv"), s.b = doubles(o, "b");
  s.theta = doubles(o, "theta"), s.offerFeatures = doubles(o, "offerFeatures"), s.shared = doubles(o, "shared");
  s.a0 = doubles(o, "a0"), s.a0inv = doubles(o, "a0inv"), s.b0 = doubles(o, "b0");
  auto rng = typedArray<uint32_t>(o.Get("rng"), "rng");
  if (rng.size() != 4) throw makeError(v.Env(), code::kBadInput, "rng must hold 4 values");
  std::copy(rng.begin(), rng.end(), s.rng);
  return s;
}

template <class V>
Napi::Value copyOut(Napi::Env env, const V& v) {
  auto a = Napi::Float64Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

class BanditModelWrap : public Wrap<BanditModelWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "BanditModel",
                       {method<&BanditModelWrap::addArm>("addArm"), method<&BanditModelWrap::decide>("decide"),
                        method<&BanditModelWrap::update>("update"), method<&BanditModelWrap::probabilities>("probabilities"),
                        method<&BanditModelWrap::probabilitiesBatch>("probabilitiesBatch"),
                        method<&BanditModelWrap::linearTerms>("linearTerms"), method<&BanditModelWrap::coefficients>("coefficients"),
                        method<&BanditModelWrap::counts>("counts"), method<&BanditModelWrap::snapshot>("snapshot")});
  }

  // new BanditModel(options, seed, state?)
  explicit BanditModelWrap(const Napi::CallbackInfo& info) : Wrap<BanditModelWrap>(info) {
    guard(info, [&] {
      const BanditOptions o = banditOptionsArg(info[0]);
      state_ = info[2].IsUndefined() || info[2].IsNull()
                   ? std::make_unique<BanditState>(o, static_cast<uint32_t>(numberArg(info[1], "seed")))
                   : std::make_unique<BanditState>(o, snapshotArg(info[2]));
      return info.Env().Undefined();
    });
  }

 private:
  // addArm(offerFeatures: Float64Array|null) -> index
  Napi::Value addArm(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), state_->addArm(typedArray<double>(info[0], "offerFeatures", true)));
  }

  // decide(x: Float64Array|null, candidates: Int32Array, out: Float64Array(2)) -> arm; out = [arm, propensity]
  Napi::Value decide(const Napi::CallbackInfo& info) {
    auto out = typedArray<double>(info[2], "out");
    if (out.size() < 2) throw makeError(info.Env(), code::kBadInput, "out must hold 2 values");
    const BanditDecision d = state_->decide(typedArray<double>(info[0], "x", true), typedArray<int32_t>(info[1], "candidates"));
    out[0] = d.arm, out[1] = d.propensity;
    return Napi::Number::New(info.Env(), d.arm);
  }

  // update(arm, x: Float64Array|null, reward)
  Napi::Value update(const Napi::CallbackInfo& info) {
    state_->update(int32Arg(info[0], "arm", 0, kMaxDim), typedArray<double>(info[1], "x", true), numberArg(info[2], "reward"));
    return info.Env().Undefined();
  }

  // probabilities(x, candidates, seed, samples) -> Float64Array (one per candidate)
  Napi::Value probabilities(const Napi::CallbackInfo& info) {
    auto candidates = typedArray<int32_t>(info[1], "candidates");
    std::vector<double> out(candidates.size());
    state_->probabilities(typedArray<double>(info[0], "x", true), candidates, static_cast<uint32_t>(numberArg(info[2], "seed")),
                          int32Arg(info[3], "samples", 1, 1000000), out);
    return copyOut(info.Env(), out);
  }

  // probabilitiesBatch(contexts: Float64Array rows*dims, rows, candidates, seed, samples, threads, cancel, onProgress)
  //   -> Promise<Float64Array rows * candidates>, for the state as it is now: the job works on a copy, so
  //   decisions and updates may go on meanwhile.
  Napi::Value probabilitiesBatch(const Napi::CallbackInfo& info) {
    auto contexts = typedArray<double>(info[0], "contexts", true);
    const int32_t rows = int32Arg(info[1], "rows", 0, kMaxDim);
    auto candidates = typedArray<int32_t>(info[2], "candidates");
    const uint32_t seed = static_cast<uint32_t>(numberArg(info[3], "seed"));
    const int32_t samples = int32Arg(info[4], "samples", 1, 1000000);
    const int threads = int32Arg(info[5], "threads", 0, 256);
    auto state = std::make_shared<const BanditState>(*state_);
    auto ids = std::make_shared<std::vector<int32_t>>(candidates.begin(), candidates.end());
    auto result = std::make_shared<std::vector<double>>(static_cast<size_t>(rows) * candidates.size());
    return runJob(
        info, {info[0]}, info[6], info[7],
        [state, contexts, rows, ids, seed, samples, threads, result](Control& control) {
          control.setTotal(rows);
          state->probabilitiesBatch(contexts, rows, *ids, seed, samples, threads, *result, control);
        },
        [result](Napi::Env env) -> Napi::Value { return toTypedArray(env, std::move(*result)); });
  }

  // linearTerms(arm, x) -> [mean, width]
  Napi::Value linearTerms(const Napi::CallbackInfo& info) {
    const int32_t arm = int32Arg(info[0], "arm", 0, kMaxDim);
    if (arm >= state_->arms()) throw makeError(info.Env(), code::kBadInput, "the arm is not an arm of this bandit");
    auto x = typedArray<double>(info[1], "x", true);
    if (x.size() != static_cast<size_t>(state_->options().dims)) throw makeError(info.Env(), code::kDimMismatch, "the context must have dims values");
    double mean = 0, width = 0;
    state_->linearTerms(arm, x, mean, width);
    return copyOut(info.Env(), std::vector<double>{mean, width});
  }

  Napi::Value coefficients(const Napi::CallbackInfo& info) {
    return copyOut(info.Env(), state_->coefficients(int32Arg(info[0], "arm", 0, kMaxDim)));
  }

  // counts() -> { count, rewardSum } per arm
  Napi::Value counts(const Napi::CallbackInfo& info) {
    Napi::Object o = Napi::Object::New(info.Env());
    std::vector<double> count(state_->arms()), sum(state_->arms());
    for (int32_t a = 0; a < state_->arms(); ++a) count[a] = state_->count(a), sum[a] = state_->rewardSum(a);
    o.Set("count", copyOut(info.Env(), count));
    o.Set("rewardSum", copyOut(info.Env(), sum));
    return o;
  }

  Napi::Value snapshot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    BanditSnapshot s = state_->snapshot();
    Napi::Object o = Napi::Object::New(env);
    o.Set("arms", s.arms);
    o.Set("count", toTypedArray(env, std::move(s.count)));
    o.Set("rewardSum", toTypedArray(env, std::move(s.rewardSum)));
    o.Set("ainv", toTypedArray(env, std::move(s.ainv)));
    o.Set("b", toTypedArray(env, std::move(s.b)));
    o.Set("theta", toTypedArray(env, std::move(s.theta)));
    o.Set("offerFeatures", toTypedArray(env, std::move(s.offerFeatures)));
    o.Set("shared", toTypedArray(env, std::move(s.shared)));
    o.Set("a0", toTypedArray(env, std::move(s.a0)));
    o.Set("a0inv", toTypedArray(env, std::move(s.a0inv)));
    o.Set("b0", toTypedArray(env, std::move(s.b0)));
    auto rng = Napi::Uint32Array::New(env, 4);
    std::copy(s.rng, s.rng + 4, rng.Data());
    o.Set("rng", rng);
    return o;
  }

  std::unique_ptr<BanditState> state_;
};

// bootstrapMeans(term: Float64Array, weight: Float64Array|null, resamples, seed, threads, cancel, onProgress)
//   -> Promise<Float64Array resamples> (unsorted)
Napi::Value bootstrapMeansJs(const Napi::CallbackInfo& info) {
  auto term = typedArray<double>(info[0], "term");
  auto weight = typedArray<double>(info[1], "weight", true);
  const int32_t resamples = int32Arg(info[2], "resamples", 0, 10000000);
  const uint32_t seed = static_cast<uint32_t>(numberArg(info[3], "seed"));
  const int threads = int32Arg(info[4], "threads", 0, 256);
  auto result = std::make_shared<std::vector<double>>();
  return runJob(
      info, {info[0], info[1]}, info[5], info[6],
      [term, weight, resamples, seed, threads, result](Control& control) { *result = bootstrapMeans(term, weight, resamples, seed, threads, control); },
      [result](Napi::Env env) -> Napi::Value { return toTypedArray(env, std::move(*result)); });
}

}  // namespace

void initBandit(Napi::Env env, Napi::Object exports) {
  exports.Set("BanditModel", BanditModelWrap::define(env));
  exports.Set("bootstrapMeans", fn<bootstrapMeansJs>(env, "bootstrapMeans"));
}

}  // namespace affinity::glue
