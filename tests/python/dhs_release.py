"""Builds a small DHS release in the upstream layout with numpy itself:
dhs_final_labels.csv (the R pipeline's columns) and {survey}/{DHSID_EA}.npz written by
np.savez_compressed(path, x=img), img an (8, 255, 255) float32 tile (SUSTAINBENCH.md 2.A).

Besides good clusters it plants every case the importer must count: a cluster at (0, 0), one
without any label, one without an image, one whose tile has a NaN pixel, one with a tile of the
wrong shape, and one from a country outside the official split.

usage: dhs_release.py OUT N_GOOD [--smooth | --texture]
  --smooth   tiles that compress to almost nothing (fast tests of many clusters)
  --texture  smooth fields plus noise, compressing like imagery (benchmarks)
Writes OUT/expected.json: {"clusters": {id: {...}}, "counts": {status: n}}.
"""
import csv
import json
import os
import sys

import numpy as np

out, n_good = sys.argv[1], int(sys.argv[2])
smooth = "--smooth" in sys.argv
texture = "--texture" in sys.argv
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
# (country code, split) drawn from the official lists, plus one country in none of them.
countries = [("AL", "train"), ("IA", "train"), ("NG", "train"), ("BF", "val"), ("TZ", "val"), ("AM", "test"),
             ("ET", "test"), ("RW", "test")]
label_cols = ["asset_index", "under5_mort", "women_bmi", "women_edu", "water_index", "sanitation_index"]
count_cols = ["n_asset", "n_water", "n_sanitation", "n_under5_mort", "n_women_edu", "n_women_bmi"]
header = ["DHSID_EA", "cname", "year", "lat", "lon", "n_asset", "asset_index", "n_water", "water_index",
          "n_sanitation", "sanitation_index", "under5_mort", "n_under5_mort", "women_edu", "women_bmi",
          "n_women_edu", "n_women_bmi", "cluster_id", "adm1fips", "adm1dhs", "urban"]


def tile(seed):
    r = np.random.default_rng(seed)
    if texture:
        yy, xx = np.mgrid[0:255, 0:255].astype(np.float32) / 255.0
        bands = []
        for b in range(8):
            fx, fy, phase = r.uniform(1, 6, size=3)
            field = 0.1 + 0.05 * np.sin(fx * xx * 6.28 + phase) * np.cos(fy * yy * 6.28)
            bands.append(field + r.normal(0, 0.01, size=field.shape))
        return np.stack(bands).astype(np.float32)
    if smooth:
        base = r.uniform(0.05, 0.3, size=(8, 1, 1)).astype(np.float32)
        ramp = np.linspace(0, 0.01, 255, dtype=np.float32)[None, None, :]
        return (base + ramp).repeat(255, axis=1).astype(np.float32)
    return r.uniform(0, 1, size=(8, 255, 255)).astype(np.float32)


rows, expected, counts = [], {}, {"imported": 0}


def add(i, cc, year, lat, lon, labels, urban, image="good"):
    survey = f"{cc}-{year}-7#"
    dhsid = f"{survey}-{i:08d}"
    row = {"DHSID_EA": dhsid, "cname": cc, "year": year, "lat": lat, "lon": lon, "urban": urban,
           "cluster_id": i, "adm1fips": "NA", "adm1dhs": 1}
    for c, v in zip(label_cols, labels):
        row[c] = "NA" if v is None else repr(v)
    for k, c in enumerate(count_cols):
        row[c] = 5 + k
    rows.append(row)
    if image is None:
        return dhsid
    os.makedirs(os.path.join(out, survey), exist_ok=True)
    img = tile(i)
    if image == "nan":
        img[3, 100, 17] = np.nan
    if image == "shape":
        img = img[:, :224, :224]
    np.savez_compressed(os.path.join(out, survey, dhsid + ".npz"), x=img)
    return dhsid


for i in range(n_good):
    cc, split = countries[i % len(countries)]
    year = [2005, 2011, 2012, 2016][i % 4]
    labels = [float(rng.normal()), float(rng.uniform(0, 200)), float(rng.uniform(15, 35)), float(rng.uniform(0, 12)),
              float(rng.uniform(1, 5)), float(rng.uniform(1, 5))]
    if i % 5 == 1:
        labels[2] = None  # women_bmi missing for some clusters: NaN in the store
    urban = "U" if i % 3 == 0 else "R"
    dhsid = add(i, cc, year, float(rng.uniform(-20, 20)), float(rng.uniform(-10, 40)), labels, urban)
    expected[dhsid] = {"split": split, "country": cc, "year": year, "labels": labels, "urban": 1 if urban == "U" else 0,
                       "nl_sensor": "dmsp" if year < 2012 else "viirs", "seed": i}
    counts["imported"] += 1

base = n_good
add(base + 0, "AL", 2010, 0.0, 0.0, [1.0] * 6, "R")
counts["no_location"] = 1
add(base + 1, "AL", 2010, 5.0, 5.0, [None] * 6, "R")
counts["missing_labels"] = 1
add(base + 2, "NG", 2014, 5.0, 6.0, [0.5] * 6, "U", image=None)
counts["missing_image"] = 1
add(base + 3, "NG", 2014, 5.0, 6.0, [0.5] * 6, "U", image="nan")
counts["nan_pixels"] = 1
add(base + 4, "ET", 2014, 5.0, 6.0, [0.5] * 6, "U", image="shape")
counts["bad_image"] = 1
# A country in no split list: imported with split "none".
dhsid = add(base + 5, "ZZ", 2013, 3.0, 3.0, [0.25] * 6, "U")
expected[dhsid] = {"split": "none", "country": "ZZ", "year": 2013, "labels": [0.25] * 6, "urban": 1,
                   "nl_sensor": "viirs", "seed": base + 5}
counts["imported"] += 1

os.makedirs(os.path.join(out, "output_labels"), exist_ok=True)
with open(os.path.join(out, "output_labels", "dhs_final_labels.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=header)
    w.writeheader()
    w.writerows(rows)
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({"clusters": expected, "counts": counts}, f)
