// A minimal test harness (no download needed): TEST registers, CHECK throws, main runs one suite.
#pragma once
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../core/error.h"
#include "../simd/dispatch.h"

namespace affinity::test {

struct Case {
  std::string suite, name;
  std::function<void()> fn;
};
std::vector<Case>& registry();

struct Register {
  Register(const char* suite, const char* name, std::function<void()> fn) { registry().push_back({suite, name, std::move(fn)}); }
};

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The kernel table of every SIMD level this CPU runs; leaves the best level active.
inline std::vector<KernelTable> everyLevel() {
  std::vector<KernelTable> out;
  for (SimdLevel level : cpuFeatures().levels) {
    setSimdLevel(simdLevelName(level));
    out.push_back(activeKernels());
  }
  setSimdLevel(simdLevelName(cpuFeatures().levels.back()));
  return out;
}

}  // namespace affinity::test

#define AFFINITY_CAT2(a, b) a##b
#define AFFINITY_CAT(a, b) AFFINITY_CAT2(a, b)
#define TEST(suite, name)                                                                              \
  static void suite##_##name();                                                                        \
  static ::affinity::test::Register AFFINITY_CAT(reg_, __LINE__)(#suite, #name, suite##_##name);       \
  static void suite##_##name()

#define CHECK(cond)                                                                                    \
  do {                                                                                                 \
    if (!(cond)) {                                                                                     \
      std::ostringstream os_;                                                                          \
      os_ << __FILE__ << ":" << __LINE__ << ": CHECK(" #cond ") failed";                               \
      throw ::affinity::test::Failure(os_.str());                                                      \
    }                                                                                                  \
  } while (0)

#define CHECK_THROWS_CODE(expr, errorCode)                                                             \
  do {                                                                                                 \
    bool thrown_ = false;                                                                              \
    try {                                                                                              \
      expr;                                                                                            \
    } catch (const ::affinity::Error& e_) {                                                            \
      thrown_ = e_.code() == std::string(errorCode);                                                   \
    }                                                                                                  \
    if (!thrown_) throw ::affinity::test::Failure(std::string(__FILE__) + ": expected " + errorCode);  \
  } while (0)
