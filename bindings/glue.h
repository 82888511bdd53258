// Shared N-API helpers: argument checking, zero-copy outputs, error mapping and the async job runner.
#pragma once
#include <napi.h>

#include <cstring>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "../native/core/control.h"
#include "../native/core/error.h"
#include "../native/core/recommend.h"
#include "../native/core/sparse.h"
#include "../native/core/topk.h"

namespace affinity::glue {

// The largest dimension, index or k the core takes: int32 counts, with one value left for end markers.
inline constexpr int32_t kMaxDim = std::numeric_limits<int32_t>::max() - 1;

// One per environment (main thread and each worker thread): the JS AffinityError class.
struct AddonData {
  Napi::FunctionReference errorClass;
};

Napi::Error makeError(Napi::Env env, const std::string& code, const std::string& message);

// Runs fn and turns core errors into AffinityError with their code, std::bad_alloc into ERR_AFFINITY_OOM
// and any other std::exception into ERR_AFFINITY_INTERNAL. Entry points get it by registration (fn<> and
// Wrap::method<> below), so a new method cannot forget it.
Napi::Value guard(const Napi::CallbackInfo& info, const std::function<Napi::Value()>& fn);

// Fault injection for the tests that prove every entry point is guarded: the next guarded call (site
// Call) or the next job's compute (site Job) throws the armed exception instead of running.
enum class FaultSite { Call, Job };
enum class Fault { None, BadAlloc, CoreError, StdException };
void armFault(FaultSite site, Fault fault);
void throwArmedFault(FaultSite site);

// A module function whose every call runs inside guard().
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value guardedCall(const Napi::CallbackInfo& info) {
  return guard(info, [&] { return F(info); });
}
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Function fn(Napi::Env env, const char* name) {
  return Napi::Function::New(env, guardedCall<F>, name);
}

// Base of every ObjectWrap: methods registered through method<&T::m>(name) run inside guard().
template <class T>
class Wrap : public Napi::ObjectWrap<T> {
 public:
  using Napi::ObjectWrap<T>::ObjectWrap;
  using Method = Napi::Value (T::*)(const Napi::CallbackInfo&);

  template <Method M>
  Napi::Value guarded(const Napi::CallbackInfo& info) {
    return guard(info, [&] { return (static_cast<T*>(this)->*M)(info); });
  }
  template <Method M>
  static Napi::ClassPropertyDescriptor<T> method(const char* name) {
    return Napi::ObjectWrap<T>::InstanceMethod(name, static_cast<Method>(&Wrap<T>::template guarded<M>));
  }
};

template <class T>
struct TypedArrayTraits;
template <>
struct TypedArrayTraits<int32_t> {
  static constexpr napi_typedarray_type type = napi_int32_array;
  static constexpr const char* name = "Int32Array";
};
template <>
struct TypedArrayTraits<float> {
  static constexpr napi_typedarray_type type = napi_float32_array;
  static constexpr const char* name = "Float32Array";
};
template <>
struct TypedArrayTraits<double> {
  static constexpr napi_typedarray_type type = napi_float64_array;
  static constexpr const char* name = "Float64Array";
};
template <>
struct TypedArrayTraits<uint32_t> {
  static constexpr napi_typedarray_type type = napi_uint32_array;
  static constexpr const char* name = "Uint32Array";
};
template <>
struct TypedArrayTraits<uint8_t> {
  static constexpr napi_typedarray_type type = napi_uint8_array;
  static constexpr const char* name = "Uint8Array";
};

// The data of a typed array of exactly element type T (offset-adjusted, so subarray views work).
// null/undefined give an empty span when optional.
template <class T>
std::span<T> typedArray(const Napi::Value& v, const char* what, bool optional = false) {
  if (optional && (v.IsNull() || v.IsUndefined())) return {};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != TypedArrayTraits<T>::type)
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a " + TypedArrayTraits<T>::name);
  auto a = v.As<Napi::TypedArrayOf<T>>();
  return {a.Data(), a.ElementLength()};
}

int32_t int32Arg(const Napi::Value& v, const char* what, int32_t min, int32_t max);
double numberArg(const Napi::Value& v, const char* what);
bool boolArg(const Napi::Value& v, const char* what);
std::string stringArg(const Napi::Value& v, const char* what);

// A CSR from a JS object { rows, cols, indptr, indices, data, timestamps? } with consistent lengths.
CsrView csrArg(const Napi::Value& v, const char* what);

// Hands a vector to JS without copying: the ArrayBuffer owns it and frees it when collected.
template <class T, class Alloc>
Napi::Value toTypedArray(Napi::Env env, std::vector<T, Alloc>&& values) {
  const size_t n = values.size();
  if (n == 0) return Napi::TypedArrayOf<T>::New(env, 0);
  if (n * sizeof(T) <= 4096) {
    // A finalizer costs more than copying a few cache lines (single recommendations).
    auto copy = Napi::TypedArrayOf<T>::New(env, n);
    std::memcpy(copy.Data(), values.data(), n * sizeof(T));
    return copy;
  }
  auto* owner = new std::vector<T, Alloc>(std::move(values));
  napi_value buffer;
  napi_status status = napi_create_external_arraybuffer(
      env, owner->data(), n * sizeof(T), [](napi_env, void*, void* hint) { delete static_cast<std::vector<T, Alloc>*>(hint); },
      owner, &buffer);
  if (status != napi_ok) {
    // Runtimes with a memory cage refuse external memory: fall back to one copy.
    auto copy = Napi::ArrayBuffer::New(env, n * sizeof(T));
    std::memcpy(copy.Data(), owner->data(), n * sizeof(T));
    delete owner;
    return Napi::TypedArrayOf<T>::New(env, n, copy, 0);
  }
  return Napi::TypedArrayOf<T>::New(env, n, Napi::ArrayBuffer(env, buffer), 0);
}

Napi::Object csrToJs(Napi::Env env, Csr&& m);

// The same object from the arrays of a CSR held in vectors of any allocator, without timestamps.
template <class IndexAlloc, class DataAlloc>
Napi::Object csrToJs(Napi::Env env, int32_t rows, int32_t cols, std::vector<int32_t>&& indptr, std::vector<int32_t, IndexAlloc>&& indices,
                     std::vector<float, DataAlloc>&& data) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("rows", rows);
  o.Set("cols", cols);
  o.Set("indptr", toTypedArray(env, std::move(indptr)));
  o.Set("indices", toTypedArray(env, std::move(indices)));
  o.Set("data", toTypedArray(env, std::move(data)));
  o.Set("timestamps", env.Null());
  return o;
}

// (filterSeen: boolean, exclude: Int32Array|null, include: Int32Array|null) at info[at..at+2].
RecommendFilter filterArg(const Napi::CallbackInfo& info, size_t at);

// recommendBatch(users, k, filterSeen, exclude, include, threads, cancel, onProgress) -> Promise of
// batchToJs: the argument parsing and job of every model's batch method; `compute` runs on the worker.
using BatchCompute = std::function<BatchResult(std::span<const int32_t> users, int32_t k, const RecommendFilter& filter,
                                               int threads, Control& control)>;
Napi::Value runRecommendBatch(const Napi::CallbackInfo& info, BatchCompute compute);

// { items: Int32Array, scores: Float32Array } of a ranked list, and of a batch (k per user, -1 padded).
Napi::Object scoredToJs(Napi::Env env, const std::vector<Scored>& best);
Napi::Object batchToJs(Napi::Env env, BatchResult&& result);

// Runs compute() on a libuv worker (which hands the parallel parts to the compute pool) and settles a
// Promise with finish() on the JS thread. Arguments in keepAlive stay referenced until then.
// cancelFlag: an Int32Array(1) the caller sets to non-zero to cancel; onProgress: (fraction) => void.
// onEvent (optional): (step, value) => void, fed by Control::event.
Napi::Value runJob(const Napi::CallbackInfo& info, std::vector<Napi::Value> keepAlive, const Napi::Value& cancelFlag,
                   const Napi::Value& onProgress, std::function<void(Control&)> compute,
                   std::function<Napi::Value(Napi::Env)> finish, const Napi::Value& onEvent = Napi::Value());

}  // namespace affinity::glue
