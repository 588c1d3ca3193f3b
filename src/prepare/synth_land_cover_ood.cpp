// `sbench synth land_cover_ood`: 10 km regions on five continents (three in sub-Saharan Africa, the
// meta-test group), regions.csv, and per region the MODIS products of 2018 as HDF-EOS2 files on the
// sinusoidal grid of its tile: MOD09A1 (sur_refl_b01-b07, state flags) for the 46 composites and
// MCD12Q1 (LC_Type1 and companions), each over the region plus 2 km only (to stay small), in a folder
// per region. Planted: each IGBP class has its own seasonal course of red and NIR (cropland a sharp
// peak, forest a high flat NIR, savanna and grassland broad peaks, urban and barren flat, water dark;
// the season shifted by half a year south of the equator); the third region is barren only, which the
// region filter must drop.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "modis_grid.hpp"
#include "sbench/core/error.hpp"
#include "sbench/raster/eos.hpp"
#include "synth_common.hpp"

namespace sbench::prepare {

namespace {

struct SynthRegion {
  const char* id;
  const char* group;
  double lon, lat;
  std::vector<std::pair<int, double>> classes;  // IGBP class and share of the 3 x 3 cell patches
};

const std::vector<SynthRegion>& synth_regions() {
  static const std::vector<SynthRegion> r = {
      {"ssa_0001", "sub_saharan_africa", 36.9, 0.3, {{9, 0.45}, {12, 0.35}, {10, 0.2}}},
      {"eur_0001", "europe", 10.2, 51.0, {{12, 0.5}, {5, 0.3}, {13, 0.2}}},
      {"oce_0001", "oceania", 134.0, -25.0, {{16, 1.0}}},
      {"ssa_0002", "sub_saharan_africa", 7.5, 9.1, {{8, 0.4}, {12, 0.4}, {13, 0.2}}},
      {"sam_0001", "south_america", -55.0, -12.5, {{2, 0.5}, {12, 0.3}, {9, 0.2}}},
      {"nam_0001", "north_america", -97.0, 38.5, {{12, 0.55}, {10, 0.35}, {17, 0.1}}},
      {"asi_0001", "asia", 78.0, 23.0, {{12, 0.45}, {14, 0.35}, {13, 0.2}}},
      {"ssa_0003", "sub_saharan_africa", 28.3, -14.4, {{9, 0.5}, {8, 0.3}, {12, 0.2}}},
      {"eur_0002", "europe", -3.5, 40.2, {{12, 0.4}, {7, 0.35}, {10, 0.25}}},
      {"asi_0002", "asia", 104.0, 30.6, {{12, 0.5}, {4, 0.3}, {13, 0.2}}},
      {"nam_0002", "north_america", -89.5, 40.1, {{12, 0.6}, {4, 0.25}, {13, 0.15}}},
      {"sam_0002", "south_america", -60.5, -32.9, {{12, 0.55}, {10, 0.3}, {11, 0.15}}},
  };
  return r;
}

// Red and NIR DN of a class at composite t (0-45), south of the equator half a year later.
std::pair<double, double> class_red_nir(int igbp, int t, bool south) {
  const double phase = std::fmod(t / 46.0 + (south ? 0.5 : 0.0), 1.0);
  const double season = std::max(0.0, std::sin(2 * modis::kPi * (phase - 0.25)));  // April to September
  if (igbp >= 1 && igbp <= 5) return {420 - 100 * season, 2800 + 600 * season};
  if (igbp == 6 || igbp == 7) return {1200 - 150 * season, 2000 + 300 * season};
  if (igbp == 8 || igbp == 9) return {900 - 300 * season, 2200 + 900 * season};
  if (igbp == 10 || igbp == 11) return {1000 - 400 * season, 2000 + 1200 * season};
  if (igbp == 12) return {1100 - 600 * std::pow(season, 3), 1800 + 2400 * std::pow(season, 3)};
  if (igbp == 14) return {1050 - 450 * season * season, 1900 + 1600 * season * season};
  if (igbp == 13) return {1500, 1700};
  if (igbp == 17) return {300, 150};
  return {2500, 2800};  // barren and the rest
}

}  // namespace

SynthResult synth_land_cover_ood(const TaskCard& task, const SynthOptions& opt, SynthWriter& out) {
  (void)task;
  const auto& all = synth_regions();
  const int n = opt.n > 0 ? opt.n : 8;
  if (n < 3 || n > static_cast<int>(all.size()))
    fail<UsageError>("synth land_cover_ood writes 3 to {} regions (--n {})", all.size(), n);
  std::mt19937_64 rng(opt.seed);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> unif(0, 1);
  std::ostringstream csv;
  csv << "region,region_group,lon,lat\n";
  for (int k = 0; k < n; ++k) {
    const SynthRegion& g = all[static_cast<std::size_t>(k)];
    csv << fmt::format("{},{},{},{}\n", g.id, g.group, g.lon, g.lat);
    double cx = 0, cy = 0;
    modis::to_sinusoidal(g.lon, g.lat, cx, cy);
    const modis::CellGrid cells = modis::cell_grid(cx - 7000, cy - 7000, cx + 7000, cy + 7000);
    const int w = cells.side;
    const double x1 = cells.x0 + w * modis::kCell, y0 = cells.y1 - w * modis::kCell;
    const int th = static_cast<int>(std::floor((cells.x0 - modis::kOriginX) / raster::kModisTileMetres));
    const int tv = static_cast<int>(std::floor((modis::kOriginY - cells.y1) / raster::kModisTileMetres));
    const std::string tile = fmt::format("h{:02d}v{:02d}", th, tv);
    const std::string stamp = fmt::format("{}", 2019001000000LL + k);  // one production time per region
    // Patches of 3 x 3 cells, each one class by the region's shares.
    const int pw = (w + 2) / 3;
    std::vector<int> patch(static_cast<std::size_t>(pw) * static_cast<std::size_t>(pw));
    for (auto& p : patch) {
      double u = unif(rng);
      p = g.classes.back().first;
      for (const auto& [c, share] : g.classes) {
        if (u < share) {
          p = c;
          break;
        }
        u -= share;
      }
    }
    std::vector<int> cls(static_cast<std::size_t>(w) * static_cast<std::size_t>(w));
    for (int r = 0; r < w; ++r) {
      for (int c = 0; c < w; ++c)
        cls[static_cast<std::size_t>(r) * w + c] = patch[static_cast<std::size_t>(r / 3) * pw + c / 3];
    }
    const std::string folder = fmt::format("modis/{}/", g.id);
    {
      raster::EosField lc{"LC_Type1", raster::EosType::u8, 255, 1, 0, {}};
      for (int c : cls) lc.values.push_back(c);
      raster::EosField type2 = lc, qc = lc;
      type2.name = "LC_Type2";
      qc.name = "QC";
      std::fill(qc.values.begin(), qc.values.end(), 0.0);
      const std::string name = fmt::format("MCD12Q1.A2018001.{}.061.{}.hdf", tile, stamp);
      raster::write_modis_hdf4(out.path(folder + name), raster::EosGrid{"MCD12Q1", w, w, cells.x0, cells.y1, x1, y0},
                               {lc, type2, qc});
      out.add_file(folder + name);
    }
    for (int t = 0; t < 46; ++t) {
      std::vector<raster::EosField> sr(8);
      for (int b = 0; b < 7; ++b)
        sr[static_cast<std::size_t>(b)] = {fmt::format("sur_refl_b0{}", b + 1), raster::EosType::i16, -28672, 1, 0, {}};
      sr[7] = {"sur_refl_state_500m", raster::EosType::u16, 65535, 1, 0, {}};
      for (int c : cls) {
        const auto [red, nir] = class_red_nir(c, t, g.lat < 0);
        const double band[7] = {
            red, nir, 0.5 * red + 100, 0.7 * red + 0.1 * nir, 1.05 * nir, 0.6 * nir + 0.4 * red, 0.3 * nir + 0.5 * red};
        const double u = unif(rng);
        for (std::size_t b = 0; b < 7; ++b) {
          double v = band[b] + 60 * normal(rng);
          if (u < 0.01) v = -28672;                                         // fill
          if (u >= 0.01 && u < 0.04) v = 4000 + 100 * static_cast<int>(b);  // cloud
          sr[b].values.push_back(v);
        }
        sr[7].values.push_back(u >= 0.01 && u < 0.04 ? 1 : 0);
      }
      const std::string name = fmt::format("MOD09A1.A2018{:03d}.{}.061.{}.hdf", 1 + 8 * t, tile, stamp);
      raster::write_modis_hdf4(out.path(folder + name),
                               raster::EosGrid{"MOD_Grid_500m_Surface_Reflectance", w, w, cells.x0, cells.y1, x1, y0},
                               sr);
      out.add_file(folder + name);
    }
  }
  out.write_text("regions.csv", csv.str());
  SynthResult result;
  result.labels = "regions.csv";
  result.imagery = {"modis"};
  return result;
}

}  // namespace sbench::prepare
