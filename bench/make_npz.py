"""Writes N DHS-like examples as the release does: np.savez_compressed(path, x=img) with
img an (8, 255, 255) float32 tile (smooth fields plus noise, so it compresses like imagery).

usage: make_npz.py DIR N
"""
import os
import sys

import numpy as np

out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)
yy, xx = np.mgrid[0:255, 0:255].astype(np.float32) / 255.0
for i in range(n):
    bands = []
    for b in range(8):
        fx, fy, phase = rng.uniform(1, 6, size=3)
        smooth = 0.1 + 0.05 * np.sin(fx * xx * 6.28 + phase) * np.cos(fy * yy * 6.28)
        bands.append(smooth + rng.normal(0, 0.01, size=smooth.shape))
    np.savez_compressed(os.path.join(out, f"{i:06d}.npz"), x=np.stack(bands).astype(np.float32))
