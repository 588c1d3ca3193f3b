"""Compares two HDF5 stores dataset by dataset (values, dtypes, shapes) and attribute by
attribute, ignoring the attributes that differ between runs by nature (created, command_line,
import_report).

usage: compare_stores.py A B [--ignore ATTR,...] [--skip GROUP,...]
"""
import sys

import h5py
import numpy as np

# import_report says what each run did (a resumed run reports the examples it carried over).
IGNORED = {"created", "command_line", "import_report"}


def items(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj))
    return out


def same_values(da, db):
    """Example by example for large datasets (stores of time series hold gigabytes), whole otherwise."""
    nan = da.dtype.kind == "f"
    if da.ndim == 0 or da.size * da.dtype.itemsize < (64 << 20):
        return np.array_equal(da[()], db[()], equal_nan=nan)
    return all(np.array_equal(da[i], db[i], equal_nan=nan) for i in range(da.shape[0]))


SKIPPED = []  # groups or datasets present in one store only by design (--skip street)
if "--skip" in sys.argv:
    SKIPPED = sys.argv[sys.argv.index("--skip") + 1].split(",")
if "--ignore" in sys.argv:
    IGNORED |= set(sys.argv[sys.argv.index("--ignore") + 1].split(","))
problems = []
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    ia, ib = items(a), items(b)
    for prefix in SKIPPED:
        ia = {k: v for k, v in ia.items() if not k.startswith(prefix)}
        ib = {k: v for k, v in ib.items() if not k.startswith(prefix)}
    if sorted(ia) != sorted(ib):
        problems.append(f"objects differ: {sorted(set(ia) ^ set(ib))}")
    for key in sorted(set(ia) & set(ib)):
        oa, ob = ia[key], ib[key]
        if isinstance(oa, h5py.Dataset):
            if oa.shape != ob.shape or oa.dtype != ob.dtype:
                problems.append(f"{key}: {oa.dtype}{oa.shape} != {ob.dtype}{ob.shape}")
            elif not same_values(oa, ob):
                problems.append(f"{key}: values differ")
        for name in set(oa.attrs) | set(ob.attrs):
            if name in IGNORED:
                continue
            if name not in oa.attrs or name not in ob.attrs or not np.array_equal(oa.attrs[name], ob.attrs[name]):
                problems.append(f"{key}: attribute {name} differs")
    for name in (set(a.attrs) | set(b.attrs)) - IGNORED:
        if name not in a.attrs or name not in b.attrs or not np.array_equal(a.attrs[name], b.attrs[name]):
            problems.append(f"/: attribute {name} differs")
for p in problems[:30]:
    print(p)
print(f"{len(problems)} differences")
sys.exit(1 if problems else 0)
