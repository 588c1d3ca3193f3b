"""A small crop-yield release in the upstream layout, written with numpy itself
(soybeans/{country}/{split}_{hists,yields,years,keys,ndvi}.npz, key 'data', years as strings),
and the check of a store imported from it, through h5py.

usage: crop_yield_release.py make OUT
       crop_yield_release.py check OUT STORE
"""
import json
import math
import os

import h5py
import numpy as np
from release_common import main, report, write_csv

SIZES = {("usa", "train"): 12, ("usa", "dev"): 4, ("usa", "test"): 5, ("brazil", "train"): 6, ("brazil", "test"): 3}


def make(out):
    rng = np.random.default_rng(3)
    expected = {}
    for (country, split), n in SIZES.items():
        folder = os.path.join(out, "soybeans", country)
        os.makedirs(folder, exist_ok=True)
        hists = rng.random((n, 32, 32, 9))  # float64 as upstream
        hists /= hists.sum(axis=1, keepdims=True)
        years = np.array([str(2005 + (i % 12)) for i in range(n)])  # '<U4'
        regions = [f"county{i}_{'ia' if country == 'usa' else 'parana'}{split}" for i in range(n)]
        keys = np.array([f"{r}_{y}" for r, y in zip(regions, years)])
        yields = rng.uniform(1.5, 4.0, size=n)
        if country == "usa":
            yields = yields.reshape(n, 1)  # the torchgeo fixture's (N, 1)
        ndvi = rng.uniform(0, 0.9, size=(n, 32))
        np.savez_compressed(os.path.join(folder, f"{split}_hists.npz"), data=hists)
        np.savez_compressed(os.path.join(folder, f"{split}_yields.npz"), data=yields)
        np.savez_compressed(os.path.join(folder, f"{split}_years.npz"), data=years)
        np.savez_compressed(os.path.join(folder, f"{split}_keys.npz"), data=keys)
        has_ndvi = (country, split) != ("brazil", "test")
        if has_ndvi:
            np.savez_compressed(os.path.join(folder, f"{split}_ndvi.npz"), data=ndvi)
        for i in range(n):
            expected[str(keys[i])] = {"country": country, "split": "val" if split == "dev" else split,
                                      "year": int(years[i]), "region": regions[i], "file": f"{country}/{split}", "row": i,
                                      "yield": float(yields.reshape(-1)[i]), "ndvi": has_ndvi}
    json.dump(expected, open(os.path.join(out, "expected.json"), "w"))


def check(out, store):
    expected = json.load(open(os.path.join(out, "expected.json")))
    problems = []
    cache = {}
    with h5py.File(store, "r") as f:
        ids = list(f["meta/id"].asstr()[:])
        names = list(f["meta/split"].attrs["names"])
        if sorted(ids) != sorted(expected):
            problems.append("ids differ")
        for i, key in enumerate(ids):
            e = expected[key]
            if e["file"] not in cache:
                c, s = e["file"].split("/")
                base = os.path.join(out, "soybeans", c, s)
                cache[e["file"]] = {w: np.load(f"{base}_{w}.npz")["data"] for w in ("hists",)}
                if e["ndvi"]:
                    cache[e["file"]]["ndvi"] = np.load(f"{base}_ndvi.npz")["data"]
            src = cache[e["file"]]
            if not np.array_equal(f["inputs/hist"][i], src["hists"][e["row"]].astype(np.float32)):
                problems.append(f"{key}: hist")
            ndvi = f["inputs/ndvi"][i]
            if e["ndvi"] and not np.array_equal(ndvi, src["ndvi"][e["row"]].astype(np.float32)):
                problems.append(f"{key}: ndvi")
            if not e["ndvi"] and not np.isnan(ndvi).all():
                problems.append(f"{key}: ndvi should be NaN")
            if f["targets/yield"][i] != np.float32(e["yield"]):
                problems.append(f"{key}: yield {f['targets/yield'][i]} != {e['yield']}")
            if names[f["meta/split"][i]] != e["split"]:
                problems.append(f"{key}: split")
            if f["meta/year"][i] != e["year"] or f["meta/region"].asstr()[i] != e["region"] or \
                    f["meta/country"].asstr()[i] != e["country"]:
                problems.append(f"{key}: meta")
        if list(f["inputs/hist"].attrs["bands"]) != ["sur_refl_b0%d" % b for b in range(1, 8)] + \
                ["LST_Day_1km", "LST_Night_1km"]:
            problems.append("bands")
    report(problems, len(expected), "examples")


if __name__ == "__main__":
    main(lambda a: make(*a[:1]), lambda a: check(*a[:2]))
