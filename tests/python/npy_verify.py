"""Reads .npy/.npz files written by sbench with numpy and compares them to expected.json
(written by the C++ test with nlohmann-json, independently of sbench's npy writer).

expected.json: {file: {key: {"descr", "shape", "values"}}}; key "" for .npy files.
Floats are C99 hex text (read with float.fromhex). Exits 1 listing every mismatch.

usage: npy_verify.py DIR
"""
import json
import math
import os
import sys

import numpy as np


def same_float(got, text):
    want = float.fromhex(text)
    if math.isnan(want):
        return math.isnan(got)
    return got == want and math.copysign(1.0, got) == math.copysign(1.0, want)


def text_values(arr):
    flat = arr.ravel(order="C")
    k = arr.dtype.kind
    if k in "iu":
        return [str(int(v)) for v in flat]
    if k == "b":
        return ["1" if v else "0" for v in flat]
    return [str(v) for v in flat]


def main(d):
    expected = json.load(open(os.path.join(d, "expected.json")))
    problems = []
    for name, members in expected.items():
        path = os.path.join(d, name)
        if name.endswith(".npz"):
            with np.load(path, allow_pickle=False) as z:
                if sorted(z.files) != sorted(members):
                    problems.append(f"{name}: members {sorted(z.files)} != {sorted(members)}")
                    continue
                arrays = {k: z[k] for k in members}
        else:
            with open(path, "rb") as f:
                version = np.lib.format.read_magic(f)
                if version != (1, 0):
                    problems.append(f"{name}: format version {version}, expected (1, 0)")
            arrays = {"": np.load(path, allow_pickle=False)}
        for key, exp in members.items():
            arr = arrays[key]
            where = f"{name}:{key}" if key else name
            if arr.dtype.str != exp["descr"]:
                problems.append(f"{where}: dtype {arr.dtype.str} != {exp['descr']}")
            if list(arr.shape) != exp["shape"]:
                problems.append(f"{where}: shape {list(arr.shape)} != {exp['shape']}")
            elif arr.dtype.kind == "f":
                flat = [float(v) for v in arr.ravel(order="C")]
                bad = [i for i, (g, t) in enumerate(zip(flat, exp["values"])) if not same_float(g, t)]
                if bad:
                    problems.append(f"{where}: elements {bad[:8]} differ: {[flat[i] for i in bad[:8]]}")
            elif text_values(arr) != exp["values"]:
                problems.append(f"{where}: values differ: {text_values(arr)[:8]} != {exp['values'][:8]}")
    for p in problems:
        print(p)
    print(f"checked {sum(len(m) for m in expected.values())} arrays in {len(expected)} files, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main(sys.argv[1])
