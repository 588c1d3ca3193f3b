#!/usr/bin/env bash
# DHS clusters prepared per second from synthetic raw scenes (`sbench synth poverty`), with 1 and 2
# threads, and peak resident memory for 200 and for 2,000 clusters (it must not grow with the
# number of clusters: prepare streams). docs/benchmarks.md has the figures.
# usage: bench/prepare_bench.sh [clusters of the rate runs (200)] [clusters of the big run (2000)]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
big=${2:-2000}
py=/usr/bin/python3
sb=./build/sbench
dir=${SBENCH_BENCH_DIR:-/tmp/sbench-prepare-bench}
rm -rf "$dir" && mkdir -p "$dir"
# Ten clusters per survey of imagery; the label files repeat those clusters with new ids, moved by up
# to 1 km, so every tile is cut afresh from the same scenes.
$sb -q synth poverty --out "$dir/syn" --n 60 --seed 1 > /dev/null
labels() {
  $py - "$dir/syn/dhs_final_labels.csv" "$1" "$2" <<'PY'
import csv, random, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["lat"] != "0" and r["asset_index"] != "NA"]
rows = rows[:60]
rng = random.Random(5)
with open(sys.argv[3], "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    w.writeheader()
    for i in range(int(sys.argv[2])):
        r = dict(rows[i % len(rows)])
        r["DHSID_EA"] = f"{r['DHSID_EA'][:10]}-{i + 1:08d}"
        r["lat"] = f"{float(r['lat']) + rng.uniform(-0.009, 0.009):.6f}"
        r["lon"] = f"{float(r['lon']) + rng.uniform(-0.009, 0.009):.6f}"
        w.writerow(r)
PY
}
labels 20 "$dir/warm.csv"
labels "$n" "$dir/small.csv"
labels "$big" "$dir/big.csv"
run() {  # labels threads out -> "seconds peak_kib"
  /usr/bin/time -f '%e %M' -o "$dir/time.txt" $sb -q prepare poverty --labels "$1" --imagery "$dir/syn/landsat" \
    "$dir/syn/nightlights" --threads "$2" --out "$3" > /dev/null
  cat "$dir/time.txt"
}
run "$dir/warm.csv" 2 "$dir/warm.h5" > /dev/null  # page cache, GDAL drivers
read -r t1 m1 < <(run "$dir/small.csv" 1 "$dir/s1.h5")
read -r t2 m2 < <(run "$dir/small.csv" 2 "$dir/s2.h5")
rm -f "$dir"/s1.h5
read -r tb mb < <(run "$dir/big.csv" 2 "$dir/big.h5")
printf 'DHS prepare: 8 x 255 x 255 tiles, 3-4 Landsat scenes (median) + DMSP or 36 monthly VIIRS per cluster\n'
printf '%-28s %10s %14s %14s\n' run clusters clusters/s "peak RSS MiB"
printf '%-28s %10d %14.2f %14.1f\n' "1 thread" "$n" "$(echo "$n / $t1" | bc -l)" "$(echo "$m1 / 1024" | bc -l)"
printf '%-28s %10d %14.2f %14.1f\n' "2 threads" "$n" "$(echo "$n / $t2" | bc -l)" "$(echo "$m2 / 1024" | bc -l)"
printf '%-28s %10d %14.2f %14.1f\n' "2 threads" "$big" "$(echo "$big / $tb" | bc -l)" "$(echo "$mb / 1024" | bc -l)"
printf 'store sizes: %s\n' "$(du -h "$dir/s2.h5" "$dir/big.h5" | tr '\n' ' ')"
rm -rf "$dir"
