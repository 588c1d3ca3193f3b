// Masks of dense submissions, read without GDAL: every encoding Pillow and GDAL write (their own
// .npy of the expected values beside each), and corrupt files named in clear errors.
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <sstream>
#include <tuple>
#include <vector>

#include "sbench/core/error.hpp"
#include "sbench/core/npy.hpp"
#include "sbench/eval/masks.hpp"
#include "test_support.hpp"

namespace sbench::eval {
namespace {

namespace fs = std::filesystem;

TEST(Masks, EveryEncodingOfPillowAndGdalDecodesToItsValues) {
  test::TempDir dir;
  const auto listed = test::run_python("mask_fixtures.py", {dir.path().string()});
  std::istringstream names(listed.out);
  std::string name;
  int files = 0;
  while (std::getline(names, name)) {
    if (name.empty()) continue;
    SCOPED_TRACE(name);
    const MaskImage m = read_mask(dir / name);
    const NpyArray want = read_npy(dir / (fs::path(name).stem().string() + ".npy"));
    ASSERT_EQ(want.ndim(), 2u);
    ASSERT_EQ(m.height, want.shape()[0]);
    ASSERT_EQ(m.width, want.shape()[1]);
    const auto v = want.to_vector<float>();
    std::size_t wrong = 0;
    for (std::size_t k = 0; k < v.size(); ++k) wrong += m.values[k] != v[k];
    EXPECT_EQ(wrong, 0u) << "first values " << m.values[0] << " " << m.values[1] << " vs " << v[0] << " " << v[1];
    ++files;
  }
  EXPECT_EQ(files, 19);
}

TEST(Masks, CorruptAndUnsupportedFilesAreErrorsNamingThem) {
  test::TempDir dir;
  test::run_python("mask_fixtures.py", {dir.path().string()});
  auto expect_error = [](const fs::path& p, const std::string& what) {
    try {
      read_mask(p);
      ADD_FAILURE() << p << " was read";
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  };
  // Truncated: half of each file.
  for (const char* n : {"grey8.png", "pil_tiff_lzw.tif", "gdal_float32_deflate.tif"}) {
    const std::string all = test::read_file(dir / n);
    test::write_file(dir / (std::string("cut_") + n), all.substr(0, all.size() / 2));
    expect_error(dir / (std::string("cut_") + n), "truncated");
  }
  // One flipped byte in the image data of a PNG fails its CRC.
  std::string png = test::read_file(dir / "grey8.png");
  png[png.size() / 2] = static_cast<char>(png[png.size() / 2] ^ 0x55);
  test::write_file(dir / "flipped.png", png);
  expect_error(dir / "flipped.png", "CRC");
  test::write_file(dir / "text.png", "not an image at all");
  expect_error(dir / "text.png", "not a PNG file");
  test::write_file(dir / "text.tif", "not an image at all");
  expect_error(dir / "text.tif", "not a TIFF file");
  test::write_file(dir / "mask.jpg", "x");
  expect_error(dir / "mask.jpg", ".png, .tif or .tiff");
  test::run_process({test::python(), "-c",
                     "import sys; from PIL import Image; Image.new('RGB', (4, 4)).save(sys.argv[1])",
                     (dir / "rgb.png").string()});
  expect_error(dir / "rgb.png", "this PNG is RGB");

  // Crafted headers: a bit depth PNG does not allow (CRC made valid), and TIFF strips pointing past
  // the file, with a classic LONG and with BigTIFF's LONG8.
  std::string odd = test::read_file(dir / "grey8.png");
  odd[24] = 3;  // IHDR bit depth
  const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(odd.data() + 12), 17);
  for (int k = 0; k < 4; ++k) odd[29 + static_cast<std::size_t>(k)] = static_cast<char>((crc >> (24 - 8 * k)) & 0xff);
  test::write_file(dir / "depth3.png", odd);
  expect_error(dir / "depth3.png", "bit depth 3 for colour type 0");
  auto tiff = [](std::uint16_t offset_type, std::uint32_t offset) {
    std::string t = std::string("II*\0", 4) + std::string("\x08\0\0\0", 4);
    auto u16 = [&](std::uint16_t v) { t += static_cast<char>(v & 0xff), t += static_cast<char>(v >> 8); };
    auto u32 = [&](std::uint32_t v) {
      for (int k = 0; k < 4; ++k) t += static_cast<char>((v >> (8 * k)) & 0xff);
    };
    u16(6);
    for (const auto& [tag, type, value] : std::vector<std::tuple<std::uint16_t, std::uint16_t, std::uint32_t>>{
             {256, 3, 1}, {257, 3, 1}, {258, 3, 8}, {259, 3, 1}, {273, offset_type, offset}, {279, 4, 32}}) {
      u16(tag);
      u16(type);
      u32(1);
      u32(value);
    }
    u32(0);
    return t;
  };
  test::write_file(dir / "far.tif", tiff(4, 0xfffffff0u));
  expect_error(dir / "far.tif", "truncated TIFF (strip 0 is cut)");
  test::write_file(dir / "long8.tif", tiff(16, 0xfffffff0u));
  expect_error(dir / "long8.tif", "corrupt TIFF (tag 273 of type 16");
}

}  // namespace
}  // namespace sbench::eval
