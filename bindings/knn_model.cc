// KnnModel: the two matrices of a neighbourhood model, parsed once and kept referenced, so a
// recommend() call costs only the scoring.
#include <napi.h>

#include <limits>
#include <memory>

#include "../native/core/knn.h"
#include "glue.h"

namespace affinity::glue {
namespace {

class KnnModelWrap : public Wrap<KnnModelWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "KnnModel",
                       {method<&KnnModelWrap::recommend>("recommend"), method<&KnnModelWrap::score>("score"),
                        method<&KnnModelWrap::recommendBatch>("recommendBatch")});
  }

  // new KnnModel(first, second, seen): CSR objects; see native/core/knn.h for their roles.
  explicit KnnModelWrap(const Napi::CallbackInfo& info) : Wrap<KnnModelWrap>(info) {
    guard(info, [&] {
      model_ = TwoHop{csrArg(info[0], "first"), csrArg(info[1], "second"), csrArg(info[2], "seen")};
      if (model_.first.cols != model_.second.rows || model_.seen.rows != model_.first.rows || model_.seen.cols != model_.second.cols)
        throw makeError(info.Env(), code::kDimMismatch, "model matrices do not fit together");
      for (size_t i = 0; i < 3; ++i) keep_.push_back(Napi::Persistent(info[i].As<Napi::Object>()));
      return info.Env().Undefined();
    });
  }

 private:
  // recommend(user, k, filterSeen, exclude|null, include|null) -> { items, scores }
  Napi::Value recommend(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      int32_t user = int32Arg(info[0], "user", 0, kMaxDim);
      int32_t k = int32Arg(info[1], "k", 0, kMaxDim);
      return scoredToJs(info.Env(), affinity::recommend(model_, user, k, filterArg(info, 2)));
    });
  }

  // score(user, items: Int32Array) -> Float32Array
  Napi::Value score(const Napi::CallbackInfo& info) {
    return guard(info, [&]() -> Napi::Value {
      int32_t user = int32Arg(info[0], "user", 0, kMaxDim);
      return toTypedArray(info.Env(), scoreItems(model_, user, typedArray<int32_t>(info[1], "items")));
    });
  }

  // recommendBatch(users, k, filterSeen, exclude|null, include|null, threads, cancel, onProgress) -> Promise
  Napi::Value recommendBatch(const Napi::CallbackInfo& info) {
    TwoHop model = model_;
    return runRecommendBatch(info, [model](auto users, int32_t k, const RecommendFilter& filter, int threads, Control& control) {
      return affinity::recommendBatch(model, users, k, filter, threads, control);
    });
  }

  TwoHop model_;
  std::vector<Napi::ObjectReference> keep_;  // the typed arrays model_ points into
};

}  // namespace

Napi::Function initKnnModel(Napi::Env env) { return KnnModelWrap::define(env); }

}  // namespace affinity::glue
