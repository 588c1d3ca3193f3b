#!/usr/bin/env bash
# Per-field Sentinel-2 series (crop_type_kenya: fields per second) and crop-type tiles
# (crop_type_africa: tiles per second) prepared from synthetic raw granules (`sbench synth`), with
# 1 and 2 threads after a warm-up run; wall time and peak resident memory from /usr/bin/time.
# docs/benchmarks.md has the figures.
# usage: bench/crop_type_prepare.sh [kenya fields (400)] [africa fields (120)]
set -euo pipefail
cd "$(dirname "$0")/.."
nk=${1:-400}
na=${2:-120}
sb=./build/sbench
dir=${SBENCH_BENCH_DIR:-/tmp/sbench-crop-type-bench}
rm -rf "$dir" && mkdir -p "$dir"
$sb -q synth crop_type_kenya --out "$dir/kenya" --n "$nk" --seed 3 > /dev/null
$sb -q synth crop_type_africa --out "$dir/africa" --n "$na" --seed 3 > /dev/null
kenya() {  # threads out -> "seconds peak_kib"
  /usr/bin/time -f '%e %M' -o "$dir/time.txt" $sb -q prepare crop_type_kenya --labels "$dir/kenya/fields.geojson" \
    --imagery "$dir/kenya/sentinel2" --threads "$1" --out "$2" > /dev/null
  cat "$dir/time.txt"
}
africa() {
  /usr/bin/time -f '%e %M' -o "$dir/time.txt" $sb -q prepare crop_type_africa --labels "$dir/africa/fields.geojson" \
    --imagery "$dir/africa/sentinel2" "$dir/africa/sentinel1" "$dir/africa/planetscope" --threads "$1" \
    --out "$2" > /dev/null
  cat "$dir/time.txt"
}
count() { /usr/bin/python3 -c "import h5py, sys; print(len(h5py.File(sys.argv[1])['meta/id']))" "$1"; }
kenya 2 "$dir/kwarm.h5" > /dev/null
africa 2 "$dir/awarm.h5" > /dev/null
granules=$(find "$dir/kenya/sentinel2" -name '*_B02.jp2' | wc -l)
echo "crop_type_kenya: $nk fields, $granules Sentinel-2 L1C granules (13 JPEG 2000 bands each)"
printf '%-12s %10s %12s %14s\n' run fields fields/s "peak RSS MiB"
fields=$(count "$dir/kwarm.h5")
for t in 1 2; do
  read -r s kib < <(kenya "$t" "$dir/k$t.h5")
  awk -v t="$t" -v n="$fields" -v s="$s" -v k="$kib" \
    'BEGIN { printf "%d thread(s) %10d %12.1f %14.1f\n", t, n, n / s, k / 1024 }'
done
tiles=$(count "$dir/awarm.h5")
echo "crop_type_africa: $na fields, $tiles tiles of 64 x 64 (S2 8 dates, S1 6, PlanetScope 4)"
printf '%-12s %10s %12s %14s\n' run tiles tiles/s "peak RSS MiB"
for t in 1 2; do
  read -r s kib < <(africa "$t" "$dir/a$t.h5")
  awk -v t="$t" -v n="$tiles" -v s="$s" -v k="$kib" \
    'BEGIN { printf "%d thread(s) %10d %12.1f %14.1f\n", t, n, n / s, k / 1024 }'
done
