#!/usr/bin/env bash
# Crop-yield histograms: sbench's kernel against numpy.histogram per band and step (the release's
# method), same data, one run. docs/benchmarks.md has the figures.
# usage: bench/hist_bench.sh [region-years (200)] [pixels per region (4000)]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
px=${2:-4000}
py=/usr/bin/python3
dir=${SBENCH_BENCH_DIR:-/tmp/sbench-hist-bench}
$py bench/hist_numpy.py make "$dir" "$n" "$px"
read -r one many threads < <(./build/bench/sbench_bench_hist "$dir")
nprate=$($py bench/hist_numpy.py time "$dir")
check=$($py bench/hist_numpy.py compare "$dir")
printf 'crop-yield histograms: %s region-years x 32 steps x 9 bands x %s pixels (32 bins) + NDVI\n' "$n" "$px"
printf '%-36s %16s %10s\n' method region-years/s "sbench x"
printf '%-36s %16.2f\n' "numpy.histogram per band and step" "$nprate"
printf '%-36s %16.2f %10.1f\n' "sbench, 1 thread" "$one" "$(echo "$one / $nprate" | bc -l)"
printf '%-36s %16.2f %10.1f\n' "sbench, $threads threads" "$many" "$(echo "$many / $nprate" | bc -l)"
printf 'check: %s\n' "$check"
