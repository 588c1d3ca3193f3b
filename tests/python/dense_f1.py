"""Pooled binary F1 (Dice) of a dense HDF5 submission against a store's masks, with h5py and
scikit-learn: predictions thresholded at > 0.5, every pixel of every example pooled.

usage: dense_f1.py PRED.h5 STORE.h5   -> prints the F1
"""
import sys

import h5py
import numpy as np
from sklearn.metrics import f1_score

with h5py.File(sys.argv[1], "r") as p, h5py.File(sys.argv[2], "r") as s:
    ids = [i.decode() if isinstance(i, bytes) else i for i in p["id"][:]]
    store_ids = [i.decode() if isinstance(i, bytes) else i for i in s["meta/id"][:]]
    row = {k: n for n, k in enumerate(store_ids)}
    truth = np.stack([s["targets/mask"][row[i]] for i in ids]) > 0
    pred = p["pred"][:] > 0.5
    print(repr(f1_score(truth.ravel(), pred.ravel())))
