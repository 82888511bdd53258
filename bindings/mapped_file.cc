// mapFile: a file as an ArrayBuffer without copying (mmap, copy-on-write so a stray write in JS never
// reaches the file or faults), plus the structural checks a loaded model needs before native code
// indexes with its arrays.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "../native/core/crc32.h"
#include "../native/core/sparse.h"
#include "glue.h"

#if defined(_WIN32)
#include <fstream>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace affinity::glue {
namespace {

Napi::Value mapFileJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = stringArg(info[0], "path");
#if defined(_WIN32)
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw makeError(env, code::kIo, "cannot open " + path);
  std::vector<uint8_t> bytes(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  auto arr = toTypedArray(env, std::move(bytes)).As<Napi::TypedArray>();
  return arr.ArrayBuffer();
#else
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, on the JS thread.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw makeError(env, code::kIo, "cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw makeError(env, code::kIo, path + " is not a regular file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return Napi::ArrayBuffer::New(env, 0);
  }
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (data == MAP_FAILED) throw makeError(env, code::kIo, "cannot map " + path + ": " + std::strerror(errno));
  struct Mapping {
    void* data;
    size_t size;
  };
  auto* mapping = new Mapping{data, size};
  napi_value buffer;
  napi_status status = napi_create_external_arraybuffer(
      env, data, size,
      [](napi_env, void*, void* hint) {
        auto* m = static_cast<Mapping*>(hint);
        ::munmap(m->data, m->size);
        delete m;
      },
      mapping, &buffer);
  if (status != napi_ok) {
    // No external buffers here (memory cage): copy once instead.
    auto copy = Napi::ArrayBuffer::New(env, size);
    std::memcpy(copy.Data(), data, size);
    ::munmap(data, size);
    delete mapping;
    return copy;
  }
  return Napi::ArrayBuffer(env, buffer);
#endif
}

// verifyCsr(csr, sortedRows, cancel, onProgress) -> Promise<void>: shape, monotone indptr, indices in
// range, finite data; with sortedRows, each row's columns strictly increasing (interaction matrices).
Napi::Value verifyCsrJs(const Napi::CallbackInfo& info) {
  CsrView m = csrArg(info[0], "csr");
  const bool sortedRows = boolArg(info[1], "sortedRows");
  return runJob(
      info, {info[0]}, info[2], info[3], [m, sortedRows](Control&) { sortedRows ? validateCanonicalCsr(m) : validateCsr(m); },
      [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

// verifyFinite(array: Float32Array, what, maxAbs = Infinity) -> Promise<void>: every value finite and
// within ±maxAbs (factors beyond that overflow dot products into NaN scores).
Napi::Value verifyFiniteJs(const Napi::CallbackInfo& info) {
  auto values = typedArray<float>(info[0], "array");
  std::string what = stringArg(info[1], "what");
  const double maxAbs = info[2].IsUndefined() ? HUGE_VAL : numberArg(info[2], "maxAbs");
  return runJob(
      info, {info[0]}, info.Env().Null(), info.Env().Null(),
      [values, what, maxAbs](Control&) {
        for (size_t i = 0; i < values.size(); ++i)
          if (!std::isfinite(values[i]) || std::abs(values[i]) > maxAbs)
            fail(code::kBadInput, what + "[" + std::to_string(i) + "] is not a finite number within ±" + std::to_string(maxAbs));
      },
      [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

// crc32(bytes: Uint8Array, previous = 0) -> Promise<number>: the zlib CRC-32 (chainable like zlib.crc32),
// computed on a worker thread.
Napi::Value crc32Js(const Napi::CallbackInfo& info) {
  auto bytes = typedArray<uint8_t>(info[0], "bytes");
  const uint32_t previous = info[1].IsUndefined() ? 0u : static_cast<uint32_t>(numberArg(info[1], "previous"));
  auto result = std::make_shared<uint32_t>(0);
  return runJob(
      info, {info[0]}, info.Env().Null(), info.Env().Null(),
      [bytes, previous, result](Control&) { *result = crc32(bytes.data(), bytes.size(), previous); },
      [result](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *result); });
}

}  // namespace

void initFiles(Napi::Env env, Napi::Object exports) {
  exports.Set("mapFile", fn<mapFileJs>(env, "mapFile"));
  exports.Set("verifyCsr", fn<verifyCsrJs>(env, "verifyCsr"));
  exports.Set("verifyFinite", fn<verifyFiniteJs>(env, "verifyFinite"));
  exports.Set("crc32", fn<crc32Js>(env, "crc32"));
}

}  // namespace affinity::glue
