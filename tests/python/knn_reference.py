"""SustainBench's night-lights KNN baseline, written after `SB:baseline_models/dhs/knn_baseline.ipynb`
with scikit-learn, on a store read with h5py: the independent reference for `sbench train
--set model=knn_nightlights` and `sbench predict`.

usage: knn_reference.py STORE TARGET -- prints "val K R2" for k = 1..20, "k K" and "pred ID VALUE"
for each test example.
"""
import sys

import h5py
import numpy as np
from scipy.stats import pearsonr
from sklearn.neighbors import KNeighborsRegressor

store, target = sys.argv[1], sys.argv[2]
with h5py.File(store, "r") as f:
    ids = [s.decode() for s in f["meta/id"][:]]
    names = [s.decode() if isinstance(s, bytes) else s for s in f["meta/split"].attrs["names"]]
    split = np.array([names[v] for v in f["meta/split"][:]])
    sensor = np.array([s.decode() for s in f["meta/nl_sensor"][:]])
    y = f["targets/" + target][:].astype(np.float64)
    x = f["inputs/x"]
    feat = np.array([x[i, -1].mean(dtype=np.float64) for i in range(x.shape[0])])

labelled = ~np.isnan(y)


def rows(splits, nl):
    return np.isin(split, splits) & (sensor == nl) & labelled


# k up to 20, and (as sbench, where scikit-learn would refuse) at most the smaller training set.
k_max = min([20] + [int(rows(["train"], nl).sum()) for nl in ("dmsp", "viirs") if rows(["val"], nl).sum()])
best_k, best_r2 = None, -1.0
for k in range(1, k_max + 1):
    preds, labels = [], []
    for nl in ("dmsp", "viirs"):
        tr, va = rows(["train"], nl), rows(["val"], nl)
        if va.sum() == 0:
            continue
        m = KNeighborsRegressor(n_neighbors=k, weights="uniform").fit(feat[tr, None], y[tr])
        preds.append(m.predict(feat[va, None]))
        labels.append(y[va])
    r2 = pearsonr(np.concatenate(preds), np.concatenate(labels))[0] ** 2
    print(f"val {k} {r2!r}")
    if r2 > best_r2:
        best_k, best_r2 = k, r2
print(f"k {best_k}")
for nl in ("dmsp", "viirs"):
    tv = rows(["train", "val"], nl)
    te = (split == "test") & (sensor == nl)
    if te.sum() == 0:
        continue
    m = KNeighborsRegressor(n_neighbors=best_k, weights="uniform").fit(feat[tv, None], y[tv])
    for i, p in zip(np.nonzero(te)[0], m.predict(feat[te, None])):
        print(f"pred {ids[i]} {p!r}")
