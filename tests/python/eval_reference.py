"""Independent scoring of a DHS submission CSV against a store with h5py + scipy: prints the r^2
(squared Pearson) over the test clusters that have a label, and n.

usage: eval_reference.py STORE SUBMISSION.csv TARGET
"""
import csv
import sys

import h5py
import numpy as np
from scipy.stats import pearsonr

store, sub, target = sys.argv[1:4]
with h5py.File(store, "r") as f:
    ids = list(f["meta/id"].asstr()[:])
    names = list(f["meta/split"].attrs["names"])
    split = f["meta/split"][:]
    truth = f["targets/" + target][:].astype(np.float64)
pred = {row["id"]: float(row[target]) for row in csv.DictReader(open(sub))}
p, t = [], []
for i, cid in enumerate(ids):
    if names[split[i]] == "test" and not np.isnan(truth[i]):
        p.append(pred[cid])
        t.append(truth[i])
print(repr(pearsonr(p, t)[0] ** 2), len(p))
