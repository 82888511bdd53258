// CsvReader: the streaming interactions parser as a JS class. push() parses off the JS thread.
#include <napi.h>

#include <atomic>
#include <memory>

#include "../native/core/csv.h"
#include "glue.h"

namespace affinity::glue {
namespace {

CsvColumn columnArg(const Napi::Object& columns, const char* role) {
  Napi::Value v = columns.Get(role);
  CsvColumn c;
  if (v.IsUndefined() || v.IsNull()) return c;
  if (v.IsString())
    c.name = v.As<Napi::String>().Utf8Value();
  else
    c.index = int32Arg(v, role, 0, 1 << 20);
  return c;
}

class CsvReaderWrap : public Wrap<CsvReaderWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "CsvReader",
                       {method<&CsvReaderWrap::push>("push"), method<&CsvReaderWrap::finish>("finish")});
  }

  // new CsvReader({ delimiter, header, skipInvalid, columns: { user, item, value?, timestamp? } })
  explicit CsvReaderWrap(const Napi::CallbackInfo& info) : Wrap<CsvReaderWrap>(info) {
    guard(info, [&] {
      if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
      Napi::Object o = info[0].As<Napi::Object>();
      CsvOptions opts;
      std::string delimiter = stringArg(o.Get("delimiter"), "delimiter");
      if (delimiter.size() != 1) throw Napi::RangeError::New(info.Env(), "delimiter must be a single character");
      opts.delimiter = delimiter[0];
      opts.header = boolArg(o.Get("header"), "header");
      opts.skipInvalid = boolArg(o.Get("skipInvalid"), "skipInvalid");
      if (!o.Get("columns").IsObject()) throw Napi::TypeError::New(info.Env(), "columns must be an object");
      Napi::Object columns = o.Get("columns").As<Napi::Object>();
      opts.user = columnArg(columns, "user");
      opts.item = columnArg(columns, "item");
      opts.value = columnArg(columns, "value");
      opts.timestamp = columnArg(columns, "timestamp");
      reader_ = std::make_shared<CsvReader>(std::move(opts));
      return info.Env().Undefined();
    });
  }

 private:
  // push(chunk: Uint8Array) -> Promise<void>; one push at a time.
  Napi::Value push(const Napi::CallbackInfo& info) {
    auto bytes = typedArray<uint8_t>(info[0], "chunk");
    if (busy_->exchange(true)) throw makeError(info.Env(), code::kBadInput, "push() called before the previous push settled");
    auto reader = reader_;
    auto busy = busy_;
    return runJob(
        info, {info[0], info.This()}, info.Env().Null(), info.Env().Null(),
        [reader, bytes, busy](Control&) {
          struct Release {
            std::atomic<bool>& flag;
            ~Release() { flag = false; }
          } release{*busy};
          reader->push({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
        },
        [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
  }

  // finish() -> { rows, cols, values|null, timestamps|null, userIds, itemIds, skipped }
  Napi::Value finish(const Napi::CallbackInfo& info) {
    return guard(info, [&] {
      Napi::Env env = info.Env();
      if (*busy_) throw makeError(env, code::kBadInput, "finish() called while a push is running");
      reader_->finish();
      Napi::Object o = Napi::Object::New(env);
      o.Set("rows", toTypedArray(env, std::move(reader_->rows)));
      o.Set("cols", toTypedArray(env, std::move(reader_->cols)));
      o.Set("values", reader_->values.empty() ? env.Null() : toTypedArray(env, std::move(reader_->values)));
      o.Set("timestamps", reader_->timestamps.empty() ? env.Null() : toTypedArray(env, std::move(reader_->timestamps)));
      auto ids = [&](const IdMap& m) {
        Napi::Array a = Napi::Array::New(env, m.ids().size());
        for (size_t i = 0; i < m.ids().size(); ++i) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, m.ids()[i]));
        return a;
      };
      o.Set("userIds", ids(reader_->users));
      o.Set("itemIds", ids(reader_->items));
      o.Set("skipped", static_cast<double>(reader_->skipped));
      return o;
    });
  }

  std::shared_ptr<CsvReader> reader_;
  std::shared_ptr<std::atomic<bool>> busy_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace

Napi::Function initCsvReader(Napi::Env env) { return CsvReaderWrap::define(env); }

}  // namespace affinity::glue
