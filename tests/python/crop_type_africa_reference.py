"""An independent crop_type_africa tile builder, compared with the store tile by tile: the truth
burnt with gdal.RasterizeLayer (pixel centres, each field with its crop code, yam = 0, the
smaller field where two overlap) onto the
tile's 64 x 64 grid of 10 m on multiples of 640 m; the Sentinel-2 bands read from the JPEG 2000
files at the tile's window (20 and 60 m bands repeated onto the 10 m pixels), as DN; Sentinel-1
VV and VH warped with gdal.Warp (bilinear) onto the tile, in dB, and RATIO = VH_dB / VV_dB;
PlanetScope warped with gdal.Warp (average) onto the tile. Every date of every file appears as a
step, in date order. The set of tiles must be the cells where a labelled field covers a pixel, and
tiles that share a field must share a split.

usage: crop_type_africa_reference.py SYNTH_DIR STORE.h5
Prints a summary and exits 1 on any difference.
"""
import glob
import json
import os
import re
import sys

import h5py
import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
S2 = ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"]
CODES = {"groundnut": 1, "maize": 2, "rice": 3, "soya bean": 4}
SIDE = 640.0


def tile_ds(c, r, wkt, bands=1, dtype=gdal.GDT_Byte):
    ds = gdal.GetDriverByName("MEM").Create("", 64, 64, bands, dtype)
    ds.SetGeoTransform((c * SIDE, 10, 0, (r + 1) * SIDE, 0, -10))
    ds.SetProjection(wkt)
    return ds


def main():
    root, store = sys.argv[1], sys.argv[2]
    s2 = {}
    for path in glob.glob(os.path.join(root, "sentinel2", "**", "*.jp2"), recursive=True):
        m = re.match(r"T\d{2}[A-Z]{3}_(\d{8})T\d{6}_(B\d[\dA])\.jp2$", os.path.basename(path))
        s2.setdefault(int(m.group(1)), {})[m.group(2)] = path
    s1 = {}
    for path in glob.glob(os.path.join(root, "sentinel1", "*.tiff")):
        m = re.match(r"s1a-iw-grd-(vv|vh)-(\d{8})t", os.path.basename(path))
        s1.setdefault(int(m.group(2)), {})[m.group(1)] = path
    planet = {int(os.path.basename(p)[:8]): p for p in glob.glob(os.path.join(root, "planetscope", "*.tif"))}
    ref = gdal.Open(s2[min(s2)]["B02"])
    wkt, gt = ref.GetProjection(), ref.GetGeoTransform()
    srs = osr.SpatialReference(wkt=wkt)
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src_ds = ogr.Open(os.path.join(root, "fields.geojson"))
    src = src_ds.GetLayer(0)
    mem = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = mem.CreateLayer("fields", srs=wgs84)
    layer.CreateField(ogr.FieldDefn("code", ogr.OFTInteger))
    to_utm = osr.CoordinateTransformation(wgs84, srs)
    cells = set()
    # Burnt from the largest field to the smallest, so that the smaller of two overlapping wins.
    features = []
    for feature in src:
        g = feature.GetGeometryRef().Clone()
        g.Transform(to_utm)
        features.append((-g.GetArea(), len(features), feature.GetField("crop"), feature.GetGeometryRef().Clone(), g))
    for _, _, crop, geometry, g in sorted(features):
        f = ogr.Feature(layer.GetLayerDefn())
        f.SetField("code", CODES.get(crop, 0))
        f.SetGeometry(geometry)
        layer.CreateFeature(f)
        x0, x1, y0, y1 = g.GetEnvelope()
        for r in range(int(np.floor(y0 / SIDE)), int(np.floor(y1 / SIDE)) + 1):
            for c in range(int(np.floor(x0 / SIDE)), int(np.floor(x1 / SIDE)) + 1):
                cells.add((r, c))
    expected = {}
    for r, c in cells:
        ds = tile_ds(c, r, wkt)
        gdal.RasterizeLayer(ds, [1], layer, options=["ATTRIBUTE=code"])
        truth = ds.GetRasterBand(1).ReadAsArray()
        if truth.any():
            expected[(r, c)] = truth
    # The kept cells each field covers a pixel centre of: cells sharing a field form a cluster.
    cluster = {rc: rc for rc in expected}

    def find(rc):
        while cluster[rc] != rc:
            rc = cluster[rc]
        return rc
    for feature in layer:
        one = ogr.GetDriverByName("Memory").CreateDataSource("")
        lyr = one.CreateLayer("one", srs=wgs84)
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetGeometry(feature.GetGeometryRef().Clone())
        lyr.CreateFeature(f)
        covered = []
        for rc in expected:
            ds = tile_ds(rc[1], rc[0], wkt)
            gdal.RasterizeLayer(ds, [1], lyr, burn_values=[1])
            if ds.GetRasterBand(1).ReadAsArray().any():
                covered.append(rc)
        for rc in covered[1:]:
            cluster[find(rc)] = find(covered[0])
    bad = checked = 0
    with h5py.File(store, "r") as f:
        ids = [x.decode() for x in f["meta/id"][:]]
        tiles = f["meta/tile"][:]
        if len(ids) != len(expected):
            print(f"the store has {len(ids)} tiles, the fields cover {len(expected)} cells")
            bad += 1
        # The store numbers tiles in grid order: rows from the north, columns from the west.
        order = sorted(expected, key=lambda rc: (-rc[0], rc[1]))
        want_ids = [f"ghana_{k:06d}" for k in range(len(order))]
        if ids != want_ids or tiles.tolist() != list(range(len(order))):
            print(f"ids {ids} and tile numbers {tiles.tolist()}, expected {want_ids} in grid order")
            bad += 1
        for i, tid in enumerate(ids):
            r, c = order[tiles[i]]
            if not np.array_equal(f["targets/truth"][i], expected[(r, c)]):
                print(f"{tid}: truth differs in {int(np.sum(f['targets/truth'][i] != expected[(r, c)]))} pixels")
                bad += 1
            # Sentinel-2: the window of the tile in each band file.
            dates = f["inputs/s2_dates"][i]
            if dates[: len(s2)].tolist() != sorted(s2) or np.any(dates[len(s2):]):
                print(f"{tid}: s2 dates {dates[:len(s2) + 1].tolist()}, expected {sorted(s2)}")
                bad += 1
            x = f["inputs/s2"][i]
            col0, row0 = int(round((c * SIDE - gt[0]) / 10)), int(round((gt[3] - (r + 1) * SIDE) / 10))
            for k, d in enumerate(sorted(s2)):
                for b, name in enumerate(S2):
                    a = gdal.Open(s2[d][name]).ReadAsArray()
                    fct = int(round(gdal.Open(s2[d][name]).GetGeoTransform()[1] / 10))
                    rows = np.arange(row0, row0 + 64)
                    cols = np.arange(col0, col0 + 64)
                    want = np.zeros((64, 64), np.int64)
                    rr, cc = rows // fct, cols // fct
                    okr = (rows >= 0) & (rr < a.shape[0])
                    okc = (cols >= 0) & (cc < a.shape[1])
                    want[np.ix_(okr, okc)] = a[np.ix_(rr[okr], cc[okc])]
                    if not np.array_equal(want, x[b, k]):
                        print(f"{tid}: s2 {name} {d}: {int(np.sum(want != x[b, k]))} pixels differ")
                        bad += 1
            # Sentinel-1: gdal.Warp bilinear, then dB; interior pixels (GDAL's edge handling aside).
            if f["inputs/s1_dates"][i][: len(s1)].tolist() != sorted(s1):
                print(f"{tid}: s1 dates {f['inputs/s1_dates'][i][:len(s1)].tolist()}, expected {sorted(s1)}")
                bad += 1
            x1 = f["inputs/s1"][i]
            for k, d in enumerate(sorted(s1)):
                db = {}
                for pol in ("vv", "vh"):
                    w = gdal.Warp("", s1[d][pol], format="MEM", outputBounds=(c * SIDE, r * SIDE, (c + 1) * SIDE,
                                  (r + 1) * SIDE), width=64, height=64, dstSRS=wkt, resampleAlg="bilinear",
                                  dstNodata=np.nan, outputType=gdal.GDT_Float64)
                    db[pol] = 10 * np.log10(w.GetRasterBand(1).ReadAsArray())
                inner = np.isfinite(db["vv"]) & np.isfinite(db["vh"])
                inner[[0, -1], :] = inner[:, [0, -1]] = False
                for b, want in enumerate((db["vv"], db["vh"], db["vh"] / db["vv"])):
                    diff = np.abs(x1[b, k][inner] - want[inner])
                    if not inner.any() or diff.max() > 1e-3 * (1 + np.abs(want[inner]).max()):
                        print(f"{tid}: s1 band {b} {d}: max difference {diff.max() if inner.any() else 'no pixels'}")
                        bad += 1
            # PlanetScope: gdal.Warp average onto the tile, rounded.
            if f["inputs/planet_dates"][i][: len(planet)].tolist() != sorted(planet):
                print(f"{tid}: planet dates differ")
                bad += 1
            xp = f["inputs/planet"][i]
            for k, d in enumerate(sorted(planet)):
                w = gdal.Warp("", planet[d], format="MEM", outputBounds=(c * SIDE, r * SIDE, (c + 1) * SIDE,
                              (r + 1) * SIDE), width=64, height=64, dstSRS=wkt, resampleAlg="average",
                              srcNodata=0, dstNodata=0, outputType=gdal.GDT_Float64)
                want = np.rint(w.ReadAsArray())
                diff = np.abs(xp[:, k] - want)
                if diff.max() > 1:
                    print(f"{tid}: planet {d}: max difference {diff.max()}")
                    bad += 1
            # Options: NDVI and GCVI of the stored raw bands; PlanetScope at 3 m by gdal.Warp nearest.
            if "inputs/s2_indices" in f:
                for name, raw, g, r_, n_ in (("s2", x, 1, 2, 6), ("planet", xp, 1, 2, 3)):
                    idx = f[f"inputs/{name}_indices"][i]
                    steps = len(s2) if name == "s2" else len(planet)
                    gg, rr, nn = (raw[b, :steps].astype(np.float64) for b in (g, r_, n_))
                    data = (gg != 0) & (rr != 0) & (nn != 0)
                    with np.errstate(divide="ignore", invalid="ignore"):
                        ndvi = np.where(data & (nn + rr != 0), (nn - rr) / (nn + rr), np.nan)
                        gcvi = np.where(data, nn / gg - 1, np.nan)
                    for got, want in ((idx[0, :steps], ndvi), (idx[1, :steps], gcvi)):
                        if not np.allclose(got, want, rtol=1e-6, atol=1e-6, equal_nan=True) or np.any(idx[:, steps:]):
                            print(f"{tid}: {name} indices differ from the formulas")
                            bad += 1
            if "inputs/planet_native" in f:
                xn = f["inputs/planet_native"][i]
                cx, cy = (c + 0.5) * SIDE, (r + 0.5) * SIDE
                for k, d in enumerate(sorted(planet)):
                    w = gdal.Warp("", planet[d], format="MEM", outputBounds=(cx - 318, cy - 318, cx + 318, cy + 318),
                                  width=212, height=212, dstSRS=wkt, resampleAlg="near", srcNodata=0, dstNodata=0)
                    if not np.array_equal(w.ReadAsArray(), xn[:, k]):
                        print(f"{tid}: planet_native {d}: {int(np.sum(w.ReadAsArray() != xn[:, k]))} values differ")
                        bad += 1
                if np.any(xn[:, len(planet):]):
                    print(f"{tid}: planet_native padding not 0")
                    bad += 1
            checked += 1
        split = f["meta/split"][:]
        by_cluster = {}
        for i in range(len(ids)):
            rc = order[tiles[i]]
            by_cluster.setdefault(find(rc), set()).add(int(split[i]))
        for root_rc, s in by_cluster.items():
            if len(s) > 1:
                print(f"the tiles of the cluster of cell {root_rc} are in splits {sorted(s)}")
                bad += 1
        shared = sum(1 for rc in expected if find(rc) != rc)
        if shared == 0:
            print("no two tiles share a field: the cluster check is empty")
            bad += 1
    print(json.dumps({"tiles": len(ids), "checked": checked, "tiles_in_shared_clusters": shared,
                      "clusters": len(by_cluster), "differences": bad}))
    sys.exit(1 if bad or checked == 0 else 0)


if __name__ == "__main__":
    main()
