// Module entry: capabilities, settings, CSR construction and similarity; the classes live in their own files.
#include <napi.h>

#include <limits>

#include "../native/core/als_score.h"
#include "../native/core/similarity.h"
#include "../native/core/threadpool.h"
#include "../native/simd/dispatch.h"
#include "glue.h"

namespace affinity::glue {

Napi::Function initCsvReader(Napi::Env env);
Napi::Function initKnnModel(Napi::Env env);
void initAls(Napi::Env env, Napi::Object exports);
void initFiles(Napi::Env env, Napi::Object exports);
void initAnalytics(Napi::Env env, Napi::Object exports);
void initClv(Napi::Env env, Napi::Object exports);
void initTrees(Napi::Env env, Napi::Object exports);
void initBandit(Napi::Env env, Napi::Object exports);
void initLearners(Napi::Env env, Napi::Object exports);

namespace {

// alsScoredItems() -> number: items the ALS scans scored since the last call (benchmarks).
Napi::Value alsScoredItems(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(alsTakeScoredCount())); }

Napi::Value capabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CpuFeatures& cpu = cpuFeatures();
  Napi::Object o = Napi::Object::New(env);
  o.Set("arch", cpu.arch);
  Napi::Array features = Napi::Array::New(env, cpu.features.size());
  for (size_t i = 0; i < cpu.features.size(); ++i) features.Set(i, cpu.features[i]);
  o.Set("features", features);
  Napi::Array levels = Napi::Array::New(env, cpu.levels.size());
  for (size_t i = 0; i < cpu.levels.size(); ++i) levels.Set(i, simdLevelName(cpu.levels[i]));
  o.Set("simdLevels", levels);
  o.Set("simd", simdLevelName(simdLevel()));
  o.Set("threads", ThreadPool::instance().threads());
  return o;
}

Napi::Value setSimd(const Napi::CallbackInfo& info) {
  return guard(info, [&] {
    setSimdLevel(stringArg(info[0], "level"));
    return info.Env().Undefined();
  });
}

Napi::Value setThreads(const Napi::CallbackInfo& info) {
  ThreadPool::instance().setThreads(int32Arg(info[0], "threads", 1, 256));
  return info.Env().Undefined();
}

Napi::Value setErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "error class must be a constructor");
  info.Env().GetInstanceData<AddonData>()->errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

DuplicatePolicy policyArg(const Napi::Value& v) {
  std::string p = stringArg(v, "duplicates");
  if (p == "sum") return DuplicatePolicy::Sum;
  if (p == "max") return DuplicatePolicy::Max;
  if (p == "last") return DuplicatePolicy::Last;
  fail(code::kBadInput, "duplicates must be 'sum', 'max' or 'last', got '" + p + "'");
}

// buildCsr(rows, cols, values|null, timestamps|null, nRows, nCols, duplicates, cancel, onProgress)
Napi::Value buildCsrJs(const Napi::CallbackInfo& info) {
  Coo coo;
  coo.rowIdx = typedArray<int32_t>(info[0], "rows");
  coo.colIdx = typedArray<int32_t>(info[1], "cols");
  coo.values = typedArray<float>(info[2], "values", true);
  coo.timestamps = typedArray<double>(info[3], "timestamps", true);
  coo.rows = int32Arg(info[4], "nRows", 0, kMaxDim);
  coo.cols = int32Arg(info[5], "nCols", 0, kMaxDim);
  DuplicatePolicy policy = policyArg(info[6]);
  auto result = std::make_shared<Csr>();
  return runJob(
      info, {info[0], info[1], info[2], info[3]}, info[7], info[8],
      [coo, policy, result](Control&) { *result = buildCsr(coo, policy); },
      [result](Napi::Env env) -> Napi::Value { return csrToJs(env, std::move(*result)); });
}

// canonicalCsr(csr, duplicates): validates a caller's CSR, sorts each row and merges duplicates.
Napi::Value canonicalCsrJs(const Napi::CallbackInfo& info) {
  CsrView m = csrArg(info[0], "csr");
  DuplicatePolicy policy = policyArg(info[1]);
  auto result = std::make_shared<Csr>();
  return runJob(
      info, {info[0]}, info[2], info[3],
      [m, policy, result](Control&) {
        validateCsr(m);
        std::vector<int32_t> rows(m.indices.size());
        for (int32_t r = 0; r < m.rows; ++r)
          for (int32_t p = m.indptr[r]; p < m.indptr[r + 1]; ++p) rows[p] = r;
        *result = buildCsr(Coo{m.rows, m.cols, rows, m.indices, m.data, m.timestamps}, policy);
      },
      [result](Napi::Env env) -> Napi::Value { return csrToJs(env, std::move(*result)); });
}

// transpose(csr) -> Promise<csr>
Napi::Value transposeJs(const Napi::CallbackInfo& info) {
  CsrView m = csrArg(info[0], "csr");
  auto result = std::make_shared<Csr>();
  return runJob(
      info, {info[0]}, info[1], info[2], [m, result](Control&) { *result = transpose(m, 0); },
      [result](Napi::Env env) -> Napi::Value { return csrToJs(env, std::move(*result)); });
}

// columnCounts(csr) -> Int32Array: a single pass, cheap enough for the JS thread (~1 ns an entry).
Napi::Value columnCountsJs(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value { return toTypedArray(info.Env(), columnCounts(csrArg(info[0], "csr"))); });
}

// orderByCount(counts: Int32Array) -> Int32Array: indices by descending count, ties by index.
Napi::Value orderByCountJs(const Napi::CallbackInfo& info) {
  return guard(info, [&]() -> Napi::Value { return toTypedArray(info.Env(), orderByCount(typedArray<int32_t>(info[0], "counts"))); });
}

// multiply(a, b, threads, cancel, onProgress) -> Promise<csr>: the sparse product a * b.
Napi::Value multiplyJs(const Napi::CallbackInfo& info) {
  CsrView a = csrArg(info[0], "a");
  CsrView b = csrArg(info[1], "b");
  const int threads = int32Arg(info[2], "threads", 0, 256);
  auto result = std::make_shared<Csr>();
  return runJob(
      info, {info[0], info[1]}, info[3], info[4],
      [a, b, threads, result](Control& control) { *result = multiply(a, b, threads, control); },
      [result](Napi::Env env) -> Napi::Value { return csrToJs(env, std::move(*result)); });
}

SimilarityOptions similarityOptions(const Napi::Object& o) {
  SimilarityOptions s;
  std::string axis = stringArg(o.Get("axis"), "axis");
  require(axis == "items" || axis == "users", code::kBadInput, "axis must be 'items' or 'users', got '" + axis + "'");
  s.axis = axis == "items" ? Axis::Items : Axis::Users;
  s.measure = parseMeasure(stringArg(o.Get("measure"), "measure"));
  s.weighting = parseWeighting(stringArg(o.Get("weighting"), "weighting"));
  s.k = int32Arg(o.Get("k"), "k", 0, kMaxDim);
  s.shrink = static_cast<float>(numberArg(o.Get("shrink"), "shrink"));
  s.minSimilarity = static_cast<float>(numberArg(o.Get("minSimilarity"), "minSimilarity"));
  s.minSupport = static_cast<float>(numberArg(o.Get("minSupport"), "minSupport"));
  s.bm25K1 = static_cast<float>(numberArg(o.Get("bm25K1"), "bm25K1"));
  s.bm25B = static_cast<float>(numberArg(o.Get("bm25B"), "bm25B"));
  s.dense = boolArg(o.Get("dense"), "dense");
  s.threads = int32Arg(o.Get("threads"), "threads", 0, 256);
  return s;
}

// similarity(csr, options, cancel, onProgress) -> Promise<{ n, topK: csr } | { n, dense: Float32Array }>
Napi::Value similarityJs(const Napi::CallbackInfo& info) {
  CsrView m = csrArg(info[0], "interactions");
  if (!info[1].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
  SimilarityOptions options = similarityOptions(info[1].As<Napi::Object>());
  auto result = std::make_shared<SimilarityResult>();
  return runJob(
      info, {info[0]}, info[2], info[3],
      [m, options, result](Control& control) { *result = similarity(m, options, control); },
      [result, dense = options.dense](Napi::Env env) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("n", result->n);
        if (dense)
          o.Set("dense", toTypedArray(env, std::move(result->dense)));
        else
          o.Set("topK", csrToJs(env, std::move(result->topK)));
        return o;
      });
}

// injectFault(site: 'call' | 'job', fault: 'bad_alloc' | 'core' | 'std'): arms one fault (tests only).
Napi::Value injectFaultJs(const Napi::CallbackInfo& info) {
  const std::string site = stringArg(info[0], "site"), fault = stringArg(info[1], "fault");
  require(site == "call" || site == "job", code::kBadInput, "site must be 'call' or 'job'");
  require(fault == "bad_alloc" || fault == "core" || fault == "std", code::kBadInput, "fault must be 'bad_alloc', 'core' or 'std'");
  armFault(site == "call" ? FaultSite::Call : FaultSite::Job,
           fault == "bad_alloc" ? Fault::BadAlloc : fault == "core" ? Fault::CoreError : Fault::StdException);
  return info.Env().Undefined();
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);  // freed by node-addon-api when this environment is torn down
  try {
    applySimdEnvironment();
  } catch (const Error& e) {
    throw makeError(env, e.code(), e.what());
  }
  exports.Set("capabilities", fn<capabilities>(env, "capabilities"));
  exports.Set("alsScoredItems", fn<alsScoredItems>(env, "alsScoredItems"));
  exports.Set("setSimdLevel", fn<setSimd>(env, "setSimdLevel"));
  exports.Set("setThreads", fn<setThreads>(env, "setThreads"));
  exports.Set("setErrorClass", fn<setErrorClass>(env, "setErrorClass"));
  exports.Set("buildCsr", fn<buildCsrJs>(env, "buildCsr"));
  exports.Set("canonicalCsr", fn<canonicalCsrJs>(env, "canonicalCsr"));
  exports.Set("transpose", fn<transposeJs>(env, "transpose"));
  exports.Set("multiply", fn<multiplyJs>(env, "multiply"));
  exports.Set("columnCounts", fn<columnCountsJs>(env, "columnCounts"));
  exports.Set("orderByCount", fn<orderByCountJs>(env, "orderByCount"));
  exports.Set("similarity", fn<similarityJs>(env, "similarity"));
  exports.Set("KnnModel", initKnnModel(env));
  initAls(env, exports);
  initFiles(env, exports);
  initAnalytics(env, exports);
  initClv(env, exports);
  initTrees(env, exports);
  initBandit(env, exports);
  initLearners(env, exports);
  exports.Set("CsvReader", initCsvReader(env));
  exports.Set("injectFault", fn<injectFaultJs>(env, "injectFault"));
  return exports;
}

}  // namespace affinity::glue

static Napi::Object InitAffinity(Napi::Env env, Napi::Object exports) { return affinity::glue::init(env, exports); }

NODE_API_MODULE(affinity, InitAffinity)
