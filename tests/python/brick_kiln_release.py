"""A small brick-kiln release written with h5py, as the kiln-scaling scripts write it:
examples_{k}.hdf5 with images (N, 13, 64, 64) float64 (or (N, 64, 64, 13) with --channels-last),
labels (N, 1), bounds (N, 4) [left, bottom, right, top], indices (N, 3) [row, col, offset], and
list_eval_partition.csv with the upstream (mislabelled) column names. check compares a store.

usage: brick_kiln_release.py make OUT [--channels-last]
       brick_kiln_release.py check OUT STORE
"""
import json
import os

import h5py
import numpy as np
from release_common import main, report, write_csv


def make(out, channels_last):
    root = os.path.join(out, "brick_kiln_v1.0")
    os.makedirs(root, exist_ok=True)
    rng = np.random.default_rng(11)
    rows, expected = [], {}
    for k, n in enumerate([5, 4, 3]):
        images = rng.uniform(0, 3000, size=(n, 13, 64, 64))
        labels = (np.arange(n) % 2).reshape(n, 1).astype(float)
        bounds = np.stack([rng.uniform(88, 92, n), rng.uniform(21, 26, n), rng.uniform(88, 92, n),
                           rng.uniform(21, 26, n)], axis=1)
        indices = np.stack([np.arange(n) * 3, np.arange(n) * 5, np.arange(n) % 4], axis=1).astype(float)
        with h5py.File(os.path.join(root, f"examples_{k}.hdf5"), "w") as f:
            f["images"] = images.transpose(0, 2, 3, 1) if channels_last else images
            f["labels"] = labels
            f["bounds"] = bounds
            f["indices"] = indices
        for i in range(n):
            part = (k + i) % 3
            rows.append({"y": labels[i, 0], "partition": part, "hdf5_file": f"examples_{k}.hdf5", "hdf5_idx": i,
                         "lon_top_left": bounds[i, 0], "lat_top_left": bounds[i, 1], "lon_bottom_right": bounds[i, 2],
                         "lat_bottom_right": bounds[i, 3], "indice_offset_num": indices[i, 0],
                         "indice_x": indices[i, 1], "indice_y": indices[i, 2]})
            expected[f"examples_{k}_{i}"] = {"file": k, "row": i, "split": ["train", "val", "test"][part],
                                             "label": int(labels[i, 0]), "bounds": list(bounds[i]),
                                             "offset": int(indices[i, 2])}
    write_csv(os.path.join(root, "list_eval_partition.csv"), rows)
    json.dump(expected, open(os.path.join(out, "expected.json"), "w"))


def check(out, store):
    expected = json.load(open(os.path.join(out, "expected.json")))
    root = os.path.join(out, "brick_kiln_v1.0")
    problems = []
    with h5py.File(store, "r") as f:
        ids = list(f["meta/id"].asstr()[:])
        names = list(f["meta/split"].attrs["names"])
        if ids != list(expected):
            problems.append(f"ids {ids} != {list(expected)}")
        for i, key in enumerate(ids):
            e = expected[key]
            with h5py.File(os.path.join(root, f"examples_{e['file']}.hdf5"), "r") as src:
                img = src["images"][e["row"]]
                if img.shape[-1] == 13:
                    img = img.transpose(2, 0, 1)
            if not np.array_equal(f["inputs/x"][i], img.astype(np.float32)):
                problems.append(f"{key}: image")
            if int(f["targets/label"][i]) != e["label"] or names[f["meta/split"][i]] != e["split"]:
                problems.append(f"{key}: label or split")
            got = [f["meta/" + m][i] for m in ("lon_left", "lat_bottom", "lon_right", "lat_top")]
            if got != e["bounds"] or int(f["meta/offset"][i]) != e["offset"]:
                problems.append(f"{key}: bounds {got} or offset")
    report(problems, len(expected), "tiles")


if __name__ == "__main__":
    main(lambda a: make(*a[:1], "--channels-last" in a), lambda a: check(*a[:2]))
