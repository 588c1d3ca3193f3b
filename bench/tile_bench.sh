#!/usr/bin/env bash
# Tile cutting: sbench tile --points against a gdalwarp loop and a gdal.Warp loop in Python, on the
# same synthetic mosaic (bench/tile_mosaic.py), in one run. docs/benchmarks.md has the figures.
# usage: bench/tile_bench.sh [N tiles for sbench and Python (1000)] [K tiles for the gdalwarp loop (N)]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
k=${2:-$n}
py=/usr/bin/python3
dir=${SBENCH_BENCH_DIR:-/tmp/sbench-tile-bench}
sb=./build/sbench
$py bench/tile_mosaic.py make "$dir" "$n"
scenes=()
for s in s32a s32b s33a s33b; do scenes+=(--scene "$dir/$s.tif"); done
run_ours() {  # threads
  rm -f "$dir/ours.h5"
  local t0 t1
  t0=$(date +%s.%N)
  $sb -q tile "${scenes[@]}" --points "$dir/points.csv" --size 255 --res 30 --crs EPSG:3857 --resampling bilinear \
    --threads "$1" --out "$dir/ours.h5" > /dev/null
  t1=$(date +%s.%N)
  echo "$n / ($t1 - $t0)" | bc -l
}
# Warm-up: page cache and first touch for everyone.
$sb -q tile "${scenes[@]}" --points "$dir/points.csv" --size 255 --res 30 --crs EPSG:3857 --threads 2 --out "$dir/ours.h5" > /dev/null
$py bench/tile_mosaic.py python "$dir" 50 > /dev/null
ours1=$(run_ours 1)
ours2=$(run_ours 2)
pyrate=$($py bench/tile_mosaic.py python "$dir" "$n")
gwrate=$($py bench/tile_mosaic.py gdalwarp "$dir" "$k")
check=$($py bench/tile_mosaic.py compare "$dir" 200 "$dir/ours.h5")
printf 'cutting 255 x 255 x 8 tiles at 30 m in EPSG:3857 from 4 UTM scenes (32N, 33N)\n'
printf '%-40s %10s %10s\n' method tiles/s "sbench x"
printf '%-40s %10.2f %10.1f\n' "gdalwarp command per tile ($k tiles)" "$gwrate" "$(echo "$ours2 / $gwrate" | bc -l)"
printf '%-40s %10.2f %10.1f\n' "Python gdal.Warp to MEM per tile ($n)" "$pyrate" "$(echo "$ours2 / $pyrate" | bc -l)"
printf '%-40s %10.2f\n' "sbench tile --points, 1 thread ($n)" "$ours1"
printf '%-40s %10.2f %10.2f\n' "sbench tile --points, 2 threads ($n)" "$ours2" "$(echo "$ours2 / $ours1" | bc -l)"
printf 'check: %s\n' "$check"
rm -f "$dir/ours.h5"
