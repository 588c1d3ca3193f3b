// `sbench synth` for the DHS tasks: six surveys (two per official split, one DMSP-era and one
// VIIRS-era in each), Landsat Collection 1 surface reflectance products as ESPA delivers them
// (band GeoTIFFs in the scene's UTM zone, pixel_qa, MTL), night lights clipped to each survey's
// area (DMSP radiance-calibrated annual images, VIIRS monthly VCM composites), and
// dhs_final_labels.csv in the release's column layout. The planted relation is in docs/prepare.md.
#include <cpl_conv.h>
#include <fmt/format.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>

#include "sbench/core/error.hpp"
#include "sbench/prepare/synth.hpp"
#include "sbench/raster/gdal_env.hpp"
#include "sbench/raster/grid.hpp"
#include "synth_common.hpp"

namespace sbench::prepare {

namespace fs = std::filesystem;

namespace {

struct Survey {
  const char* country;
  int year;
  const char* round;
  double lon, lat;
  int path, row;  // WRS-2
};

// Two surveys per split (train KE, NG; val TZ, BJ; test ET, RW), one of each night-light era.
const std::vector<Survey>& surveys() {
  static const std::vector<Survey> s = {
      {"KE", 2009, "5#", 36.80, -1.00, 168, 61}, {"NG", 2015, "7#", 7.50, 9.00, 189, 53},
      {"TZ", 2010, "6#", 35.70, -6.20, 168, 64}, {"BJ", 2017, "7#", 2.40, 6.50, 192, 56},
      {"ET", 2011, "6#", 38.70, 9.00, 168, 53},  {"RW", 2015, "7#", 30.06, -1.95, 172, 62},
  };
  return s;
}

struct Cluster {
  std::string id;
  double x = 0, y = 0;      // UTM metres (the survey's zone)
  double lon = 0, lat = 0;  // as written to the labels
  double d = 0;             // the planted development level in [0, 1]
};

// The planted fields around the clusters of one survey (UTM metres).
struct Fields {
  const std::vector<Cluster>* clusters = nullptr;
  // Built-up share: each cluster's settlement, wider and denser with its level d.
  double built(double x, double y) const {
    double u = 0;
    for (const auto& c : *clusters) {
      const double s = 1.5 * (400 + 900 * c.d);
      const double r2 = (x - c.x) * (x - c.x) + (y - c.y) * (y - c.y);
      if (r2 < 36 * s * s) u += c.d * std::exp(-r2 / (2 * s * s));
    }
    return std::min(1.0, u);
  }
  // Night-light intensity in [0, 1] per unit of peak brightness, with the peak per cluster.
  template <typename Peak>
  double lights(double x, double y, Peak peak) const {
    double v = 0;
    for (const auto& c : *clusters) {
      const double s = 400 + 900 * c.d;
      const double r2 = (x - c.x) * (x - c.x) + (y - c.y) * (y - c.y);
      if (r2 < 36 * s * s) v += peak(c.d) * std::exp(-r2 / (2 * s * s));
    }
    return v;
  }
};

std::string ymd(int y, int m, int d) {
  return fmt::format("{:04d}{:02d}{:02d}", y, m, d);
}

int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

struct LandsatDate {
  int mission;
  int y, m, d;
};

// Three acquisitions in the survey's window (the missions flying then), plus, for the first
// survey, one acquisition two years after the window that prepare must not use.
std::vector<LandsatDate> landsat_dates(int year, bool outside) {
  // Landsat 5 flew until 2011, Landsat 8 from 2013; Landsat 7 throughout (SLC-off from 2003).
  auto mission = [](int y) { return y >= 2013 ? 8 : y <= 2011 ? 5 : 7; };
  std::vector<LandsatDate> v = {
      {mission(year - 1), year - 1, 3, 10}, {7, year, 6, 18}, {mission(year + 1), year + 1, 1, 27}};
  if (outside) v.push_back({mission(year + 3), year + 3, 5, 5});
  return v;
}

struct Area {
  std::string utm;  // the scenes' CRS
  int path = 0, row = 0;
  double lat = 0;
};

struct LandsatGrid {
  double x0, y1;  // upper-left corner, UTM metres
  int w, h;       // 30 m pixels
  std::string wkt;
  int path, row;  // WRS-2
};

// One Collection 1 surface reflectance product as ESPA ships it (band GeoTIFFs, pixel_qa, MTL):
// surface(band, pixel) is the clear-sky reflectance (or kelvin for TEMP1) of every pixel (row-major
// on the grid); the scene adds a gain 1 + N(0, 0.03), noise, one or two clouds with their shadows
// and, for Landsat 7 from 2004, the scan-line corrector's gaps.
void write_landsat_product(SynthWriter& out, std::mt19937_64& rng, const LandsatDate& ld, const LandsatGrid& g,
                           const std::function<double(const std::string&, std::size_t)>& surface) {
  std::uniform_real_distribution<double> unif(0, 1);
  std::normal_distribution<double> normal(0, 1);
  auto u = [&](double lo, double hi) { return lo + (hi - lo) * unif(rng); };
  const double x0 = g.x0, y1 = g.y1;
  const int w = g.w, h = g.h;
  const double gt[6] = {x0, 30, 0, y1, 0, -30};
  const std::string& utm_wkt = g.wkt;
  const std::string letters = ld.mission == 8 ? "LC08" : ld.mission == 7 ? "LE07" : "LT05";
  const std::string product =
      fmt::format("{}_L1TP_{:03d}{:03d}_{}_20190101_01_T1", letters, g.path, g.row, ymd(ld.y, ld.m, ld.d));
  const std::string dir = fmt::format("landsat/{}", product);
  const double gain = 1 + 0.03 * normal(rng);
  // Clouds (1-2 per date) with their shadows offset 900 m to the south-east.
  struct Blob {
    double x, y, r;
  };
  std::vector<Blob> clouds;
  const int nclouds = 1 + static_cast<int>(unif(rng) * 2);
  for (int c = 0; c < nclouds; ++c) clouds.push_back({u(x0, x0 + w * 30), u(y1 - h * 30, y1), u(1200, 2500)});
  std::vector<std::uint16_t> qa(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  const std::uint16_t clear = ld.mission == 8 ? 322 : 66, cloud = ld.mission == 8 ? 480 : 224,
                      shadow = ld.mission == 8 ? 328 : 72;
  const bool slc_off = ld.mission == 7 && ld.y >= 2004;
  for (int r = 0; r < h; ++r) {
    for (int col = 0; col < w; ++col) {
      const double x = x0 + (col + 0.5) * 30, y = y1 - (r + 0.5) * 30;
      std::uint16_t q = clear;
      for (const auto& b : clouds) {
        if ((x - b.x - 900) * (x - b.x - 900) + (y - b.y + 900) * (y - b.y + 900) < b.r * b.r) q = shadow;
      }
      for (const auto& b : clouds) {
        if ((x - b.x) * (x - b.x) + (y - b.y) * (y - b.y) < b.r * b.r) q = cloud;
      }
      // Landsat 7 after the scan-line corrector failed (2003): wedge-shaped gaps of fill.
      if (slc_off && (col + r / 4) % 37 < 2) q = 1;
      qa[static_cast<std::size_t>(r) * w + col] = q;
    }
  }
  const auto& lb =
      ld.mission == 8
          ? std::vector<std::pair<int, const char*>>{{1, "ULTRABLUE"}, {2, "BLUE"},  {3, "GREEN"}, {4, "RED"},
                                                     {5, "NIR"},       {6, "SWIR1"}, {7, "SWIR2"}, {10, "TEMP1"}}
          : std::vector<std::pair<int, const char*>>{{1, "BLUE"},  {2, "GREEN"}, {3, "RED"},  {4, "NIR"},
                                                     {5, "SWIR1"}, {7, "SWIR2"}, {6, "TEMP1"}};
  for (const auto& [number, name] : lb) {
    const bool thermal = std::string(name) == "TEMP1";
    std::vector<std::int16_t> v(qa.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      double value = surface(name, i) * (thermal ? 1 : gain);
      if (qa[i] == cloud) value = thermal ? 272 : 0.5 + 0.02 * normal(rng);
      if (qa[i] == shadow && !thermal) value *= 0.4;
      value += thermal ? 0.3 * normal(rng) : 0.004 * normal(rng);
      v[i] = qa[i] == 1 ? std::int16_t(-9999)
                        : static_cast<std::int16_t>(std::lround(thermal ? value * 10 : value * 10000));
    }
    const std::string file = fmt::format("{}/{}_{}_band{}.tif", dir, product, thermal ? "bt" : "sr", number);
    out.write_tif(file, w, h, GDT_Int16, v.data(), utm_wkt, gt, -9999.0);
  }
  out.write_tif(fmt::format("{}/{}_pixel_qa.tif", dir, product), w, h, GDT_UInt16, qa.data(), utm_wkt, gt, 1.0);
  std::size_t clouded = 0;
  for (auto q : qa) clouded += q == cloud;
  out.write_text(fmt::format("{}/{}_MTL.txt", dir, product),
                 fmt::format("GROUP = L1_METADATA_FILE\n  GROUP = METADATA_FILE_INFO\n    LANDSAT_PRODUCT_ID = \"{}\"\n"
                             "    COLLECTION_NUMBER = 01\n  END_GROUP = METADATA_FILE_INFO\n"
                             "  GROUP = PRODUCT_METADATA\n    SPACECRAFT_ID = \"LANDSAT_{}\"\n"
                             "    DATE_ACQUIRED = {:04d}-{:02d}-{:02d}\n    WRS_PATH = {}\n    WRS_ROW = {}\n"
                             "    MAP_PROJECTION = \"UTM\"\n  END_GROUP = PRODUCT_METADATA\n"
                             "  GROUP = IMAGE_ATTRIBUTES\n    CLOUD_COVER = {:.2f}\n  END_GROUP = IMAGE_ATTRIBUTES\n"
                             "END_GROUP = L1_METADATA_FILE\nEND\n",
                             product, ld.mission, ld.y, ld.m, ld.d, g.path, g.row,
                             100.0 * static_cast<double>(clouded) / static_cast<double>(qa.size())));
}

// Writes, for the clusters of one area (their level d as of `year`), the Landsat products of the
// window around `year` and the night lights of `year` (into nl_dir); with outside_scene, one more
// Landsat acquisition two years after the window.
void write_imagery(SynthWriter& out, std::mt19937_64& rng, const Area& area, const std::vector<Cluster>& clusters,
                   int year, const std::string& nl_dir, bool outside_scene) {
  std::normal_distribution<double> normal(0, 1);
  Transform to_utm("EPSG:4326", area.utm), to_geo(area.utm, "EPSG:4326");
  const Fields fields{&clusters};
  // Landsat scenes: the clusters' box plus 4.5 km, on the 30 m grid of the zone (edges on 15 m).
  double x0 = 1e18, x1 = -1e18, y0 = 1e18, y1 = -1e18;
  for (const auto& c : clusters) {
    x0 = std::min(x0, c.x), x1 = std::max(x1, c.x), y0 = std::min(y0, c.y), y1 = std::max(y1, c.y);
  }
  x0 = std::floor((x0 - 4500) / 30) * 30 + 15, y1 = std::ceil((y1 + 4500) / 30) * 30 + 15;
  const int w = static_cast<int>(std::ceil((x1 + 4500 - x0) / 30)),
            h = static_cast<int>(std::ceil((y1 - (y0 - 4500)) / 30));
  const std::string utm_wkt = to_utm.wkt_to();
  // The planted surface, per pixel: built-up share.
  std::vector<double> built(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  for (int r = 0; r < h; ++r) {
    for (int col = 0; col < w; ++col) {
      built[static_cast<std::size_t>(r) * w + col] = fields.built(x0 + (col + 0.5) * 30, y1 - (r + 0.5) * 30);
    }
  }
  // Reflectance of bare/vegetated land (0) and of built-up land (1), per band, and the thermal
  // band in kelvin: the planted signal (docs/prepare.md).
  struct BandPlan {
    const char* name;
    double base, built;
  };
  static const std::vector<BandPlan> plan = {{"ULTRABLUE", 0.045, 0.045}, {"BLUE", 0.05, 0.05}, {"GREEN", 0.07, 0.06},
                                             {"RED", 0.06, 0.10},         {"NIR", 0.28, -0.12}, {"SWIR1", 0.20, 0.08},
                                             {"SWIR2", 0.13, 0.10},       {"TEMP1", 296, 8}};
  const LandsatGrid lg{x0, y1, w, h, utm_wkt, area.path, area.row};
  for (const LandsatDate& ld : landsat_dates(year, outside_scene)) {
    const double gain = ld.y > year + 1 ? 2.5 : 1.0;  // the scene outside the window: much brighter
    write_landsat_product(out, rng, ld, lg, [&](const std::string& band, std::size_t i) {
      const BandPlan& p = *std::find_if(plan.begin(), plan.end(), [&](const BandPlan& b) { return band == b.name; });
      return (p.base + p.built * built[i]) * (band == "TEMP1" ? 1 : gain);
    });
  }

  // Night lights on their global grids (30" DMSP, 15" VIIRS), clipped to the survey's box.
  double lon0 = x0, lat1 = y1, lon1 = x0 + w * 30, lat0 = y1 - h * 30;
  {
    double a = x0, b = y1 - h * 30, c = x0 + w * 30, d2 = y1;
    double xs[4] = {a, c, a, c}, ys[4] = {b, b, d2, d2};
    lon0 = 1e9, lon1 = -1e9, lat0 = 1e9, lat1 = -1e9;
    for (int i = 0; i < 4; ++i) {
      to_geo(xs[i], ys[i]);
      lon0 = std::min(lon0, xs[i]), lon1 = std::max(lon1, xs[i]), lat0 = std::min(lat0, ys[i]),
      lat1 = std::max(lat1, ys[i]);
    }
    lon0 -= 0.03, lon1 += 0.03, lat0 -= 0.03, lat1 += 0.03;
  }
  auto lights_grid = [&](double step, auto&& value) {
    const double gx0 = std::floor(lon0 / step) * step, gy1 = std::ceil(lat1 / step) * step;
    const int gw = static_cast<int>(std::ceil((lon1 - gx0) / step)),
              gh = static_cast<int>(std::ceil((gy1 - lat0) / step));
    std::vector<float> v(static_cast<std::size_t>(gw) * static_cast<std::size_t>(gh));
    for (int r = 0; r < gh; ++r) {
      for (int col = 0; col < gw; ++col) {
        double x = gx0 + (col + 0.5) * step, y = gy1 - (r + 0.5) * step;
        to_utm(x, y);
        v[static_cast<std::size_t>(r) * gw + col] = static_cast<float>(value(x, y));
      }
    }
    return std::make_tuple(std::move(v), gw, gh, std::array<double, 6>{gx0, step, 0, gy1, 0, -step});
  };
  const std::string geo_wkt = to_geo.wkt_to();
  if (year <= 2011) {
    // The survey year's radiance-calibrated image (raw DN-like values before SustainBench's
    // calibration), and another year's image over the same area that prepare must not use.
    const std::string right = year == 2011   ? "F16_20100111-20110731"
                              : year >= 2009 ? "F16_20100111-20101209"
                                             : "F16_20051128-20061224";
    for (const auto& [image, scale] : {std::pair<std::string, double>{right, 1.0}, {"F14_20040118-20041216", 0.3}}) {
      auto [v, gw, gh, g] = lights_grid(1.0 / 120, [&](double x, double y) {
        return std::min(63.0, scale * (0.5 + fields.lights(x, y, [](double d) { return 4 + 50 * d; })));
      });
      out.write_tif(fmt::format("{}/{}_rad_v4.avg_vis.tif", nl_dir, image), gw, gh, GDT_Float32, v.data(), geo_wkt,
                    g.data(), std::nullopt);
    }
  } else {
    for (int y = year - 1; y <= year + 1; ++y) {
      for (int m = 1; m <= 12; ++m) {
        if (y * 100 + m < 201204) continue;  // the monthly VIIRS composites begin in April 2012
        const double season = 1 + 0.15 * std::sin(2 * 3.14159265358979 * m / 12.0) + 0.05 * normal(rng);
        auto [v, gw, gh, g] = lights_grid(1.0 / 240, [&](double x, double yy) {
          return season * (0.2 + fields.lights(x, yy, [](double d) { return 0.5 + 30 * d * d; }));
        });
        const std::string tile = area.lat >= 0 ? "75N060W" : "00N060W";
        out.write_tif(fmt::format("{}/SVDNB_npp_{}-{}_{}_vcmcfg_v10_c{}1200.avg_rade9h.tif", nl_dir, ymd(y, m, 1),
                                  ymd(y, m, days_in_month(y, m)), tile, ymd(y + (m == 12), m % 12 + 1, 5)),
                      gw, gh, GDT_Float32, v.data(), geo_wkt, g.data(), std::nullopt);
      }
    }
  }
}

// k clusters on a jittered grid 4.5 km apart around (lon, lat), so that a tile (7.65 km) holds
// its own settlement and only the edges of its neighbours'; coordinates rounded to 1e-6 degree.
std::vector<Cluster> place_clusters(std::mt19937_64& rng, double lon0, double lat0, int k) {
  std::uniform_real_distribution<double> unif(0, 1);
  auto u = [&](double lo, double hi) { return lo + (hi - lo) * unif(rng); };
  const std::string utm = raster::utm_crs(lon0, lat0);
  Transform to_utm("EPSG:4326", utm), to_geo(utm, "EPSG:4326");
  double cx = lon0, cy = lat0;
  to_utm(cx, cy);
  const int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(k))));
  const int rows = (k + cols - 1) / cols;
  std::vector<Cluster> clusters;
  for (int i = 0; i < k; ++i) {
    Cluster c;
    c.x = cx + ((i % cols) - (cols - 1) / 2.0) * 4500 + u(-400, 400);
    c.y = cy + ((i / cols) - (rows - 1) / 2.0) * 4500 + u(-400, 400);
    double lon = c.x, lat = c.y;
    to_geo(lon, lat);
    c.lon = std::round(lon * 1e6) / 1e6;
    c.lat = std::round(lat * 1e6) / 1e6;
    clusters.push_back(c);
  }
  return clusters;
}

}  // namespace

namespace {

struct StreetSite {
  Cluster cluster;
  const char* country;
  int year;
};

// Street-level photos (--street) of every third cluster, in the release's layout
// (mapillary/metadata/{CC}.csv, mapillary/imagery/{CC}/{DHSID_EA}/{id}.jpeg): 4-6 JPEGs of 320 x 240
// each within 0.05 degree and a year of the survey. Planted: the ground and walls get lighter,
// greyer and busier (more buildings) with the cluster's development level d, as the labels do; a
// sky band on top. Drawn from their own seed, so the other files do not change.
void write_street_images(SynthWriter& out, std::uint64_t seed, const std::vector<StreetSite>& sites) {
  std::mt19937_64 rng(seed ^ 0x5757u);
  std::uniform_real_distribution<double> unif(0, 1);
  std::normal_distribution<double> normal(0, 1);
  constexpr int kW = 320, kH = 240;
  std::map<std::string, std::string> metadata;
  std::int64_t next_id = 4000000;
  for (std::size_t k = 0; k < sites.size(); k += 3) {
    const Cluster& c = sites[k].cluster;
    const std::string cc = sites[k].country;
    const int images = 4 + static_cast<int>(k % 3);
    for (int i = 0; i < images; ++i) {
      std::vector<std::uint8_t> px(3 * static_cast<std::size_t>(kW) * kH);
      const double d = c.d;
      const int buildings = 1 + static_cast<int>(6 * d);
      std::vector<std::array<int, 4>> boxes;  // x0, x1, y0 (top), colour shift
      for (int b = 0; b < buildings; ++b) {
        const int x0 = static_cast<int>(unif(rng) * (kW - 60));
        boxes.push_back({x0, x0 + 30 + static_cast<int>(unif(rng) * 50), 70 + static_cast<int>(unif(rng) * 60),
                         static_cast<int>(normal(rng) * 15)});
      }
      for (int y = 0; y < kH; ++y) {
        for (int x = 0; x < kW; ++x) {
          double r = 0, g = 0, b = 0;
          if (y < 80) {  // sky
            r = 120 + 0.4 * y, g = 160 + 0.3 * y, b = 220;
          } else {  // ground: red-brown soil for d = 0, grey paving for d = 1
            r = 150 - 30 * d, g = 100 + 30 * d, b = 70 + 60 * d;
          }
          for (const auto& bx : boxes) {
            if (x >= bx[0] && x < bx[1] && y >= bx[2] && y < 200) {
              const double wall = 110 + 100 * d + bx[3];
              r = wall, g = wall - 5, b = wall - 10;
            }
          }
          const double noise = 8 * normal(rng);
          const std::size_t p = static_cast<std::size_t>(y) * kW + x;
          px[p] = static_cast<std::uint8_t>(std::clamp(r + noise, 0.0, 255.0));
          px[kW * kH + p] = static_cast<std::uint8_t>(std::clamp(g + noise, 0.0, 255.0));
          px[2 * kW * kH + p] = static_cast<std::uint8_t>(std::clamp(b + noise, 0.0, 255.0));
        }
      }
      const std::string id = std::to_string(next_id++);
      out.write_jpeg(fmt::format("mapillary/imagery/{}/{}/{}.jpeg", cc, c.id, id), kW, kH, 3, px.data());
      const int year = sites[k].year + static_cast<int>(std::floor(unif(rng) * 3)) - 1;
      const std::int64_t ms = static_cast<std::int64_t>(((year - 1970) * 365.2425 + 182) * 86400) * 1000;
      metadata[cc] += fmt::format("{},{},{},{:.6f},{:.6f}\n", id, ms, year, c.lat + 0.05 * (2 * unif(rng) - 1),
                                  c.lon + 0.05 * (2 * unif(rng) - 1));
    }
  }
  for (const auto& [cc, rows] : metadata) {
    out.write_text(fmt::format("mapillary/metadata/{}.csv", cc), "id,timestamp,year,lat,lon\n" + rows);
  }
}

}  // namespace

SynthResult synth_dhs(const TaskCard& task, const SynthOptions& opt, SynthWriter& out) {
  (void)task;
  const int n = opt.n > 0 ? opt.n : 36;
  if (n < static_cast<int>(surveys().size())) {
    fail<UsageError>("--n {}: the DHS synth writes {} surveys, at least one cluster each", n, surveys().size());
  }
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> unif(0, 1);
  std::normal_distribution<double> normal(0, 1);
  auto u = [&](double lo, double hi) { return lo + (hi - lo) * unif(rng); };

  std::ostringstream csv;
  csv << "DHSID_EA,cname,year,lat,lon,n_asset,asset_index,n_water,water_index,n_sanitation,sanitation_index,"
         "under5_mort,n_under5_mort,women_edu,women_bmi,n_women_edu,n_women_bmi,cluster_id,adm1fips,adm1dhs,urban\n";
  auto num = [](double v, int digits) { return std::isnan(v) ? std::string("NA") : fmt::format("{:.{}f}", v, digits); };

  const std::size_t ns = surveys().size();
  std::vector<StreetSite> street_sites;
  for (std::size_t si = 0; si < ns; ++si) {
    const Survey& sv = surveys()[si];
    const int k = n / static_cast<int>(ns) + (static_cast<int>(si) < n % static_cast<int>(ns) ? 1 : 0);
    const std::string utm = raster::utm_crs(sv.lon, sv.lat);
    const std::string survey_id = fmt::format("{}-{}-{}", sv.country, sv.year, sv.round);
    std::vector<Cluster> clusters = place_clusters(rng, sv.lon, sv.lat, k);
    for (std::size_t i = 0; i < clusters.size(); ++i) {
      clusters[i].id = fmt::format("{}-{:08d}", survey_id, i + 1);
      clusters[i].d = u(0.05, 0.95);
    }
    // Labels: linear in d plus noise (docs/prepare.md), NA where a cluster has under 5 observations.
    for (std::size_t i = 0; i < clusters.size(); ++i) {
      const Cluster& c = clusters[i];
      const double d = c.d;
      auto count = [&] { return static_cast<int>(u(5, 31)); };
      const int n_u5 = unif(rng) < 0.1 ? static_cast<int>(u(0, 5)) : count();
      const int n_asset = count(), n_water = count(), n_san = count(), n_edu = count(), n_bmi = count();
      const double asset = -1.0 + 2.6 * d + 0.3 * normal(rng);
      const double water = std::clamp(1.6 + 3.0 * d + 0.4 * normal(rng), 1.0, 5.0);
      const double san = std::clamp(1.3 + 3.2 * d + 0.4 * normal(rng), 1.0, 5.0);
      const double u5 = n_u5 < 5 ? std::nan("") : std::max(0.0, 130 - 90 * d + 25 * normal(rng));
      const double edu = std::clamp(1 + 9 * d + 1.5 * normal(rng), 0.0, 18.0);
      const double bmi = 20 + 5 * d + 1.0 * normal(rng);
      csv << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},NA,{},{}\n", c.id, sv.country, sv.year,
                         num(c.lat, 6), num(c.lon, 6), n_asset, num(asset, 6), n_water, num(water, 6), n_san,
                         num(san, 6), num(u5, 4), n_u5, num(edu, 6), num(bmi, 6), n_edu, n_bmi, i + 1, 1 + i % 3,
                         d > 0.6 ? "U" : "R");
    }
    // Rows the pipeline drops, as the release's would be: a cluster at (0, 0) (first survey),
    // one far from every scene (second survey), one without any label (third survey).
    if (si == 0) {
      csv << fmt::format("{}-{:08d},{},{},0,0,12,0.5,12,3,12,3,40,12,6,23,12,12,{},NA,1,R\n", survey_id, k + 1,
                         sv.country, sv.year, k + 1);
    } else if (si == 1) {
      csv << fmt::format("{}-{:08d},{},{},{:.6f},{:.6f},12,0.5,12,3,12,3,40,12,6,23,12,12,{},NA,1,R\n", survey_id,
                         k + 1, sv.country, sv.year, sv.lat + 1.5, sv.lon, k + 1);
    } else if (si == 2) {
      csv << fmt::format("{}-{:08d},{},{},{:.6f},{:.6f},2,NA,2,NA,2,NA,NA,2,NA,NA,2,2,{},NA,1,R\n", survey_id, k + 1,
                         sv.country, sv.year, clusters.front().lat, clusters.front().lon, k + 1);
    }

    write_imagery(out, rng, Area{utm, sv.path, sv.row, sv.lat}, clusters, sv.year,
                  fmt::format("nightlights/{}", survey_id.substr(0, 7)), si == 0);
    for (const Cluster& c : clusters) street_sites.push_back({c, sv.country, sv.year});
  }
  out.write_text("dhs_final_labels.csv", csv.str());
  if (opt.street) write_street_images(out, opt.seed, street_sites);

  SynthResult result;
  result.labels = "dhs_final_labels.csv";
  result.imagery = {"landsat", "nightlights"};
  return result;
}

namespace {
struct LsmsPanel {
  const char* country;
  int year_x, year_y;
  double lon, lat;
  int path, row;
};

// Three of the release's panels (SUSTAINBENCH.md 2.B): Nigeria 2010 -> 2015 (DMSP -> VIIRS),
// Tanzania 2008 -> 2012, Malawi 2010 -> 2016.
const std::vector<LsmsPanel>& panels() {
  static const std::vector<LsmsPanel> p = {{"ng", 2010, 2015, 8.50, 10.50, 188, 53},
                                           {"tz", 2008, 2012, 33.00, -3.00, 170, 62},
                                           {"mw", 2010, 2016, 34.00, -13.50, 168, 69}};
  return p;
}
}  // namespace

SynthResult synth_lsms(const TaskCard& task, const SynthOptions& opt, SynthWriter& out) {
  (void)task;
  const int n = opt.n > 0 ? opt.n : 30;
  if (n < static_cast<int>(panels().size())) {
    fail<UsageError>("--n {}: the poverty_change synth writes {} panels, at least one area each", n, panels().size());
  }
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> unif(0, 1);
  std::normal_distribution<double> normal(0, 1);
  auto u = [&](double lo, double hi) { return lo + (hi - lo) * unif(rng); };
  std::ostringstream pairs, coords;
  pairs << "country,ea_id,year.x,year.y,asset_index,asset_index_diff,infrastructure_index,"
           "infrastructure_index_diff,n\n";
  coords << "country,year,ea_id,lat,lon,asset_index,infrastructure_index,n\n";
  const std::size_t np = panels().size();
  for (std::size_t pi = 0; pi < np; ++pi) {
    const LsmsPanel& pn = panels()[pi];
    const int k = n / static_cast<int>(np) + (static_cast<int>(pi) < n % static_cast<int>(np) ? 1 : 0);
    std::vector<Cluster> before = place_clusters(rng, pn.lon, pn.lat, k);
    std::vector<Cluster> after = before;
    for (std::size_t i = 0; i < before.size(); ++i) {
      before[i].id = after[i].id = fmt::format("{}{:07d}", 101 + pi, 10 * (i + 1));
      // Development level at the first survey, and its change: the planted signal of the pair.
      before[i].d = u(0.05, 0.75);
      const double change = u(-0.10, 0.25);
      after[i].d = std::clamp(before[i].d + change, 0.02, 0.98);
      const double delta = after[i].d - before[i].d;
      const int households = static_cast<int>(u(3, 25));
      pairs << fmt::format("{},{},{},{},{:.6f},{:.6f},{:.6f},{:.6f},{}\n", pn.country, before[i].id, pn.year_x,
                           pn.year_y, 2.6 * delta + 0.15 * normal(rng), 2.6 * delta + 0.1 * normal(rng),
                           1.8 * delta + 0.1 * normal(rng), 1.8 * delta + 0.1 * normal(rng), households);
      for (const Cluster* c : {&before[i], &after[i]}) {
        coords << fmt::format("{},{},{},{:.6f},{:.6f},{:.6f},{:.6f},{}\n", pn.country,
                              c == &before[i] ? pn.year_x : pn.year_y, c->id, c->lat, c->lon, -1 + 2.6 * c->d,
                              -1 + 1.8 * c->d, households);
      }
    }
    // Pairs the pipeline cannot use: an area without coordinates (first panel) and one far from
    // every scene (second panel).
    if (pi == 0) {
      pairs << fmt::format("{},{}9999990,{},{},0.1,0.1,0.1,0.1,5\n", pn.country, 101 + pi, pn.year_x, pn.year_y);
    } else if (pi == 1) {
      const std::string ea = fmt::format("{}9999990", 101 + pi);
      pairs << fmt::format("{},{},{},{},0.1,0.1,0.1,0.1,5\n", pn.country, ea, pn.year_x, pn.year_y);
      for (int y : {pn.year_x, pn.year_y}) {
        coords << fmt::format("{},{},{},{:.6f},{:.6f},0,0,5\n", pn.country, y, ea, pn.lat + 1.5, pn.lon);
      }
    }
    const Area area{raster::utm_crs(pn.lon, pn.lat), pn.path, pn.row, pn.lat};
    write_imagery(out, rng, area, before, pn.year_x, fmt::format("nightlights/{}_{}", pn.country, pn.year_x), false);
    write_imagery(out, rng, area, after, pn.year_y, fmt::format("nightlights/{}_{}", pn.country, pn.year_y), false);
  }
  out.write_text("asset_infrstructure_indicies_lsms_over_time.csv", pairs.str());
  out.write_text("asset_infrstructure_indicies_lsms.csv", coords.str());
  SynthResult result;
  result.labels = "asset_infrstructure_indicies_lsms_over_time.csv";
  result.imagery = {"landsat", "nightlights"};
  return result;
}

}  // namespace sbench::prepare

namespace sbench::prepare {

namespace {
// Clear-sky reflectance of a land-cover class (CDL code) on a day of 2017: RED, NIR, SWIR1, SWIR2;
// the other bands follow from them (docs/prepare.md).
struct Spectrum {
  double red, nir, swir1, swir2;
};
Spectrum class_spectrum(int code, int month) {
  const bool crop = code == 1 || code == 5 || code == 61;
  if (crop) {
    // Bare soil in spring, green in June-July, senescent in September.
    if (month <= 4) return {0.12, 0.20, 0.28, 0.22};
    if (month == 6) return {0.06, 0.30, 0.22, 0.14};
    if (month == 7) return {0.03, 0.45, 0.18, 0.09};
    return {0.07, 0.30, 0.24, 0.16};
  }
  switch (code) {
    case 141: return month <= 4 ? Spectrum{0.04, 0.22, 0.15, 0.08} : Spectrum{0.03, 0.32, 0.13, 0.06};  // forest
    case 121: return {0.12, 0.18, 0.25, 0.22};                                                          // developed
    case 111: return {0.03, 0.02, 0.01, 0.01};                                                          // water
    default: return {0.05, 0.28, 0.20, 0.12};  // 176 grassland/pasture
  }
}
}  // namespace

SynthResult synth_cropland(const TaskCard& task, const SynthOptions& opt, SynthWriter& out) {
  (void)task;
  const int n = opt.n > 0 ? opt.n : 36;
  const int t = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> unif(0, 1);
  std::normal_distribution<double> normal(0, 1);
  // Central Illinois, inside the release's region (37N-41.5N, 94W-86W), UTM 16N.
  const double lon0 = -89.5, lat0 = 40.0;
  const std::string utm = raster::utm_crs(lon0, lat0);
  Transform to_utm("EPSG:4326", utm);
  double cx = lon0, cy = lat0;
  to_utm(cx, cy);
  // The t x t tiles of 50 px (1500 m) have their edges on the Landsat grid (15 m past 30 m).
  const double ox = std::floor((cx - t * 750.0) / 1500) * 1500 + 15,
               oy = std::floor((cy - t * 750.0) / 1500) * 1500 + 15;
  const double top = oy + t * 1500.0;
  // Fields of 800 m (a half-mile section quarter), each one class: corn 1, soybeans 5, fallow 61,
  // grassland/pasture 176, deciduous forest 141, developed 121, water 111.
  const double fx0 = ox - 3000 - unif(rng) * 800, fy0 = oy - 3000 - unif(rng) * 800;
  const int fields_per_side = static_cast<int>((t * 1500.0 + 6000) / 800) + 2;
  std::vector<int> field_class(static_cast<std::size_t>(fields_per_side * fields_per_side));
  std::vector<double> field_gain(field_class.size());
  for (std::size_t f = 0; f < field_class.size(); ++f) {
    const double r = unif(rng);
    field_class[f] = r < 0.33   ? 1
                     : r < 0.60 ? 5
                     : r < 0.64 ? 61
                     : r < 0.78 ? 176
                     : r < 0.90 ? 141
                     : r < 0.97 ? 121
                                : 111;
    field_gain[f] = 1 + 0.05 * normal(rng);
  }
  auto field_at = [&](double x, double y) {
    const int fc = std::clamp(static_cast<int>((x - fx0) / 800), 0, fields_per_side - 1);
    const int fr = std::clamp(static_cast<int>((y - fy0) / 800), 0, fields_per_side - 1);
    return static_cast<std::size_t>(fr * fields_per_side + fc);
  };

  // The Cropland Data Layer of 2017 over the tiles plus 600 m, in its own CRS (CONUS Albers,
  // EPSG:5070) at 30 m, uint8 codes, 0 = background (nodata), as CropScape clips it.
  write_cdl(out, "cdl/2017_30m_cdls.tif", utm, ox - 600, oy - 600, ox + t * 1500.0 + 600, top + 600,
            [&](double x, double y) { return field_class[field_at(x, y)]; });

  // Landsat 8 Collection 1 SR over the tiles plus 1.5 km: four acquisitions of 2017, and one of
  // 2016 that prepare must not use.
  const LandsatGrid lg{ox - 1500, top + 1500, t * 50 + 100, t * 50 + 100, to_utm.wkt_to(), 23, 32};
  std::vector<std::size_t> pixel_field(static_cast<std::size_t>(lg.w) * static_cast<std::size_t>(lg.h));
  for (int r = 0; r < lg.h; ++r) {
    for (int c = 0; c < lg.w; ++c) {
      pixel_field[static_cast<std::size_t>(r) * lg.w + c] = field_at(lg.x0 + (c + 0.5) * 30, lg.y1 - (r + 0.5) * 30);
    }
  }
  for (const LandsatDate& ld : std::vector<LandsatDate>{
           {8, 2017, 4, 12}, {8, 2017, 6, 15}, {8, 2017, 7, 17}, {8, 2017, 9, 3}, {8, 2016, 8, 1}}) {
    write_landsat_product(out, rng, ld, lg, [&](const std::string& band, std::size_t i) {
      const std::size_t f = pixel_field[i];
      const Spectrum s = class_spectrum(field_class[f], ld.y == 2017 ? ld.m : 12);
      const double g = field_gain[f] * (ld.y == 2017 ? 1.0 : 1.8);
      const double blue = 0.02 + 0.5 * s.red;
      if (band == "TEMP1") return 290 + 10 * s.red * 10;
      if (band == "ULTRABLUE") return (blue - 0.005) * g;
      if (band == "BLUE") return blue * g;
      if (band == "GREEN") return (0.03 + 0.5 * s.red + 0.1 * s.nir) * g;
      if (band == "RED") return s.red * g;
      if (band == "NIR") return s.nir * g;
      if (band == "SWIR1") return s.swir1 * g;
      return s.swir2 * g;
    });
  }
  SynthResult result;
  result.labels = "cdl/2017_30m_cdls.tif";
  result.imagery = {"landsat"};
  return result;
}

}  // namespace sbench::prepare

namespace sbench::prepare {

SynthResult synth_brick_kiln(const TaskCard& task, const SynthOptions& opt, SynthWriter& out) {
  (void)task;
  const int n = opt.n > 0 ? opt.n : 100;
  const int t = std::max(3, static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n)))));
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> unif(0, 1);
  std::normal_distribution<double> normal(0, 1);
  auto u = [&](double lo, double hi) { return lo + (hi - lo) * unif(rng); };
  // North of Dhaka, Bangladesh (UTM 46N); the MGRS tile of the products is named as T46QBM.
  const double lon0 = 90.40, lat0 = 23.90;
  const std::string utm = raster::utm_crs(lon0, lat0);
  Transform to_utm("EPSG:4326", utm), to_geo(utm, "EPSG:4326");
  double cx = lon0, cy = lat0;
  to_utm(cx, cy);
  const double side = t * 640.0;
  // The region: a hexagon in a square of t x t tiles; the scenes cover it plus 1280 m, their corner
  // on 60 m so that the 10, 20 and 60 m grids nest.
  const double rx0 = std::floor((cx - side / 2) / 60) * 60, ry1 = rx0 - cx + cy + side;  // square box
  const double gx0 = rx0 - 1280, gy1 = std::ceil((ry1 + 1280) / 60) * 60;
  const int w = static_cast<int>((side + 2560) / 60) * 6, h = w;  // 10 m pixels, a multiple of 6
  {
    const std::vector<std::pair<double, double>> hex = {{0.25, 0.0}, {0.75, 0.0}, {1.0, 0.5},
                                                        {0.75, 1.0}, {0.25, 1.0}, {0.0, 0.5}};
    std::string coords;
    for (std::size_t k = 0; k <= hex.size(); ++k) {
      double x = rx0 + hex[k % hex.size()].first * side, y = ry1 - hex[k % hex.size()].second * side;
      to_geo(x, y);
      coords += fmt::format("{}[{:.7f}, {:.7f}]", k ? ", " : "", x, y);
    }
    out.write_text("region.geojson",
                   fmt::format("{{\"type\": \"FeatureCollection\", \"features\": [{{\"type\": \"Feature\", "
                               "\"properties\": {{\"name\": \"synthetic district\"}}, \"geometry\": {{\"type\": "
                               "\"Polygon\", \"coordinates\": [[{}]]}}}}]}}\n",
                               coords));
  }
  // Kilns: about one per eight tiles, inside the region's inner square, plus one outside it.
  struct KilnSite {
    double x, y;
  };
  std::vector<KilnSite> kilns;
  const int nk = std::max(2, t * t / 8);
  for (int k = 0; k < nk; ++k)
    kilns.push_back({u(rx0 + side * 0.3, rx0 + side * 0.7), u(ry1 - side * 0.9, ry1 - side * 0.1)});
  std::ostringstream csv;
  csv << "id,lon,lat\n";
  for (std::size_t k = 0; k <= kilns.size(); ++k) {
    double x = k < kilns.size() ? kilns[k].x : rx0 - 900, y = k < kilns.size() ? kilns[k].y : ry1 - side / 2;
    to_geo(x, y);
    csv << fmt::format("kiln_{:04d},{:.7f},{:.7f}\n", k + 1, x, y);
  }
  out.write_text("kilns.csv", csv.str());

  // The surface at 10 m: paddy fields of 200 m (each its own greenness), ponds, and the kilns
  // (a brick oval of 80 x 50 m in bare ground of 70 m radius). Reflectance per class: BLUE, GREEN,
  // RED, NIR, SWIR1, SWIR2 (docs/prepare.md).
  enum Cover { paddy, water, bare, kiln };
  std::vector<std::uint8_t> cover(static_cast<std::size_t>(w) * static_cast<std::size_t>(h), paddy);
  std::vector<double> green(cover.size());
  const int fields = w / 20 + 1;
  std::vector<double> field_green(static_cast<std::size_t>(fields * fields));
  for (auto& g : field_green) g = u(0.6, 1.2);
  std::vector<std::array<double, 3>> ponds;
  for (int k = 0; k < t; ++k) ponds.push_back({u(gx0, gx0 + w * 10), u(gy1 - h * 10, gy1), u(40, 120)});
  for (int r = 0; r < h; ++r) {
    for (int c = 0; c < w; ++c) {
      const double x = gx0 + (c + 0.5) * 10, y = gy1 - (r + 0.5) * 10;
      const std::size_t i = static_cast<std::size_t>(r) * w + c;
      green[i] = field_green[static_cast<std::size_t>((r / 20) * fields + c / 20)];
      for (const auto& p : ponds) {
        if ((x - p[0]) * (x - p[0]) + (y - p[1]) * (y - p[1]) < p[2] * p[2]) cover[i] = water;
      }
      for (const auto& k : kilns) {
        const double dx = x - k.x, dy = y - k.y;
        if (dx * dx + dy * dy < 70 * 70) cover[i] = bare;
        if ((dx / 40) * (dx / 40) + (dy / 25) * (dy / 25) < 1) cover[i] = kiln;
      }
    }
  }
  auto reflectance = [&](std::size_t i, int band, double season) {  // band: 0 B, 1 G, 2 R, 3 NIR, 4 SWIR1, 5 SWIR2
    static const double table[4][6] = {{0.04, 0.07, 0.05, 0.30, 0.18, 0.10},   // paddy (times greenness)
                                       {0.06, 0.06, 0.04, 0.02, 0.01, 0.01},   // water
                                       {0.09, 0.12, 0.15, 0.20, 0.28, 0.24},   // bare ground
                                       {0.10, 0.14, 0.22, 0.22, 0.34, 0.30}};  // brick
    double v = table[cover[i]][band];
    if (cover[i] == paddy && band == 3) v *= green[i] * season;
    if (cover[i] == paddy && band == 2) v /= green[i] * season;
    return v;
  };
  std::ostringstream granules;
  struct S2Date {
    int y, m, d;
    double cloudy;  // share of the scene under cloud
    double season;  // greenness of the paddy
  };
  const std::vector<S2Date> dates = {{2018, 10, 20, 0.04, 1.2}, {2018, 11, 24, 0, 1.0},  {2018, 12, 29, 0, 0.8},
                                     {2019, 2, 12, 0, 0.9},     {2019, 4, 8, 0.02, 1.0}, {2019, 7, 15, 0, 1.3}};
  const std::string wkt = to_utm.wkt_to();
  int orbit = 17540;
  for (const S2Date& sd : dates) {
    const std::string stamp = fmt::format("{}T043131", ymd(sd.y, sd.m, sd.d));
    const std::string granule =
        fmt::format("sentinel2/L2A_T46QBM_A{:06d}_{}T043825/IMG_DATA", orbit, ymd(sd.y, sd.m, sd.d));
    orbit += 500;
    const double gain = 1 + 0.03 * normal(rng);
    // Clouds: discs covering the asked share of the scene (SCL 9), their shadows (SCL 3).
    std::vector<std::array<double, 3>> clouds;
    if (sd.cloudy > 0) {
      const double r = std::sqrt(sd.cloudy * w * h * 100 / 3.14159265358979);
      clouds.push_back({u(gx0 + r, gx0 + w * 10 - r), u(gy1 - h * 10 + r, gy1 - r), r});
    }
    std::vector<std::uint8_t> scl10(cover.size());
    std::vector<std::array<float, 6>> refl(cover.size());
    for (int r = 0; r < h; ++r) {
      for (int c = 0; c < w; ++c) {
        const std::size_t i = static_cast<std::size_t>(r) * w + c;
        const double x = gx0 + (c + 0.5) * 10, y = gy1 - (r + 0.5) * 10;
        std::uint8_t cls = cover[i] == paddy ? 4 : cover[i] == water ? 6 : 5;
        for (const auto& cl : clouds) {
          if ((x - cl[0] - 300) * (x - cl[0] - 300) + (y - cl[1] + 300) * (y - cl[1] + 300) < cl[2] * cl[2]) cls = 3;
          if ((x - cl[0]) * (x - cl[0]) + (y - cl[1]) * (y - cl[1]) < cl[2] * cl[2]) cls = 9;
        }
        scl10[i] = cls;
        for (int b = 0; b < 6; ++b) {
          double v = reflectance(i, b, sd.season) * gain;
          if (cls == 9) v = 0.45;
          if (cls == 3) v *= 0.4;
          refl[i][static_cast<std::size_t>(b)] = static_cast<float>(std::max(0.0, v + 0.003 * normal(rng)));
        }
      }
    }
    // A band at `res` metres: the 10 m values averaged over res/10 x res/10 blocks, as DN.
    auto band_dn = [&](int res, auto&& value_of) {
      const int f = res / 10, bw = w / f, bh = h / f;
      std::vector<std::uint16_t> v(static_cast<std::size_t>(bw) * static_cast<std::size_t>(bh));
      for (int r = 0; r < bh; ++r) {
        for (int c = 0; c < bw; ++c) {
          double s = 0;
          for (int dr = 0; dr < f; ++dr) {
            for (int dc = 0; dc < f; ++dc) s += value_of(static_cast<std::size_t>(r * f + dr) * w + (c * f + dc));
          }
          v[static_cast<std::size_t>(r) * bw + c] =
              static_cast<std::uint16_t>(std::clamp(std::lround(s / (f * f) * 10000), 1L, 65535L));
        }
      }
      return v;
    };
    auto write_band = [&](const char* code, int res, auto&& value_of) {
      const auto v = band_dn(res, value_of);
      const double gt[6] = {gx0, static_cast<double>(res), 0, gy1, 0, -static_cast<double>(res)};
      out.write_jp2(fmt::format("{}/R{}m/T46QBM_{}_{}_{}m.jp2", granule, res, stamp, code, res), w / (res / 10),
                    h / (res / 10), 1, GDT_UInt16, v.data(), wkt, gt);
      return v;
    };
    auto b = [&](int k) {
      return [&refl, k](std::size_t i) { return static_cast<double>(refl[i][static_cast<std::size_t>(k)]); };
    };
    // Red edge and coastal bands interpolate their neighbours; water vapour is dim.
    const auto b02 = write_band("B02", 10, b(0));
    const auto b03 = write_band("B03", 10, b(1));
    const auto b04 = write_band("B04", 10, b(2));
    write_band("B08", 10, b(3));
    write_band("B05", 20, [&](std::size_t i) { return 0.7 * refl[i][2] + 0.3 * refl[i][3]; });
    write_band("B06", 20, [&](std::size_t i) { return 0.4 * refl[i][2] + 0.6 * refl[i][3]; });
    write_band("B07", 20, [&](std::size_t i) { return 0.1 * refl[i][2] + 0.9 * refl[i][3]; });
    write_band("B8A", 20, [&](std::size_t i) { return 0.95 * refl[i][3]; });
    write_band("B11", 20, b(4));
    write_band("B12", 20, b(5));
    write_band("B01", 60, [&](std::size_t i) { return 0.9 * refl[i][0] + 0.02; });
    write_band("B09", 60, [&](std::size_t i) { return 0.3 * refl[i][3]; });
    {
      // SCL at 20 m: the class of the block's upper-left 10 m pixel.
      std::vector<std::uint8_t> scl(static_cast<std::size_t>(w / 2) * static_cast<std::size_t>(h / 2));
      for (int r = 0; r < h / 2; ++r) {
        for (int c = 0; c < w / 2; ++c)
          scl[static_cast<std::size_t>(r) * (w / 2) + c] = scl10[static_cast<std::size_t>(2 * r) * w + 2 * c];
      }
      const double gt[6] = {gx0, 20, 0, gy1, 0, -20};
      out.write_jp2(fmt::format("{}/R20m/T46QBM_{}_SCL_20m.jp2", granule, stamp), w / 2, h / 2, 1, GDT_Byte, scl.data(),
                    wkt, gt);
    }
    {
      // The true-colour image: B04, B03, B02 from 0-2500 DN to 1-255.
      std::vector<std::uint8_t> tci(3 * cover.size());
      for (std::size_t i = 0; i < cover.size(); ++i) {
        const std::uint16_t rgb[3] = {b04[i], b03[i], b02[i]};
        for (int k = 0; k < 3; ++k) {
          tci[static_cast<std::size_t>(k) * cover.size() + i] =
              static_cast<std::uint8_t>(std::clamp(static_cast<long>(rgb[k]) * 255 / 2500, 1L, 255L));
        }
      }
      const double gt[6] = {gx0, 10, 0, gy1, 0, -10};
      out.write_jp2(fmt::format("{}/R10m/T46QBM_{}_TCI_10m.jp2", granule, stamp), w, h, 3, GDT_Byte, tci.data(), wkt,
                    gt);
    }
  }
  SynthResult result;
  result.labels = "kilns.csv";
  result.imagery = {"sentinel2"};
  result.extra_options = {"--region", (opt.out / "region.geojson").string()};
  return result;
}

}  // namespace sbench::prepare

namespace sbench::prepare {

SynthResult synth_field_delineation(const TaskCard& task, const SynthOptions& opt, SynthWriter& out) {
  (void)task;
  const int n = opt.n > 0 ? opt.n : 20;
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> unif(0, 1);
  std::normal_distribution<double> normal(0, 1);
  auto u = [&](double lo, double hi) { return lo + (hi - lo) * unif(rng); };
  // The Beauce, France (UTM 31N): parcels as a jittered lattice of quadrilaterals of about 350 m,
  // enough of them for n tiles; written in Lambert-93 (EPSG:2154), the RPG's CRS.
  const double lon0 = 1.60, lat0 = 48.20, cell = 350;
  const std::string utm = raster::utm_crs(lon0, lat0);
  Transform to_utm("EPSG:4326", utm), utm_to_l93(utm, "EPSG:2154");
  double cx = lon0, cy = lat0;
  to_utm(cx, cy);
  const int cells = std::max(3, static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n)))));
  const double px0 = std::floor((cx - cells * cell / 2) / 10) * 10, py0 = std::floor((cy - cells * cell / 2) / 10) * 10;
  std::vector<std::array<double, 2>> vertex(static_cast<std::size_t>((cells + 1) * (cells + 1)));
  for (int i = 0; i <= cells; ++i) {
    for (int j = 0; j <= cells; ++j) {
      const bool edge = i == 0 || j == 0 || i == cells || j == cells;
      vertex[static_cast<std::size_t>(i * (cells + 1) + j)] = {px0 + j * cell + (edge ? 0 : u(-80, 80)),
                                                               py0 + i * cell + (edge ? 0 : u(-80, 80))};
    }
  }
  auto corner = [&](int i, int j) { return vertex[static_cast<std::size_t>(i * (cells + 1) + j)]; };
  auto quad = [&](int i, int j) {
    return std::array<std::array<double, 2>, 4>{corner(i, j), corner(i, j + 1), corner(i + 1, j + 1), corner(i + 1, j)};
  };
  // Crop groups of the RPG: 1 wheat, 2 maize, 5 rapeseed, 18 permanent grassland.
  std::vector<int> group(static_cast<std::size_t>(cells * cells));
  for (auto& g : group) {
    const double r = unif(rng);
    g = r < 0.35 ? 1 : r < 0.6 ? 2 : r < 0.8 ? 5 : 18;
  }
  {
    GDALDriverH gpkg = GDALGetDriverByName("GPKG");
    if (!gpkg) fail<Error>("GDAL has no GPKG driver: cannot write the parcels");
    const std::filesystem::path path = out.path("parcels/RPG_2-0_GPKG_LAMB93_R24-2017.gpkg");
    GDALDatasetH ds = GDALCreate(gpkg, path.c_str(), 0, 0, 0, GDT_Unknown, nullptr);
    if (!ds) fail<IoError>("{}: cannot create the GeoPackage", path.string());
    OGRSpatialReference l93;
    l93.importFromEPSG(2154);
    OGRLayerH layer =
        GDALDatasetCreateLayer(ds, "PARCELLES_GRAPHIQUES", OGRSpatialReference::ToHandle(&l93), wkbPolygon, nullptr);
    for (const char* f : {"ID_PARCEL", "CODE_CULTU"}) {
      OGRFieldDefnH def = OGR_Fld_Create(f, OFTString);
      OGR_L_CreateField(layer, def, TRUE);
      OGR_Fld_Destroy(def);
    }
    {
      OGRFieldDefnH def = OGR_Fld_Create("CODE_GROUP", OFTInteger);
      OGR_L_CreateField(layer, def, TRUE);
      OGR_Fld_Destroy(def);
    }
    static const char* cultures[] = {"", "BTH", "MIS", "", "", "CZH", "", "", "",   "",
                                     "", "",    "",    "", "", "",    "", "", "PPH"};
    for (int i = 0; i < cells; ++i) {
      for (int j = 0; j < cells; ++j) {
        OGRLinearRing ring;
        const auto q = quad(i, j);
        for (int k = 0; k <= 4; ++k) {
          double x = q[static_cast<std::size_t>(k % 4)][0], y = q[static_cast<std::size_t>(k % 4)][1];
          utm_to_l93(x, y);
          ring.addPoint(x, y);
        }
        OGRPolygon poly;
        poly.addRing(&ring);
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(layer));
        const int g = group[static_cast<std::size_t>(i * cells + j)];
        OGR_F_SetFieldString(f, 0, fmt::format("{}", 1000000 + i * cells + j).c_str());
        OGR_F_SetFieldString(f, 1, cultures[g]);
        OGR_F_SetFieldInteger(f, 2, g);
        OGR_F_SetGeometry(f, OGRGeometry::ToHandle(&poly));
        const OGRErr err = OGR_L_CreateFeature(layer, f);
        OGR_F_Destroy(f);
        if (err != OGRERR_NONE) {
          GDALClose(ds);
          fail<IoError>("{}: cannot write parcel {}", path.string(), i * cells + j);
        }
      }
    }
    GDALClose(ds);
    out.add_file("parcels/RPG_2-0_GPKG_LAMB93_R24-2017.gpkg");
  }

  // Sentinel-2 L2A granules of tile T31UDP, 10 m bands and SCL, over the parcels plus 1.3 km.
  const double gx0 = std::floor((px0 - 1320) / 60) * 60, gy1 = std::ceil((py0 + cells * cell + 1320) / 60) * 60;
  const int w = static_cast<int>(std::ceil((px0 + cells * cell + 1320 - gx0) / 60)) * 6;
  const int h = static_cast<int>(std::ceil((gy1 - (py0 - 1320)) / 60)) * 6;
  // Per 10 m pixel: its parcel (or -1 outside) and whether it is on a track along a parcel edge
  // (centre within 5 m of an edge).
  std::vector<int> parcel(static_cast<std::size_t>(w) * static_cast<std::size_t>(h), -1);
  std::vector<std::uint8_t> track(parcel.size(), 0);
  auto seg_dist = [](double x, double y, std::array<double, 2> a, std::array<double, 2> b) {
    const double dx = b[0] - a[0], dy = b[1] - a[1];
    const double t = std::clamp(((x - a[0]) * dx + (y - a[1]) * dy) / (dx * dx + dy * dy), 0.0, 1.0);
    return std::hypot(x - a[0] - t * dx, y - a[1] - t * dy);
  };
  for (int r = 0; r < h; ++r) {
    for (int c = 0; c < w; ++c) {
      const double x = gx0 + (c + 0.5) * 10, y = gy1 - (r + 0.5) * 10;
      const int gi = static_cast<int>(std::floor((y - py0) / cell)),
                gj = static_cast<int>(std::floor((x - px0) / cell));
      for (int i = gi - 1; i <= gi + 1; ++i) {
        for (int j = gj - 1; j <= gj + 1; ++j) {
          if (i < 0 || j < 0 || i >= cells || j >= cells) continue;
          const auto q = quad(i, j);
          bool in = true;
          double d = 1e18;
          for (int k = 0; k < 4; ++k) {
            const auto a = q[static_cast<std::size_t>(k)], b = q[static_cast<std::size_t>((k + 1) % 4)];
            in = in && ((b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0])) >= 0;
            d = std::min(d, seg_dist(x, y, a, b));
          }
          if (in) {
            const std::size_t p = static_cast<std::size_t>(r) * w + c;
            parcel[p] = i * cells + j;
            track[p] = d < 5;
          }
        }
      }
    }
  }
  struct Date {
    int m, d;
    double cloudy;
  };
  const std::string wkt = to_utm.wkt_to();
  int orbit = 9870;
  for (const Date& dt : std::vector<Date>{{5, 12, 0.03}, {7, 1, 0.0}, {9, 9, 0.02}}) {
    const std::string stamp = fmt::format("2017{:02d}{:02d}T105031", dt.m, dt.d);
    const std::string granule =
        fmt::format("sentinel2/L2A_T31UDP_A{:06d}_2017{:02d}{:02d}T105415/IMG_DATA", orbit, dt.m, dt.d);
    orbit += 900;
    std::vector<std::array<double, 3>> clouds;
    if (dt.cloudy > 0) {
      const double rad = std::sqrt(dt.cloudy * w * h * 100 / 3.14159265358979);
      clouds.push_back({u(gx0 + rad, gx0 + w * 10 - rad), u(gy1 - h * 10 + rad, gy1 - rad), rad});
    }
    // Reflectance of each crop group in the month: BLUE, GREEN, RED, NIR (docs/prepare.md).
    auto crop = [&](int g) -> std::array<double, 4> {
      const bool spring = dt.m <= 5, summer = dt.m == 7;
      switch (g) {
        case 1:
          return spring   ? std::array<double, 4>{0.04, 0.08, 0.05, 0.38}
                 : summer ? std::array<double, 4>{0.07, 0.10, 0.12, 0.28}
                          : std::array<double, 4>{0.09, 0.11, 0.14, 0.22};
        case 2:
          return spring   ? std::array<double, 4>{0.08, 0.10, 0.13, 0.20}
                 : summer ? std::array<double, 4>{0.03, 0.07, 0.04, 0.45}
                          : std::array<double, 4>{0.05, 0.08, 0.07, 0.33};
        case 5:
          return spring ? std::array<double, 4>{0.06, 0.13, 0.07, 0.40} : std::array<double, 4>{0.08, 0.10, 0.12, 0.25};
        default: return {0.04, 0.07, 0.05, 0.30};
      }
    };
    std::vector<std::uint16_t> bands[4];
    for (auto& b : bands) b.resize(parcel.size());
    std::vector<std::uint8_t> scl10(parcel.size());
    std::vector<double> parcel_gain(group.size());
    for (auto& g : parcel_gain) g = 1 + 0.04 * normal(rng);
    for (int r = 0; r < h; ++r) {
      for (int c = 0; c < w; ++c) {
        const std::size_t p = static_cast<std::size_t>(r) * w + c;
        const double x = gx0 + (c + 0.5) * 10, y = gy1 - (r + 0.5) * 10;
        std::array<double, 4> v = parcel[p] < 0 ? std::array<double, 4>{0.05, 0.08, 0.07, 0.30}
                                                : crop(group[static_cast<std::size_t>(parcel[p])]);
        if (parcel[p] >= 0) {
          for (auto& e : v) e *= parcel_gain[static_cast<std::size_t>(parcel[p])];
        }
        std::uint8_t cls = 4;
        if (track[p]) v = {0.09, 0.12, 0.14, 0.20}, cls = 5;
        for (const auto& cl : clouds) {
          if ((x - cl[0] - 300) * (x - cl[0] - 300) + (y - cl[1] + 300) * (y - cl[1] + 300) < cl[2] * cl[2]) {
            cls = 3;
            for (auto& e : v) e *= 0.4;
          }
          if ((x - cl[0]) * (x - cl[0]) + (y - cl[1]) * (y - cl[1]) < cl[2] * cl[2]) cls = 9, v = {0.5, 0.5, 0.5, 0.5};
        }
        scl10[p] = cls;
        for (int k = 0; k < 4; ++k) {
          bands[k][p] = static_cast<std::uint16_t>(
              std::clamp(std::lround((v[static_cast<std::size_t>(k)] + 0.003 * normal(rng)) * 10000), 1L, 65535L));
        }
      }
    }
    const double gt10[6] = {gx0, 10, 0, gy1, 0, -10};
    const char* codes[] = {"B02", "B03", "B04", "B08"};
    for (int k = 0; k < 4; ++k) {
      out.write_jp2(fmt::format("{}/R10m/T31UDP_{}_{}_10m.jp2", granule, stamp, codes[k]), w, h, 1, GDT_UInt16,
                    bands[k].data(), wkt, gt10);
    }
    std::vector<std::uint8_t> scl(static_cast<std::size_t>(w / 2) * static_cast<std::size_t>(h / 2));
    for (int r = 0; r < h / 2; ++r) {
      for (int c = 0; c < w / 2; ++c)
        scl[static_cast<std::size_t>(r) * (w / 2) + c] = scl10[static_cast<std::size_t>(2 * r) * w + 2 * c];
    }
    const double gt20[6] = {gx0, 20, 0, gy1, 0, -20};
    out.write_jp2(fmt::format("{}/R20m/T31UDP_{}_SCL_20m.jp2", granule, stamp), w / 2, h / 2, 1, GDT_Byte, scl.data(),
                  wkt, gt20);
  }
  SynthResult result;
  result.labels = "parcels/RPG_2-0_GPKG_LAMB93_R24-2017.gpkg";
  result.imagery = {"sentinel2"};
  result.extra_options = {"--sample", std::to_string(n)};
  return result;
}

}  // namespace sbench::prepare
