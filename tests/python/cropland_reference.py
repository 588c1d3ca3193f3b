"""An independent cropland tile builder: for each tile of the store, the Landsat 8 median of the
year (gdal.Warp nearest onto the tile's UTM grid, pixel_qa bits 3/4/5 masked, reflectance x 0.0001
clamped to [0, 1]) and the dense mask (the CDL warped with nearest, codes 1-61, 66-77, 204-254 are
cropland), compared with the store; the weak labels checked against the stored mask.

usage: cropland_reference.py SYNTH_DIR STORE.h5 YEAR
Prints one line per tile and exits 1 on any difference.
"""
import glob
import os
import re
import sys
import warnings

import h5py
import numpy as np
from osgeo import gdal

gdal.UseExceptions()
FILES = ["sr_band1", "sr_band2", "sr_band3", "sr_band4", "sr_band5", "sr_band6", "sr_band7"]  # Landsat 8 C1 SR


def warp(path, epsg, box, dtype=gdal.GDT_Float64):
    ds = gdal.Warp("", path, format="MEM", outputBounds=box, width=50, height=50, dstSRS=f"EPSG:{epsg}",
                   resampleAlg="near", outputType=dtype, dstNodata=np.nan)
    return ds.GetRasterBand(1).ReadAsArray()


def cropland(code):
    return ((code >= 1) & (code <= 61)) | ((code >= 66) & (code <= 77)) | ((code >= 204) & (code <= 254))


def main():
    root, store, year = sys.argv[1], sys.argv[2], sys.argv[3]
    cdl = os.path.join(root, "cdl", "2017_30m_cdls.tif")
    scenes = [d for d in sorted(glob.glob(os.path.join(root, "landsat", "LC08_*")))
              if re.search(r"_\d{6}_(\d{4})\d{4}_", os.path.basename(d)).group(1) == year]
    bad = 0
    with h5py.File(store, "r") as f:
        for i, tid in enumerate(x.decode() for x in f["meta/id"][:]):
            epsg, left, top = tid.split("_")
            left, top = float(left), float(top)
            box = (left, top - 1500, left + 1500, top)
            stacks = [[] for _ in FILES]
            for d in scenes:
                name = os.path.basename(d)
                q = np.nan_to_num(warp(os.path.join(d, name + "_pixel_qa.tif"), epsg, box), nan=0).astype(np.int64)
                masked = ((q >> 3) & 1) | ((q >> 4) & 1) | ((q >> 5) & 1)
                for b, band in enumerate(FILES):
                    raw = warp(os.path.join(d, f"{name}_{band}.tif"), epsg, box)
                    raw[raw < 0] = np.nan
                    v = np.clip(raw * 0.0001, 0, 1).astype(np.float32)
                    v[masked == 1] = np.nan
                    stacks[b].append(v)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                want = np.stack([np.nanmedian(np.stack(s).astype(np.float64), axis=0).astype(np.float32)
                                 for s in stacks])
            mask = cropland(warp(cdl, epsg, box)).astype(np.uint8)
            got_x, got_mask = f["inputs/x"][i], f["targets/mask"][i]
            r, c = int(f["meta/point_row"][i]), int(f["meta/point_col"][i])
            problems = []
            if not np.array_equal(want, got_x):
                problems.append(f"x differs at {int((want != got_x).sum())} values")
            if not np.array_equal(mask, got_mask):
                problems.append(f"mask differs at {int((mask != got_mask).sum())} pixels")
            if f["targets/point_label"][i] != mask[r, c]:
                problems.append("point_label is not the mask at (point_row, point_col)")
            if f["targets/image_label"][i] != int(mask.mean() >= 0.5):
                problems.append("image_label is not the majority")
            print(tid, f["meta/split"][i], f"cropland {mask.mean():.3f}", "; ".join(problems) or "ok")
            bad += bool(problems)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
