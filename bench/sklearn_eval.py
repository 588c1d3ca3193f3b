"""Writes the evaluation benchmark's data with numpy (1,000,000 regression predictions, 200 masks
of 224 x 224 with scores), or times scikit-learn / scipy on those files.

usage: sklearn_eval.py make DIR
       sklearn_eval.py time DIR REPEATS   prints: load_s regression_s masks_s r2 r2_score rmse dice acc prec rec
"""
import os
import sys
import time

import numpy as np

d = sys.argv[2]
if sys.argv[1] == "make":
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(0)
    truth = rng.normal(size=1_000_000)
    np.save(os.path.join(d, "truth.npy"), truth)
    np.save(os.path.join(d, "pred.npy"), 0.7 * truth + 0.5 * rng.normal(size=truth.size))
    masks = (rng.uniform(size=(200, 224, 224)) < 0.2).astype(np.uint8)
    np.save(os.path.join(d, "mask_truth.npy"), masks)
    np.save(os.path.join(d, "mask_score.npy"), np.clip(masks * 0.6 + rng.uniform(0, 0.5, masks.shape), 0, 1).astype(np.float32))
    sys.exit(0)

from scipy.stats import pearsonr  # noqa: E402
from sklearn import metrics  # noqa: E402

repeats = int(sys.argv[3])
best = [float("inf")] * 3
for _ in range(repeats):
    t0 = time.perf_counter()
    truth, pred = np.load(os.path.join(d, "truth.npy")), np.load(os.path.join(d, "pred.npy"))
    mt, ms = np.load(os.path.join(d, "mask_truth.npy")), np.load(os.path.join(d, "mask_score.npy"))
    t1 = time.perf_counter()
    r2 = pearsonr(pred, truth)[0] ** 2
    r2s = metrics.r2_score(truth, pred)
    rmse = np.sqrt(metrics.mean_squared_error(truth, pred))
    t2 = time.perf_counter()
    # The official field-delineation code: flatten everything, threshold > 0.5, sklearn metrics.
    y, p = mt.reshape(-1), (ms.reshape(-1) > 0.5).astype(np.uint8)
    dice = metrics.f1_score(y, p)
    acc = metrics.accuracy_score(y, p)
    prec = metrics.precision_score(y, p)
    rec = metrics.recall_score(y, p)
    t3 = time.perf_counter()
    best = [min(best[0], t1 - t0), min(best[1], t2 - t1), min(best[2], t3 - t2)]
print(*best, r2, r2s, rmse, dice, acc, prec, rec)
