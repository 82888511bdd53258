// Marketing analytics: k-means, silhouette and logistic regression, each an async job.
#include <napi.h>

#include <limits>
#include <memory>

#include "../native/core/kmeans.h"
#include "../native/core/logreg.h"
#include "glue.h"

namespace affinity::glue {
namespace {

// (values: Float32Array, rows, dims) at info[at..at+2].
DenseRows denseArg(const Napi::CallbackInfo& info, size_t at, const char* what) {
  DenseRows x{typedArray<float>(info[at], what), int32Arg(info[at + 1], "rows", 0, kMaxDim),
              int32Arg(info[at + 2], "dims", 1, kMaxDim)};
  if (x.values.size() != static_cast<size_t>(x.rows) * x.dims)
    throw makeError(info.Env(), code::kDimMismatch, std::string(what) + " must hold rows * dims values");
  return x;
}

// kmeans(values, rows, dims, { k, iterations, tolerance, seed, threads }, cancel, onProgress, onEvent)
Napi::Value kmeansJs(const Napi::CallbackInfo& info) {
  return guard(info, [&] {
    DenseRows x = denseArg(info, 0, "vectors");
    if (!info[3].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
    Napi::Object o = info[3].As<Napi::Object>();
    KMeansOptions options{int32Arg(o.Get("k"), "k", 1, kMaxDim), int32Arg(o.Get("iterations"), "iterations", 1, kMaxDim),
                          numberArg(o.Get("tolerance"), "tolerance"),
                          static_cast<uint32_t>(int32Arg(o.Get("seed"), "seed", 0, kMaxDim)),
                          int32Arg(o.Get("threads"), "threads", 0, 256)};
    auto result = std::make_shared<KMeansResult>();
    return runJob(
        info, {info[0]}, info[4], info[5], [x, options, result](Control& control) { *result = kmeans(x, options, control); },
        [result](Napi::Env env) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("centroids", toTypedArray(env, std::move(result->centroids)));
          out.Set("assignments", toTypedArray(env, std::move(result->assignments)));
          out.Set("sizes", toTypedArray(env, std::move(result->sizes)));
          out.Set("inertia", result->inertia);
          out.Set("iterations", result->iterations);
          out.Set("converged", result->converged);
          return out;
        },
        info[6]);
  });
}

// nearestCentroid(values, rows, dims, centroids, k, threads, cancel, onProgress) -> Promise<Int32Array>
Napi::Value nearestCentroidJs(const Napi::CallbackInfo& info) {
  return guard(info, [&] {
    DenseRows x = denseArg(info, 0, "vectors");
    DenseRows c{typedArray<float>(info[3], "centroids"), int32Arg(info[4], "k", 1, kMaxDim), x.dims};
    const int threads = int32Arg(info[5], "threads", 0, 256);
    auto result = std::make_shared<std::vector<int32_t>>();
    return runJob(
        info, {info[0], info[3]}, info[6], info[7],
        [x, c, threads, result](Control& control) { *result = nearestCentroid(x, c, threads, control); },
        [result](Napi::Env env) -> Napi::Value { return toTypedArray(env, std::move(*result)); });
  });
}

// silhouette(values, rows, dims, labels, threads, cancel, onProgress) -> Promise<number>
Napi::Value silhouetteJs(const Napi::CallbackInfo& info) {
  return guard(info, [&] {
    DenseRows x = denseArg(info, 0, "vectors");
    auto labels = typedArray<int32_t>(info[3], "labels");
    const int threads = int32Arg(info[4], "threads", 0, 256);
    auto result = std::make_shared<double>(0);
    return runJob(
        info, {info[0], info[3]}, info[5], info[6],
        [x, labels, threads, result](Control& control) { *result = silhouette(x, labels, threads, control); },
        [result](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *result); });
  });
}

// logisticFit(features, labels, weights|null, options, cancel, onProgress, onEvent)
// features: { dense: Float32Array, rows, dims } or a CSR { rows, cols, indptr, indices, data }.
Napi::Value logisticFitJs(const Napi::CallbackInfo& info) {
  return guard(info, [&] {
    if (!info[0].IsObject() || !info[3].IsObject()) throw Napi::TypeError::New(info.Env(), "features and options must be objects");
    Napi::Object f = info[0].As<Napi::Object>();
    LogisticData data;
    if (f.Has("dense")) {
      data.dense = DenseRows{typedArray<float>(f.Get("dense"), "features"), int32Arg(f.Get("rows"), "rows", 0, kMaxDim),
                             int32Arg(f.Get("dims"), "dims", 1, kMaxDim)};
    } else {
      data.sparse = csrArg(f, "features");
    }
    data.labels = typedArray<float>(info[1], "labels");
    data.weights = typedArray<float>(info[2], "weights", true);
    Napi::Object o = info[3].As<Napi::Object>();
    LogisticOptions options{numberArg(o.Get("l2"), "l2"), boolArg(o.Get("fitIntercept"), "fitIntercept"),
                            int32Arg(o.Get("maxIterations"), "maxIterations", 1, kMaxDim), numberArg(o.Get("tolerance"), "tolerance"),
                            int32Arg(o.Get("memory"), "memory", 1, 1000), int32Arg(o.Get("threads"), "threads", 0, 256)};
    auto result = std::make_shared<LogisticResult>();
    return runJob(
        info, {info[0], info[1], info[2]}, info[4], info[5],
        [data, options, result](Control& control) { *result = fitLogistic(data, options, control); },
        [result](Napi::Env env) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("coefficients", toTypedArray(env, std::move(result->coefficients)));
          out.Set("intercept", result->intercept);
          out.Set("iterations", result->iterations);
          out.Set("converged", result->converged);
          out.Set("loss", result->loss);
          out.Set("gradientNorm", result->gradientNorm);
          return out;
        },
        info[6]);
  });
}

}  // namespace

void initAnalytics(Napi::Env env, Napi::Object exports) {
  exports.Set("kmeans", fn<kmeansJs>(env, "kmeans"));
  exports.Set("nearestCentroid", fn<nearestCentroidJs>(env, "nearestCentroid"));
  exports.Set("silhouette", fn<silhouetteJs>(env, "silhouette"));
  exports.Set("logisticFit", fn<logisticFitJs>(env, "logisticFit"));
}

}  // namespace affinity::glue
