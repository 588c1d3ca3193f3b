#!/usr/bin/env bash
# Configures and builds sbench. usage: scripts/build.sh [release|asan] (default release)
#   release: build/       optimized with debug info, warnings are errors
#   asan:    build-asan/  AddressSanitizer + UBSan, for the sanitizer run of the tests
# Extra CMake arguments can be passed in SBENCH_CMAKE_ARGS (e.g. -DSBENCH_WITH_TORCH=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
jobs=${SBENCH_JOBS:-2}  # LibTorch translation units need ~1.3 GB each: keep -j small
case "$kind" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DSBENCH_SANITIZE=ON) ;;
  minimal) dir=build-minimal; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSBENCH_WITH_GDAL=OFF -DSBENCH_WITH_TORCH=OFF) ;;
  *) echo "usage: $0 [release|asan|minimal]" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
cmake -S . -B "$dir" -G Ninja -DSBENCH_WERROR=ON "${args[@]}" ${SBENCH_CMAKE_ARGS:-}
cmake --build "$dir" -j "$jobs"
