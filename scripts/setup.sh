#!/usr/bin/env bash
# Installs every Debian 12 package sbench needs to build, test and benchmark.
# Non-interactive and idempotent: packages already installed are left alone, and
# apt-get is not called at all when nothing is missing. Run as root (or with sudo).
set -euo pipefail

packages=(
  # build tools
  build-essential cmake ninja-build pkg-config git clang-format
  # core
  libfmt-dev libspdlog-dev nlohmann-json3-dev libcli11-dev libzip-dev zlib1g-dev
  # raster and store components
  libgdal-dev gdal-bin libproj-dev proj-bin libtbb-dev libhdf5-dev hdf5-tools
  # NASA's HDF-EOS libraries: MODIS (HDF4) and Black Marble (HDF5) files for sbench synth and the tests
  libhdfeos-dev libhe5-hdfeos-dev libhdf4-alt-dev
  # learn component: LibTorch (CPU); its distributed headers need gloo, and without
  # the pthread OpenBLAS its matrix products fall back to a slow reference BLAS
  libtorch-dev libgloo-dev libopenblas0-pthread
  # tests
  libgtest-dev libgmock-dev
  # independent references used by tests and benchmarks (only under /usr/bin/python3)
  python3 python3-numpy python3-scipy python3-h5py python3-sklearn python3-gdal python3-pil
  python3-torch
  # the HTML report's test renders it in a headless browser
  chromium
)
# The report's chart libraries come from npm at build time. A Node.js from elsewhere (NodeSource)
# already brings npm and conflicts with Debian's package: ask for Debian's only when there is none.
if ! command -v npm > /dev/null 2>&1; then
  packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
