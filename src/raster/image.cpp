#include "sbench/raster/image.hpp"

#include <algorithm>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>

#include "sbench/core/error.hpp"
#include "sbench/raster/gdal_env.hpp"

namespace sbench::raster {

namespace {

// An image opened read-only (by `driver` when given), closed on scope exit. libjpeg only warns about a
// truncated file and fills the rest with grey: that is made an error of the read.
struct OpenImage {
  GDALDatasetH ds = nullptr;
  int bands = 0, w = 0, h = 0;
  OpenImage(const std::filesystem::path& path, const char* driver) {
    init_gdal();
    if (!std::filesystem::exists(path)) fail<IoError>("{}: no such file", path.string());
    CPLSetThreadLocalConfigOption("GDAL_ERROR_ON_LIBJPEG_WARNING", "TRUE");
    CPLErrorReset();
    const char* const drivers[] = {driver, nullptr};
    ds = GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, driver ? drivers : nullptr, nullptr, nullptr);
    if (!ds) {
      if (driver) fail<InputError>("{}: not a readable {} image", path.string(), driver);
      fail<InputError>("{}: not a readable image ({})", path.string(), CPLGetLastErrorMsg());
    }
    bands = GDALGetRasterCount(ds);
    w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    if (bands < 1 || w < 1 || h < 1) {
      GDALClose(ds);
      fail<InputError>("{}: image without pixels", path.string());
    }
  }
  ~OpenImage() { GDALClose(ds); }
  OpenImage(const OpenImage&) = delete;
  OpenImage& operator=(const OpenImage&) = delete;
};

}  // namespace

NpyArray read_image_u8(const std::filesystem::path& path) {
  const OpenImage img(path, nullptr);
  GDALDatasetH ds = img.ds;
  const int bands = img.bands, w = img.w, h = img.h;
  NpyArray out(NpyKind::unsigned_int, 1, {bands, h, w});
  std::vector<int> band_list(static_cast<std::size_t>(bands));
  for (int b = 0; b < bands; ++b) band_list[static_cast<std::size_t>(b)] = b + 1;
  const CPLErr err =
      GDALDatasetRasterIO(ds, GF_Read, 0, 0, w, h, out.bytes(), w, h, GDT_Byte, bands, band_list.data(), 0, 0, 0);
  if (err != CE_None || CPLGetLastErrorType() == CE_Failure) {
    fail<InputError>("{}: cannot decode the image ({})", path.string(), CPLGetLastErrorMsg());
  }
  return out;
}

std::vector<std::uint8_t> read_photo_square(const std::filesystem::path& path, int size) {
  const OpenImage img(path, "JPEG");
  GDALDatasetH ds = img.ds;
  const int bands = img.bands, w = img.w, h = img.h;
  const int side = std::min(w, h), x0 = (w - side) / 2, y0 = (h - side) / 2;
  std::vector<int> band_list = bands >= 3 ? std::vector<int>{1, 2, 3} : std::vector<int>{1};
  const auto plane = static_cast<std::size_t>(size) * static_cast<std::size_t>(size);
  std::vector<std::uint8_t> out(3 * plane);
  GDALRasterIOExtraArg extra;
  INIT_RASTERIO_EXTRA_ARG(extra);
  extra.eResampleAlg = side >= size ? GRIORA_Average : GRIORA_Bilinear;
  const CPLErr err = GDALDatasetRasterIOEx(ds, GF_Read, x0, y0, side, side, out.data(), size, size, GDT_Byte,
                                           static_cast<int>(band_list.size()), band_list.data(), 0, 0, 0, &extra);
  if (err != CE_None || CPLGetLastErrorType() == CE_Failure) {
    fail<InputError>("{}: cannot decode the image ({})", path.string(), CPLGetLastErrorMsg());
  }
  if (band_list.size() == 1) {
    std::copy(out.begin(), out.begin() + static_cast<long>(plane), out.begin() + static_cast<long>(plane));
    std::copy(out.begin(), out.begin() + static_cast<long>(plane), out.begin() + static_cast<long>(2 * plane));
  }
  return out;
}

}  // namespace sbench::raster
