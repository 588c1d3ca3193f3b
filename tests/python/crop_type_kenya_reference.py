"""An independent per-field Sentinel-2 series for crop_type_kenya: each field polygon burnt with
gdal.RasterizeLayer (pixel centres) onto each granule's 10 m grid, each band file read whole with
GDAL and repeated onto the 10 m pixels (20 and 60 m bands), a pixel valid when no band is 0 (no
data), a day's granules taken in name order (the first valid one gives a pixel), a day observed
when at least half of the field's pixels are valid; the store's rows must be the means of those
pixels (rounded: within 0.5 DN), its GCVI row B08 / B03 - 1 of its own rows, its observed days
exactly these days; its class and region those of the file.

usage: crop_type_kenya_reference.py SYNTH_DIR STORE.h5 [YEAR]
Prints a summary and exits 1 on any difference.
"""
import datetime
import glob
import json
import os
import re
import sys

import h5py
import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
# The release's spellings, in the card's class order.
CROPS = ["Banana", "Beans", "Cassava", "Groundnut", "Maize", "Non-Crop", "Other", "Sugar Cane", "Sweet Potatoes"]
BANDS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]


def main():
    root, store = sys.argv[1], sys.argv[2]
    year = int(sys.argv[3]) if len(sys.argv) > 3 else 2017
    granules = {}
    for path in glob.glob(os.path.join(root, "sentinel2", "**", "*.jp2"), recursive=True):
        m = re.match(r"(T\d{2}[A-Z]{3}_(\d{8})T\d{6})_(B\d[\dA])\.jp2$", os.path.basename(path))
        granules.setdefault(m.group(1), {"date": m.group(2), "bands": {}})["bands"][m.group(3)] = path
    days = {}
    for name in sorted(granules):
        g = granules[name]
        d = datetime.date(int(g["date"][:4]), int(g["date"][4:6]), int(g["date"][6:]))
        if d.year == year:
            days.setdefault((d - datetime.date(year, 1, 1)).days, []).append(g)
    # Each granule's 13 bands on its 10 m grid, and its validity.
    for g in (g for gs in days.values() for g in gs):
        ref = gdal.Open(g["bands"]["B02"])
        g["gt"], g["wkt"], g["size"] = ref.GetGeoTransform(), ref.GetProjection(), (ref.RasterXSize, ref.RasterYSize)
        stack = []
        for b in BANDS:
            a = gdal.Open(g["bands"][b]).ReadAsArray().astype(np.float64)
            f = g["size"][1] // a.shape[0]
            stack.append(np.repeat(np.repeat(a, f, axis=0), f, axis=1))
        g["stack"] = np.array(stack)
        g["valid"] = np.all(g["stack"] != 0, axis=0)
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src = ogr.Open(os.path.join(root, "fields.geojson"))
    layer = src.GetLayer(0)
    bad = checked = 0
    with h5py.File(store, "r") as f:
        ids = [x.decode() for x in f["meta/id"][:]]
        x, observed = f["inputs/x"][:], f["inputs/observed"][:]
        classes, regions = f["targets/crop_type"][:], [r.decode() for r in f["meta/region"][:]]
    row_of = {i: k for k, i in enumerate(ids)}
    for feature in layer:
        fid = str(feature.GetField("fieldID"))
        if fid not in row_of:
            continue
        k = row_of[fid]
        if CROPS.index(feature.GetField("cropType")) != classes[k] or feature.GetField("region") != regions[k]:
            print(f"field {fid}: class {classes[k]} region {regions[k]}, the file says "
                  f"{feature.GetField('cropType')} {feature.GetField('region')}")
            bad += 1
        want_days = {}
        for day, gs in sorted(days.items()):
            pick = None
            total = None
            for g in gs:
                mem = gdal.GetDriverByName("MEM").Create("", g["size"][0], g["size"][1], 1, gdal.GDT_Byte)
                mem.SetGeoTransform(g["gt"])
                mem.SetProjection(g["wkt"])
                lyr_ds = ogr.GetDriverByName("Memory").CreateDataSource("")
                lyr = lyr_ds.CreateLayer("f", srs=wgs84)
                feat = ogr.Feature(lyr.GetLayerDefn())
                feat.SetGeometry(feature.GetGeometryRef().Clone())
                lyr.CreateFeature(feat)
                gdal.RasterizeLayer(mem, [1], lyr, burn_values=[1])
                inside = mem.GetRasterBand(1).ReadAsArray() == 1
                if total is None:
                    total = int(inside.sum())
                    pick = np.full((13,) + inside.shape, np.nan)
                    taken = np.zeros(inside.shape, bool)
                use = inside & g["valid"] & ~taken
                pick[:, use] = g["stack"][:, use]
                taken |= use
            valid = int(taken.sum())
            if total and 2 * valid >= total:
                want_days[day] = np.nanmean(pick[:, taken], axis=1)
        got_days = set(np.nonzero(observed[k])[0].tolist())
        if got_days != set(want_days):
            print(f"field {fid}: observed days {sorted(got_days)}, expected {sorted(want_days)}")
            bad += 1
            continue
        for day, want in want_days.items():
            got = x[k, :13, day]
            if np.max(np.abs(got - want)) > 0.5 + 1e-3:
                print(f"field {fid} day {day}: {got.tolist()} against means {want.tolist()}")
                bad += 1
            gcvi = x[k, 7, day] / x[k, 2, day] - 1
            if abs(x[k, 13, day] - gcvi) > 1e-5:
                print(f"field {fid} day {day}: GCVI {x[k, 13, day]}, B08 / B03 - 1 = {gcvi}")
                bad += 1
            checked += 1
        unobserved = [d for d in range(365) if d not in want_days]
        if np.any(x[k][:, unobserved] != 0):
            print(f"field {fid}: values on unobserved days")
            bad += 1
    print(json.dumps({"fields": len(ids), "field_days_checked": checked, "differences": bad}))
    sys.exit(1 if bad or checked == 0 else 0)


if __name__ == "__main__":
    main()
