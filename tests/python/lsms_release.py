"""A small poverty-change release: the LSMS label files as the R pipeline writes them (columns
"year.x", "year.y"; EA ids as numbers) and the tiles in sbench's documented layout
lsms_npzs/{country}_{year}/{ea_id}.npz (np.savez_compressed, key x); check compares a store,
recomputing the documented hash split independently.

usage: lsms_release.py make OUT
       lsms_release.py check OUT STORE
"""
import json
import os

import h5py
import numpy as np
from release_common import main, report, write_csv

PAIRS = [("ng", 2010, 2015), ("et", 2011, 2015), ("ug", 2005, 2009), ("ug", 2009, 2013), ("mw", 2010, 2016)]


def hash_split(key, seed, fractions):
    h = 1469598103934665603
    for c in key.encode():
        h = ((h ^ c) * 1099511628211) % 2**64
    z = (h ^ seed) % 2**64
    z = (z + 0x9e3779b97f4a7c15) % 2**64
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) % 2**64
    z ^= z >> 31
    u = (z >> 11) * 2.0**-53
    cum = 0.0
    for name in ("train", "val", "test"):
        cum += fractions.get(name, 0)
        if u < cum:
            return name
    return "test"


def make(out):
    rng = np.random.default_rng(4)
    over, static, expected = [], [], {}
    for country, yx, yy in PAIRS:
        for e in range(4):
            ea = 101010000 + e
            for year in (yx, yy):
                folder = os.path.join(out, "lsms_npzs", f"{country}_{year}")
                os.makedirs(folder, exist_ok=True)
                path = os.path.join(folder, f"{ea}.npz")
                if not os.path.exists(path):
                    np.savez_compressed(path, x=rng.uniform(0, 1, size=(8, 255, 255)).astype(np.float32))
                static.append({"country": country, "year": year, "ea_id": f"{ea}.0", "lat": 1.0 + e, "lon": 30.0 + e,
                               "asset_index": 0.1, "infrastructure_index": 0.2, "n": 5})
            diff, idx = float(rng.normal()), float(rng.normal())
            over.append({"country": country, "ea_id": ea, "year.x": yx, "year.y": yy, "asset_index": idx,
                         "asset_index_diff": diff, "infrastructure_index": 0.0, "infrastructure_index_diff": 0.0,
                         "n": 3 + e})
            key = f"{country}-{ea}-{yx}-{yy}"
            expected[key] = {"diff": diff, "idx": idx, "before": f"{country}_{yx}/{ea}.npz",
                             "after": f"{country}_{yy}/{ea}.npz", "lat": 1.0 + e, "n": 3 + e,
                             "split": hash_split(key, 42, {"train": 0.6, "val": 0.2, "test": 0.2})}
    for name, rows in (("asset_infrstructure_indicies_lsms_over_time.csv", over),
                       ("asset_infrstructure_indicies_lsms.csv", static)):
        write_csv(os.path.join(out, name), rows)
    json.dump(expected, open(os.path.join(out, "expected.json"), "w"))


def check(out, store):
    expected = json.load(open(os.path.join(out, "expected.json")))
    problems = []
    with h5py.File(store, "r") as f:
        ids = list(f["meta/id"].asstr()[:])
        names = list(f["meta/split"].attrs["names"])
        if sorted(ids) != sorted(expected):
            problems.append(f"ids {ids}")
        for i, key in enumerate(ids):
            e = expected[key]
            for field, tile in (("x_before", e["before"]), ("x_after", e["after"])):
                if not np.array_equal(f["inputs/" + field][i], np.load(os.path.join(out, "lsms_npzs", tile))["x"]):
                    problems.append(f"{key}: {field}")
            if f["targets/asset_index_diff"][i] != np.float32(e["diff"]) or \
                    f["targets/asset_index"][i] != np.float32(e["idx"]):
                problems.append(f"{key}: labels")
            if names[f["meta/split"][i]] != e["split"] or f["meta/lat"][i] != e["lat"] or f["meta/n"][i] != e["n"]:
                problems.append(f"{key}: split {names[f['meta/split'][i]]} != {e['split']} or meta")
    report(problems, len(expected), "pairs")


if __name__ == "__main__":
    main(lambda a: make(*a[:1]), lambda a: check(*a[:2]))
