"""Writes .npy and .npz files with numpy itself, plus manifest.json describing every array.

The C++ tests read the files with sbench's reader and compare against the manifest, so the
expected values come from numpy, not from sbench. Values are written as text that reads back
exactly: float.hex() for floats, decimal for integers.

usage: npy_fixtures.py OUTDIR
"""
import json
import os
import sys
import zipfile

import numpy as np


def describe(arr):
    flat = np.ascontiguousarray(arr).ravel(order="C")
    kind = arr.dtype.kind
    if kind == "f":
        values = [float(v).hex() for v in flat]
    elif kind in "iu":
        values = [str(int(v)) for v in flat]
    elif kind == "b":
        values = ["1" if v else "0" for v in flat]
    elif kind == "U":
        values = [str(v) for v in flat]
    else:
        raise ValueError(arr.dtype)
    # The descr sbench reports: little-endian, C order.
    native = arr.dtype.newbyteorder("<") if arr.dtype.byteorder not in ("|", "=") else arr.dtype
    return {"descr": native.str, "shape": list(arr.shape), "values": values}


def sample(dtype, shape=(3, 4)):
    dt = np.dtype(dtype)
    n = int(np.prod(shape))
    if dt.kind == "b":
        base = np.array([i % 3 == 0 for i in range(n)])
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        special = [info.min, info.max, 0, 1, info.max - 1]
        base = np.array([special[i] if i < len(special) else (i * 37) % 120 for i in range(n)], dtype=dt)
    elif dt.kind == "f":
        special = [0.0, -0.0, 1.5, -2.25, np.inf, -np.inf, np.nan, np.finfo(dt).max, np.finfo(dt).tiny, 1e-3]
        base = np.array([special[i] if i < len(special) else i / 7.0 for i in range(n)], dtype=dt)
    elif dt.kind == "U":
        words = ["", "a", "h\u00e9llo", "\u65e5\u672c", "kenya_2017", "2009", "\U0001F600"]
        base = np.array([words[i % len(words)] for i in range(n)], dtype=dt)
    return base.reshape(shape).astype(dt)


def main(out):
    os.makedirs(out, exist_ok=True)
    manifest = {}

    def save_npy(name, arr, **kw):
        path = os.path.join(out, name)
        if kw:
            with open(path, "wb") as f:
                np.lib.format.write_array(f, arr, **kw)
        else:
            np.save(path, arr)
        manifest[name] = {"": describe(arr)}

    dtypes = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f4", "f8", "U9"]
    for d in dtypes:
        tag = np.dtype(d).str.replace("<", "le_").replace("|", "na_").replace(">", "be_")
        save_npy(f"{tag}.npy", sample("<" + d if d not in ("?", "i1", "u1") else d))
    for d in ["i2", "i4", "i8", "u2", "u4", "u8", "f4", "f8", "U9"]:
        save_npy(f"be_{d}.npy", sample(">" + d))
    save_npy("fortran_f8.npy", np.asfortranarray(np.arange(24, dtype="<f8").reshape(2, 3, 4) * 0.5))
    save_npy("fortran_be_i2.npy", np.asfortranarray(np.arange(-30, 30, dtype=">i2").reshape(3, 4, 5)))
    save_npy("fortran_u1.npy", np.asfortranarray(np.arange(12, dtype="u1").reshape(4, 3)))
    save_npy("scalar.npy", np.array(3.25, dtype="<f8"))
    save_npy("empty.npy", np.zeros((0, 3), dtype="<i4"))
    save_npy("vector.npy", np.arange(5, dtype="<i8"))
    save_npy("v2.npy", sample("<f4"), version=(2, 0))
    save_npy("v3.npy", sample("<U9"), version=(3, 0))

    arrays = {
        "x": np.linspace(0, 1, 8 * 5 * 5, dtype=np.float32).reshape(8, 5, 5),
        "years": np.array(["2009", "2010", "2016"]),
        "labels": np.array([1, 0, 1], dtype=np.int64),
        "mask": np.array([[True, False], [False, True]]),
        "big": np.asfortranarray(np.arange(12, dtype=">f8").reshape(3, 4)),
    }
    np.savez(os.path.join(out, "plain.npz"), **arrays)
    np.savez_compressed(os.path.join(out, "compressed.npz"), **arrays)
    manifest["plain.npz"] = {k: describe(v) for k, v in arrays.items()}
    manifest["compressed.npz"] = {k: describe(v) for k, v in arrays.items()}

    # More than 65,535 members: the archive needs zip64's end of central directory.
    many = os.path.join(out, "zip64_many.npz")
    tiny = np.array([7], dtype="<i2")
    with zipfile.ZipFile(many, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        import io

        buf = io.BytesIO()
        np.lib.format.write_array(buf, tiny)
        data = buf.getvalue()
        for i in range(65600):
            z.writestr(f"a{i}.npy", data)
    manifest["zip64_many.npz"] = {"a65599": describe(tiny), "a0": describe(tiny)}

    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)

    # ---- files sbench must refuse, each with a clear message ----
    bad = os.path.join(out, "bad")
    os.makedirs(bad, exist_ok=True)
    np.savez(os.path.join(bad, "object.npz"), x=np.array([{"a": 1}, None], dtype=object))
    np.save(os.path.join(bad, "structured.npy"), np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")]))
    np.save(os.path.join(bad, "float16.npy"), np.zeros(3, dtype="<f2"))
    np.save(os.path.join(bad, "complex.npy"), np.zeros(3, dtype="<c8"))
    with zipfile.ZipFile(os.path.join(bad, "not_npy_member.npz"), "w") as z:
        z.writestr("x.npy", "this is text, not an npy array")
    good = os.path.join(out, "compressed.npz")
    blob = open(good, "rb").read()
    open(os.path.join(bad, "truncated.npz"), "wb").write(blob[: len(blob) // 2])
    open(os.path.join(bad, "empty.npz"), "wb").write(b"")
    open(os.path.join(bad, "text.npz"), "wb").write(b"hello, this is not a zip archive\n" * 10)
    whole = open(os.path.join(out, "le_f8.npy"), "rb").read()
    open(os.path.join(bad, "truncated_data.npy"), "wb").write(whole[:-9])
    open(os.path.join(bad, "bad_magic.npy"), "wb").write(b"\x93NUMPX" + whole[6:])
    # A stored member with one data byte flipped: only the CRC tells.
    crc = os.path.join(bad, "crc.npz")
    np.savez(crc, x=np.arange(100, dtype="<i4"))
    raw = bytearray(open(crc, "rb").read())
    pos = raw.find(b"\x31\x00\x00\x00")  # the value 49
    raw[pos] ^= 0xFF
    open(crc, "wb").write(bytes(raw))


if __name__ == "__main__":
    main(sys.argv[1])
