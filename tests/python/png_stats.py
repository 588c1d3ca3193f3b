"""Colour statistics of a screenshot: `png_stats.py FILE R G B` prints the share of pixels that are
not near-white and the count of pixels within 12 of the colour (R, G, B) on every channel."""
import sys

import numpy as np
from PIL import Image

img = np.asarray(Image.open(sys.argv[1]).convert("RGB")).astype(int)
rgb = np.array([int(v) for v in sys.argv[2:5]])
not_white = (img.min(axis=2) < 235).mean()
near = (np.abs(img - rgb).max(axis=2) <= 12).sum()
print(f"{not_white:.6f} {near}")
