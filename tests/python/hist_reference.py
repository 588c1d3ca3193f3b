"""Crop-yield histograms and NDVI with numpy, as `WANG:code/histograms.py` computes them: the
independent reference of sbench's kernel.

usage: hist_reference.py VALUES.npy CROP.npy HISTS_OUT.npy NDVI_OUT.npy
VALUES: (regions, steps, 9, pixels) uint16; CROP: (regions, pixels) uint8. Non-crop pixels are
zeroed, then np.histogram with HIST_BINS_LIST's edges per band and step, divided by the in-range
count (0 when empty) -> (regions, 32, steps, 9); NDVI = mean((b2 - b1) / (b2 + b1)) over pixels with
b1 > 0 or b2 > 0 -> (regions, steps), NaN when none.
"""
import sys

import numpy as np

values = np.load(sys.argv[1])
crop = np.load(sys.argv[2])
edges = [np.linspace(1, 2200, 33), np.linspace(900, 4999, 33), np.linspace(1, 1250, 33),
         np.linspace(150, 1875, 33), np.linspace(750, 4999, 33), np.linspace(300, 4999, 33),
         np.linspace(1, 4999, 33), np.linspace(13000, 16500, 33), np.linspace(13000, 15500, 33)]
n, steps, bands, _ = values.shape
hists = np.zeros((n, 32, steps, bands))
ndvi = np.full((n, steps), np.nan)
for r in range(n):
    v = values[r] * crop[r][None, None, :]
    for t in range(steps):
        for b in range(bands):
            h, _ = np.histogram(v[t, b], bins=edges[b])
            total = h.sum()
            hists[r, :, t, b] = h / total if total > 0 else 0
        b1 = v[t, 0].astype(np.float64)
        b2 = v[t, 1].astype(np.float64)
        keep = (b1 > 0) | (b2 > 0)
        if keep.any():
            ndvi[r, t] = np.mean((b2[keep] - b1[keep]) / (b2[keep] + b1[keep]))
np.save(sys.argv[3], hists)
np.save(sys.argv[4], ndvi)
