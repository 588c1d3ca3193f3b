#!/usr/bin/env bash
# README quick start 2: install what sbench needs, build it, and run every test: in the normal
# build, in the AddressSanitizer + UBSan build, and in a build without the GDAL and LibTorch parts.
# Fails when any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${SBENCH_JOBS:-2}
bash scripts/setup.sh
bash scripts/fetch-testdata.sh
bash scripts/build.sh release
(cd build && ctest -j "$jobs" --output-on-failure)
if [ "${SBENCH_SKIP_ASAN:-0}" != 1 ]; then
  bash scripts/build.sh asan
  (cd build-asan && ctest -j "$jobs" --output-on-failure)
fi
if [ "${SBENCH_SKIP_MINIMAL:-0}" != 1 ]; then
  bash scripts/build.sh minimal
  (cd build-minimal && ctest -j "$jobs" --output-on-failure)
fi
