"""Pickles of numpy arrays and masked arrays written by Python's pickle itself, plus
hand-assembled ones: a Python 2 style pickle (str bytes as SHORT_BINSTRING/BINSTRING), and
pickles sbench must refuse (a call to os.system, an object array, a truncated file).

usage: pickle_fixtures.py OUT   (writes OUT/*.pkl and OUT/manifest.json)
"""
import json
import os
import pickle
import struct
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
manifest = {}


def describe(name, arr, mask):
    flat = np.ascontiguousarray(arr).ravel()
    manifest[name] = {"shape": list(arr.shape), "values": [float(v).hex() for v in flat.astype(np.float64)],
                      "mask": [int(m) for m in np.ascontiguousarray(mask).ravel()] if mask is not None else None}


def save(name, obj, protocol=2):
    with open(os.path.join(out, name), "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


# The Kenya release's shape: (14, 365) float64 with a mask of unobserved days.
rng = np.random.default_rng(1)
series = rng.uniform(400, 4700, size=(14, 365))
observed = np.zeros(365, dtype=bool)
observed[rng.choice(365, 40, replace=False)] = True
ma = np.ma.masked_array(series, mask=np.broadcast_to(~observed, (14, 365)))
for proto in (1, 2):
    save(f"kenya_p{proto}.pkl", ma, proto)
    describe(f"kenya_p{proto}.pkl", series, ~np.broadcast_to(observed, (14, 365)))
save("fortran_be.pkl", np.ma.masked_array(np.asfortranarray(np.arange(12, dtype=">i4").reshape(3, 4)),
                                          mask=np.eye(3, 4, dtype=bool)))
describe("fortran_be.pkl", np.arange(12).reshape(3, 4), np.eye(3, 4, dtype=bool))
save("nomask.pkl", np.ma.masked_array(np.linspace(0, 1, 6, dtype=np.float32)))
# numpy pickles the mask of an unmasked array as all False.
describe("nomask.pkl", np.linspace(0, 1, 6, dtype=np.float32), np.zeros(6, dtype=bool))
save("plain.pkl", np.arange(6, dtype=np.uint16).reshape(2, 3))
describe("plain.pkl", np.arange(6).reshape(2, 3), None)


# Python 2's pickle of a masked array: bytes are str objects (SHORT_BINSTRING / BINSTRING).
def py2_masked(values, mask):
    def s(b):
        return (b"U" + bytes([len(b)]) + b) if len(b) < 256 else (b"T" + struct.pack("<I", len(b)) + b)

    d = values.astype("<f8").tobytes()
    return (b"\x80\x02cnumpy.ma.core\n_mareconstruct\nq\x00(cnumpy.ma.core\nMaskedArray\nq\x01cnumpy\nndarray\nq\x02"
            b"K\x00\x85q\x03U\x01bq\x04tq\x05Rq\x06(K\x01K\x02K\x03\x86q\x07cnumpy\ndtype\nq\x08U\x02f8q\t"
            b"K\x00K\x01\x87q\nRq\x0b(K\x03U\x01<q\x0cNNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tq\rb\x89"
            + s(d) + s(mask.astype(np.uint8).tobytes()) + b"G\x44\x31\x95\x2d\xeb\x12\x65\x60tq\x0eb.")


v2 = np.arange(6, dtype=np.float64).reshape(2, 3) * 1.5
m2 = np.array([[0, 1, 0], [1, 0, 0]], dtype=bool)
open(os.path.join(out, "py2.pkl"), "wb").write(py2_masked(v2, m2))
describe("py2.pkl", v2, m2)

json.dump(manifest, open(os.path.join(out, "manifest.json"), "w"))

bad = os.path.join(out, "bad")
os.makedirs(bad, exist_ok=True)
open(os.path.join(bad, "os_system.pkl"), "wb").write(b"cos\nsystem\n(S'touch /tmp/sbench-pwned'\ntR.")
open(os.path.join(bad, "eval.pkl"), "wb").write(b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+1\x85R.")
with open(os.path.join(bad, "object.pkl"), "wb") as f:
    pickle.dump(np.array([{"a": 1}, None], dtype=object), f, protocol=2)
blob = open(os.path.join(out, "kenya_p2.pkl"), "rb").read()
open(os.path.join(bad, "truncated.pkl"), "wb").write(blob[: len(blob) // 2])
with open(os.path.join(bad, "dict.pkl"), "wb") as f:
    pickle.dump({"x": 1}, f, protocol=2)
with open(os.path.join(bad, "proto4.pkl"), "wb") as f:
    pickle.dump(np.ma.masked_array(np.zeros(3)), f, protocol=4)
