#include "glue.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <atomic>
#include <new>
#include <stdexcept>

namespace affinity::glue {

Napi::Error makeError(Napi::Env env, const std::string& code, const std::string& message) {
  auto* data = env.GetInstanceData<AddonData>();
  if (data != nullptr && !data->errorClass.IsEmpty()) {
    Napi::Object err = data->errorClass.New({Napi::String::New(env, message), Napi::String::New(env, code)});
    return Napi::Error(env, err);
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

namespace {
std::atomic<Fault> armedCall{Fault::None}, armedJob{Fault::None};
}

void armFault(FaultSite site, Fault fault) { (site == FaultSite::Call ? armedCall : armedJob).store(fault); }

void throwArmedFault(FaultSite site) {
  switch ((site == FaultSite::Call ? armedCall : armedJob).exchange(Fault::None)) {
    case Fault::None:
      return;
    case Fault::BadAlloc:
      throw std::bad_alloc();
    case Fault::CoreError:
      fail(code::kBadInput, "injected core error");
    case Fault::StdException:
      throw std::runtime_error("injected std::exception");
  }
}

Napi::Value guard(const Napi::CallbackInfo& info, const std::function<Napi::Value()>& fn) {
  try {
    throwArmedFault(FaultSite::Call);
    return fn();
  } catch (const Napi::Error&) {
    throw;  // already a JS error (TypeError from argument checks, or one of ours)
  } catch (const Error& e) {
    throw makeError(info.Env(), e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw makeError(info.Env(), code::kOutOfMemory, "out of memory");
  } catch (const std::exception& e) {
    throw makeError(info.Env(), code::kInternal, e.what());
  }
}

int32_t int32Arg(const Napi::Value& v, const char* what, int32_t min, int32_t max) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < min || d > max)
    throw Napi::RangeError::New(v.Env(), std::string(what) + " must be an integer in [" + std::to_string(min) + ", " +
                                             std::to_string(max) + "]");
  return static_cast<int32_t>(d);
}

double numberArg(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool boolArg(const Napi::Value& v, const char* what) {
  if (!v.IsBoolean()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string stringArg(const Napi::Value& v, const char* what) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

CsrView csrArg(const Napi::Value& v, const char* what) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a CSR object");
  Napi::Object o = v.As<Napi::Object>();
  CsrView m;
  m.rows = int32Arg(o.Get("rows"), "rows", 0, kMaxDim);
  m.cols = int32Arg(o.Get("cols"), "cols", 0, kMaxDim);
  m.indptr = typedArray<int32_t>(o.Get("indptr"), "indptr");
  m.indices = typedArray<int32_t>(o.Get("indices"), "indices");
  m.data = typedArray<float>(o.Get("data"), "data");
  m.timestamps = typedArray<double>(o.Get("timestamps"), "timestamps", true);
  if (m.indptr.size() != static_cast<size_t>(m.rows) + 1 || m.indices.size() != m.data.size() ||
      static_cast<size_t>(m.indptr[m.rows]) != m.indices.size() ||
      (!m.timestamps.empty() && m.timestamps.size() != m.indices.size()))
    throw makeError(v.Env(), code::kDimMismatch, std::string(what) + " has inconsistent array lengths");
  return m;
}

Napi::Object csrToJs(Napi::Env env, Csr&& m) {
  Napi::Object o = csrToJs(env, m.rows, m.cols, std::move(m.indptr), std::move(m.indices), std::move(m.data));
  if (!m.timestamps.empty()) o.Set("timestamps", toTypedArray(env, std::move(m.timestamps)));
  return o;
}

RecommendFilter filterArg(const Napi::CallbackInfo& info, size_t at) {
  RecommendFilter f;
  f.filterSeen = boolArg(info[at], "filterSeen");
  f.exclude = typedArray<int32_t>(info[at + 1], "exclude", true);
  // The candidates slot holds either an item list (Int32Array) or a bit per item (Uint32Array).
  const Napi::Value candidates = info[at + 2];
  if (candidates.IsTypedArray() && candidates.As<Napi::TypedArray>().TypedArrayType() == napi_uint32_array)
    f.allowed = typedArray<uint32_t>(candidates, "allowed");
  else
    f.include = typedArray<int32_t>(candidates, "include", true);
  return f;
}

Napi::Value runRecommendBatch(const Napi::CallbackInfo& info, BatchCompute compute) {
  auto users = typedArray<int32_t>(info[0], "users");
  int32_t k = int32Arg(info[1], "k", 0, kMaxDim);
  RecommendFilter filter = filterArg(info, 2);
  int threads = int32Arg(info[5], "threads", 0, 256);
  auto result = std::make_shared<BatchResult>();
  return runJob(
      info, {info.This(), info[0], info[3], info[4]}, info[6], info[7],
      [compute = std::move(compute), users, k, filter, threads, result](Control& control) {
        *result = compute(users, k, filter, threads, control);
      },
      [result](Napi::Env env) -> Napi::Value { return batchToJs(env, std::move(*result)); });
}

Napi::Object scoredToJs(Napi::Env env, const std::vector<Scored>& best) {
  std::vector<int32_t> items(best.size());
  std::vector<float> scores(best.size());
  for (size_t i = 0; i < best.size(); ++i) items[i] = best[i].index, scores[i] = best[i].score;
  Napi::Object o = Napi::Object::New(env);
  o.Set("items", toTypedArray(env, std::move(items)));
  o.Set("scores", toTypedArray(env, std::move(scores)));
  return o;
}

Napi::Object batchToJs(Napi::Env env, BatchResult&& result) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("items", toTypedArray(env, std::move(result.items)));
  o.Set("scores", toTypedArray(env, std::move(result.scores)));
  return o;
}

namespace {

// The Promise of a job, settled only once every progress and event call it queued has been delivered: the
// thread-safe functions drain their queues before their finalizers run, and the last finalizer (or the
// job's completion, if it comes last) settles. So no callback arrives after `await` returns.
struct Settlement {
  explicit Settlement(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise::Deferred deferred;
  Napi::ObjectReference outcome;  // [value]: a reference needs an object under N-API 9
  bool resolved = false, ready = false;
  int pendingCallbacks = 0;

  void settle(Napi::Env env, Napi::Value value, bool ok) {
    Napi::Array box = Napi::Array::New(env, 1);
    box.Set(0u, value);
    outcome = Napi::Persistent(box.As<Napi::Object>());
    resolved = ok;
    ready = true;
    settleIfDone(env);
  }
  void callbacksDone(Napi::Env env) {
    --pendingCallbacks;
    settleIfDone(env);
  }
  void settleIfDone(Napi::Env env) {
    if (!ready || pendingCallbacks > 0) return;
    Napi::HandleScope scope(env);
    Napi::Value value = outcome.Value().Get(0u);
    if (resolved)
      deferred.Resolve(value);
    else
      deferred.Reject(value);
    delete this;
  }
};

class Job : public Napi::AsyncWorker {
 public:
  Job(Napi::Env env, std::vector<Napi::Value> keepAlive, int32_t* cancelFlag, Napi::Function onProgress,
      Napi::Function onEvent, std::function<void(Control&)> compute, std::function<Napi::Value(Napi::Env)> finish)
      : Napi::AsyncWorker(env, "affinity"),
        settlement_(new Settlement(env)),
        compute_(std::move(compute)),
        finish_(std::move(finish)) {
    for (auto& v : keepAlive)
      if (v.IsObject()) keepAlive_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    Control::ProgressFn progress;
    if (!onProgress.IsEmpty()) {
      progress_ = Napi::ThreadSafeFunction::New(env, onProgress, "affinity-progress", 0, 1, settlement_,
                                                [](Napi::Env e, Settlement* s) { s->callbacksDone(e); });
      ++settlement_->pendingCallbacks;
      hasProgress_ = true;
      progress = [this](double fraction) {
        progress_.NonBlockingCall(new double(fraction), [](Napi::Env, Napi::Function fn, double* f) {
          double value = *f;
          delete f;
          if (!fn.IsEmpty()) fn.Call({Napi::Number::New(fn.Env(), value)});
        });
      };
    }
    Control::EventFn event;
    if (!onEvent.IsEmpty()) {
      events_ = Napi::ThreadSafeFunction::New(env, onEvent, "affinity-event", 0, 1, settlement_,
                                              [](Napi::Env e, Settlement* s) { s->callbacksDone(e); });
      ++settlement_->pendingCallbacks;
      hasEvents_ = true;
      event = [this](int32_t step, double value) {
        events_.NonBlockingCall(new std::pair<int32_t, double>(step, value),
                                [](Napi::Env env, Napi::Function fn, std::pair<int32_t, double>* e) {
                                  auto [s, v] = *e;
                                  delete e;
                                  if (!fn.IsEmpty()) fn.Call({Napi::Number::New(env, s), Napi::Number::New(env, v)});
                                });
      };
    }
    control_ = std::make_unique<Control>(cancelFlag, std::move(progress), std::move(event));
  }

  Napi::Promise promise() { return settlement_->deferred.Promise(); }

 protected:
  void Execute() override {
    try {
      throwArmedFault(FaultSite::Job);
      compute_(*control_);
    } catch (const Error& e) {
      code_ = e.code();
      SetError(e.what());
    } catch (const std::bad_alloc&) {
      code_ = code::kOutOfMemory;
      SetError("out of memory");
    } catch (const std::exception& e) {
      code_ = code::kInternal;
      SetError(e.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Settlement* s = settlement_;
    Napi::Value value;
    bool ok = true;
    try {
      value = finish_(env);
    } catch (const Napi::Error& e) {
      value = e.Value();
      ok = false;
    }
    releaseProgress();  // the finalizers may now run (after the queued calls), but not before settle below
    s->settle(env, value, ok);
  }

  void OnError(const Napi::Error& e) override {
    Napi::Env env = Env();
    Settlement* s = settlement_;
    Napi::Value error = makeError(env, code_, e.Message()).Value();
    releaseProgress();
    s->settle(env, error, false);
  }

 private:
  void releaseProgress() {
    if (hasProgress_) progress_.Release();
    if (hasEvents_) events_.Release();
    hasProgress_ = hasEvents_ = false;
  }

  Settlement* settlement_;  // owns itself: deleted once settled
  std::vector<Napi::ObjectReference> keepAlive_;
  Napi::ThreadSafeFunction progress_, events_;
  bool hasProgress_ = false, hasEvents_ = false;
  std::unique_ptr<Control> control_;
  std::function<void(Control&)> compute_;
  std::function<Napi::Value(Napi::Env)> finish_;
  std::string code_ = code::kInternal;
};

}  // namespace

Napi::Value runJob(const Napi::CallbackInfo& info, std::vector<Napi::Value> keepAlive, const Napi::Value& cancelFlag,
                   const Napi::Value& onProgress, std::function<void(Control&)> compute,
                   std::function<Napi::Value(Napi::Env)> finish, const Napi::Value& onEvent) {
  Napi::Env env = info.Env();
  int32_t* flag = nullptr;
  if (!cancelFlag.IsNull() && !cancelFlag.IsUndefined()) {
    auto span = typedArray<int32_t>(cancelFlag, "cancel flag");
    if (span.size() != 1) throw Napi::RangeError::New(env, "cancel flag must be an Int32Array of length 1");
    flag = span.data();
    keepAlive.push_back(cancelFlag);
  }
  Napi::Function progress;
  if (!onProgress.IsNull() && !onProgress.IsUndefined()) {
    if (!onProgress.IsFunction()) throw Napi::TypeError::New(env, "onProgress must be a function");
    progress = onProgress.As<Napi::Function>();
  }
  Napi::Function event;
  if (!onEvent.IsEmpty() && !onEvent.IsNull() && !onEvent.IsUndefined()) {
    if (!onEvent.IsFunction()) throw Napi::TypeError::New(env, "onIteration must be a function");
    event = onEvent.As<Napi::Function>();
  }
  auto* job = new Job(env, std::move(keepAlive), flag, progress, event, std::move(compute), std::move(finish));
  Napi::Promise promise = job->promise();
  job->Queue();
  return promise;
}

}  // namespace affinity::glue
