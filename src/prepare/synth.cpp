#include "sbench/prepare/synth.hpp"

#include <fmt/format.h>
#include <gdal.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "sbench/core/error.hpp"
#include "sbench/raster/gdal_env.hpp"
#include "synth_common.hpp"

namespace sbench::prepare {

namespace fs = std::filesystem;

SynthWriter::SynthWriter(fs::path out) : out_(std::move(out)) {
  std::error_code ec;
  if (fs::exists(out_) && !(fs::is_directory(out_) && fs::is_empty(out_))) {
    fail<UsageError>("--out {}: exists and is not an empty folder", out_.string());
  }
  partial_ = out_;
  partial_ += ".partial";
  fs::remove_all(partial_, ec);
  fs::create_directories(partial_, ec);
  if (ec) fail<IoError>("{}: cannot create: {}", partial_.string(), ec.message());
}

SynthWriter::~SynthWriter() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(partial_, ec);
}

void SynthWriter::write_tif(const std::string& relative, int width, int height, int gdal_type, const void* data,
                            const std::string& wkt, const double* geotransform, std::optional<double> nodata,
                            int bands) {
  const fs::path path = partial_ / relative;
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  GDALDriverH driver = GDALGetDriverByName("GTiff");
  const auto type = static_cast<GDALDataType>(gdal_type);
  const char* predictor = type == GDT_Float32 || type == GDT_Float64 ? "PREDICTOR=3" : "PREDICTOR=2";
  const char* options[] = {"COMPRESS=DEFLATE", predictor, nullptr};
  GDALDatasetH ds = GDALCreate(driver, path.c_str(), width, height, bands, type, const_cast<char**>(options));
  if (!ds) fail<IoError>("{}: cannot create the GeoTIFF", path.string());
  GDALSetProjection(ds, wkt.c_str());
  GDALSetGeoTransform(ds, const_cast<double*>(geotransform));
  const std::size_t plane = static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                            static_cast<std::size_t>(GDALGetDataTypeSizeBytes(type));
  CPLErr err = CE_None;
  for (int b = 0; b < bands && err == CE_None; ++b) {
    GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
    if (nodata) GDALSetRasterNoDataValue(band, *nodata);
    err = GDALRasterIO(band, GF_Write, 0, 0, width, height,
                       const_cast<char*>(static_cast<const char*>(data) + plane * static_cast<std::size_t>(b)), width,
                       height, type, 0, 0);
  }
  GDALClose(ds);
  if (err != CE_None) fail<IoError>("{}: cannot write the pixels", path.string());
  files_.push_back(relative);
}

void SynthWriter::write_jp2(const std::string& relative, int width, int height, int bands, int gdal_type,
                            const void* data, const std::string& wkt, const double* geotransform) {
  const fs::path path = partial_ / relative;
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  GDALDriverH jp2 = GDALGetDriverByName("JP2OpenJPEG");
  if (!jp2) fail<Error>("GDAL has no JP2OpenJPEG driver: cannot write {}", relative);
  const auto type = static_cast<GDALDataType>(gdal_type);
  GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", width, height, bands, type, nullptr);
  GDALSetProjection(mem, wkt.c_str());
  GDALSetGeoTransform(mem, const_cast<double*>(geotransform));
  const std::size_t plane = static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                            static_cast<std::size_t>(GDALGetDataTypeSizeBytes(type));
  CPLErr err = CE_None;
  for (int b = 0; b < bands && err == CE_None; ++b) {
    err = GDALRasterIO(GDALGetRasterBand(mem, b + 1), GF_Write, 0, 0, width, height,
                       const_cast<char*>(static_cast<const char*>(data) + plane * static_cast<std::size_t>(b)), width,
                       height, type, 0, 0);
  }
  // Tiled as the ESA products are, so that a window read decodes only the blocks it meets.
  const char* options[] = {"REVERSIBLE=YES", "QUALITY=100", "YCC=NO", "BLOCKXSIZE=256", "BLOCKYSIZE=256", nullptr};
  GDALDatasetH out = err == CE_None
                         ? GDALCreateCopy(jp2, path.c_str(), mem, FALSE, const_cast<char**>(options), nullptr, nullptr)
                         : nullptr;
  GDALClose(mem);
  if (!out) fail<IoError>("{}: cannot write the JPEG 2000 file", path.string());
  GDALClose(out);
  files_.push_back(relative);
}

void SynthWriter::write_jpeg(const std::string& relative, int width, int height, int bands, const std::uint8_t* data) {
  const fs::path path = partial_ / relative;
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", width, height, bands, GDT_Byte, nullptr);
  if (!mem) fail<IoError>("{}: cannot create the image in memory", path.string());
  const std::size_t plane = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  CPLErr err = CE_None;
  for (int b = 0; b < bands && err == CE_None; ++b) {
    err = GDALRasterIO(GDALGetRasterBand(mem, b + 1), GF_Write, 0, 0, width, height,
                       const_cast<std::uint8_t*>(data + plane * static_cast<std::size_t>(b)), width, height, GDT_Byte,
                       0, 0);
  }
  const char* options[] = {"QUALITY=90", nullptr};
  GDALDatasetH jpeg = err == CE_None ? GDALCreateCopy(GDALGetDriverByName("JPEG"), path.c_str(), mem, FALSE,
                                                      const_cast<char**>(options), nullptr, nullptr)
                                     : nullptr;
  GDALClose(mem);
  if (!jpeg) fail<IoError>("{}: cannot write the JPEG", path.string());
  GDALClose(jpeg);
  // GDAL writes georeferencing beside it (.aux.xml) only when there is some; none here.
  files_.push_back(relative);
}

std::filesystem::path SynthWriter::path(const std::string& relative) {
  const fs::path p = partial_ / relative;
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  return p;
}

void SynthWriter::write_text(const std::string& relative, const std::string& text) {
  const fs::path path = partial_ / relative;
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) fail<IoError>("{}: cannot write", path.string());
  files_.push_back(relative);
}

void SynthWriter::commit() {
  std::error_code ec;
  if (fs::exists(out_)) fs::remove(out_, ec);  // an empty folder (checked in the constructor)
  fs::rename(partial_, out_, ec);
  if (ec) fail<IoError>("{}: cannot rename to {}: {}", partial_.string(), out_.string(), ec.message());
  committed_ = true;
}

std::vector<std::string> synth_families() {
  return {"dhs",        "lsms_pair",      "cropland",       "brick_kiln",       "field_delineation",
          "crop_yield", "land_cover_ood", "land_cover_rep", "crop_type_fields", "crop_type_tiles"};
}

SynthResult synth_task(const TaskCard& task, const SynthOptions& opt) {
  const auto families = synth_families();
  if (std::find(families.begin(), families.end(), task.family) == families.end()) {
    fail<UsageError>("sbench synth does not write {} ({} family) yet; it writes the {} tasks (docs/prepare.md)",
                     task.id, task.family, fmt::join(synth_families(), ", "));
  }
  if (opt.street && task.family != "dhs") {
    fail<UsageError>("--street: street-level images go with the DHS tasks, not {}", task.id);
  }
  raster::init_gdal();
  SynthWriter out(opt.out);
  SynthResult r = task.family == "dhs"                ? synth_dhs(task, opt, out)
                  : task.family == "lsms_pair"        ? synth_lsms(task, opt, out)
                  : task.family == "cropland"         ? synth_cropland(task, opt, out)
                  : task.family == "brick_kiln"       ? synth_brick_kiln(task, opt, out)
                  : task.family == "crop_yield"       ? synth_crop_yield(task, opt, out)
                  : task.family == "land_cover_ood"   ? synth_land_cover_ood(task, opt, out)
                  : task.family == "land_cover_rep"   ? synth_land_cover_rep(task, opt, out)
                  : task.family == "crop_type_fields" ? synth_crop_type_kenya(task, opt, out)
                  : task.family == "crop_type_tiles"  ? synth_crop_type_africa(task, opt, out)
                                                      : synth_field_delineation(task, opt, out);
  r.files = out.files();
  out.commit();
  const fs::path dir = opt.out;
  std::string imagery;
  for (const auto& i : r.imagery) imagery += " " + (dir / i).string();
  std::string extra;
  for (const auto& o : r.extra_options) extra += " " + o;
  const std::string store = (dir.has_filename() ? dir : dir.parent_path()).string();
  r.prepare_command = fmt::format("sbench prepare {} --labels {} --imagery{}{} --out {}.h5", task.id,
                                  (dir / r.labels).string(), imagery, extra, store);
  if (opt.street) {
    r.street_command = fmt::format("sbench street import --store {0}.h5 --from {1} --out {0}_street.h5", store,
                                   (dir / "mapillary").string());
  }
  return r;
}

void write_cdl(SynthWriter& out, const std::string& relative, const std::string& utm, double x0, double y0, double x1,
               double y1, const std::function<int(double, double)>& code_at) {
  const Transform utm_to_albers(utm, "EPSG:5070"), albers_to_utm("EPSG:5070", utm);
  double ax0 = 1e18, ax1 = -1e18, ay0 = 1e18, ay1 = -1e18;
  for (double x : {x0, x1}) {
    for (double y : {y0, y1}) {
      double a = x, b = y;
      utm_to_albers(a, b);
      ax0 = std::min(ax0, a), ax1 = std::max(ax1, a), ay0 = std::min(ay0, b), ay1 = std::max(ay1, b);
    }
  }
  ax0 = std::floor(ax0 / 30) * 30, ay1 = std::ceil(ay1 / 30) * 30;
  const int cw = static_cast<int>(std::ceil((ax1 - ax0) / 30)), ch = static_cast<int>(std::ceil((ay1 - ay0) / 30));
  std::vector<std::uint8_t> cdl(static_cast<std::size_t>(cw) * static_cast<std::size_t>(ch));
  for (int r = 0; r < ch; ++r) {
    for (int c = 0; c < cw; ++c) {
      double x = ax0 + (c + 0.5) * 30, y = ay1 - (r + 0.5) * 30;
      albers_to_utm(x, y);
      cdl[static_cast<std::size_t>(r) * cw + c] = static_cast<std::uint8_t>(code_at(x, y));
    }
  }
  const double gt[6] = {ax0, 30, 0, ay1, 0, -30};
  out.write_tif(relative, cw, ch, GDT_Byte, cdl.data(), utm_to_albers.wkt_to(), gt, 0.0);
}

}  // namespace sbench::prepare
