#!/usr/bin/env bash
# Cross-compiles the native core and its tests for arm64 (armv8-a baseline, NEON kernels) and runs every
# suite under qemu user emulation: the NEON kernels against the scalar reference, without arm64 hardware.
# Needs g++-aarch64-linux-gnu and qemu-user (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-arm64
mkdir -p "$out"
sources=$(python3 - <<'PY'
import re
s = open('sources.gypi').read()
m = re.search(r"'affinity_core_sources': \[([^]]*)\]", s)
print(' '.join(re.findall(r"'([^']+)'", m.group(1))))
PY
)
aarch64-linux-gnu-g++ -std=c++20 -O2 -march=armv8-a -ffp-contract=off -Wall -Wextra -static -pthread \
  $sources native/tests/*.cc -o "$out/affinity_native_tests"
for suite in $(qemu-aarch64 "$out/affinity_native_tests" --list); do
  printf '%-11s ' "$suite"
  qemu-aarch64 "$out/affinity_native_tests" "$suite" | tail -n 1
done
