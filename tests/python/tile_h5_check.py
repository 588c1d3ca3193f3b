"""Reads the HDF5 file of `sbench tile --points` with h5py and prints `id: status` per point;
for each ID=TIF argument, checks that the point's tile equals the GeoTIFF cut for it alone
(NaN equal to NaN), and that points without an "ok" status hold only NaN.

usage: tile_h5_check.py TILES.h5 [ID=TILE.tif ...]
"""
import sys

import h5py
import numpy as np
from osgeo import gdal

f = h5py.File(sys.argv[1], "r")
ids = [x.decode() if isinstance(x, bytes) else x for x in f["id"][:]]
status = [x.decode() if isinstance(x, bytes) else x for x in f["status"][:]]
tiles = f["tiles"]
print("bands", ",".join(x.decode() if isinstance(x, bytes) else x for x in f.attrs["bands"]), "shape", tiles.shape)
problems = []
for i, (pid, st) in enumerate(zip(ids, status)):
    print(f"{pid}: {st}")
    if st != "ok" and not np.isnan(tiles[i]).all():
        problems.append(f"{pid}: status {st!r} but the tile has values")
for arg in sys.argv[2:]:
    pid, tif = arg.split("=", 1)
    want = gdal.Open(tif).ReadAsArray().astype(np.float32)
    got = tiles[ids.index(pid)]
    if want.ndim == 2:
        want = want[None]
    if got.shape != want.shape or not np.array_equal(got, want, equal_nan=True):
        problems.append(f"{pid}: tile differs from {tif}")
for p in problems:
    print(p)
print(f"{len(problems)} problems")
sys.exit(1 if problems else 0)
