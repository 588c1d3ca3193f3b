// `sbench synth` for the crop-type tasks. crop_type_kenya: field polygons in western Kenya (UTM
// 36N) with the release's crop spellings and regions, and Sentinel-2 Level-1C granules of 2017 as
// ESA ships them (13 JPEG 2000 band files at 10, 20 and 60 m). crop_type_africa: field polygons in
// northern Ghana (UTM 30N) and Sentinel-2 L1C granules of 2016, Sentinel-1 GRD VV/VH backscatter
// (linear power GeoTIFFs, named as the GRD measurement files) and PlanetScope 4-band surface
// reflectance (3 m) of 2017 over them. Planted: every crop has its greenness curve over the year,
// which sets the red, near-infrared, short-wave and radar values of its fields (docs/prepare.md).
#include <fmt/format.h>
#include <gdal.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <random>
#include <sstream>

#include "sbench/core/error.hpp"
#include "synth_common.hpp"

namespace sbench::prepare {

namespace {

constexpr double kPi = 3.14159265358979;

// Greenness in [0, 1] of a crop on day of year `doy`: a base plus a seasonal bump.
struct Phenology {
  double base, amplitude, peak, width;
  double at(double doy) const {
    const double z = (doy - peak) / width;
    return std::clamp(base + amplitude * std::exp(-z * z), 0.0, 1.0);
  }
};

// Reflectance of the 13 Sentinel-2 bands (B01..B12 with B8A after B08) of a surface of greenness v.
std::array<double, 13> s2_spectrum(double v) {
  const double blue = 0.08 - 0.04 * v, green = 0.10 - 0.03 * v, red = 0.14 - 0.10 * v, nir = 0.18 + 0.32 * v;
  const double swir1 = 0.28 - 0.12 * v, swir2 = 0.22 - 0.12 * v;
  return {0.9 * blue + 0.02,
          blue,
          green,
          red,
          0.7 * red + 0.3 * nir,
          0.4 * red + 0.6 * nir,
          0.1 * red + 0.9 * nir,
          nir,
          0.95 * nir,
          0.3 * nir,
          0.002 + 0.004 * (1 - v),
          swir1,
          swir2};
}

std::string ymd(int y, int doy) {  // doy 0-based
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int m = 0;
  while (true) {
    const int n = days[m] + (m == 1 && leap ? 1 : 0);
    if (doy < n) break;
    doy -= n;
    ++m;
  }
  return fmt::format("{:04d}{:02d}{:02d}", y, m + 1, doy + 1);
}

// One Sentinel-2 Level-1C granule as ESA ships it: 13 JPEG 2000 band files in the SAFE's
// GRANULE/.../IMG_DATA. value(b, r, c) is the reflectance of band b at the 10 m pixel (r, c) of a
// w x h grid (multiples of 6) from (x0, y1); NaN = no data (0, as the swath's edge). 20 and 60 m
// bands are the means of their 10 m pixels (no data if any is).
void write_s2_l1c(SynthWriter& out, const std::string& tile, const std::string& stamp, int orbit, int w, int h,
                  double x0, double y1, const std::string& wkt, const std::function<double(int, int, int)>& value) {
  static const std::array<std::pair<const char*, int>, 13> bands = {{{"B01", 60},
                                                                     {"B02", 10},
                                                                     {"B03", 10},
                                                                     {"B04", 10},
                                                                     {"B05", 20},
                                                                     {"B06", 20},
                                                                     {"B07", 20},
                                                                     {"B08", 10},
                                                                     {"B8A", 20},
                                                                     {"B09", 60},
                                                                     {"B10", 60},
                                                                     {"B11", 20},
                                                                     {"B12", 20}}};
  const std::string dir =
      fmt::format("sentinel2/S2A_MSIL1C_{}_N0204_R078_{}_{}.SAFE/GRANULE/L1C_{}_A{:06d}_{}/IMG_DATA", stamp, tile,
                  stamp, tile, orbit, stamp);
  for (int b = 0; b < 13; ++b) {
    const int res = bands[static_cast<std::size_t>(b)].second, f = res / 10, bw = w / f, bh = h / f;
    std::vector<std::uint16_t> dn(static_cast<std::size_t>(bw) * static_cast<std::size_t>(bh));
    for (int r = 0; r < bh; ++r) {
      for (int c = 0; c < bw; ++c) {
        double s = 0;
        for (int dr = 0; dr < f; ++dr) {
          for (int dc = 0; dc < f; ++dc) s += value(b, r * f + dr, c * f + dc);
        }
        dn[static_cast<std::size_t>(r) * bw + c] =
            std::isfinite(s) ? static_cast<std::uint16_t>(std::clamp(std::lround(s / (f * f) * 10000), 1L, 65535L))
                             : std::uint16_t{0};
      }
    }
    const double gt[6] = {x0, static_cast<double>(res), 0, y1, 0, -static_cast<double>(res)};
    out.write_jp2(fmt::format("{}/{}_{}_{}.jp2", dir, tile, stamp, bands[static_cast<std::size_t>(b)].first), bw, bh, 1,
                  GDT_UInt16, dn.data(), wkt, gt);
  }
}

struct Rect {
  double x0, y0, x1, y1;  // UTM metres
};

std::string polygon_json(const Rect& r, const Transform& to_geo) {
  const double xs[5] = {r.x0, r.x1, r.x1, r.x0, r.x0}, ys[5] = {r.y1, r.y1, r.y0, r.y0, r.y1};
  std::string coords;
  for (int k = 0; k < 5; ++k) {
    double x = xs[k], y = ys[k];
    to_geo(x, y);
    coords += fmt::format("{}[{:.8f}, {:.8f}]", k ? ", " : "", x, y);
  }
  return fmt::format(R"({{"type": "Polygon", "coordinates": [[{}]]}})", coords);
}

// Field rectangles on a jittered grid of `cell` metres from (x0, y1), `n` of them, each 45-85 % of
// its cell, their edges off the 10 m pixel edges.
std::vector<Rect> place_fields(std::mt19937_64& rng, int n, double x0, double y1, double cell) {
  std::uniform_real_distribution<double> unif(0, 1);
  const int k = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  std::vector<Rect> out;
  for (int i = 0; i < n; ++i) {
    const int r = i / k, c = i % k;
    const double fw = cell * (0.45 + 0.4 * unif(rng)), fh = cell * (0.45 + 0.4 * unif(rng));
    const double fx = x0 + c * cell + (cell - fw) * unif(rng), fy = y1 - r * cell - (cell - fh) * unif(rng);
    out.push_back({fx + 3.3, fy - fh, fx + fw + 3.3, fy});
  }
  return out;
}

}  // namespace

// Kenya: --n fields (default 45, 5 of each crop) in three regions west to east (Bungoma, Busia,
// Siaya), one field without a crop and one 6 km away from the imagery; 24 dates of 2017 every 15
// days from 3 January and one of 2016; every fourth date the swath's edge leaves the western 40 %
// without data, and on every other one of those dates a second granule (T36NYF) covers the area.
SynthResult synth_crop_type_kenya(const TaskCard& task, const SynthOptions& opt, SynthWriter& out) {
  const TargetSpec& target = *task.find_target("crop_type");
  const int n = std::max(opt.n > 0 ? opt.n : 45, 3);
  std::mt19937_64 rng(opt.seed);
  std::normal_distribution<double> normal(0, 1);
  const std::string utm = "EPSG:32636";
  Transform to_utm("EPSG:4326", utm), to_geo(utm, "EPSG:4326");
  double ox = 34.56, oy = 0.57;
  to_utm(ox, oy);
  const double cell = 160, margin = 120;
  const int k = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  const double x0 = std::floor(ox / 60) * 60, y1 = std::floor(oy / 60) * 60;
  const int w = static_cast<int>(std::ceil((k * cell + 2 * margin) / 60)) * 6, h = w;
  const std::vector<Rect> rects = place_fields(rng, n, x0 + margin, y1 - margin, cell);
  // Greenness curves: maize and beans peak in the long rains, sugarcane and banana stay green, ...
  const Phenology pheno[9] = {{0.65, 0.15, 200, 80}, {0.15, 0.55, 110, 25},  {0.45, 0.25, 180, 70},
                              {0.15, 0.50, 140, 30}, {0.10, 0.75, 150, 35},  {0.05, 0.10, 100, 60},
                              {0.25, 0.35, 240, 40}, {0.75, 0.15, 150, 120}, {0.20, 0.55, 200, 35}};
  std::vector<int> crop(rects.size());
  std::ostringstream geo;
  geo << R"({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": [)";
  const char* regions[3] = {"Bungoma", "Busia", "Siaya"};
  auto feature = [&](int id, const std::string& crop_name, const std::string& region, const Rect& r) {
    geo << fmt::format(
        R"({}{{"type": "Feature", "properties": {{"fieldID": {}, "cropType": "{}", "region": "{}"}}, "geometry": {}}})",
        id > 1 ? ", " : "", id, crop_name, region, polygon_json(r, to_geo));
  };
  for (std::size_t i = 0; i < rects.size(); ++i) {
    crop[i] = static_cast<int>(i % 9);
    const int col = static_cast<int>(i) % k;
    feature(static_cast<int>(i) + 1, target.source_values[static_cast<std::size_t>(crop[i])], regions[col * 3 / k],
            rects[i]);
  }
  // One field without a crop (as 8 rows of the release), one outside the imagery.
  feature(n + 1, "", "Busia", {x0 + 20.5, y1 - 70.5, x0 + 70.5, y1 - 20.5});
  feature(n + 2, "Maize", "Siaya", {x0 + 6000, y1 - 6100, x0 + 6100, y1 - 6000});
  geo << "]}\n";
  out.write_text("fields.geojson", geo.str());

  std::vector<int> cover(static_cast<std::size_t>(w) * static_cast<std::size_t>(h), -1);  // crop under a pixel
  for (std::size_t i = 0; i < rects.size(); ++i) {
    for (int r = 0; r < h; ++r) {
      for (int c = 0; c < w; ++c) {
        const double x = x0 + (c + 0.5) * 10, y = y1 - (r + 0.5) * 10;
        if (x > rects[i].x0 && x < rects[i].x1 && y > rects[i].y0 && y < rects[i].y1)
          cover[static_cast<std::size_t>(r) * w + c] = crop[i];
      }
    }
  }
  const std::string wkt = to_utm.wkt_to();
  struct Date {
    int year, doy;
  };
  std::vector<Date> dates;
  for (int d = 0; d < 24; ++d) dates.push_back({2017, 2 + 15 * d});
  dates.push_back({2016, 300});
  int orbit = 8000;
  for (std::size_t d = 0; d < dates.size(); ++d) {
    const Date& date = dates[d];
    const std::string stamp = ymd(date.year, date.doy) + "T075211";
    std::vector<double> pixel_noise(cover.size());
    for (auto& v : pixel_noise) v = 0.04 * normal(rng);
    const double gain = 1 + 0.02 * normal(rng);
    auto surface = [&](int b, int r, int c) {
      const std::size_t i = static_cast<std::size_t>(r) * w + c;
      const double v = cover[i] < 0 ? 0.3 : pheno[cover[i]].at(date.doy);
      return s2_spectrum(std::clamp(v + pixel_noise[i], 0.0, 1.0))[static_cast<std::size_t>(b)] * gain;
    };
    const bool edge = d % 4 == 1;
    write_s2_l1c(out, "T36NXF", stamp, orbit++, w, h, x0, y1, wkt,
                 [&](int b, int r, int c) { return edge && c < w * 2 / 5 ? std::nan("") : surface(b, r, c); });
    if (edge && d % 8 == 1) write_s2_l1c(out, "T36NYF", stamp, orbit++, w, h, x0, y1, wkt, surface);
  }
  SynthResult result;
  result.labels = "fields.geojson";
  result.imagery = {"sentinel2"};
  return result;
}

// Ghana: --n fields (default 30) in cells of 320 m (3 x 3 tiles of 640 m for 30; the area grows
// with n) and two strips across tile edges, crops
// groundnut, maize, rice, soya bean and yam (not one of the release's four: unlabelled); S2 L1C on 8 dates of 2016, S1
// VV and VH on 6 dates of 2017 (ascending and descending), PlanetScope on 4 dates of 2017.
SynthResult synth_crop_type_africa(const TaskCard& task, const SynthOptions& opt, SynthWriter& out) {
  (void)task;
  const int n = std::max(opt.n > 0 ? opt.n : 30, 2);
  std::mt19937_64 rng(opt.seed);
  std::normal_distribution<double> normal(0, 1);
  const std::string utm = "EPSG:32630";
  Transform to_utm("EPSG:4326", utm), to_geo(utm, "EPSG:4326");
  double ox = -0.85, oy = 9.40;
  to_utm(ox, oy);
  const double ax0 = std::floor(ox / 640) * 640, ay1 = std::floor(oy / 640) * 640;  // the fields' area
  const int k = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  const double cell = 320, side = k * cell;  // two cells per tile; 3 x 3 tiles for the default 30 fields
  // Fields inside the cells of the tile grid, and two strips across tile edges (so that those
  // tiles share a field), over the fields there.
  std::vector<Rect> rects = place_fields(rng, n, ax0, ay1, cell);
  rects.push_back({ax0 + 540.5, ay1 - 180.5, ax0 + 760.5, ay1 - 119.5});
  rects.push_back({ax0 + 1500.5, ay1 - 1390.5, ax0 + 1560.5, ay1 - 1170.5});
  const char* crops[5] = {"groundnut", "maize", "rice", "soya bean", "yam"};
  const Phenology pheno[5] = {{0.10, 0.55, 200, 30},
                              {0.10, 0.80, 220, 35},
                              {0.20, 0.60, 250, 40},
                              {0.10, 0.65, 235, 25},
                              {0.30, 0.40, 180, 60}};
  std::vector<int> crop(rects.size());
  std::ostringstream geo;
  geo << R"({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": [)";
  for (std::size_t i = 0; i < rects.size(); ++i) {
    crop[i] = static_cast<int>(i % 5);
    geo << fmt::format(
        R"({}{{"type": "Feature", "properties": {{"id": {}, "crop": "{}", "country": "ghana"}}, "geometry": {}}})",
        i ? ", " : "", i + 1, crops[crop[i]], polygon_json(rects[i], to_geo));
  }
  geo << "]}\n";
  out.write_text("fields.geojson", geo.str());

  // The imagery covers the area and 300 m around it.
  const double x0 = ax0 - 300, y1 = ay1 + 300;
  const int w = static_cast<int>(std::ceil((side / 10 + 60) / 6)) * 6, h = w;
  auto inside = [&](std::size_t i, double x, double y) {
    return x > rects[i].x0 && x < rects[i].x1 && y > rects[i].y0 && y < rects[i].y1;
  };
  auto crop_at = [&](double x, double y) {  // the field of the point's cell, else a strip
    const auto c = static_cast<long>(std::floor((x - ax0) / cell)), r = static_cast<long>(std::floor((ay1 - y) / cell));
    if (c >= 0 && c < k && r >= 0 && r * k + c < n && inside(static_cast<std::size_t>(r * k + c), x, y))
      return crop[static_cast<std::size_t>(r * k + c)];
    for (std::size_t i = static_cast<std::size_t>(n); i < rects.size(); ++i) {
      if (inside(i, x, y)) return crop[i];
    }
    return -1;
  };
  auto greenness = [&](double x, double y, int doy) {
    const int c = crop_at(x, y);
    return c < 0 ? 0.25 : pheno[c].at(doy);
  };
  const std::string wkt = to_utm.wkt_to();
  // Sentinel-2.
  int orbit = 5000;
  for (int d = 0; d < 8; ++d) {
    const int doy = 120 + 25 * d;
    const double gain = 1 + 0.02 * normal(rng);
    std::vector<double> noise(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
    for (auto& v : noise) v = 0.03 * normal(rng);
    write_s2_l1c(out, "T30PYQ", ymd(2016, doy) + "T102022", orbit++, w, h, x0, y1, wkt, [&](int b, int r, int c) {
      const double v =
          greenness(x0 + (c + 0.5) * 10, y1 - (r + 0.5) * 10, doy) + noise[static_cast<std::size_t>(r) * w + c];
      return s2_spectrum(std::clamp(v, 0.0, 1.0))[static_cast<std::size_t>(b)] * gain;
    });
  }
  // Sentinel-1: linear power on a 10 m grid offset by 4 m (not on the Sentinel-2 pixels).
  for (int d = 0; d < 6; ++d) {
    const int doy = 130 + 24 * d;
    const bool ascending = d % 2 == 0;
    const std::string start = ymd(2017, doy) + (ascending ? "t182839" : "t062411");
    const std::string stop = ymd(2017, doy) + (ascending ? "t182904" : "t062436");
    std::vector<float> vv(static_cast<std::size_t>(w) * static_cast<std::size_t>(h)), vh(vv.size());
    for (int r = 0; r < h; ++r) {
      for (int c = 0; c < w; ++c) {
        const double v = greenness(x0 + 4 + (c + 0.5) * 10, y1 - 4 - (r + 0.5) * 10, doy);
        const std::size_t i = static_cast<std::size_t>(r) * w + c;
        // dB: VV -14 (bare) to -8 (full canopy), VH 7 dB below it, with speckle.
        vv[i] = static_cast<float>(std::pow(10.0, (-14 + 6 * v + 1.2 * normal(rng)) / 10));
        vh[i] = static_cast<float>(std::pow(10.0, (-21 + 6 * v + 1.2 * normal(rng)) / 10));
      }
    }
    const double gt[6] = {x0 + 4, 10, 0, y1 - 4, 0, -10};
    for (const auto& [pol, data] : {std::pair<const char*, const std::vector<float>*>{"vv", &vv}, {"vh", &vh}}) {
      out.write_tif(
          fmt::format("sentinel1/s1a-iw-grd-{}-{}-{}-{:06d}-{:06x}-001.tiff", pol, start, stop, 16843 + d, 0x1c01a + d),
          w, h, GDT_Float32, data->data(), wkt, gt, 0.0);
    }
  }
  // PlanetScope: 3 m, BGRN surface reflectance x 10^4, on its own grid.
  const int pw = static_cast<int>(side / 3) + 200, ph = pw;
  for (int d = 0; d < 4; ++d) {
    const int doy = 150 + 30 * d;
    std::vector<std::uint16_t> px(4 * static_cast<std::size_t>(pw) * static_cast<std::size_t>(ph));
    for (int r = 0; r < ph; ++r) {
      for (int c = 0; c < pw; ++c) {
        const double v = std::clamp(
            greenness(x0 + 1.5 + (c + 0.5) * 3, y1 - 1.5 - (r + 0.5) * 3, doy) + 0.03 * normal(rng), 0.0, 1.0);
        const auto s = s2_spectrum(v);
        const double bgrn[4] = {s[1], s[2], s[3], s[7]};
        for (std::size_t b = 0; b < 4; ++b) {
          px[b * static_cast<std::size_t>(pw) * static_cast<std::size_t>(ph) + static_cast<std::size_t>(r) * pw + c] =
              static_cast<std::uint16_t>(std::lround(bgrn[b] * 10000));
        }
      }
    }
    const double gt[6] = {x0 + 1.5, 3, 0, y1 - 1.5, 0, -3};
    out.write_tif(fmt::format("planetscope/{}_101530_0f2b_3B_AnalyticMS_SR.tif", ymd(2017, doy)), pw, ph, GDT_UInt16,
                  px.data(), wkt, gt, 0.0, 4);
  }
  SynthResult result;
  result.labels = "fields.geojson";
  result.imagery = {"sentinel2", "sentinel1", "planetscope"};
  return result;
}

}  // namespace sbench::prepare
