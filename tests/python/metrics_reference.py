"""The metrics computed by scikit-learn and scipy on the cases of a JSON file, as the independent
reference of sbench's metrics.

usage: metrics_reference.py CASES.json   prints a JSON list of {metric: value} per case
"""
import json
import sys

import numpy as np
from scipy.stats import pearsonr
from sklearn import metrics

cases = json.load(open(sys.argv[1]))
out = []
for c in cases:
    r = {}
    if c["kind"] == "regression":
        p, t = np.array(c["pred"]), np.array(c["truth"])
        r["pearson_r"] = float(pearsonr(p, t)[0])
        r["r2"] = r["pearson_r"] ** 2
        r["r2_score"] = float(metrics.r2_score(t, p))
        r["mse"] = float(metrics.mean_squared_error(t, p))
        r["rmse"] = float(np.sqrt(metrics.mean_squared_error(t, p)))
    elif c["kind"] == "binary":
        p, t, s = np.array(c["pred"]), np.array(c["truth"]), np.array(c["scores"])
        r["accuracy"] = float(metrics.accuracy_score(t, p))
        r["precision"] = float(metrics.precision_score(t, p, zero_division=0))
        r["recall"] = float(metrics.recall_score(t, p, zero_division=0))
        r["f1"] = float(metrics.f1_score(t, p, zero_division=0))
        r["auroc"] = float(metrics.roc_auc_score(t, s))
        r["dice"] = float(metrics.f1_score(t, (s > 0.5).astype(int), zero_division=0))
    else:
        p, t = np.array(c["pred"]), np.array(c["truth"])
        keep = t != c["ignore"] if c.get("ignore") is not None else np.ones(len(t), bool)
        p, t = p[keep], t[keep]
        r["accuracy"] = float(metrics.accuracy_score(t, p))
        r["f1_macro"] = float(metrics.f1_score(t, p, average="macro", labels=np.unique(t), zero_division=0))
        labels = [k for k in range(c["num_classes"]) if k != c.get("ignore")]
        r["f1_macro_all"] = float(metrics.f1_score(t, p, average="macro", labels=labels, zero_division=0))
        r["kappa"] = float(metrics.cohen_kappa_score(t, p))
    out.append(r)
print(json.dumps(out))
