"""Crop-yield histogram benchmark, the numpy side and the data (bench/hist_bench.sh runs both sides).

  hist_numpy.py make DIR REGIONS PIXELS   writes DIR/v.npy (REGIONS, 32, 9, PIXELS) uint16 and
                                          DIR/c.npy (REGIONS, PIXELS) uint8, seeded
  hist_numpy.py time DIR                  np.histogram per band and step over the zeroed non-crop
                                          pixels (WANG's method, tests/python/hist_reference.py) and
                                          the NDVI: prints region-years per second; writes DIR/np_h.npy
  hist_numpy.py compare DIR               max |numpy - sbench| over DIR/np_h.npy and DIR/sb_h.npy
"""
import os
import sys
import time

import numpy as np

EDGES = [np.linspace(1, 2200, 33), np.linspace(900, 4999, 33), np.linspace(1, 1250, 33),
         np.linspace(150, 1875, 33), np.linspace(750, 4999, 33), np.linspace(300, 4999, 33),
         np.linspace(1, 4999, 33), np.linspace(13000, 16500, 33), np.linspace(13000, 15500, 33)]


def one(v, crop):
    v = v * crop[None, None, :]
    steps, bands, _ = v.shape
    h = np.zeros((32, steps, bands))
    ndvi = np.full(steps, np.nan)
    for t in range(steps):
        for b in range(bands):
            c, _ = np.histogram(v[t, b], bins=EDGES[b])
            s = c.sum()
            h[:, t, b] = c / s if s > 0 else 0
        b1, b2 = v[t, 0].astype(np.float64), v[t, 1].astype(np.float64)
        keep = (b1 > 0) | (b2 > 0)
        if keep.any():
            ndvi[t] = np.mean((b2[keep] - b1[keep]) / (b2[keep] + b1[keep]))
    return h, ndvi


cmd, d = sys.argv[1], sys.argv[2]
if cmd == "make":
    n, px = int(sys.argv[3]), int(sys.argv[4])
    rng = np.random.default_rng(1)
    os.makedirs(d, exist_ok=True)
    v = np.empty((n, 32, 9, px), np.uint16)
    for b in range(9):  # values around each band's range, some outside it
        lo, hi = EDGES[b][0], EDGES[b][-1]
        v[:, :, b, :] = rng.integers(max(0, lo - (hi - lo) / 8), hi + (hi - lo) / 8, size=(n, 32, px))
    np.save(os.path.join(d, "v.npy"), v)
    np.save(os.path.join(d, "c.npy"), (rng.random((n, px)) < 0.6).astype(np.uint8))
elif cmd == "time":
    v = np.load(os.path.join(d, "v.npy"))
    c = np.load(os.path.join(d, "c.npy"))
    one(v[0], c[0])  # warm-up
    out = np.zeros((v.shape[0], 32, 32, 9))
    t0 = time.perf_counter()
    for r in range(v.shape[0]):
        out[r], _ = one(v[r], c[r])
    dt = time.perf_counter() - t0
    np.save(os.path.join(d, "np_h.npy"), out)
    print(f"{v.shape[0] / dt:.3f}")
else:
    a = np.load(os.path.join(d, "np_h.npy"))
    b = np.load(os.path.join(d, "sb_h.npy"))
    print(f"max |numpy - sbench| = {np.abs(a - b).max():.3g} over {a.size} values")
