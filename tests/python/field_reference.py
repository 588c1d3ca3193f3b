"""An independent check of a field-delineation store made by `sbench prepare field_delineation`
from `sbench synth field_delineation`: per tile (224 x 224 px of 10 m centred on its parcel's
centroid snapped to 10 m), the Sentinel-2 RGB median of the year (gdal.Warp nearest, SCL classes
0, 1, 3, 8, 9, 10, 11 masked) bytescaled as scipy.misc.imsave did (numpy float32), and the masks
from the parcel rings in numpy: a pixel is boundary when its centre lies within 10 m of a parcel
edge, filled when it lies inside a parcel and is no boundary.

usage: field_reference.py SYNTH_DIR STORE.h5
Prints one line per tile and exits 1 on a difference (masks may differ on 0.5% of the pixels,
where GEOS's buffer approximates the round caps).
"""
import glob
import json
import os
import re
import sys
import warnings

import h5py
import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()


def warp(path, epsg, box):
    ds = gdal.Warp("", path, format="MEM", outputBounds=box, width=224, height=224, dstSRS=f"EPSG:{epsg}",
                   resampleAlg="near", outputType=gdal.GDT_Float64, srcNodata=0, dstNodata=np.nan)
    return ds.GetRasterBand(1).ReadAsArray()


def seg_dist(px, py, a, b):
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = np.clip(((px - a[0]) * dx + (py - a[1]) * dy) / (dx * dx + dy * dy), 0, 1)
    return np.hypot(px - a[0] - t * dx, py - a[1] - t * dy)


def inside(px, py, ring):
    odd = np.zeros(px.shape, bool)
    for k in range(len(ring) - 1):
        (x1, y1), (x2, y2) = ring[k], ring[k + 1]
        cross = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xint = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        odd ^= cross & (px < xint)
    return odd


def main():
    root, store = sys.argv[1], sys.argv[2]
    f = h5py.File(store, "r")
    settings = json.loads(f.attrs["prepare_settings"])
    epsg = int(settings["crs"].split(":")[1])
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(epsg)
    utm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    source = ogr.Open(glob.glob(os.path.join(root, "parcels", "*.gpkg"))[0])
    layer = source.GetLayer(0)
    parcels = {}
    for feat in layer:
        g = feat.GetGeometryRef().Clone()
        g.TransformTo(utm)
        parcels[feat.GetField("ID_PARCEL")] = g
    rings = {k: np.array(g.GetGeometryRef(0).GetPoints())[:, :2] for k, g in parcels.items()}
    scenes = []
    for scl in sorted(glob.glob(os.path.join(root, "sentinel2", "*", "IMG_DATA", "R20m", "*_SCL_20m.jp2"))):
        stamp = re.search(r"(T\d{2}[A-Z]{3}_(\d{4})\d{4}T\d{6})_SCL", scl)
        if stamp.group(2) == str(settings["year"]):
            scenes.append((os.path.dirname(os.path.dirname(scl)), stamp.group(1), scl))
    bad = 0
    for i, tid in enumerate(x.decode() for x in f["meta/id"][:]):
        c = parcels[tid[len("parcel_"):]].Centroid()
        cx, cy = round(c.GetX() / 10) * 10, round(c.GetY() / 10) * 10
        box = (cx - 1120, cy - 1120, cx + 1120, cy + 1120)
        planes = [[], [], []]
        for d, st, scl in scenes:
            s = warp(scl, epsg, box)
            masked = np.isnan(s) | np.isin(s, [1, 3, 8, 9, 10, 11])
            for k, code in enumerate(("B04", "B03", "B02")):
                v = (warp(os.path.join(d, "R10m", f"{st}_{code}_10m.jp2"), epsg, box) * 0.0001).astype(np.float32)
                v[masked] = np.nan
                planes[k].append(v)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rgb = np.stack([np.nanmedian(np.stack(p).astype(np.float64), axis=0).astype(np.float32) for p in planes])
        cmin, cmax = rgb.min(), rgb.max()
        scale = float(255) / (cmax - cmin)
        want_x = (((rgb - cmin) * scale).clip(0, 255) + 0.5).astype(np.uint8)
        xs = cx - 1120 + (np.arange(224) + 0.5) * 10
        ys = cy + 1120 - (np.arange(224) + 0.5) * 10
        px, py = np.meshgrid(xs, ys)
        edge = np.zeros(px.shape, bool)
        filled = np.zeros(px.shape, bool)
        for key, ring in rings.items():
            if ring[:, 0].max() < box[0] - 20 or ring[:, 0].min() > box[2] + 20 or \
               ring[:, 1].max() < box[1] - 20 or ring[:, 1].min() > box[3] + 20:
                continue
            for k in range(len(ring) - 1):
                edge |= seg_dist(px, py, ring[k], ring[k + 1]) < 10
            filled |= inside(px, py, ring)
        filled &= ~edge
        got_x, got_m, got_f = f["inputs/x"][i], f["targets/mask"][i], f["targets/mask_filled"][i]
        dx = int((want_x != got_x).sum())
        dm, df = float((edge != got_m).mean()), float((filled != got_f).mean())
        ok = dx == 0 and dm <= 0.005 and df <= 0.005 and not (got_m & got_f).any()
        print(f"{tid} x_differing {dx} mask_differing {dm:.4f} filled_differing {df:.4f} "
              f"boundary {got_m.mean():.3f} {'ok' if ok else 'DIFFERENT'}")
        bad += not ok
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
