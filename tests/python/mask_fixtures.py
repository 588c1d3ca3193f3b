"""Masks in every encoding the evaluator reads, each with a .npy of its expected values.

usage: mask_fixtures.py OUTDIR -- writes OUTDIR/<name>.<png|tif> and OUTDIR/<name>.npy (float32)
and prints one file name per line. PNGs come from Pillow (grey 1/8/16 bit, palette, grey + alpha;
Pillow picks the row filters), TIFFs from Pillow and GDAL (uncompressed, LZW, deflate, PackBits,
horizontal predictor, big-endian, several strips, integer and float samples).
"""
import os
import sys

import numpy as np
from osgeo import gdal
from PIL import Image

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
h, w = 37, 53  # odd sizes: partial bytes, partial strips
names = []


def save(name, expected):
    np.save(os.path.join(out, os.path.splitext(name)[0] + ".npy"), expected.astype(np.float32))
    names.append(name)


classes = rng.integers(0, 7, size=(h, w)).astype(np.uint8)
smooth = (np.add.outer(np.arange(h), np.arange(w)) % 256).astype(np.uint8)

Image.fromarray(classes, mode="L").save(os.path.join(out, "grey8.png"))
save("grey8.png", classes)
Image.fromarray(smooth, mode="L").save(os.path.join(out, "grey8_smooth.png"), optimize=True)
save("grey8_smooth.png", smooth)
binary = (classes > 3)
Image.fromarray(binary).save(os.path.join(out, "bits1.png"))  # mode "1": one bit per pixel
save("bits1.png", binary.astype(np.uint8))
p = Image.fromarray(classes, mode="P")
p.putpalette([v for k in range(256) for v in (k, 255 - k, (7 * k) % 256)])
p.save(os.path.join(out, "palette.png"))
save("palette.png", classes)
big = (rng.integers(0, 60000, size=(h, w))).astype(np.uint16)
Image.fromarray(big.astype(np.int32), mode="I").convert("I;16").save(os.path.join(out, "grey16.png"))
save("grey16.png", np.asarray(Image.open(os.path.join(out, "grey16.png"))).astype(np.float32))
la = Image.merge("LA", [Image.fromarray(classes, mode="L"), Image.fromarray(smooth, mode="L")])
la.save(os.path.join(out, "grey_alpha.png"))
save("grey_alpha.png", classes)

for comp in [None, "tiff_lzw", "tiff_adobe_deflate", "packbits"]:
    name = f"pil_{comp or 'raw'}.tif"
    Image.fromarray(classes, mode="L").save(os.path.join(out, name), compression=comp)
    save(name, classes)

drv = gdal.GetDriverByName("GTiff")
probs = rng.random((h, w)).astype(np.float32)
for name, arr, gtype, opts in [
    ("gdal_float32_deflate.tif", probs, gdal.GDT_Float32, ["COMPRESS=DEFLATE", "BLOCKYSIZE=5"]),
    ("gdal_float64_lzw.tif", probs.astype(np.float64), gdal.GDT_Float64, ["COMPRESS=LZW"]),
    ("gdal_uint16_lzw_pred.tif", big, gdal.GDT_UInt16, ["COMPRESS=LZW", "PREDICTOR=2", "BLOCKYSIZE=4"]),
    ("gdal_int16_deflate_pred.tif", big.astype(np.int16) - 20000, gdal.GDT_Int16,
     ["COMPRESS=DEFLATE", "PREDICTOR=2"]),
    ("gdal_byte_packbits.tif", classes, gdal.GDT_Byte, ["COMPRESS=PACKBITS", "BLOCKYSIZE=3"]),
    ("gdal_int32_raw.tif", big.astype(np.int32) - 40000, gdal.GDT_Int32, []),
    ("gdal_uint8_bigendian.tif", classes, gdal.GDT_Byte, ["ENDIANNESS=BIG", "COMPRESS=LZW"]),
    ("gdal_uint16_bigendian_pred.tif", big, gdal.GDT_UInt16, ["ENDIANNESS=BIG", "COMPRESS=LZW", "PREDICTOR=2"]),
]:
    ds = drv.Create(os.path.join(out, name), w, h, 1, gtype, opts)
    ds.GetRasterBand(1).WriteArray(arr)
    ds = None
    save(name, arr.astype(np.float64))

# A larger, noisy LZW image: codes grow past 9, 10 and 11 bits and the table is reset.
noise = rng.integers(0, 256, size=(300, 301)).astype(np.uint8)
ds = drv.Create(os.path.join(out, "gdal_lzw_noise.tif"), 301, 300, 1, gdal.GDT_Byte, ["COMPRESS=LZW"])
ds.GetRasterBand(1).WriteArray(noise)
ds = None
save("gdal_lzw_noise.tif", noise)

print("\n".join(names))
