"""Tile-cutting benchmark helper (docs/benchmarks.md, bench/tile_bench.sh).

  tile_mosaic.py make DIR N      writes 4 scenes (8-band UInt16, 2000 x 2000 px of 30 m, deflate,
                                 tiled) in UTM 32N and 33N next to the zone border near lat 48,
                                 and N points (points.csv, scene.csv) whose tiles each lie inside one scene
  tile_mosaic.py python DIR K    cuts the first K tiles with gdal.Warp to memory, one call per tile,
                                 reading each into numpy; prints tiles/s
  tile_mosaic.py gdalwarp DIR K  the same with a gdalwarp command per tile; prints tiles/s
  tile_mosaic.py compare DIR K   checks the first K tiles of sbench's HDF5 against gdal.Warp
"""
import csv
import os
import subprocess
import sys
import time

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()
SIZE, RES, CRS = 255, 30.0, "EPSG:3857"
SCENES = [("s32a.tif", 32632, 600000), ("s32b.tif", 32632, 660000), ("s33a.tif", 32633, 280000),
          ("s33b.tif", 32633, 340000)]
TOP, N_PX = 5300000.0, 2000


def make(d, n):
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:N_PX, 0:N_PX].astype(np.float32)
    for name, epsg, x0 in SCENES:
        path = os.path.join(d, name)
        if os.path.exists(path):
            continue
        ds = gdal.GetDriverByName("GTiff").Create(path, N_PX, N_PX, 8, gdal.GDT_UInt16,
                                                  ["TILED=YES", "COMPRESS=DEFLATE", "BLOCKXSIZE=256", "BLOCKYSIZE=256"])
        ds.SetGeoTransform((x0, RES, 0, TOP, 0, -RES))
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        ds.SetProjection(srs.ExportToWkt())
        for b in range(8):
            field = 2000 + 800 * np.sin(xx / (90 + 7 * b)) * np.cos(yy / (130 + 5 * b)) + 300 * b
            field += rng.normal(0, 40, field.shape).astype(np.float32)
            ds.GetRasterBand(b + 1).WriteArray(field.astype(np.uint16))
        ds = None
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    with open(os.path.join(d, "points.csv"), "w", newline="") as f, \
            open(os.path.join(d, "scene.csv"), "w", newline="") as g:
        w, s = csv.writer(f), csv.writer(g)
        w.writerow(["id", "lon", "lat"])
        for i in range(n):
            name, epsg, x0 = SCENES[i % 4]
            utm = osr.SpatialReference()
            utm.ImportFromEPSG(epsg)
            utm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            ct = osr.CoordinateTransformation(utm, wgs)
            margin = 6000  # metres: a 255 px tile of 30 web-mercator metres spans about 5.1 km here
            x = x0 + rng.uniform(margin, N_PX * RES - margin)
            y = TOP - rng.uniform(margin, N_PX * RES - margin)
            lon, lat, _ = ct.TransformPoint(x, y)
            w.writerow([f"p{i:05d}", f"{lon:.7f}", f"{lat:.7f}"])
            s.writerow([name])


def points(d, k):
    with open(os.path.join(d, "points.csv")) as f, open(os.path.join(d, "scene.csv")) as g:
        rows = list(csv.DictReader(f))[:k]
        scenes = [r[0] for r in csv.reader(g)][:k]
    merc = osr.SpatialReference()
    merc.ImportFromEPSG(3857)
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    for s in (merc, wgs):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(wgs, merc)
    out = []
    for r, scene in zip(rows, scenes):
        cx, cy, _ = ct.TransformPoint(float(r["lon"]), float(r["lat"]))
        half = SIZE * RES / 2
        out.append((r["id"], os.path.join(d, scene), (cx - half, cy - half, cx + half, cy + half)))
    return out


def warp(src, bounds):
    ds = gdal.Warp("", src, format="MEM", dstSRS=CRS, outputBounds=bounds, width=SIZE, height=SIZE,
                   resampleAlg="bilinear", outputType=gdal.GDT_Float32, dstNodata=float("nan"), errorThreshold=0.125)
    return ds.ReadAsArray()


def main():
    mode, d = sys.argv[1], sys.argv[2]
    if mode == "make":
        make(d, int(sys.argv[3]))
        return
    pts = points(d, int(sys.argv[3]))
    if mode == "python":
        warp(pts[0][1], pts[0][2])  # warm-up
        t = time.perf_counter()
        for _, src, b in pts:
            warp(src, b)
        print(f"{len(pts) / (time.perf_counter() - t):.2f}")
    elif mode == "gdalwarp":
        out = os.path.join(d, "gdalwarp_tile.tif")
        t = time.perf_counter()
        for _, src, b in pts:
            subprocess.run(["gdalwarp", "-q", "-overwrite", "-t_srs", CRS, "-te", *map(repr, b), "-ts", str(SIZE),
                            str(SIZE), "-r", "bilinear", "-ot", "Float32", "-dstnodata", "nan", "-et", "0.125", src,
                            out], check=True)
        print(f"{len(pts) / (time.perf_counter() - t):.2f}")
    elif mode == "compare":
        import h5py
        f = h5py.File(sys.argv[4], "r")
        worst, bad = 0.0, 0
        for i, (pid, src, b) in enumerate(pts):
            want, got = warp(src, b), f["tiles"][i]
            if not np.array_equal(np.isnan(want), np.isnan(got)):
                bad += 1
                continue
            worst = max(worst, float(np.nanmax(np.abs(want - got))))
        status = set(x.decode() if isinstance(x, bytes) else x for x in f["status"][:])
        print(f"{len(pts)} tiles compared: {bad} with different nodata, max |difference| {worst:g}; statuses {sorted(status)}")


if __name__ == "__main__":
    main()
