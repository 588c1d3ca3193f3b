#!/usr/bin/env bash
# Street-level images decoded and resized per second: `sbench street import` (GDAL's JPEG driver,
# centred square, averaged to 256 x 256, written into the store) with 1 and 2 threads, against PIL
# in Python on the same files (open, convert to RGB, centre crop, resize with BOX to 256; 1 process
# and a pool of 2; plain, and with PIL's draft mode, which decodes at a reduced DCT scale as GDAL
# does), in one run after the files are read once. Images of 1365 x 1024 (Mapillary's
# short side of 1024), quality 90. docs/benchmarks.md has the figures.
# usage: bench/street_decode.sh [images (400)]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-400}
sb=./build/sbench
dir=${SBENCH_BENCH_DIR:-/tmp/sbench-street-bench}
rm -rf "$dir" && mkdir -p "$dir"
$sb -q synth poverty --out "$dir/dhs" --n 6 --seed 1 > /dev/null
$sb -q prepare poverty --labels "$dir/dhs/dhs_final_labels.csv" --imagery "$dir/dhs/landsat" "$dir/dhs/nightlights" \
  --out "$dir/dhs.h5" > /dev/null
/usr/bin/python3 - "$dir" "$n" <<'PY'
import os, sys
import h5py, numpy as np
from PIL import Image
root, n = sys.argv[1], int(sys.argv[2])
with h5py.File(os.path.join(root, "dhs.h5")) as f:
    ids = [x.decode() for x in f["meta/id"][:]]
    lat, lon, year = f["meta/lat"][:], f["meta/lon"][:], f["meta/year"][:]
rng = np.random.default_rng(0)
rows = {}
y, x = np.mgrid[0:1024, 0:1365]
for i in range(n):
    k = i % len(ids)
    cc = ids[k][:2]
    d = os.path.join(root, "mapillary", "imagery", cc, ids[k])
    os.makedirs(d, exist_ok=True)
    base = np.stack([x * 255 / 1365, y * 255 / 1024, np.full(x.shape, 40 + 30 * (i % 7))], -1)
    img = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(os.path.join(d, f"{5000000 + i}.jpeg"), quality=90)
    rows.setdefault(cc, []).append(f"{5000000 + i},0,{int(year[k])},{lat[k]:.6f},{lon[k]:.6f}")
os.makedirs(os.path.join(root, "mapillary", "metadata"), exist_ok=True)
for cc, r in rows.items():
    open(os.path.join(root, "mapillary", "metadata", f"{cc}.csv"), "w").write("id,timestamp,year,lat,lon\n" + "\n".join(r) + "\n")
PY
find "$dir/mapillary" -name '*.jpeg' -exec cat {} + > /dev/null
ours() {  # threads -> seconds
  rm -f "$dir/out.h5"
  /usr/bin/time -f '%e %M' -o "$dir/time.txt" $sb -q street import --store "$dir/dhs.h5" --out "$dir/out.h5" \
    --from "$dir/mapillary" --size 256 --threads "$1" > /dev/null
  cat "$dir/time.txt"
}
ours 2 > /dev/null
echo "street images: $n JPEGs of 1365 x 1024 (quality 90) -> 256 x 256"
printf '%-28s %12s %14s\n' run images/s "peak RSS MiB"
for t in 1 2; do
  read -r s kib < <(ours "$t")
  awk -v t="$t" -v n="$n" -v s="$s" -v k="$kib" \
    'BEGIN { printf "sbench street import, %d thr %12.1f %14.1f\n", t, n / s, k / 1024 }'
done
/usr/bin/python3 - "$dir" <<'PY'
import glob, os, sys, time
from multiprocessing import Pool
from PIL import Image
files = sorted(glob.glob(os.path.join(sys.argv[1], "mapillary", "imagery", "*", "*", "*.jpeg")))
def one(path):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    s = min(w, h)
    l, t = (w - s) // 2, (h - s) // 2
    return img.crop((l, t, l + s, t + s)).resize((256, 256), Image.BOX).tobytes()[:1]
def drafted(path):
    # libjpeg's DCT scaling first (PIL's draft mode: the smallest scale still >= 256 on the short side).
    img = Image.open(path)
    img.draft("RGB", (img.size[0] * 256 // min(img.size), 256))
    return one_image(img.convert("RGB"))
def one_image(img):
    w, h = img.size
    s = min(w, h)
    l, t = (w - s) // 2, (h - s) // 2
    return img.crop((l, t, l + s, t + s)).resize((256, 256), Image.BOX).tobytes()[:1]
for name, fn in (("PIL decode + crop + BOX", one), ("PIL draft + crop + BOX", drafted)):
    for procs in (1, 2):
        t0 = time.perf_counter()
        if procs == 1:
            for f in files:
                fn(f)
        else:
            with Pool(procs) as p:
                p.map(fn, files, chunksize=8)
        dt = time.perf_counter() - t0
        print(f"{name}, {procs} proc {len(files) / dt:12.1f}")
PY
