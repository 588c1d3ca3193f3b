// What the synthetic input writers share: files go into OUT.partial, which becomes OUT only when
// every file is written (a failed synth leaves nothing that looks complete).
#pragma once

#include <cpl_conv.h>
#include <ogr_spatialref.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sbench/core/error.hpp"
#include "sbench/prepare/synth.hpp"

namespace sbench::prepare {

// Points from one CRS to another (traditional GIS order: x = longitude or easting).
class Transform {
 public:
  Transform(const std::string& from, const std::string& to) {
    a_.SetFromUserInput(from.c_str());
    b_.SetFromUserInput(to.c_str());
    a_.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    b_.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    t_.reset(OGRCreateCoordinateTransformation(&a_, &b_));
    if (!t_) fail<Error>("no transformation from {} to {}", from, to);
  }
  void operator()(double& x, double& y) const {
    if (!t_->Transform(1, &x, &y)) fail<Error>("cannot transform ({}, {})", x, y);
  }
  std::string wkt_to() const {
    char* w = nullptr;
    b_.exportToWkt(&w);
    std::string s = w ? w : "";
    CPLFree(w);
    return s;
  }

 private:
  OGRSpatialReference a_, b_;
  std::unique_ptr<OGRCoordinateTransformation> t_;
};

class SynthWriter {
 public:
  explicit SynthWriter(std::filesystem::path out);
  ~SynthWriter();
  SynthWriter(const SynthWriter&) = delete;
  SynthWriter& operator=(const SynthWriter&) = delete;

  // A GeoTIFF (DEFLATE) of `bands` bands (band-major data) at `relative`, with its CRS (WKT),
  // geotransform and nodata.
  void write_tif(const std::string& relative, int width, int height, int gdal_type, const void* data,
                 const std::string& wkt, const double* geotransform, std::optional<double> nodata, int bands = 1);
  // A JPEG 2000 file (lossless, GeoJP2 and GMLJP2 georeferencing) of `bands` bands, band-major.
  void write_jp2(const std::string& relative, int width, int height, int bands, int gdal_type, const void* data,
                 const std::string& wkt, const double* geotransform);
  void write_text(const std::string& relative, const std::string& text);
  // A JPEG (quality 90) of `bands` bands (band-major uint8 data), as a camera writes it.
  void write_jpeg(const std::string& relative, int width, int height, int bands, const std::uint8_t* data);
  // Where a file at `relative` goes (its folder created), for writers of their own; add_file()
  // records it once written.
  std::filesystem::path path(const std::string& relative);
  void add_file(const std::string& relative) { files_.push_back(relative); }
  const std::vector<std::string>& files() const { return files_; }
  // Renames OUT.partial to OUT.
  void commit();

 private:
  std::filesystem::path out_, partial_;
  std::vector<std::string> files_;
  bool committed_ = false;
};

// A Cropland Data Layer as CropScape clips it to `relative`: CONUS Albers (EPSG:5070) at 30 m on
// multiples of 30 m, uint8 codes, 0 = background (nodata), covering the box [x0, x1] x [y0, y1] of
// the CRS `utm`; each pixel takes code_at(x, y) of its centre in `utm`.
void write_cdl(SynthWriter& out, const std::string& relative, const std::string& utm, double x0, double y0, double x1,
               double y1, const std::function<int(double, double)>& code_at);

SynthResult synth_dhs(const TaskCard& task, const SynthOptions& options, SynthWriter& out);
SynthResult synth_lsms(const TaskCard& task, const SynthOptions& options, SynthWriter& out);
SynthResult synth_brick_kiln(const TaskCard& task, const SynthOptions& options, SynthWriter& out);
SynthResult synth_field_delineation(const TaskCard& task, const SynthOptions& options, SynthWriter& out);
SynthResult synth_crop_yield(const TaskCard& task, const SynthOptions& options, SynthWriter& out);
SynthResult synth_land_cover_ood(const TaskCard& task, const SynthOptions& options, SynthWriter& out);
SynthResult synth_land_cover_rep(const TaskCard& task, const SynthOptions& options, SynthWriter& out);
SynthResult synth_crop_type_kenya(const TaskCard& task, const SynthOptions& options, SynthWriter& out);
SynthResult synth_crop_type_africa(const TaskCard& task, const SynthOptions& options, SynthWriter& out);
SynthResult synth_cropland(const TaskCard& task, const SynthOptions& options, SynthWriter& out);

}  // namespace sbench::prepare
