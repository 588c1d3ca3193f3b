"""Street-level images for tests of `sbench street import`.

  street_release.py write STORE.h5 DIR SIZE   writes, for the store's first clusters, a small release
      in the documented layout (DIR/mapillary/metadata/{CC}.csv, DIR/mapillary/imagery/{CC}/{DHSID_EA}/
      {id}.jpeg, JPEGs by PIL) with bad files beside it, and own images (DIR/own/images, DIR/own/
      metadata.csv); the expected images (PIL: centred square crop, resized with BOX down or
      BILINEAR up) and fields go to DIR/expected.npz and DIR/expected.json.
  street_release.py check DIR OUT.h5 MODE     compares /street of OUT.h5 with the expectation of MODE
      (release or own): image by image (mean absolute difference <= 1, largest <= 8 DN), cluster by
      cluster; exits 1 on any difference.
"""
import io
import json
import math
import os
import sys

import h5py
import numpy as np
from PIL import Image


def haversine(lat1, lon1, lat2, lon2):
    r = math.pi / 180
    a = math.sin((lat2 - lat1) * r / 2) ** 2 + math.cos(lat1 * r) * math.cos(lat2 * r) * math.sin((lon2 - lon1) * r / 2) ** 2
    return 2 * 6371008.8 * math.asin(min(1.0, math.sqrt(a)))


def photo(w, h, seed):
    """A smooth RGB picture (gradients and a soft disc), so that resampling differs little."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    cx, cy = w * (0.3 + 0.4 * ((seed * 37) % 10) / 10), h * 0.5
    disc = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * (0.2 * min(w, h)) ** 2))
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = np.clip(40 + 20 * (seed % 7) + 150 * disc, 0, 255)
    return Image.fromarray(np.stack([r, g, b], axis=-1).round().astype(np.uint8))


def expected(img, size):
    w, h = img.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    sq = img.crop((left, top, left + s, top + s))
    out = sq.resize((size, size), Image.BOX if s >= size else Image.BILINEAR)
    return np.asarray(out).transpose(2, 0, 1).copy()


def write(store, root, size):
    with h5py.File(store, "r") as f:
        ids = [x.decode() for x in f["meta/id"][:]]
        lat, lon, year = f["meta/lat"][:], f["meta/lon"][:], f["meta/year"][:]
    exp_img, exp = {}, {"release": {}, "own": {}}
    rel = os.path.join(root, "mapillary")
    sizes = [(400, 300), (300, 500), (1024, 768), (40, 30), (120, 90)]  # (40, 30): resized up
    rows = {}
    n_img = {0: 3, 1: 2, 2: 4}
    seed = 0
    for k, count in n_img.items():
        cid, cc = ids[k], ids[k][:2]
        folder = os.path.join(rel, "imagery", cc, cid)
        os.makedirs(folder, exist_ok=True)
        images = []
        for i in range(count):
            seed += 1
            w, h = sizes[(k + i) % len(sizes)]
            img = photo(w, h, seed)
            if seed == 4:
                img = img.convert("L")  # a grey photo: its one band repeated
            iid = f"{1000000 + seed}"
            img.save(os.path.join(folder, iid + ".jpeg"), quality=95)
            # Decode what was written: the stored image is of the JPEG, not of the array.
            img = Image.open(os.path.join(folder, iid + ".jpeg")).convert("RGB")
            plat, plon, pyear = lat[k] + 0.01 * (i + 1), lon[k] - 0.005 * i, int(year[k]) + (i % 3) - 1
            ts = int((pyear - 1970) * 365.25 * 86400 * 1000 + 200 * 86400 * 1000)
            rows.setdefault(cc, []).append(f"{iid},{ts},{pyear},{plat:.6f},{plon:.6f}")
            exp_img[f"release/{iid}"] = expected(img, size)
            images.append({"id": iid, "distance": haversine(lat[k], lon[k], plat, plon), "year_gap": pyear - int(year[k])})
        exp["release"][cid] = sorted(images, key=lambda m: m["id"])
    # Bad files in the first cluster's folder: truncated, not a JPEG, no metadata; metadata without
    # an image; a folder that is no cluster of the store.
    cid0, cc0 = ids[0], ids[0][:2]
    folder0 = os.path.join(rel, "imagery", cc0, cid0)
    buf = io.BytesIO()
    photo(400, 300, 99).save(buf, format="JPEG", quality=95)
    with open(os.path.join(folder0, "2000001.jpeg"), "wb") as fh:
        fh.write(buf.getvalue()[: len(buf.getvalue()) // 2])
    photo(64, 64, 98).save(os.path.join(folder0, "2000002.jpeg"), format="PNG")
    photo(64, 64, 97).save(os.path.join(folder0, "2000003.jpeg"), quality=90)
    open(os.path.join(folder0, "1000001.json"), "w").write("{}")  # a sidecar file: not a JPEG name
    first = sorted(f for f in os.listdir(folder0) if f.startswith("1000"))[0]
    with open(os.path.join(folder0, first), "rb") as src, open(os.path.join(folder0, first[:-5] + ".jpg"), "wb") as dst:
        dst.write(src.read())  # the same id twice (.jpeg and .jpg)
    rows[cc0] += [f"2000001,1262304000000,{int(year[0])},{lat[0]:.6f},{lon[0]:.6f}",
                  f"2000002,1262304000000,{int(year[0])},{lat[0]:.6f},{lon[0]:.6f}",
                  f"2000004,1262304000000,{int(year[0])},{lat[0]:.6f},{lon[0]:.6f}",
                  f"2000005,1262304000000,{int(year[0])},abc,{lon[0]:.6f}"]  # a row that does not parse
    unknown = os.path.join(rel, "imagery", cc0, f"{cc0}-1999-1#-00000099")
    os.makedirs(unknown, exist_ok=True)
    photo(64, 64, 96).save(os.path.join(unknown, "3000001.jpeg"), quality=90)
    os.makedirs(os.path.join(rel, "metadata"), exist_ok=True)
    for cc, lines in rows.items():
        with open(os.path.join(rel, "metadata", f"{cc}.csv"), "w") as fh:
            fh.write("id,timestamp,year,lat,lon\n" + "\n".join(lines) + "\n")
    # Own images around cluster 3: five within 0.1 degree and 3 years (the nearest three kept), one
    # 0.2 degree away, one 5 years later, one file without a metadata row; timestamps only.
    own = os.path.join(root, "own", "images")
    os.makedirs(own, exist_ok=True)
    k = 3
    lines = []
    near = []
    for i, (dlat, dlon, dyear) in enumerate([(0.03, 0.0, 0), (0.001, 0.002, 1), (0.05, -0.04, -2), (0.0, 0.02, 3),
                                             (0.08, 0.08, 0), (0.2, 0.0, 0), (0.001, 0.0, 5)]):
        iid = f"own{i}"
        img = photo(500, 375, 50 + i)
        img.save(os.path.join(own, iid + ".jpg"), quality=95)
        img = Image.open(os.path.join(own, iid + ".jpg")).convert("RGB")
        plat, plon, pyear = lat[k] + dlat, lon[k] + dlon, int(year[k]) + dyear
        ts = int(((pyear - 1970) * 365.2425 + 180) * 86400 * 1000)
        lines.append(f"{iid},{plat:.6f},{plon:.6f},{ts}")
        exp_img[f"own/{iid}"] = expected(img, size)
        if abs(dlat) <= 0.1 and abs(dlon) <= 0.1 and abs(dyear) <= 3:
            near.append({"id": iid, "distance": haversine(lat[k], lon[k], plat, plon), "year_gap": dyear})
    photo(100, 100, 77).save(os.path.join(own, "stray.jpg"), quality=90)
    with open(os.path.join(root, "own", "metadata.csv"), "w") as fh:
        fh.write("image_id,latitude,longitude,captured_at\n" + "\n".join(lines) + "\n")
    exp["own"][ids[k]] = sorted(near, key=lambda m: m["distance"])[:3]
    np.savez(os.path.join(root, "expected.npz"), **{k.replace("/", "__"): v for k, v in exp_img.items()})
    with open(os.path.join(root, "expected.json"), "w") as fh:
        json.dump(exp, fh)


def check(root, out, mode):
    exp = json.load(open(os.path.join(root, "expected.json")))[mode]
    imgs = np.load(os.path.join(root, "expected.npz"))
    bad = checked = 0
    with h5py.File(out, "r") as f:
        ids = [x.decode() for x in f["meta/id"][:]]
        g = f["street"]
        cluster = [x.decode() for x in g["cluster"][:]]
        image_id = [x.decode() for x in g["image_id"][:]]
        first, count = g["first"][:], g["count"][:]
        for i, cid in enumerate(ids):
            want = exp.get(cid, [])
            got = list(range(first[i], first[i] + count[i])) if count[i] else []
            if [image_id[j] for j in got] != [m["id"] for m in want]:
                print(f"{cid}: images {[image_id[j] for j in got]}, expected {[m['id'] for m in want]}")
                bad += 1
                continue
            for j, m in zip(got, want):
                if cluster[j] != cid:
                    print(f"image {m['id']}: cluster {cluster[j]}, expected {cid}")
                    bad += 1
                if abs(g["distance_m"][j] - m["distance"]) > 1e-3 * m["distance"] + 0.5 or g["year_gap"][j] != m["year_gap"]:
                    print(f"image {m['id']}: distance {g['distance_m'][j]} gap {g['year_gap'][j]}, expected {m}")
                    bad += 1
                a = g["image"][j].astype(np.int64)
                e = imgs[f"{mode}__{m['id']}"].astype(np.int64)
                diff = np.abs(a - e)
                if a.shape != e.shape or diff.mean() > 1 or diff.max() > 8:
                    print(f"image {m['id']}: mean difference {diff.mean():.2f}, largest {diff.max()} from PIL's")
                    bad += 1
                checked += 1
        if sum(count) != len(cluster):
            print(f"the counts add to {sum(count)}, /street holds {len(cluster)} images")
            bad += 1
    print(json.dumps({"images_checked": checked, "differences": bad}))
    sys.exit(1 if bad or checked == 0 else 0)


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4])
