"""A small field-delineation release written with PIL as the upstream scripts write it:
clean_data.csv, imgs/{indices}.jpeg (RGB 224 x 224), masks/ and masks_filled/ PNGs (0/255, RGB);
check compares a store with PIL's own decoding of the same files.

usage: field_release.py make OUT
       field_release.py check OUT STORE
"""
import json
import os

import h5py
import numpy as np
from release_common import main, report, write_csv
from PIL import Image, ImageDraw


def make(out):
    rng = np.random.default_rng(2)
    for sub in ("imgs", "masks", "masks_filled"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    rows, expected = [], {}
    for i in range(6):
        idx = str(100 + i)
        img = (rng.uniform(0, 1, size=(224, 224, 3)) * 40 + np.linspace(0, 200, 224)[None, :, None]).astype(np.uint8)
        Image.fromarray(img).save(os.path.join(out, "imgs", idx + ".jpeg"), quality=90)
        boundary = Image.new("RGB", (224, 224))
        filled = Image.new("RGB", (224, 224))
        poly = [(20 + 5 * i, 30), (180, 40 + 3 * i), (150, 200), (30, 170)]
        ImageDraw.Draw(filled).polygon(poly, fill=(255, 255, 255))
        for im in (boundary, filled):
            ImageDraw.Draw(im).line(poly + [poly[0]], fill=(255, 255, 255) if im is boundary else (0, 0, 0), width=2)
        boundary.save(os.path.join(out, "masks", idx + ".png"))
        filled.save(os.path.join(out, "masks_filled", idx + ".png"))
        split = ["train", "val", "test"][i % 3]
        rows.append({"ids": i, "indices": idx, "split": split, "max_lat": 48.0 + i, "max_lon": 2.5, "min_lat": 47.9 + i,
                     "min_lon": 2.4})
        expected[idx] = {"split": split}
    write_csv(os.path.join(out, "clean_data.csv"), rows)
    json.dump(expected, open(os.path.join(out, "expected.json"), "w"))


def check(out, store):
    expected = json.load(open(os.path.join(out, "expected.json")))
    problems = []
    with h5py.File(store, "r") as f:
        ids = list(f["meta/id"].asstr()[:])
        names = list(f["meta/split"].attrs["names"])
        if ids != list(expected):
            problems.append(f"ids {ids}")
        for i, idx in enumerate(ids):
            img = np.array(Image.open(os.path.join(out, "imgs", idx + ".jpeg")).convert("RGB")).transpose(2, 0, 1)
            diff = np.abs(f["inputs/x"][i].astype(int) - img.astype(int)).max()
            if diff > 0:
                problems.append(f"{idx}: image differs from PIL's decoding by up to {diff}")
            for field, sub in (("mask", "masks"), ("mask_filled", "masks_filled")):
                m = (np.array(Image.open(os.path.join(out, sub, idx + ".png")).convert("RGB"))[:, :, 0] > 127)
                if not np.array_equal(f["targets/" + field][i], m.astype(np.uint8)):
                    problems.append(f"{idx}: {field}")
            if names[f["meta/split"][i]] != expected[idx]["split"]:
                problems.append(f"{idx}: split")
    report(problems, len(expected), "images")


if __name__ == "__main__":
    main(lambda a: make(*a[:1]), lambda a: check(*a[:2]))
