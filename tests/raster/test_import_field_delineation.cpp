// The field-delineation importer, which decodes JPEG and PNG through GDAL (the raster component),
// on a release written with PIL at test time.
#include <gtest/gtest.h>

#include "sbench/core/error.hpp"
#include "sbench/raster/image.hpp"
#include "sbench/store/import.hpp"
#include "test_support.hpp"

namespace sbench::store {
namespace {

ImportOptions options(const std::filesystem::path& from, const std::filesystem::path& out) {
  ImportOptions opt;
  opt.from = from;
  opt.out = out;
  opt.read_image = raster::read_image_u8;
  return opt;
}

TEST(ImportFieldDelineation, ImagesAndBothMasksAsPilDecodesThem) {
  test::TempDir dir;
  test::run_python("field_release.py", {"make", dir.path().string()});
  const auto& reg = TaskRegistry::builtin();
  const auto report = import_release(reg.get("2D"), reg, options(dir.path(), dir / "fd.h5"));
  EXPECT_EQ(report.written, 6u);
  const auto check = test::run_python("field_release.py", {"check", dir.path().string(), (dir / "fd.h5").string()});
  EXPECT_NE(check.out.find("0 problems"), std::string::npos) << check.out;
}

TEST(ImportFieldDelineation, TruncatedJpegAndNoDecoderAreErrors) {
  test::TempDir dir;
  test::run_python("field_release.py", {"make", dir.path().string()});
  const auto& reg = TaskRegistry::builtin();
  ImportOptions no_decoder = options(dir.path(), dir / "a.h5");
  no_decoder.read_image = nullptr;
  EXPECT_THROW(import_release(reg.get("2D"), reg, no_decoder), UsageError);
  const auto jpeg = dir / "imgs" / "103.jpeg";
  const std::string bytes = test::read_file(jpeg);
  test::write_file(jpeg, bytes.substr(0, bytes.size() / 2));
  try {
    import_release(reg.get("2D"), reg, options(dir.path(), dir / "b.h5"));
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("103.jpeg"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "b.h5"));
}

}  // namespace
}  // namespace sbench::store
