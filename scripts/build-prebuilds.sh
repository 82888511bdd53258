#!/usr/bin/env bash
# Prebuilt binaries for the package (prebuildify, N-API so one per platform): linux-x64 here, and
# linux-arm64 cross-compiled when g++-aarch64-linux-gnu is installed. No musl build: Debian's musl-tools
# has a C compiler only, no C++ standard library, so Alpine users build from source on install.
set -euo pipefail
cd "$(dirname "$0")/.."
npx prebuildify --napi --strip --tag-libc
if command -v aarch64-linux-gnu-g++ >/dev/null 2>&1; then
  CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
    PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip npx prebuildify --napi --strip --tag-libc --arch arm64
  # build/ now holds arm64 objects: a later incremental x64 build must not link them.
  rm -rf build
else
  echo "build-prebuilds: no aarch64-linux-gnu-g++, so no linux-arm64 prebuild"
fi
ls -l prebuilds/*/
