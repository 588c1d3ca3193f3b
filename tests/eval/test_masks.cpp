// Masks of dense submissions, read without GDAL: every encoding Pillow and GDAL write (their own
// .npy of the expected values beside each), and corrupt files named in clear errors.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

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
}

}  // namespace
}  // namespace sbench::eval
