#!/usr/bin/env bash
# Crop-yield region-years prepared per second from raw MODIS HDF4 files (`sbench synth crop_yield`:
# Iowa counties of about 16 x 17 km, 32 MOD09A1 + 32 MYD11A2 composites per season and the
# MCD12Q1 years), with 1 and 2 threads, after a warm-up run; wall time and peak resident memory from
# /usr/bin/time. docs/benchmarks.md has the figures.
# usage: bench/crop_yield_prepare.sh [counties (18; two harvest years each)]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-18}
sb=./build/sbench
dir=${SBENCH_BENCH_DIR:-/tmp/sbench-crop-yield-bench}
rm -rf "$dir" && mkdir -p "$dir"
$sb -q synth crop_yield --out "$dir/syn" --n "$n" --seed 3 > /dev/null
run() {  # threads out -> "seconds peak_kib"
  /usr/bin/time -f '%e %M' -o "$dir/time.txt" $sb -q prepare crop_yield --labels "$dir/syn/yields.csv" \
    --imagery "$dir/syn/modis" --region "$dir/syn/counties.geojson" --threads "$1" --out "$2" > /dev/null
  cat "$dir/time.txt"
}
run 2 "$dir/warm.h5" > /dev/null
echo "crop_yield prepare: $n counties x 2 seasons, MODIS HDF4 (MOD09A1, MYD11A2, MCD12Q1)"
printf '%-12s %14s %16s %14s\n' run region-years region-years/s "peak RSS MiB"
for t in 1 2; do
  read -r s kib < <(run "$t" "$dir/t$t.h5")
  awk -v t="$t" -v n="$((2 * n))" -v s="$s" -v k="$kib" \
    'BEGIN { printf "%d thread(s) %14d %16.2f %14.1f\n", t, n, n / s, k / 1024 }'
done
