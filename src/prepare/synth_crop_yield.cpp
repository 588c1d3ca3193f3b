// `sbench synth crop_yield`: Iowa counties (GeoJSON with the TIGER fields NAME and STATEFP), a
// yields CSV for the harvest years 2010 and 2011, and the MODIS products of those seasons as HDF-EOS2
// files on the sinusoidal grid of tile h11v04: MOD09A1 (sur_refl_b01-b07 and the state flags, 463 m),
// MYD11A2 (LST day and night, 926 m) for each 8-day composite the release's calendar uses, and
// MCD12Q1 (LC_Type1) of 2009-2011. The files cover the counties plus 5 km, not the whole tile, to
// stay small. Planted: each county and year has a vigour g ~ N(0, 1); its cropland (class 12) is
// greener (NIR up, red down) in mid-season by g and slightly cooler, and its yield is 3.2 + 0.5 g
// t/ha (plus noise of 0.05).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "modis_grid.hpp"
#include "sbench/core/error.hpp"
#include "sbench/prepare/histograms.hpp"
#include "sbench/raster/eos.hpp"
#include "synth_common.hpp"

namespace sbench::prepare {

namespace {

using modis::kCell;
using modis::kOriginX;
using modis::kOriginY;
using modis::kPi;
constexpr double kKm = raster::kModisTileMetres / 1200;

const char* const kCounties[] = {
    "Adair",       "O'Brien",  "Audubon",    "Benton",    "Black Hawk", "Boone",    "Bremer",      "Buchanan",
    "Buena Vista", "Butler",   "Calhoun",    "Carroll",   "Cass",       "Cedar",    "Cerro Gordo", "Cherokee",
    "Chickasaw",   "Clarke",   "Clay",       "Clayton",   "Clinton",    "Crawford", "Dallas",      "Davis",
    "Decatur",     "Delaware", "Des Moines", "Dickinson", "Dubuque",    "Emmet",    "Fayette",     "Floyd",
    "Franklin",    "Fremont",  "Greene",     "Grundy",    "Guthrie",    "Hamilton", "Hancock",     "Hardin"};

struct County {
  std::string name;
  double west, south, east, north;
  bool clipped;  // the north-east corner cut off (a pentagon)
  bool contains(double lon, double lat) const {
    if (lon < west || lon >= east || lat < south || lat >= north) return false;
    return !clipped || (east - lon) + (north - lat) > 0.08;
  }
};

}  // namespace

SynthResult synth_crop_yield(const TaskCard& task, const SynthOptions& opt, SynthWriter& out) {
  (void)task;
  const int n = opt.n > 0 ? opt.n : 8;
  constexpr int kMaxCounties = static_cast<int>(sizeof(kCounties) / sizeof(kCounties[0]));
  if (n > kMaxCounties) fail<UsageError>("synth crop_yield writes at most {} counties (--n {})", kMaxCounties, n);
  std::mt19937_64 rng(opt.seed);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> unif(0, 1);
  const int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  const double lon0 = -93.9, lat0 = 42.6, dlon = 0.2, dlat = 0.15;
  std::vector<County> counties;
  for (int k = 0; k < n; ++k) {
    const int c = k % cols, r = k / cols;
    counties.push_back(
        {kCounties[k], lon0 + c * dlon, lat0 - (r + 1) * dlat, lon0 + (c + 1) * dlon, lat0 - r * dlat, k == 0});
  }
  const int years[] = {2010, 2011};
  std::vector<double> vigour(counties.size() * 2);
  for (auto& g : vigour) g = std::clamp(normal(rng), -2.5, 2.5);

  // Counties and yields.
  std::ostringstream geo;
  geo << R"({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": [)";
  std::ostringstream csv;
  csv << "country,region,year,yield\n";
  for (std::size_t k = 0; k < counties.size(); ++k) {
    const County& c = counties[k];
    std::string ring = fmt::format("[{}, {}], [{}, {}], ", c.west, c.south, c.east, c.south);
    ring += c.clipped ? fmt::format("[{}, {}], [{}, {}], ", c.east, c.north - 0.08, c.east - 0.08, c.north)
                      : fmt::format("[{}, {}], ", c.east, c.north);
    ring += fmt::format("[{}, {}], [{}, {}]", c.west, c.north, c.west, c.south);
    geo << (k ? ", " : "")
        << fmt::format(R"({{"type": "Feature", "properties": {{"NAME": "{}", "STATEFP": "19", "COUNTYFP": "{:03d}"}}, )"
                       R"("geometry": {{"type": "Polygon", "coordinates": [[{}]]}}}})",
                       c.name, 2 * k + 1, ring);
    std::string key = c.name;
    key.erase(std::remove(key.begin(), key.end(), '\''), key.end());
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char ch) { return std::tolower(ch); });
    for (int y = 0; y < 2; ++y) {
      const double yield = 3.2 + 0.5 * vigour[k * 2 + static_cast<std::size_t>(y)] + 0.05 * normal(rng);
      csv << fmt::format("usa,{}_ia,{},{:.4f}\n", key, years[y], yield);
    }
  }
  geo << "]}\n";
  out.write_text("counties.geojson", geo.str());
  out.write_text("yields.csv", csv.str());

  // The grids: the counties' box plus 5 km on the sinusoidal grid, edges on the 1 km cells.
  const double R = raster::kModisSphereRadius;
  double x0 = 1e18, x1 = -1e18, y0 = 1e18, y1 = -1e18;
  for (const auto& c : counties) {
    for (double lat : {c.south, c.north}) {
      for (double lon : {c.west, c.east}) {
        const double x = R * lon * kPi / 180 * std::cos(lat * kPi / 180), y = R * lat * kPi / 180;
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      }
    }
  }
  x0 = kOriginX + std::floor((x0 - 5000 - kOriginX) / kKm) * kKm;
  x1 = kOriginX + std::ceil((x1 + 5000 - kOriginX) / kKm) * kKm;
  y1 = kOriginY - std::floor((kOriginY - y1 - 5000) / kKm) * kKm;
  y0 = kOriginY - std::ceil((kOriginY - y0 + 5000) / kKm) * kKm;
  const int wk = static_cast<int>(std::lround((x1 - x0) / kKm)), hk = static_cast<int>(std::lround((y1 - y0) / kKm));
  const int w = 2 * wk, h = 2 * hk;
  const int tile_h = static_cast<int>(std::floor((x0 - kOriginX) / raster::kModisTileMetres));
  const int tile_v = static_cast<int>(std::floor((kOriginY - y1) / raster::kModisTileMetres));
  const std::string tile = fmt::format("h{:02d}v{:02d}", tile_h, tile_v);
  auto county_at = [&](double x, double y) -> int {
    const double lat = y / R * 180 / kPi, lon = x / (R * std::cos(y / R)) * 180 / kPi;
    for (std::size_t k = 0; k < counties.size(); ++k) {
      if (counties[k].contains(lon, lat)) return static_cast<int>(k);
    }
    return -1;
  };
  std::vector<int> cell_county(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  for (int r = 0; r < h; ++r) {
    for (int c = 0; c < w; ++c)
      cell_county[static_cast<std::size_t>(r) * w + c] = county_at(x0 + (c + 0.5) * kCell, y1 - (r + 0.5) * kCell);
  }
  // Fields of 4 x 4 cells: cropland (12) for 60%, else grassland (10) or a cropland/natural mosaic
  // (14); one field in 20 changes class from one year to the next.
  const int fw = (w + 3) / 4, fh = (h + 3) / 4;
  std::vector<std::vector<std::uint8_t>> field_class(3, std::vector<std::uint8_t>(static_cast<std::size_t>(fw) * fh));
  for (auto& f : field_class[0]) f = unif(rng) < 0.6 ? 12 : (unif(rng) < 0.5 ? 10 : 14);
  for (int y = 1; y < 3; ++y) {
    for (std::size_t i = 0; i < field_class[0].size(); ++i)
      field_class[y][i] = unif(rng) < 0.05 ? (field_class[y - 1][i] == 12 ? 10 : 12) : field_class[y - 1][i];
  }
  auto cls = [&](int y, std::size_t cell) {
    const std::size_t r = cell / static_cast<std::size_t>(w), c = cell % static_cast<std::size_t>(w);
    return field_class[y][(r / 4) * static_cast<std::size_t>(fw) + c / 4];
  };
  const std::string stamp = "2021001000000";
  for (int y = 0; y < 3; ++y) {
    raster::EosGrid grid{"MCD12Q1", w, h, x0, y1, x1, y0};
    raster::EosField lc{"LC_Type1", raster::EosType::u8, 255, 1, 0, {}};
    lc.values.resize(cell_county.size());
    for (std::size_t i = 0; i < lc.values.size(); ++i) lc.values[i] = cls(y, i);
    const std::string name = fmt::format("MCD12Q1.A{}001.{}.061.{}.hdf", 2009 + y, tile, stamp);
    // Beside LC_Type1, the product's University of Maryland classes (here equal), QC and land/water.
    raster::EosField type2 = lc, qc = lc, water = lc;
    type2.name = "LC_Type2";
    qc.name = "QC";
    std::fill(qc.values.begin(), qc.values.end(), 0.0);
    water.name = "LW";
    std::fill(water.values.begin(), water.values.end(), 2.0);  // land
    raster::write_modis_hdf4(out.path("modis/" + name), grid, {lc, type2, qc, water});
    out.add_file("modis/" + name);
  }

  // The composites of the two seasons.
  for (int y = 0; y < 2; ++y) {
    for (int s = 0; s < kCropYieldSteps; ++s) {
      const int t = crop_yield_composite(crop_yield_offset("usa"), years[y], s);
      const std::string date = modis_composite_date(t);
      const int year = std::stoi(date.substr(0, 4));
      const int doy = 1 + 8 * ((27 + t) % 46);
      const double bell = std::exp(-std::pow((s - 16) / 7.0, 2));
      const int cover_year = std::clamp(crop_yield_cover_year(t), 2009, 2011) - 2009;
      std::vector<raster::EosField> sr(8);
      const double base[7] = {1100, 2600, 450, 800, 2900, 2000, 1100};
      const double spread[7] = {60, 100, 30, 50, 150, 120, 80};
      for (int b = 0; b < 7; ++b) {
        sr[static_cast<std::size_t>(b)] = {fmt::format("sur_refl_b0{}", b + 1), raster::EosType::i16, -28672, 1, 0, {}};
        sr[static_cast<std::size_t>(b)].values.resize(cell_county.size());
      }
      sr[7] = {"sur_refl_state_500m", raster::EosType::u16, 65535, 1, 0, std::vector<double>(cell_county.size(), 0)};
      for (std::size_t i = 0; i < cell_county.size(); ++i) {
        const double u = unif(rng);
        const int k = cell_county[i];
        const bool crop = cls(cover_year, i) == 12;
        const double g = k >= 0 ? vigour[static_cast<std::size_t>(k) * 2 + static_cast<std::size_t>(y)] : 0;
        for (int b = 0; b < 7; ++b) {
          double v = base[b] + spread[b] * normal(rng);
          if (crop && b == 0) v -= 350 * g * bell;
          if (crop && b == 1) v += 900 * g * bell + 600 * bell;
          if (!crop && b == 1) v -= 400;
          if (u < 0.01) v = -28672;                       // fill
          if (u >= 0.01 && u < 0.03) v = 3500 + 300 * b;  // cloud: bright in every band
          sr[static_cast<std::size_t>(b)].values[i] = v;
        }
        if (u >= 0.01 && u < 0.03) sr[7].values[i] = 1;  // cloudy
      }
      const std::string sr_name = fmt::format("MOD09A1.A{}{:03d}.{}.061.{}.hdf", year, doy, tile, stamp);
      raster::write_modis_hdf4(out.path("modis/" + sr_name),
                               raster::EosGrid{"MOD_Grid_500m_Surface_Reflectance", w, h, x0, y1, x1, y0}, sr);
      out.add_file("modis/" + sr_name);

      raster::EosField day{"LST_Day_1km", raster::EosType::u16, 0, 1, 0, {}};
      raster::EosField night{"LST_Night_1km", raster::EosType::u16, 0, 1, 0, {}};
      for (int r = 0; r < hk; ++r) {
        for (int c = 0; c < wk; ++c) {
          const int k = county_at(x0 + (c + 0.5) * kKm, y1 - (r + 0.5) * kKm);
          const double g = k >= 0 ? vigour[static_cast<std::size_t>(k) * 2 + static_cast<std::size_t>(y)] : 0;
          const bool fill = unif(rng) < 0.01;
          day.values.push_back(fill ? 0 : (298 + 6 * bell - 2 * g * bell + 0.5 * normal(rng)) / 0.02);
          night.values.push_back(fill ? 0 : (283 + 3 * bell + 0.5 * normal(rng)) / 0.02);
        }
      }
      const std::string lst_name = fmt::format("MYD11A2.A{}{:03d}.{}.061.{}.hdf", year, doy, tile, stamp);
      raster::write_modis_hdf4(out.path("modis/" + lst_name),
                               raster::EosGrid{"MODIS_Grid_8Day_1km_LST", wk, hk, x0, y1, x1, y0}, {day, night});
      out.add_file("modis/" + lst_name);
    }
  }
  SynthResult result;
  result.labels = "yields.csv";
  result.imagery = {"modis"};
  result.extra_options = {"--region", (opt.out / "counties.geojson").string()};
  return result;
}

}  // namespace sbench::prepare
