"""An independent land_cover_rep tile builder: every 60 m tile of the grid anchored on the first NAIP
image (by name) that lies inside one image, its 100 x 100 x 4 pixels read from that image, and its
label the most common CDL code (gdal.Warp nearest onto the tile's 0.6 m grid; 0 ignored, ties to the
lower code); compared with the store's grid tiles, and the store must hold every such tile (or
report it).

usage: land_cover_rep_reference.py SYNTH_DIR STORE.h5
Prints a summary and exits 1 on any difference.
"""
import glob
import json
import os
import sys

import h5py
import numpy as np
from osgeo import gdal

gdal.UseExceptions()
STEP = 60.0


def main():
    root, store = sys.argv[1], sys.argv[2]
    images = sorted(glob.glob(os.path.join(root, "naip", "*.tif")))
    cdl = glob.glob(os.path.join(root, "cdl", "*.tif"))[0]
    info = []
    for path in images:
        ds = gdal.Open(path)
        gt = ds.GetGeoTransform()
        info.append((path, gt, ds.RasterXSize, ds.RasterYSize, ds.GetProjection()))
    ox, oy = info[0][1][0], info[0][1][3]
    wkt = info[0][4]
    # Every tile inside one image, keyed by (row, column).
    expected = {}
    for path, gt, w, h, _ in info:
        x0, x1, y1, y0 = gt[0], gt[0] + w * gt[1], gt[3], gt[3] + h * gt[5]
        for r in range(int(np.ceil((oy - y1) / STEP - 1e-9)), int(np.floor((oy - y0) / STEP + 1e-9))):
            for c in range(int(np.ceil((x0 - ox) / STEP - 1e-9)), int(np.floor((x1 - ox) / STEP + 1e-9))):
                expected.setdefault((r, c), (path, gt))
    bad = 0
    with h5py.File(store, "r") as f:
        ids = [x.decode() for x in f["meta/id"][:]]
        report = json.loads(f.attrs["prepare_report"])
        reported = sum(report["counts"].get(k, 0) for k in ("no_label", "missing_pixels", "no_record"))
        x = f["inputs/x"]
        labels = f["targets/land_cover"][:]
        seen = 0
        for i, tid in enumerate(ids):
            if not tid.startswith("tile_"):
                continue
            r, c = (int(v) for v in tid[len("tile_"):].split("_"))
            if (r, c) not in expected:
                print(f"{tid}: not a tile of the grid inside an image")
                bad += 1
                continue
            seen += 1
            path, gt = expected[(r, c)]
            tx0, ty1 = ox + c * STEP, oy - r * STEP
            col, row = int(round((tx0 - gt[0]) / gt[1])), int(round((gt[3] - ty1) / -gt[5]))
            want = gdal.Open(path).ReadAsArray(col, row, 100, 100)
            if not np.array_equal(want, x[i]):
                print(f"{tid}: pixels differ from {os.path.basename(path)} at ({col}, {row}): "
                      f"{int(np.sum(want != x[i]))} values")
                bad += 1
            ds = gdal.Warp("", cdl, format="MEM", outputBounds=(tx0, ty1 - STEP, tx0 + STEP, ty1), width=100,
                           height=100, dstSRS=wkt, resampleAlg="near")
            codes = ds.GetRasterBand(1).ReadAsArray().ravel()
            counts = np.bincount(codes[codes > 0], minlength=256)
            if labels[i] != int(np.argmax(counts)):
                print(f"{tid}: label {labels[i]}, the CDL's mode is {int(np.argmax(counts))}")
                bad += 1
    if seen + reported != len(expected):
        print(f"the store has {seen} grid tiles and reports {reported}; the images hold {len(expected)}")
        bad += 1
    print(f"{seen} tiles checked against the images and the CDL, {bad} differences")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
