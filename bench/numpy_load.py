"""Times np.load of one npz per example (the official loaders' way), after one warm-up pass.

usage: numpy_load.py DIR REPEATS  -> prints "examples seconds checksum"
"""
import glob
import os
import sys
import time

import numpy as np

files = sorted(glob.glob(os.path.join(sys.argv[1], "*.npz")))
repeats = int(sys.argv[2])
for f in files:  # warm-up: page cache and imports
    with np.load(f) as z:
        z["x"]
best = float("inf")
checksum = 0.0
for _ in range(repeats):
    t = time.perf_counter()
    checksum = 0.0
    for f in files:
        with np.load(f) as z:
            checksum += float(z["x"][0, 0, 0])
    best = min(best, time.perf_counter() - t)
print(len(files), best, checksum)
