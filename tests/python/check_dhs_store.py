"""Checks a store imported from dhs_release.py with h5py, the way a Python user opens it:
every tile equals its npz, every label, split and meta value equals the release.

usage: check_dhs_store.py STORE RELEASE
"""
import json
import math
import os
import sys

import h5py
import numpy as np

store, release = sys.argv[1], sys.argv[2]
exp = json.load(open(os.path.join(release, "expected.json")))
problems = []
with h5py.File(store, "r") as f:
    ids = [s.decode() for s in f["meta/id"][:]]
    names = [s.decode() if isinstance(s, bytes) else s for s in f["meta/split"].attrs["names"]]
    if sorted(ids) != sorted(exp["clusters"]):
        problems.append(f"ids differ: {sorted(set(ids) ^ set(exp['clusters']))}")
    label_cols = ["asset_index", "under5_mort", "women_bmi", "women_edu", "water_index", "sanitation_index"]
    x = f["inputs/x"]
    if x.shape[1:] != (8, 255, 255) or x.dtype != np.float32:
        problems.append(f"inputs/x is {x.dtype} {x.shape}")
    if list(x.attrs["bands"]) and [b.decode() if isinstance(b, bytes) else b for b in x.attrs["bands"]] != \
            ["BLUE", "GREEN", "RED", "SWIR1", "SWIR2", "TEMP1", "NIR", "NIGHTLIGHTS"]:
        problems.append(f"bands {x.attrs['bands']}")
    for i, cid in enumerate(ids):
        e = exp["clusters"].get(cid)
        if e is None:
            continue
        survey = cid[:10]
        with np.load(os.path.join(release, survey, cid + ".npz")) as z:
            if not np.array_equal(z["x"], x[i]):
                problems.append(f"{cid}: tile differs")
        if names[f["meta/split"][i]] != e["split"]:
            problems.append(f"{cid}: split {names[f['meta/split'][i]]} != {e['split']}")
        for col, want in zip(label_cols, e["labels"]):
            got = float(f["targets/" + col][i])
            if want is None:
                if not math.isnan(got):
                    problems.append(f"{cid}: {col} {got} should be NaN")
            elif abs(got - np.float32(want)) > 0:
                problems.append(f"{cid}: {col} {got} != {want}")
        checks = {"country": e["country"], "nl_sensor": e["nl_sensor"]}
        for k, want in checks.items():
            got = f["meta/" + k][i].decode()
            if got != want:
                problems.append(f"{cid}: {k} {got} != {want}")
        if int(f["meta/year"][i]) != e["year"]:
            problems.append(f"{cid}: year {f['meta/year'][i]}")
        if int(f["meta/urban"][i]) != e["urban"]:
            problems.append(f"{cid}: urban {f['meta/urban'][i]}")
    report = json.loads(f.attrs["import_report"])
    for status, n in exp["counts"].items():
        if report["counts"].get(status, 0) != n:
            problems.append(f"count {status}: {report['counts'].get(status, 0)} != {n}")
    if f.attrs["sbench_format"] != 1:
        problems.append("sbench_format")
for p in problems[:30]:
    print(p)
print(f"checked {len(exp['clusters'])} clusters, {len(problems)} problems")
sys.exit(1 if problems else 0)
