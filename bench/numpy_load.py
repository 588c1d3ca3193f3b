"""Times np.load of one npz per example in a given random order, the way the official loaders
read (after a warm-up pass over the same files).

usage: numpy_load.py LIST REPEATS   (LIST: one npz path per line, in read order)
prints: examples best_seconds checksum
"""
import sys
import time

import numpy as np

files = [line.strip() for line in open(sys.argv[1]) if line.strip()]
repeats = int(sys.argv[2])
for f in files:
    with np.load(f) as z:
        z["x"]
best, checksum = float("inf"), 0.0
for _ in range(repeats):
    t = time.perf_counter()
    checksum = 0.0
    for f in files:
        with np.load(f) as z:
            checksum += float(z["x"][7, 127, 127])
    best = min(best, time.perf_counter() - t)
print(len(files), best, checksum)
