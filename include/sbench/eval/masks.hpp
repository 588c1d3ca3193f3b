// Single-band masks of dense submissions, read without GDAL (the evaluator builds without it):
// PNG (grey 1-16 bit, palette indices, grey + alpha) and baseline TIFF (strips; none, LZW, deflate
// or PackBits; horizontal predictor; 8-64 bit integers and floats). Anything else is an InputError
// naming the file and what it holds.
#pragma once

#include <filesystem>
#include <vector>

namespace sbench::eval {

struct MaskImage {
  int height = 0, width = 0;
  std::vector<float> values;  // row-major
};

// With header_only, only the size is read (and checked): no pixel is decoded, nothing large is
// allocated. A mask has at most 2^28 pixels.
MaskImage read_png_mask(const std::filesystem::path& path, bool header_only = false);
MaskImage read_tiff_mask(const std::filesystem::path& path, bool header_only = false);
// By extension: .png, .tif or .tiff.
MaskImage read_mask(const std::filesystem::path& path, bool header_only = false);

}  // namespace sbench::eval
