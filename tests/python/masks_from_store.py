"""Writes a mask folder from a store's truth, as a participant would from their predictions.

usage: masks_from_store.py STORE TARGET SPLIT OUTDIR png|tif
Each example of SPLIT gets OUTDIR/<id>.png (8-bit grey, Pillow) or <id>.tif (GDAL, LZW): the truth
with the unlabelled class 0 replaced by 1 (right on labelled pixels, wrong on the others).
"""
import os
import sys

import h5py
import numpy as np
from osgeo import gdal
from PIL import Image

store, target, split, out, fmt = sys.argv[1:6]
os.makedirs(out, exist_ok=True)
with h5py.File(store, "r") as f:
    ids = [s.decode() for s in f["meta/id"][:]]
    names = [s.decode() if isinstance(s, bytes) else s for s in f["meta/split"].attrs["names"]]
    splits = f["meta/split"][:]
    truth = f["targets/" + target]
    for i, cid in enumerate(ids):
        if names[splits[i]] != split:
            continue
        pred = np.where(truth[i] == 0, 1, truth[i]).astype(np.uint8)
        if fmt == "png":
            Image.fromarray(pred, mode="L").save(os.path.join(out, cid + ".png"))
        else:
            ds = gdal.GetDriverByName("GTiff").Create(os.path.join(out, cid + ".tif"), pred.shape[1], pred.shape[0],
                                                      1, gdal.GDT_Byte, ["COMPRESS=LZW"])
            ds.GetRasterBand(1).WriteArray(pred)
            ds = None
