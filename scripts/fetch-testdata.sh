#!/usr/bin/env bash
# Real imagery for the raster tests, from Debian packages (no R needed): r-cran-satellite ships
# Landsat 5/7/8 scenes with MTL files, r-cran-stars a Landsat 7 GeoTIFF. Downloaded with
# apt-get download and unpacked with dpkg-deb -x into build-testdata/ (or $SBENCH_TESTDATA).
# Idempotent: does nothing when the files are there.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${SBENCH_TESTDATA:-$PWD/build-testdata}
marker="$dir/usr/lib/R/site-library/stars/tif/L7_ETMs.tif"
if [ -f "$marker" ] && [ -f "$dir/usr/lib/R/site-library/satellite/extdata/LC08_L1TP_195025_20130707_20170503_01_T1_MTL.txt" ]; then
  exit 0
fi
mkdir -p "$dir/debs"
(cd "$dir/debs" && apt-get download r-cran-satellite r-cran-stars > /dev/null)
for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir"; done
echo "fetch-testdata: Landsat test scenes in $dir"
