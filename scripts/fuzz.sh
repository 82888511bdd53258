#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, under ASan and UBSan) of the native parsers: the CSV reader and the
# checks a model file's matrices go through before native code indexes with them. Each target runs for
# SECONDS (default 60) from its seed corpus in native/fuzz/corpus/<target>; new inputs go to a scratch
# directory, so the repository's corpus only changes by hand. Needs clang and libclang-rt-14-dev.
# Usage: bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cxx=$(command -v clang++ || command -v clang++-14 || true)
if [ -z "$cxx" ]; then
  echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
cmake -S . -B build-fuzz -DAFFINITY_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build build-fuzz -j 2 >/dev/null
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for bin in build-fuzz/*_fuzz; do
  name=$(basename "$bin" _fuzz)
  mkdir -p "$scratch/$name"
  echo "fuzz: $name for ${seconds} s"
  # -rss_limit_mb guards the 2-core CI machine; findings are written into the scratch dir and fail the run.
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -artifact_prefix="$scratch/$name-" -print_final_stats=1 "$scratch/$name" "native/fuzz/corpus/$name" 2>&1 |
    grep -E "^#[0-9]+ *DONE|stat::number_of_executed_units|ERROR|SUMMARY|==[0-9]+==" || true
  if ls "$scratch/$name-"* >/dev/null 2>&1; then
    echo "fuzz: $name found a failing input:" >&2
    for f in "$scratch/$name-"*; do echo "  $f: $(xxd -p "$f" | head -c 400)" >&2; done
    exit 1
  fi
done
