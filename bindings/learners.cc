// EASE and BPR fits as async jobs: the weights or factors come back as typed arrays.
#include <napi.h>

#include <memory>

#include "../native/core/bpr.h"
#include "../native/core/ease.h"
#include "glue.h"

namespace affinity::glue {
namespace {

// easeFit(byUser csr, byItem csr, lambda, keep, threads, cancel, onProgress) -> Promise<{ weights, gramSeconds, inverseSeconds, inverseFlops }>
Napi::Value easeFitJs(const Napi::CallbackInfo& info) {
  return guard(info, [&] {
    CsrView byUser = csrArg(info[0], "interactions");
    CsrView byItem = csrArg(info[1], "transpose");
    const double lambda = numberArg(info[2], "lambda");
    const int32_t keep = int32Arg(info[3], "keep", 0, kMaxDim);
    const int threads = int32Arg(info[4], "threads", 0, 256);
    auto result = std::make_shared<EaseFit>();
    return runJob(
        info, {info[0], info[1]}, info[5], info[6],
        [=](Control& control) { *result = easeFit(byUser, byItem, lambda, keep, threads, control); },
        [result](Napi::Env env) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          EaseWeights& w = result->weights;
          out.Set("weights", csrToJs(env, w.items, w.items, std::move(w.indptr), std::move(w.indices), std::move(w.data)));
          out.Set("gramSeconds", result->gramSeconds);
          out.Set("weightsSeconds", result->weightsSeconds);
          out.Set("inverseSeconds", result->inverse.seconds);
          out.Set("inverseFlops", result->inverse.flops);
          return out;
        });
  });
}

// easeFitBytes(items, keep) -> number
Napi::Value easeFitBytesJs(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), easeFitBytes(int32Arg(info[0], "items", 0, kMaxDim), int32Arg(info[1], "keep", 0, kMaxDim)));
  });
}

// bprFit(csr, { factors, epochs, learningRate, regularization, learningRateDecay, verifyNegatives, seed, threads }, cancel, onProgress, onEpoch)
//   -> Promise<{ width, userFactors, itemFactors, correct, skipped }>
Napi::Value bprFitJs(const Napi::CallbackInfo& info) {
  return guard(info, [&] {
    CsrView data = csrArg(info[0], "interactions");
    if (!info[1].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
    Napi::Object o = info[1].As<Napi::Object>();
    BprOptions options;
    options.factors = int32Arg(o.Get("factors"), "factors", 1, 1024);
    options.epochs = int32Arg(o.Get("epochs"), "epochs", 0, kMaxDim);
    options.learningRate = numberArg(o.Get("learningRate"), "learningRate");
    options.regularization = numberArg(o.Get("regularization"), "regularization");
    options.learningRateDecay = numberArg(o.Get("learningRateDecay"), "learningRateDecay");
    options.verifyNegatives = boolArg(o.Get("verifyNegatives"), "verifyNegatives");
    options.seed = static_cast<uint32_t>(numberArg(o.Get("seed"), "seed"));
    options.threads = int32Arg(o.Get("threads"), "threads", 0, 256);
    auto result = std::make_shared<BprFit>();
    return runJob(
        info, {info[0]}, info[2], info[3], [=](Control& control) { *result = bprFit(data, options, control); },
        [result](Napi::Env env) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("width", result->width);
          out.Set("userFactors", toTypedArray(env, std::move(result->userFactors)));
          out.Set("itemFactors", toTypedArray(env, std::move(result->itemFactors)));
          out.Set("correct", toTypedArray(env, std::move(result->correct)));
          out.Set("skipped", static_cast<double>(result->skipped));
          return out;
        },
        info[4]);
  });
}

// bprStep(xu, yi, yj, learningRate, regularization) -> x_uij before the step (tests: the update in place).
Napi::Value bprStepJs(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value {
    auto xu = typedArray<float>(info[0], "xu"), yi = typedArray<float>(info[1], "yi"), yj = typedArray<float>(info[2], "yj");
    if (xu.size() != yi.size() || xu.size() != yj.size() || xu.empty()) throw makeError(info.Env(), code::kDimMismatch, "xu, yi and yj must have one length");
    std::vector<float> scratch(2 * xu.size());
    return Napi::Number::New(info.Env(), bprStep(xu.data(), yi.data(), yj.data(), xu.size(), static_cast<float>(numberArg(info[3], "learningRate")),
                                                 static_cast<float>(numberArg(info[4], "regularization")), scratch.data()));
  });
}

}  // namespace

void initLearners(Napi::Env env, Napi::Object exports) {
  exports.Set("easeFit", fn<easeFitJs>(env, "easeFit"));
  exports.Set("easeFitBytes", fn<easeFitBytesJs>(env, "easeFitBytes"));
  exports.Set("bprFit", fn<bprFitJs>(env, "bprFit"));
  exports.Set("bprStep", fn<bprStepJs>(env, "bprStep"));
}

}  // namespace affinity::glue
