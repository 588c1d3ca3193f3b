"""An independent DHS tile builder: the tile of each given cluster computed from the synthetic raw
inputs with GDAL's warper (gdal.Warp, nearest) and numpy, following SUSTAINBENCH.md section 5
(window of three calendar years, pixel_qa bits 3/4/5, reflectance x 0.0001 clamped to [0, 1],
thermal x 0.1, per-pixel median, DMSP of the survey year with its inter-calibration or the median
of the monthly VIIRS composites, masked pixels 0, row 0 at the south), compared with the store.

usage: dhs_prepare_reference.py SYNTH_DIR STORE.h5 ID...          (DHS clusters, inputs/x)
       dhs_prepare_reference.py SYNTH_DIR STORE.h5 --lsms ID...   (poverty_change pairs: x_before, x_after)
Prints one line per tile (max abs difference, differing pixels) and exits 1 on a difference.
"""
import csv
import glob
import os
import re
import sys

import h5py
import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

# SUSTAINBENCH.md section 5 (SB:ee_utils.py): image, first year, last year, bias, slope.
DMSP = [("F12_19960316-19970212", 1996, 1997, 4.336, 0.915), ("F12_19990119-19991211", 1998, 1999, 1.423, 0.780),
        ("F12-F15_20000103-20001229", 2000, 2001, 3.658, 0.710), ("F14-F15_20021230-20031127", 2002, 2003, 3.736, 0.797),
        ("F14_20040118-20041216", 2004, 2004, 1.062, 0.761), ("F16_20051128-20061224", 2005, 2008, 0.0, 1.0),
        ("F16_20100111-20101209", 2009, 2010, 2.196, 1.195), ("F16_20100111-20110731", 2011, 2011, -1.987, 1.246)]
# Collection 1 SR band files: L5/L7 B1,B2,B3,B5,B7,B6(bt),B4 and L8 B2,B3,B4,B6,B7,B10(bt),B5 in the
# release's order BLUE, GREEN, RED, SWIR1, SWIR2, TEMP1, NIR.
FILES = {"LT05": ["sr_band1", "sr_band2", "sr_band3", "sr_band5", "sr_band7", "bt_band6", "sr_band4"],
         "LE07": ["sr_band1", "sr_band2", "sr_band3", "sr_band5", "sr_band7", "bt_band6", "sr_band4"],
         "LC08": ["sr_band2", "sr_band3", "sr_band4", "sr_band6", "sr_band7", "bt_band10", "sr_band5"]}
SIZE, RES = 255, 30.0


def bounds(lon, lat):
    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(4326)
    dst.ImportFromEPSG(3857)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    x, y, _ = osr.CoordinateTransformation(src, dst).TransformPoint(lon, lat)
    h = SIZE * RES / 2
    return (x - h, y - h, x + h, y + h)


def warp(path, box):
    ds = gdal.Warp("", path, format="MEM", outputBounds=box, width=SIZE, height=SIZE, dstSRS="EPSG:3857",
                   resampleAlg="near", outputType=gdal.GDT_Float64, dstNodata=np.nan)
    return ds.GetRasterBand(1).ReadAsArray()


def expected(root, lon, lat, year, nl_dir):
    box = bounds(lon, lat)
    start, end = f"{year - 1}0101", f"{year + 1}1231"
    stacks = [[] for _ in range(7)]
    for d in sorted(glob.glob(os.path.join(root, "landsat", "*"))):
        name = os.path.basename(d)
        date = re.match(r"^\w{4}_L1T[PS]_\d{6}_(\d{8})_", name).group(1)
        if not (start <= date <= end):
            continue
        qa = warp(os.path.join(d, name + "_pixel_qa.tif"), box)
        q = np.nan_to_num(qa, nan=0).astype(np.int64)
        masked = ((q >> 3) & 1) | ((q >> 4) & 1) | ((q >> 5) & 1)
        for b, f in enumerate(FILES[name[:4]]):
            raw = warp(os.path.join(d, f"{name}_{f}.tif"), box)
            if f.startswith("bt"):
                v = (raw * 0.1).astype(np.float32)
            else:
                raw[raw < 0] = np.nan
                v = np.clip(raw * 0.0001, 0, 1).astype(np.float32)
            v[masked == 1] = np.nan
            stacks[b].append(v)
    if not stacks[0]:
        return None
    with np.errstate(all="ignore"):
        import warnings
        warnings.simplefilter("ignore")
        planes = [np.nanmedian(np.stack(s).astype(np.float64), axis=0).astype(np.float32) for s in stacks]
        lights = []
        if year <= 2011:
            image, _, _, bias, slope = next(c for c in DMSP if c[1] <= year <= c[2])
            for p in glob.glob(os.path.join(root, "nightlights", nl_dir, image + "*.avg_vis.tif")):
                lights.append(np.clip(warp(p, box) * slope + bias, 0, 1e9).astype(np.float32))
            nl = lights[0]
        else:
            for p in sorted(glob.glob(os.path.join(root, "nightlights", nl_dir, "SVDNB_npp_*.avg_rade9h.tif"))):
                first = re.search(r"SVDNB_npp_(\d{8})-", p).group(1)
                if start <= first <= end:
                    lights.append(np.clip(warp(p, box), 0, 1e9).astype(np.float32))
            nl = np.nanmedian(np.stack(lights).astype(np.float64), axis=0).astype(np.float32)
    x = np.stack(planes + [nl])
    return np.nan_to_num(x, nan=0.0)[:, ::-1, :]


def compare(name, want, got):
    diff = np.abs(want.astype(np.float64) - got)
    tol = 1e-6 * np.maximum(1, np.abs(want))
    n = int((diff > tol).sum())
    print(f"{name} max_abs_diff {diff.max():.3g} differing {n} nonzero_light {(want[7] > 0).mean():.3f}")
    return n > 0


def main():
    root, store = sys.argv[1], sys.argv[2]
    lsms = sys.argv[3] == "--lsms"
    ids = sys.argv[4:] if lsms else sys.argv[3:]
    bad = 0
    with h5py.File(store, "r") as f:
        stored = [i.decode() for i in f["meta/id"][:]]
        if not lsms:
            rows = {r["DHSID_EA"]: r for r in csv.DictReader(open(os.path.join(root, "dhs_final_labels.csv")))}
            for cid in ids:
                r = rows[cid]
                want = expected(root, float(r["lon"]), float(r["lat"]), int(r["year"]), cid[:7])
                bad += compare(cid, want, f["inputs/x"][stored.index(cid)])
        else:
            coords = {(r["country"], r["ea_id"], r["year"]): r
                      for r in csv.DictReader(open(os.path.join(root, "asset_infrstructure_indicies_lsms.csv")))}
            for pid in ids:
                country, ea, yx, yy = pid.split("-")
                c = coords[(country, ea, yx)]  # both tiles at the first year's coordinates
                for field, year in (("x_before", yx), ("x_after", yy)):
                    want = expected(root, float(c["lon"]), float(c["lat"]), int(year), f"{country}_{year}")
                    bad += compare(f"{pid} {field}", want, f["inputs/" + field][stored.index(pid)])
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
