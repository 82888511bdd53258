// Chooses the kernel set once at load from the CPU (or AFFINITY_SIMD), and lets tests switch it.
#pragma once
#include <string>
#include <vector>

#include "dense.h"
#include "scan.h"

namespace affinity {

enum class SimdLevel { Scalar, Avx2, Avx512, Neon };

struct KernelTable {
  SimdLevel level;
  ScanFn scanRatio;
  ScanFn scanJaccard;
  DotFn dot;
  AxpyFn axpy;
  DotRowsFn dotRows;
  GatherDotFn gatherDot;
  GatherAxpyFn gatherAxpy;
  GatherDotAxpyFn gatherDotAxpy;
  ScoreTileFn scoreTile;
  DotChainFn dotChain;
  GramUpdateFn gramUpdate;
  GemmTnFn gemmTN;
};

struct CpuFeatures {
  std::string arch;                   // "x64", "arm64" or "other"
  std::vector<std::string> features;  // e.g. "avx2", "fma", "avx512f", "neon"
  std::vector<SimdLevel> levels;      // levels this CPU can run, scalar first
};

const CpuFeatures& cpuFeatures();
const KernelTable& activeKernels();  // the active table
SimdLevel simdLevel();

// Switches the active table. Throws ERR_AFFINITY_SIMD_UNAVAILABLE for a level the CPU lacks and
// ERR_AFFINITY_BAD_INPUT for an unknown name. Not meant to race with running jobs (tests, start-up).
void setSimdLevel(const std::string& name);

// Applies AFFINITY_SIMD if set (same errors as setSimdLevel); otherwise keeps the best level.
void applySimdEnvironment();

const char* simdLevelName(SimdLevel level);

}  // namespace affinity
