"""Compares two rasters band by band with GDAL's Python bindings: identical values (NaN equal to
NaN), same size, geotransform and CRS. Prints the largest difference.

usage: gdal_compare.py A.tif B.tif
"""
import sys

import numpy as np
from osgeo import gdal, osr

a, b = gdal.Open(sys.argv[1]), gdal.Open(sys.argv[2])
problems = []
if (a.RasterXSize, a.RasterYSize, a.RasterCount) != (b.RasterXSize, b.RasterYSize, b.RasterCount):
    problems.append("sizes differ")
if not np.allclose(a.GetGeoTransform(), b.GetGeoTransform(), rtol=0, atol=1e-6):
    problems.append(f"geotransforms differ: {a.GetGeoTransform()} {b.GetGeoTransform()}")
sa, sb = osr.SpatialReference(wkt=a.GetProjection()), osr.SpatialReference(wkt=b.GetProjection())
if not sa.IsSame(sb):
    problems.append("CRSs differ")
worst = 0.0
for k in range(1, min(a.RasterCount, b.RasterCount) + 1):
    x, y = a.GetRasterBand(k).ReadAsArray().astype(np.float64), b.GetRasterBand(k).ReadAsArray().astype(np.float64)
    if not np.array_equal(np.isnan(x), np.isnan(y)):
        problems.append(f"band {k}: nodata pixels differ")
        continue
    d = np.nanmax(np.abs(x - y)) if np.isfinite(x).any() else 0.0
    worst = max(worst, d)
    if d > 0:
        problems.append(f"band {k}: values differ by up to {d}")
for p in problems:
    print(p)
print(f"max difference {worst}, {len(problems)} problems")
sys.exit(1 if problems else 0)
