"""A small Kenya crop-type release: the metadata CSV with the columns of the released copy
(KEN3P) and one pickle (protocol 2) of a numpy.ma masked array (14, 365) per field, written by
Python's pickle itself; check compares a store.

usage: kenya_release.py make OUT
       kenya_release.py check OUT STORE
"""
import json
import os
import pickle

import h5py
import numpy as np
from release_common import main, report, write_csv

CROPS = ["Maize", "Non-Crop", "Sugar Cane", "Cassava", "Sweet Potatoes", "Beans", "", "Banana", "Groundnut", "Other",
         "Maize"]
CLASSES = ["banana", "beans", "cassava", "groundnut", "maize", "non-crop", "other", "sugarcane", "sweet potatoes"]
SOURCE = ["Banana", "Beans", "Cassava", "Groundnut", "Maize", "Non-Crop", "Other", "Sugar Cane", "Sweet Potatoes"]


def make(out):
    root = os.path.join(out, "croptype_mapping_kenya")
    os.makedirs(os.path.join(root, "timeseries"), exist_ok=True)
    rng = np.random.default_rng(9)
    rows, expected = [], {}
    for k, crop in enumerate(CROPS):
        series = rng.uniform(400, 4700, size=(14, 365))
        observed = np.zeros(365, dtype=bool)
        observed[rng.choice(365, 38 + k, replace=False)] = True
        arr = np.ma.masked_array(series, mask=np.broadcast_to(~observed, (14, 365)))
        name = f"kenya_2017_sentinel2_timeseries_{k}.npy"  # not an npy: a pickle, as released
        with open(os.path.join(root, "timeseries", name), "wb") as f:
            pickle.dump(arr, f, protocol=2)
        region = ["Bungoma", "Busia", "Siaya", "pilot"][k % 4]
        fold = "test" if k % 3 == 0 else "train"
        rows.append({"fileName": f"timeseries/{name}", "cropType": crop, "fieldID": str(1000 + k), "region": region,
                     "fold_random": fold, "fold_busia_test": "test" if region == "Busia" else "train",
                     "fold_bungoma_test": "train", "fold_siaya_test": "train"})
        if crop:
            expected[str(1000 + k)] = {"file": name, "class": SOURCE.index(crop), "split": fold, "region": region}
    write_csv(os.path.join(root, "crop_type_kenya_2017_metadata.csv"), rows)
    json.dump(expected, open(os.path.join(out, "expected.json"), "w"))


def check(out, store):
    expected = json.load(open(os.path.join(out, "expected.json")))
    root = os.path.join(out, "croptype_mapping_kenya", "timeseries")
    problems = []
    with h5py.File(store, "r") as f:
        ids = list(f["meta/id"].asstr()[:])
        names = list(f["meta/split"].attrs["names"])
        if sorted(ids) != sorted(expected):
            problems.append(f"ids {ids}")
        for i, fid in enumerate(ids):
            e = expected[fid]
            arr = pickle.load(open(os.path.join(root, e["file"]), "rb"))
            want = np.where(arr.mask, 0.0, arr.data).astype(np.float32)
            if not np.array_equal(f["inputs/x"][i], want):
                problems.append(f"{fid}: series")
            if not np.array_equal(f["inputs/observed"][i], (~arr.mask.all(axis=0)).astype(np.uint8)):
                problems.append(f"{fid}: observed days")
            if f["targets/crop_type"][i] != e["class"] or names[f["meta/split"][i]] != e["split"] or \
                    f["meta/region"].asstr()[i] != e["region"]:
                problems.append(f"{fid}: label, split or region")
        counts = json.loads(f.attrs["import_report"])["counts"]
        if counts.get("missing_label") != 1:
            problems.append(f"counts {counts}")
    report(problems, len(expected), "fields")


if __name__ == "__main__":
    main(lambda a: make(*a[:1]), lambda a: check(*a[:2]))
