"""Small releases in sbench's own import layouts (docs/formats.md) for cropland, land_cover_rep
(FORK-MW's metadata.csv + tile_triplets/) and land_cover_ood, written with numpy; check compares a
store with h5py, recomputing the weak labels and the split rule independently.

usage: ours_release.py make TASK OUT
       ours_release.py check TASK OUT STORE
"""
import json
import os

import h5py
import numpy as np
from lsms_release import hash_split
from release_common import main, report, write_csv


def make(task, out):
    rng = np.random.default_rng(8)
    expected = {}
    if task == "cropland":
        root = os.path.join(out, "cropland")
        os.makedirs(os.path.join(root, "x"))
        os.makedirs(os.path.join(root, "mask"))
        rows = []
        for i in range(9):
            tid = f"tile{i:03d}"
            np.save(os.path.join(root, "x", tid + ".npy"), rng.uniform(0, 0.5, size=(7, 50, 50)).astype(np.float32))
            mask = (rng.uniform(size=(50, 50)) < i / 8).astype(np.uint8)
            np.save(os.path.join(root, "mask", tid + ".npy"), mask)
            pr, pc = (i * 7) % 50, (i * 11) % 50
            rows.append({"id": tid, "split": ["train", "val", "test"][i % 3], "lat": 38 + i * 0.1, "lon": -90.0,
                         "point_row": pr, "point_col": pc})
            expected[tid] = {"point": int(mask[pr, pc]), "image": int(mask.mean() >= 0.5), "split": rows[-1]["split"]}
        write_csv(os.path.join(root, "metadata.csv"), rows)
    elif task == "land_cover_rep":
        root = os.path.join(out, "land_cover_rep")
        os.makedirs(os.path.join(root, "tile_triplets"))
        rows = []
        for i in range(8):
            name = f"{i}anchor.npy"
            tile = rng.integers(0, 256, size=(100, 100, 5)).astype(np.uint8)  # Tile2Vec's H x W x 5
            if i % 2:
                tile = tile.transpose(2, 0, 1).copy()  # and channels first
            np.save(os.path.join(root, "tile_triplets", name), tile)
            label = [1, 5, 24, 36, 61, 69, 75, 242][i]
            rows.append({"fileName": name, "landCover": label, "split": i % 3, "splitStr": ["train", "val", "test"][i % 3]})
            expected[name] = {"label": label, "split": ["train", "val", "test"][i % 3], "hwc": i % 2 == 0}
        write_csv(os.path.join(root, "metadata.csv"), rows)
    else:
        root = os.path.join(out, "land_cover_ood")
        os.makedirs(os.path.join(root, "series"))
        rows = []
        regions = [("r001", "sub_saharan_africa"), ("r002", "europe"), ("r003", "asia"), ("r004", "south_america"),
                   ("r005", "sub_saharan_africa")]
        for region, group in regions:
            series = rng.normal(size=(6, 8, 46)).astype(np.float32)
            np.save(os.path.join(root, "series", region + ".npy"), series)
            for p in range(6):
                pid = f"{region}_{p}"
                label = int(rng.integers(1, 18))
                rows.append({"id": pid, "region": region, "region_group": group, "row": 5 - p, "lat": 1.0, "lon": 2.0,
                             "land_cover": label})
                split = "test" if group == "sub_saharan_africa" else hash_split(region, 42, {"train": 0.8234, "val": 0.1766})
                expected[pid] = {"region": region, "row": 5 - p, "label": label, "split": split}
        write_csv(os.path.join(root, "points.csv"), rows)
    json.dump(expected, open(os.path.join(out, "expected.json"), "w"))


def check(task, out, store):
    expected = json.load(open(os.path.join(out, "expected.json")))
    problems = []
    with h5py.File(store, "r") as f:
        ids = list(f["meta/id"].asstr()[:])
        names = list(f["meta/split"].attrs["names"])
        if ids != list(expected):
            problems.append(f"ids {ids}")
        for i, key in enumerate(ids):
            e = expected[key]
            if names[f["meta/split"][i]] != e["split"]:
                problems.append(f"{key}: split {names[f['meta/split'][i]]} != {e['split']}")
            if task == "cropland":
                root = os.path.join(out, "cropland")
                if not np.array_equal(f["inputs/x"][i], np.load(os.path.join(root, "x", key + ".npy"))) or \
                        not np.array_equal(f["targets/mask"][i], np.load(os.path.join(root, "mask", key + ".npy"))):
                    problems.append(f"{key}: tile or mask")
                if f["targets/point_label"][i] != e["point"] or f["targets/image_label"][i] != e["image"]:
                    problems.append(f"{key}: weak labels")
            elif task == "land_cover_rep":
                tile = np.load(os.path.join(out, "land_cover_rep", "tile_triplets", key))
                rgbn = tile[:, :, :4].transpose(2, 0, 1) if e["hwc"] else tile[:4]
                if not np.array_equal(f["inputs/x"][i], rgbn) or f["targets/land_cover"][i] != e["label"]:
                    problems.append(f"{key}: tile or label")
            else:
                series = np.load(os.path.join(out, "land_cover_ood", "series", e["region"] + ".npy"))
                if not np.array_equal(f["inputs/x"][i], series[e["row"]]) or f["targets/land_cover"][i] != e["label"]:
                    problems.append(f"{key}: series or label")
    report(problems, len(expected), "examples")


if __name__ == "__main__":
    main(lambda a: make(*a[:2]), lambda a: check(*a[:3]))
