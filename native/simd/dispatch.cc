#include "dispatch.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "../core/error.h"

namespace affinity {
namespace {

#define AFFINITY_TABLE(level, ns) \
  KernelTable{level, kernels::ns::scanRatio, kernels::ns::scanJaccard, kernels::ns::dot, kernels::ns::axpy, kernels::ns::dotRows, \
              kernels::ns::gatherDot, kernels::ns::gatherAxpy, kernels::ns::gatherDotAxpy, kernels::ns::scoreTile, kernels::ns::dotChain, \
              kernels::ns::gramUpdate, kernels::ns::gemmTN}

const KernelTable* tableFor(SimdLevel level) {
  static const KernelTable scalar = AFFINITY_TABLE(SimdLevel::Scalar, scalar);
#if defined(__x86_64__) || defined(_M_X64)
  static const KernelTable avx2 = AFFINITY_TABLE(SimdLevel::Avx2, avx2);
  static const KernelTable avx512 = AFFINITY_TABLE(SimdLevel::Avx512, avx512);
  if (level == SimdLevel::Avx2) return &avx2;
  if (level == SimdLevel::Avx512) return &avx512;
#endif
#if defined(__aarch64__)
  // NEON has its own scan, dot, axpy and dotRows; gathers and score tiles use the plain loops for now.
  static const KernelTable neon{SimdLevel::Neon,       kernels::neon::scanRatio,   kernels::neon::scanJaccard,
                                kernels::neon::dot,     kernels::neon::axpy,        kernels::neon::dotRows,
                                kernels::scalar::gatherDot, kernels::scalar::gatherAxpy, kernels::scalar::gatherDotAxpy, kernels::scalar::scoreTile,
                                kernels::scalar::dotChain, kernels::scalar::gramUpdate, kernels::scalar::gemmTN};
  if (level == SimdLevel::Neon) return &neon;
#endif
  return &scalar;
}

CpuFeatures detect() {
  CpuFeatures f;
  f.levels.push_back(SimdLevel::Scalar);
#if defined(__x86_64__) || defined(_M_X64)
  f.arch = "x64";
  __builtin_cpu_init();
  // libgcc's checks include the OS (XGETBV) saving the wider registers.
  bool avx2 = __builtin_cpu_supports("avx2"), fma = __builtin_cpu_supports("fma");
  bool avx512f = __builtin_cpu_supports("avx512f");
  if (__builtin_cpu_supports("sse4.2")) f.features.push_back("sse4.2");
  if (avx2) f.features.push_back("avx2");
  if (fma) f.features.push_back("fma");
  if (avx512f) f.features.push_back("avx512f");
  if (avx2 && fma) f.levels.push_back(SimdLevel::Avx2);
  if (avx2 && fma && avx512f) f.levels.push_back(SimdLevel::Avx512);
#elif defined(__aarch64__)
  f.arch = "arm64";
  f.features.push_back("neon");
  f.levels.push_back(SimdLevel::Neon);
#else
  f.arch = "other";
#endif
  return f;
}

std::atomic<const KernelTable*>& active() {
  static std::atomic<const KernelTable*> table{tableFor(cpuFeatures().levels.back())};
  return table;
}

}  // namespace

const char* simdLevelName(SimdLevel level) {
  switch (level) {
    case SimdLevel::Scalar: return "scalar";
    case SimdLevel::Avx2: return "avx2";
    case SimdLevel::Avx512: return "avx512";
    case SimdLevel::Neon: return "neon";
  }
  return "scalar";
}

const CpuFeatures& cpuFeatures() {
  static const CpuFeatures features = detect();
  return features;
}

const KernelTable& activeKernels() { return *active().load(std::memory_order_acquire); }

SimdLevel simdLevel() { return activeKernels().level; }

void setSimdLevel(const std::string& name) {
  const auto& levels = cpuFeatures().levels;
  for (SimdLevel level : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512, SimdLevel::Neon}) {
    if (name != simdLevelName(level)) continue;
    if (std::find(levels.begin(), levels.end(), level) == levels.end())
      fail(code::kSimdUnavailable, "SIMD level '" + name + "' is not supported by this CPU");
    active().store(tableFor(level), std::memory_order_release);
    return;
  }
  fail(code::kBadInput, "unknown SIMD level '" + name + "' (expected scalar, avx2, avx512 or neon)");
}

void applySimdEnvironment() {
  const char* forced = std::getenv("AFFINITY_SIMD");
  if (forced != nullptr && *forced != '\0') setSimdLevel(forced);
}

}  // namespace affinity
