#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include "sbench/core/error.hpp"
#include "sbench/raster/scene.hpp"

namespace sbench::raster {

namespace {
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

double native_res(const Scene& scene, const std::string& band) {
  for (const auto& b : sensor_profile(scene.sensor).bands) {
    if (b.name == band) return b.res_m;
  }
  return 0;
}

// Warps the raw values of the bands, one warp per source file, resampling and fill value (a QA band
// in the same file as data bands has none of theirs: a SCL of 0 is a class, not a hole); band k's
// plane is planes[k], inside one of the tiles kept in `store`.
void warp_raw(const Scene& scene, const std::vector<const SceneBand*>& bands, const TileGrid& grid,
              const SceneReadOptions& opt, std::vector<WarpedTile>& store, std::vector<float*>& planes) {
  std::map<std::tuple<std::string, int, bool, double>, std::vector<std::size_t>> groups;
  for (std::size_t k = 0; k < bands.size(); ++k) {
    const SceneBand& b = *bands[k];
    Resampling r = Resampling::nearest;
    if (!is_categorical(b.quantity)) {
      const double native = native_res(scene, b.name);
      r = opt.resampling ? *opt.resampling
                         : (native > 0 && grid.res >= 2 * native ? Resampling::average : Resampling::bilinear);
    }
    groups[{b.source, static_cast<int>(r), b.nodata.has_value(), b.nodata.value_or(0.0)}].push_back(k);
  }
  const std::size_t plane = static_cast<std::size_t>(grid.size) * static_cast<std::size_t>(grid.size);
  store.clear();
  store.reserve(groups.size());
  planes.assign(bands.size(), nullptr);
  for (const auto& [key, members] : groups) {
    WarpOptions w;
    w.resampling = static_cast<Resampling>(std::get<1>(key));
    w.error_threshold = opt.error_threshold;
    // The profile's fill value, when it has one, overrides the file's (the members share it).
    if (bands[members.front()]->nodata) w.src_nodata = bands[members.front()]->nodata;
    for (std::size_t k : members) w.bands.push_back(bands[k]->index);
    store.push_back(warp_to_grid(std::get<0>(key), grid, w));
    for (std::size_t m = 0; m < members.size(); ++m) planes[members[m]] = store.back().values.data() + m * plane;
  }
}

float physical(const SceneBand& b, float raw) {
  if (std::isnan(raw) || raw < b.valid_min || raw > b.valid_max) return kNaN;
  double v = static_cast<double>(raw) * b.scale + b.offset;
  if (b.k1 > 0) {
    if (v <= 0) return kNaN;
    v = b.k2 / std::log(b.k1 / v + 1);
  }
  v = std::min(std::max(v, b.clamp_min), b.clamp_max);
  return static_cast<float>(v);
}
}  // namespace

WarpedTile read_scene(const Scene& scene, const TileGrid& grid, const SceneReadOptions& opt) {
  std::vector<std::string> names = opt.bands.empty() ? scene.band_names() : opt.bands;
  if (scene.sensor == "sentinel1_grd" && opt.bands.empty()) {
    for (const char* d : {"VV_DB", "VH_DB", "RATIO"}) names.emplace_back(d);
  }
  // Raw bands to read: the asked ones, and VV/VH for the derived Sentinel-1 bands.
  std::vector<const SceneBand*> raw;
  auto need = [&](const std::string& n) -> std::size_t {
    for (std::size_t k = 0; k < raw.size(); ++k) {
      if (raw[k]->name == n) return k;
    }
    const SceneBand* b = scene.find(n);
    if (!b) {
      std::string have;
      for (const auto& x : scene.band_names()) have += (have.empty() ? "" : ", ") + x;
      if (scene.sensor == "sentinel1_grd") have += ", VV_DB, VH_DB, RATIO";
      fail<InputError>("{}: scene {} has no band '{}' (it has {})",
                       scene.files.empty() ? scene.product : scene.files.front(), scene.product, n, have);
    }
    raw.push_back(b);
    return raw.size() - 1;
  };
  struct Out {
    std::size_t a = 0, b = 0;
    int op = 0;  // 0 band a, 1 dB of a, 2 ratio b / a
  };
  std::vector<Out> outs;
  for (const auto& n : names) {
    if (scene.sensor == "sentinel1_grd" && (n == "VV_DB" || n == "VH_DB")) {
      outs.push_back({need(n.substr(0, 2)), 0, 1});
    } else if (scene.sensor == "sentinel1_grd" && n == "RATIO") {
      const std::size_t vv = need("VV"), vh = need("VH");
      outs.push_back({vv, vh, 2});
    } else {
      outs.push_back({need(n), 0, 0});
    }
  }
  const SceneBand* qa = opt.apply_mask ? scene.qa() : nullptr;
  if (qa && qa->mask.empty()) qa = nullptr;
  std::size_t qa_at = 0;
  if (qa) {
    raw.push_back(qa);
    qa_at = raw.size() - 1;
  }
  std::vector<WarpedTile> store;
  std::vector<float*> values;
  warp_raw(scene, raw, grid, opt, store, values);
  const std::size_t plane = static_cast<std::size_t>(grid.size) * static_cast<std::size_t>(grid.size);
  for (std::size_t k = 0; k < raw.size(); ++k) {
    if (qa && k == qa_at) continue;
    const SceneBand& b = *raw[k];
    const bool identity = b.scale == 1 && b.offset == 0 && b.k1 == 0 && !std::isfinite(b.valid_min) &&
                          !std::isfinite(b.valid_max) && !std::isfinite(b.clamp_min) && !std::isfinite(b.clamp_max);
    if (!identity) {
      float* v = values[k];
      for (std::size_t p = 0; p < plane; ++p) v[p] = physical(b, v[p]);
    }
  }
  WarpedTile t;
  t.bands = static_cast<int>(outs.size());
  t.size = grid.size;
  // The common case, every asked band straight from one warp in order: keep its buffer.
  bool direct = !qa && store.size() == 1 && store.front().bands == static_cast<int>(outs.size());
  for (std::size_t o = 0; direct && o < outs.size(); ++o) {
    direct = outs[o].op == 0 && values[outs[o].a] == store.front().values.data() + o * plane;
  }
  if (direct) {
    t.values = std::move(store.front().values);
  } else {
    t.values.resize(outs.size() * plane);
    for (std::size_t o = 0; o < outs.size(); ++o) {
      float* dst = t.values.data() + o * plane;
      const float* a = values[outs[o].a];
      switch (outs[o].op) {
        case 0: std::copy(a, a + plane, dst); break;
        case 1:
          for (std::size_t p = 0; p < plane; ++p) dst[p] = a[p] > 0 ? 10.0f * std::log10(a[p]) : kNaN;
          break;
        default: {
          const float* b = values[outs[o].b];
          for (std::size_t p = 0; p < plane; ++p) dst[p] = a[p] > 0 ? b[p] / a[p] : kNaN;
          break;
        }
      }
    }
  }
  t.descriptions = names;
  if (qa) {
    const float* q = values[qa_at];
    for (std::size_t p = 0; p < plane; ++p) {
      if (std::isnan(q[p])) continue;
      if (qa_masked(static_cast<unsigned>(q[p]), qa->mask)) {
        for (std::size_t o = 0; o < outs.size(); ++o) t.values[o * plane + p] = kNaN;
      }
    }
  }
  t.valid_fraction = valid_fraction(t);
  return t;
}

}  // namespace sbench::raster
