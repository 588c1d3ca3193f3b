"""Checks a Level-1 Landsat tile cut by `sbench tile --sensor landsatN_l1` against an independent
computation: the band files are warped by GDAL's Python bindings onto the tile's grid (nearest),
and the MTL file is parsed here to compute top-of-atmosphere reflectance and brightness
temperature with the USGS formulas.

usage: landsat_l1_check.py TILE.tif ANY_BAND_FILE BAND,BAND,...
"""
import math
import os
import re
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
tile_path, band_file, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
d, base = os.path.split(band_file)
product = re.match(r"^(.*)_B\d+(?:_VCID_\d)?\.tif$", base, re.I).group(1)
mtl = {}
for line in open(os.path.join(d, product + "_MTL.txt"), encoding="latin-1"):
    if "=" in line:
        k, v = (x.strip().strip('"') for x in line.split("=", 1))
        mtl[k] = v
mission = int(mtl["SPACECRAFT_ID"].split("_")[1])
# Band numbers of the common names (SUSTAINBENCH.md section 5).
if mission >= 8:
    number = {"BLUE": "2", "GREEN": "3", "RED": "4", "NIR": "5", "SWIR1": "6", "SWIR2": "7", "TEMP1": "10"}
else:
    number = {"BLUE": "1", "GREEN": "2", "RED": "3", "NIR": "4", "SWIR1": "5", "SWIR2": "7",
              "TEMP1": "6_VCID_1" if mission == 7 else "6"}
esun = {5: {"1": 1983, "2": 1796, "3": 1536, "4": 1031, "5": 220.0, "7": 83.44},
        7: {"1": 1997, "2": 1812, "3": 1533, "4": 1039, "5": 230.8, "7": 84.90}}
k12 = {5: (607.76, 1260.56), 7: (666.09, 1282.71)}
sun = math.sin(math.radians(float(mtl["SUN_ELEVATION"])))

tile = gdal.Open(tile_path)
gt = tile.GetGeoTransform()
n = tile.RasterXSize
bounds = (gt[0], gt[3] - n * gt[1], gt[0] + n * gt[1], gt[3])
problems = []
for k, name in enumerate(names, start=1):
    b = number[name]
    f = os.path.join(d, f"{product}_B{b}{os.path.splitext(base)[1]}")
    warped = gdal.Warp("", f, format="MEM", outputBounds=bounds, width=n, height=n, dstSRS=tile.GetProjection(),
                       resampleAlg="near", srcNodata=0, dstNodata=float("nan"), outputType=gdal.GDT_Float64)
    dn = warped.GetRasterBand(1).ReadAsArray()
    if name == "TEMP1":
        radiance = dn * float(mtl[f"RADIANCE_MULT_BAND_{b}"]) + float(mtl[f"RADIANCE_ADD_BAND_{b}"])
        k1, k2 = (float(mtl[f"K1_CONSTANT_BAND_{b}"]), float(mtl[f"K2_CONSTANT_BAND_{b}"])) \
            if f"K1_CONSTANT_BAND_{b}" in mtl else k12[mission]
        want = k2 / np.log(k1 / radiance + 1)
    elif f"REFLECTANCE_MULT_BAND_{b}" in mtl:
        want = (dn * float(mtl[f"REFLECTANCE_MULT_BAND_{b}"]) + float(mtl[f"REFLECTANCE_ADD_BAND_{b}"])) / sun
    else:
        y, m, dd = (int(x) for x in mtl["DATE_ACQUIRED"].split("-"))
        doy = (np.datetime64(f"{y:04d}-{m:02d}-{dd:02d}") - np.datetime64(f"{y:04d}-01-01")).astype(int) + 1
        dist = 1 - 0.01672 * math.cos(math.radians(0.9856 * (doy - 4)))
        radiance = dn * float(mtl[f"RADIANCE_MULT_BAND_{b}"]) + float(mtl[f"RADIANCE_ADD_BAND_{b}"])
        want = math.pi * radiance * dist ** 2 / (esun[mission][b] * sun)
    got = tile.GetRasterBand(k).ReadAsArray().astype(np.float64)
    if not np.array_equal(np.isnan(got), np.isnan(want)):
        problems.append(f"{name}: NaN pixels differ ({np.isnan(got).sum()} vs {np.isnan(want).sum()})")
        continue
    if np.isnan(want).all():
        problems.append(f"{name}: no valid pixel")
        continue
    rel = np.nanmax(np.abs(got - want) / np.maximum(np.abs(want), 1e-6))
    print(f"{name} (B{b}): {np.isfinite(want).sum()} pixels, mean {np.nanmean(want):.5f}, max relative difference {rel:.2e}")
    if rel > 2e-6:
        problems.append(f"{name}: relative difference {rel}")
for p in problems:
    print(p)
print(f"{len(problems)} problems")
sys.exit(1 if problems else 0)
