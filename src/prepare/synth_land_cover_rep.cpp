// `sbench synth land_cover_rep`: NAIP quarter-quad images of 2016 in the Central Valley (UTM 11N,
// NAD83, 0.6 m, 4 bands uint8, named as the USDA ships them) and a Cropland Data Layer raster of 2016
// (CONUS Albers, 30 m) over them. Fields of 120 m, not aligned with the 60 m tiles, each one CDL
// class; planted: every class has its colour and texture in the images (orchard trees every 6 m,
// vine rows every 3 m, uniform field crops, grey developed blocks, dark water), so a tile shows its
// majority class.
#include <fmt/format.h>
#include <gdal.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

#include "sbench/core/error.hpp"
#include "synth_common.hpp"

namespace sbench::prepare {

namespace {

constexpr double kRes = 0.6, kField = 120;
struct ClassLook {
  int code;
  std::array<double, 4> rgbn;  // digital numbers
  int texture;                 // 0 uniform, 1 orchard, 2 vine rows, 3 built blocks
};
const ClassLook kLooks[] = {{1, {95, 120, 70, 190}, 0},   {2, {120, 130, 95, 170}, 0},   {36, {70, 115, 60, 210}, 0},
                            {54, {105, 125, 80, 180}, 0}, {61, {150, 135, 115, 120}, 0}, {69, {110, 120, 85, 160}, 2},
                            {75, {90, 105, 75, 175}, 1},  {76, {80, 100, 70, 185}, 1},   {121, {160, 158, 155, 130}, 3},
                            {111, {40, 55, 70, 25}, 0}};

}  // namespace

SynthResult synth_land_cover_rep(const TaskCard& task, const SynthOptions& opt, SynthWriter& out) {
  (void)task;
  // --n: images of 800 x 600 px (480 x 360 m, 48 tiles each), side by side west to east.
  const int images = std::clamp(opt.n > 0 ? opt.n : 2, 1, 8);
  constexpr int kW = 800, kH = 600;
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> unif(0, 1);
  std::normal_distribution<double> normal(0, 1);
  const std::string utm = "EPSG:26911";  // NAD83 / UTM 11N, as NAIP in California's zone 11
  Transform to_utm("EPSG:4326", utm);
  double x0 = -119.80, y1 = 36.75;
  to_utm(x0, y1);
  x0 = std::floor(x0) + 0.3;  // NAIP's corners are on its own grid, not on round metres
  y1 = std::floor(y1) + 0.3;
  // Fields from 37 m west and north of the images, so that field edges cut through tiles.
  const double fx0 = x0 - 37, fy1 = y1 + 37;
  const int fields_x = static_cast<int>((images * kW * kRes + 400) / kField) + 2,
            fields_y = static_cast<int>((kH * kRes + 400) / kField) + 2;
  std::vector<int> field_look(static_cast<std::size_t>(fields_x) * static_cast<std::size_t>(fields_y));
  for (auto& f : field_look) {
    const double u = unif(rng);
    f = u < 0.15   ? 0
        : u < 0.25 ? 1
        : u < 0.37 ? 2
        : u < 0.45 ? 3
        : u < 0.52 ? 4
        : u < 0.64 ? 5
        : u < 0.80 ? 6
        : u < 0.88 ? 7
        : u < 0.96 ? 8
                   : 9;
  }
  auto look_at = [&](double x, double y) {
    const int c = std::clamp(static_cast<int>(std::floor((x - (fx0 - 200)) / kField)), 0, fields_x - 1);
    const int r = std::clamp(static_cast<int>(std::floor(((fy1 + 200) - y) / kField)), 0, fields_y - 1);
    return field_look[static_cast<std::size_t>(r) * fields_x + c];
  };

  // The NAIP images.
  const std::string wkt = to_utm.wkt_to();
  for (int k = 0; k < images; ++k) {
    const double ix0 = x0 + k * kW * kRes;
    std::vector<std::uint8_t> px(4 * static_cast<std::size_t>(kW) * kH);
    const std::size_t plane = static_cast<std::size_t>(kW) * kH;
    for (int r = 0; r < kH; ++r) {
      for (int c = 0; c < kW; ++c) {
        const double x = ix0 + (c + 0.5) * kRes, y = y1 - (r + 0.5) * kRes;
        const ClassLook& look = kLooks[look_at(x, y)];
        std::array<double, 4> v = look.rgbn;
        const double ex = std::fmod(x - fx0 + 1e4, 6.0), ey = std::fmod(fy1 - y + 1e4, 6.0);
        if (look.texture == 1 && (ex - 3) * (ex - 3) + (ey - 3) * (ey - 3) > 4.4) {  // soil between tree crowns
          v = {150, 135, 110, 115};
        } else if (look.texture == 2 && std::fmod(x - fx0 + 1e4, 3.0) > 1.2) {  // soil between vine rows
          v = {145, 132, 108, 120};
        } else if (look.texture == 3 && (std::fmod(x - fx0 + 1e4, 20.0) < 2 || std::fmod(fy1 - y + 1e4, 20.0) < 2)) {
          v = {70, 70, 72, 60};  // streets
        }
        for (std::size_t b = 0; b < 4; ++b) {
          px[b * plane + static_cast<std::size_t>(r) * kW + c] =
              static_cast<std::uint8_t>(std::clamp(std::lround(v[b] + 6 * normal(rng)), 0L, 255L));
        }
      }
    }
    const double gt[6] = {ix0, kRes, 0, y1, 0, -kRes};
    const std::string name = fmt::format("naip/m_3611957_{}_11_060_20160712.tif", k % 2 ? "ne" : "nw");
    out.write_tif(k < 2 ? name : fmt::format("naip/m_36119{:02d}_ne_11_060_20160712.tif", 57 + k), kW, kH, GDT_Byte,
                  px.data(), wkt, gt, std::nullopt, 4);
  }

  // The CDL over the images plus 300 m, in CONUS Albers at 30 m, 0 = background.
  write_cdl(out, "cdl/2016_30m_cdls.tif", utm, x0 - 300, y1 - kH * kRes - 300, x0 + images * kW * kRes + 300, y1 + 300,
            [&](double x, double y) { return kLooks[look_at(x, y)].code; });
  SynthResult result;
  result.labels = "cdl/2016_30m_cdls.tif";
  result.imagery = {"naip"};
  return result;
}

}  // namespace sbench::prepare
