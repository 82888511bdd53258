// Lifetime-value models: fits and per-customer quantities as async jobs; the new-customer formulas sync.
#include <napi.h>

#include <memory>

#include "../native/core/clv.h"
#include "glue.h"

namespace affinity::glue {
namespace {

ClvModel modelArg(const Napi::Value& v) {
  const std::string name = stringArg(v, "model");
  if (name == "betageo") return ClvModel::BetaGeo;
  if (name == "paretonbd") return ClvModel::ParetoNbd;
  if (name == "gammagamma") return ClvModel::GammaGamma;
  throw makeError(v.Env(), code::kBadInput, "model must be betageo, paretonbd or gammagamma");
}

// { frequency, recency?, T?, monetary?, weights? }: Float64Arrays, one entry per customer.
ClvData dataArg(const Napi::Value& v) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), "customers must be an object of Float64Arrays");
  Napi::Object o = v.As<Napi::Object>();
  return {typedArray<double>(o.Get("frequency"), "frequency"), typedArray<double>(o.Get("recency"), "recency", true),
          typedArray<double>(o.Get("T"), "T", true), typedArray<double>(o.Get("monetary"), "monetary", true),
          typedArray<double>(o.Get("weights"), "weights", true)};
}

// clvFit(model, customers, { maxIterations, tolerance, penalizer, threads }, cancel, onProgress, onIteration)
Napi::Value clvFitJs(const Napi::CallbackInfo& info) {
  return guard(info, [&] {
    const ClvModel model = modelArg(info[0]);
    const ClvData data = dataArg(info[1]);
    if (!info[2].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
    Napi::Object o = info[2].As<Napi::Object>();
    ClvFitOptions options{int32Arg(o.Get("maxIterations"), "maxIterations", 1, kMaxDim), numberArg(o.Get("tolerance"), "tolerance"),
                          numberArg(o.Get("penalizer"), "penalizer"), int32Arg(o.Get("threads"), "threads", 0, 256)};
    auto result = std::make_shared<ClvFit>();
    return runJob(
        info, {info[1]}, info[3], info[4], [model, data, options, result](Control& control) { *result = fitClv(model, data, options, control); },
        [result](Napi::Env env) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("params", toTypedArray(env, std::move(result->params)));
          out.Set("standardErrors", toTypedArray(env, std::move(result->standardErrors)));
          out.Set("logLikelihood", result->logLikelihood);
          out.Set("iterations", result->iterations);
          out.Set("converged", result->converged);
          out.Set("gradientNorm", result->gradientNorm);
          return out;
        },
        info[5]);
  });
}

// clvPerCustomer(model, 'alive' | 'expected', params, customers, t, threads, cancel, onProgress) -> Promise<Float64Array>
Napi::Value clvPerCustomerJs(const Napi::CallbackInfo& info) {
  return guard(info, [&] {
    const ClvModel model = modelArg(info[0]);
    const std::string what = stringArg(info[1], "quantity");
    if (what != "alive" && what != "expected") throw makeError(info.Env(), code::kBadInput, "quantity must be alive or expected");
    const ClvQuantity quantity = what == "alive" ? ClvQuantity::ProbabilityAlive : ClvQuantity::ConditionalExpected;
    auto params = std::make_shared<std::vector<double>>();
    for (double p : typedArray<double>(info[2], "params")) params->push_back(p);
    const ClvData data = dataArg(info[3]);
    const double t = numberArg(info[4], "t");
    const int threads = int32Arg(info[5], "threads", 0, 256);
    auto result = std::make_shared<std::vector<double>>(data.rows());
    return runJob(
        info, {info[3]}, info[6], info[7],
        [=](Control& control) { clvPerCustomer(model, quantity, *params, data, t, *result, threads, control); },
        [result](Napi::Env env) -> Napi::Value { return toTypedArray(env, std::move(*result)); });
  });
}

// clvExpected(model, params, t) -> number: expected repeat purchases of a new customer by t.
Napi::Value clvExpectedJs(const Napi::CallbackInfo& info) {
  return guard(info, [&] {
    std::span<double> params = typedArray<double>(info[1], "params");
    return Napi::Number::New(info.Env(), clvExpected(modelArg(info[0]), params, numberArg(info[2], "t")));
  });
}

// clvProbabilityOfPurchases(model, params, t, n) -> number: P(X(t) = n) for a new customer.
Napi::Value clvProbabilityOfPurchasesJs(const Napi::CallbackInfo& info) {
  return guard(info, [&] {
    std::span<double> params = typedArray<double>(info[1], "params");
    return Napi::Number::New(info.Env(), clvProbabilityOfPurchases(modelArg(info[0]), params, numberArg(info[2], "t"), int32Arg(info[3], "n", 0, kMaxDim)));
  });
}

}  // namespace

void initClv(Napi::Env env, Napi::Object exports) {
  exports.Set("clvFit", fn<clvFitJs>(env, "clvFit"));
  exports.Set("clvPerCustomer", fn<clvPerCustomerJs>(env, "clvPerCustomer"));
  exports.Set("clvExpected", fn<clvExpectedJs>(env, "clvExpected"));
  exports.Set("clvProbabilityOfPurchases", fn<clvProbabilityOfPurchasesJs>(env, "clvProbabilityOfPurchases"));
}

}  // namespace affinity::glue
