"""A small Ghana / South Sudan crop-type release in the upstream layout, written with numpy
(np.savez_compressed; arrays (C, H, W, T)), JSON date lists and partition CSVs; check compares a
store, with PlanetScope resized by PyTorch's own bilinear interpolation as the reference.

usage: crop_type_release.py make OUT
       crop_type_release.py check OUT STORE
"""
import csv
import json
import os

import h5py
import numpy as np
from release_common import main, report, write_csv

TILES = {"ghana": [(3, 0), (17, 1), (42, 2), (5, 0)], "southsudan": [(8, 0), (9, 2)]}


def dates(n, start_day):
    return [f"2016-{1 + (start_day + 9 * k) // 28:02d}-{1 + (start_day + 9 * k) % 28:02d}" for k in range(n)]


def make(out, other=False):
    rng = np.random.default_rng(5)
    root = os.path.join(out, "africa_crop_type_mapping")
    expected = {}
    for country, tiles in TILES.items():
        folder = os.path.join(root, country)
        for sub in ("npy", "truth", "s1", "s2", "planet"):
            os.makedirs(os.path.join(folder, sub), exist_ok=True)
        with open(os.path.join(folder, "list_eval_partition.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "partition"])
            for tid, part in tiles:
                w.writerow([tid, part])
        for k, (tid, part) in enumerate(tiles):
            name = f"{country}_{tid:06d}"
            t1, t2, t3 = 4 + k, 6 + k, 3 + k
            s1 = rng.normal(-12, 4, size=(3, 64, 64, t1)).astype(np.float32)
            s2 = rng.integers(0, 9000, size=(10, 64, 64, t2)).astype(np.int16)
            planet = rng.integers(200, 4000, size=(4, 71, 71, t3)).astype(np.int16)
            np.savez_compressed(os.path.join(folder, "npy", name + ".npz"), s1=s1, s2=s2, planet=planet)
            truth = rng.integers(0, 5, size=(64, 64)).astype(np.uint8)
            if other and k in (0, 2) and country == "ghana":  # legend codes past the 4 classes: yam .. okra
                truth[0, :8] = [5, 6, 7, 8, 5, 6, 7, 8]
            np.savez_compressed(os.path.join(folder, "truth", name + ".npz"), truth=truth)
            # Ghana's JSON names use the plain id, South Sudan's the padded one: both occur in the wild.
            jid = str(tid) if country == "ghana" else f"{tid:06d}"
            for sensor, n in (("s1", t1), ("s2", t2), ("planet", t3)):
                with open(os.path.join(folder, sensor, f"{sensor}_{country}_{jid}.json"), "w") as f:
                    json.dump({"dates": dates(n, 3 * k)}, f)
            expected[name] = {"country": country, "split": ["train", "val", "test"][part], "tile": tid,
                              "steps": [t1, t2, t3]}
    json.dump(expected, open(os.path.join(out, "expected.json"), "w"))


def check(out, store):
    import torch
    expected = json.load(open(os.path.join(out, "expected.json")))
    root = os.path.join(out, "africa_crop_type_mapping")
    problems = []
    with h5py.File(store, "r") as f:
        ids = list(f["meta/id"].asstr()[:])
        names = list(f["meta/split"].attrs["names"])
        if sorted(ids) != sorted(expected):
            problems.append(f"ids {ids}")
        for i, name in enumerate(ids):
            e = expected[name]
            z = np.load(os.path.join(root, e["country"], "npy", name + ".npz"))
            for sensor, steps in zip(("s1", "s2", "planet"), e["steps"]):
                got = f["inputs/" + sensor][i]  # (C, 256, 64, 64)
                src = z[sensor].transpose(0, 3, 1, 2)  # (C, T, H, W)
                if sensor == "planet":
                    ref = torch.nn.functional.interpolate(torch.from_numpy(src.astype(np.float64)), size=(64, 64),
                                                          mode="bilinear", align_corners=False).numpy()
                    if np.abs(got[:, :steps] - ref).max() > 0.5 + 1e-9:
                        problems.append(f"{name}: planet resize off by {np.abs(got[:, :steps] - ref).max()}")
                elif not np.array_equal(got[:, :steps], src.astype(got.dtype)):
                    problems.append(f"{name}: {sensor} values")
                if np.any(got[:, steps:] != 0):
                    problems.append(f"{name}: {sensor} padding not zero")
                d = f["inputs/" + sensor + "_dates"][i]
                want = [int(s.replace("-", "")) for s in dates(steps, 3 * sorted(
                    k for k, (t, _) in enumerate(TILES[e["country"]]) if t == e["tile"])[0])]
                if list(d[:steps]) != want or np.any(d[steps:] != 0):
                    problems.append(f"{name}: {sensor} dates {list(d[:steps])} != {want}")
            truth = np.load(os.path.join(root, e["country"], "truth", name + ".npz"))["truth"]
            # Codes past the card's 4 classes are imported as 0 (unlabelled) with --other-classes-unlabelled.
            if not np.array_equal(f["targets/truth"][i], np.where(truth > 4, 0, truth)):
                problems.append(f"{name}: truth")
            if names[f["meta/split"][i]] != e["split"] or f["meta/country"].asstr()[i] != e["country"] or \
                    f["meta/tile"][i] != e["tile"]:
                problems.append(f"{name}: meta")
    report(problems, len(expected), "tiles")


if __name__ == "__main__":
    main(lambda a: make(a[0], "other" in a[1:]), lambda a: check(*a[:2]))
