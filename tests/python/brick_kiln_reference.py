"""An independent check of a brick-kiln store made by `sbench prepare brick_kiln` from
`sbench synth brick_kiln`: the Sentinel-2 scenes under 0.2% cloudy (SCL 8, 9, 10 over the pixels
with data) of 2018-10-01..2019-05-31 warped onto every tile (gdal.Warp, nearest) and averaged (13
channels: B1 B2 B3 B4 B5 B7 B8A B8 B11 B12 as DN, TCI R G B), the labels from the kiln points, the
8-neighbour rule, the offset copies, the region and the stratified split.

usage: brick_kiln_reference.py SYNTH_DIR STORE.h5
Prints a summary and exits 1 on any difference.
"""
import csv
import glob
import os
import re
import sys
from collections import Counter

import h5py
import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
CODES = ["B01_60m", "B02_10m", "B03_10m", "B04_10m", "B05_20m", "B07_20m", "B8A_20m", "B08_10m", "B11_20m",
         "B12_20m"]


def warp(path, epsg, box, band=1):
    ds = gdal.Warp("", path, format="MEM", outputBounds=box, width=64, height=64, dstSRS=f"EPSG:{epsg}",
                   resampleAlg="near", outputType=gdal.GDT_Float64, srcNodata=0, dstNodata=np.nan)
    return ds.GetRasterBand(band).ReadAsArray()


def main():
    root, store = sys.argv[1], sys.argv[2]
    scenes = []
    for scl in sorted(glob.glob(os.path.join(root, "sentinel2", "*", "IMG_DATA", "R20m", "*_SCL_20m.jp2"))):
        stamp = re.search(r"(T\d{2}[A-Z]{3}_(\d{8})T\d{6})_SCL", scl)
        if not ("20181001" <= stamp.group(2) <= "20190531"):
            continue
        s = gdal.Open(scl).ReadAsArray()
        if 100.0 * np.isin(s, [8, 9, 10]).sum() / (s != 0).sum() >= 0.2:
            continue
        scenes.append((os.path.dirname(os.path.dirname(scl)), stamp.group(1)))
    problems = []
    with h5py.File(store, "r") as f:
        ids = [i.decode() for i in f["meta/id"][:]]
        epsg = int(ids[0].split("_")[0])
        utm = osr.SpatialReference()
        utm.ImportFromEPSG(epsg)
        wgs = osr.SpatialReference()
        wgs.ImportFromEPSG(4326)
        for s in (utm, wgs):
            s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        to_utm = osr.CoordinateTransformation(wgs, utm)
        kilns = [to_utm.TransformPoint(float(r["lon"]), float(r["lat"]))[:2]
                 for r in csv.DictReader(open(os.path.join(root, "kilns.csv")))]
        source = ogr.Open(os.path.join(root, "region.geojson"))  # kept open while its geometry is used
        feature = source.GetLayer(0).GetNextFeature()
        region = feature.GetGeometryRef().Clone()
        region.AssignSpatialReference(wgs)
        region.TransformTo(utm)
        positive = {(int(np.floor(y / 640)), int(np.floor(x / 640))) for x, y in kilns}
        labels, splits, offsets = f["targets/label"][:], f["meta/split"][:], f["meta/offset"][:]
        base_of_positive = Counter()
        for i, tid in enumerate(ids):
            parts = tid.split("_")
            left, top, off = float(parts[1]), float(parts[2]), int(parts[3][1:]) if len(parts) > 3 else 0
            if off != offsets[i]:
                problems.append(f"{tid}: offset {offsets[i]}, the id says {off}")
            base_left = left - (200 if off in (1, 3) else 0)
            base_top = top + (200 if off in (2, 3) else 0)
            r, c = int(np.floor((base_top - 640) / 640)), int(np.floor(base_left / 640))
            want = int((r, c) in positive)
            if labels[i] != want:
                problems.append(f"{tid}: label {labels[i]}, kilns say {want}")
            if want == 0 and any((r + dr, c + dc) in positive for dr in (-1, 0, 1) for dc in (-1, 0, 1)):
                problems.append(f"{tid}: a negative next to a positive")
            ring = ogr.CreateGeometryFromWkt(
                f"POLYGON(({base_left} {base_top},{base_left + 640} {base_top},{base_left + 640} {base_top - 640},"
                f"{base_left} {base_top - 640},{base_left} {base_top}))")
            if not ring.Intersects(region):
                problems.append(f"{tid}: outside the region")
            if want:
                base_of_positive[(r, c)] += 1
            box = (left, top - 640, left + 640, top)
            planes = []
            for code in CODES:
                vals = [warp(glob.glob(os.path.join(d, "R*m", f"{st}_{code}.jp2"))[0], epsg, box) for d, st in scenes]
                planes.append(np.nanmean(np.stack([(v * 0.0001).astype(np.float32).astype(np.float64) for v in vals]),
                                         axis=0) * 10000)
            tci = [glob.glob(os.path.join(d, "R10m", f"{st}_TCI_10m.jp2"))[0] for d, st in scenes]
            for band in (1, 2, 3):
                planes.append(np.nanmean(np.stack([warp(p, epsg, box, band) for p in tci]), axis=0))
            want_x = np.nan_to_num(np.stack(planes), nan=0.0)
            diff = np.abs(want_x - f["inputs/x"][i])
            if diff.max() > 0.01:
                problems.append(f"{tid}: x differs by up to {diff.max():.4g} at {(diff > 0.01).sum()} values")
        # Every positive base tile has its four versions; the split is 80/10/10 within each class.
        if any(n != 4 for n in base_of_positive.values()):
            problems.append(f"positives without their 3 offset copies: {dict(base_of_positive)}")
        for lab in (0, 1):
            n = int((labels == lab).sum())
            got = Counter(int(s) for s in splits[labels == lab])
            train = n * 8 // 10
            want = {0: train, 1: (n - train) // 2, 2: n - train - (n - train) // 2}
            if any(got.get(k, 0) != v for k, v in want.items()):
                problems.append(f"class {lab}: split counts {dict(got)}, expected {want}")
    print(f"{len(ids)} tiles, {int(labels.sum())} positive, {len(scenes)} clear scenes; {len(problems)} problems")
    for p in problems[:20]:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
