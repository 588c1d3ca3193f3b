#include "sbench/raster/warp.hpp"

#include <sys/resource.h>

#include <cpl_conv.h>
#include <fmt/format.h>
#include <gdal_alg.h>
#include <gdal_priv.h>
#include <gdalwarper.h>
#include <spdlog/spdlog.h>

#include <ogr_spatialref.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "sbench/core/atomic_file.hpp"
#include "sbench/core/error.hpp"
#include "sbench/raster/gdal_env.hpp"

namespace sbench::raster {

namespace {
std::atomic<std::size_t> g_window{0}, g_direct{0}, g_gdal{0};
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct DatasetCloser {
  void operator()(GDALDatasetH d) const {
    if (d) GDALClose(d);
  }
};
using Dataset = std::unique_ptr<std::remove_pointer_t<GDALDatasetH>, DatasetCloser>;

GDALResampleAlg gdal_alg(Resampling r) {
  switch (r) {
    case Resampling::nearest: return GRA_NearestNeighbour;
    case Resampling::bilinear: return GRA_Bilinear;
    case Resampling::cubic: return GRA_Cubic;
    case Resampling::average: return GRA_Average;
  }
  return GRA_Bilinear;
}

// Band descriptions, the south-up row order when asked, and the valid fraction.
void finish_tile(WarpedTile& t, GDALDatasetH source, const std::vector<int>& bands, const TileGrid& grid) {
  const int nb = t.bands, size = t.size;
  for (int k = 0; k < nb; ++k) {
    const char* d = GDALGetDescription(GDALGetRasterBand(source, bands[static_cast<std::size_t>(k)]));
    t.descriptions.emplace_back(d && *d ? d : fmt::format("band {}", bands[static_cast<std::size_t>(k)]));
  }
  if (grid.south_up) {
    // Row 0 at the southern edge, as the DHS release stores its tiles.
    for (int k = 0; k < nb; ++k) {
      float* plane = t.values.data() + static_cast<std::size_t>(k) * size * size;
      for (int r = 0; r < size / 2; ++r) {
        std::swap_ranges(plane + r * size, plane + (r + 1) * size, plane + (size - 1 - r) * size);
      }
    }
  }
  t.valid_fraction = valid_fraction(t);
}

// The grid's pixels straight from the source (no resampling); outside the source and at nodata: NaN.
WarpedTile read_window(GDALDatasetH source, const std::string& path, const TileGrid& grid,
                       const std::vector<int>& bands, const WarpOptions& opt, int x0, int y0) {
  const int size = grid.size, nb = static_cast<int>(bands.size());
  const int w = GDALGetRasterXSize(source), h = GDALGetRasterYSize(source);
  WarpedTile t;
  t.bands = nb;
  t.size = size;
  const std::size_t plane = static_cast<std::size_t>(size) * static_cast<std::size_t>(size);
  t.values.assign(static_cast<std::size_t>(nb) * plane, kNaN);
  const int cx0 = std::max(x0, 0), cy0 = std::max(y0, 0);
  const int cx1 = std::min(x0 + size, w), cy1 = std::min(y0 + size, h);
  if (cx1 > cx0 && cy1 > cy0) {
    const int cw = cx1 - cx0, ch = cy1 - cy0;
    for (int k = 0; k < nb; ++k) {
      GDALRasterBandH band = GDALGetRasterBand(source, bands[static_cast<std::size_t>(k)]);
      float* dst = t.values.data() + static_cast<std::size_t>(k) * plane + static_cast<std::size_t>(cy0 - y0) * size +
                   static_cast<std::size_t>(cx0 - x0);
      if (GDALRasterIO(band, GF_Read, cx0, cy0, cw, ch, dst, cw, ch, GDT_Float32, sizeof(float),
                       static_cast<GSpacing>(sizeof(float)) * size) != CE_None) {
        fail<InputError>("{}: reading band {} failed ({})", path, bands[static_cast<std::size_t>(k)],
                         CPLGetLastErrorMsg());
      }
      int has = 0;
      double nd = GDALGetRasterNoDataValue(band, &has);
      if (opt.src_nodata) {
        nd = *opt.src_nodata;
        has = 1;
      }
      if (has && !std::isnan(nd)) {
        const float ndf = static_cast<float>(nd);
        for (int r = 0; r < ch; ++r) {
          float* row = dst + static_cast<std::size_t>(r) * size;
          for (int c = 0; c < cw; ++c) {
            if (row[c] == ndf) row[c] = kNaN;
          }
        }
      }
    }
  }
  finish_tile(t, source, bands, grid);
  return t;
}
}  // namespace

Resampling parse_resampling(const std::string& name) {
  if (name == "nearest") return Resampling::nearest;
  if (name == "bilinear") return Resampling::bilinear;
  if (name == "cubic") return Resampling::cubic;
  if (name == "average") return Resampling::average;
  fail<UsageError>("unknown resampling '{}' (valid: nearest, bilinear, cubic, average)", name);
}

namespace {
// One open handle per file and thread (GDAL datasets are not thread-safe), reused across tiles;
// keyed by path, size and modification time so a rewritten file is opened again. Every thread's
// cache is registered, so that close_cached_datasets() can close them all.
struct CachedDataset {
  std::string key;
  Dataset ds;
  std::string wkt;  // its CRS, exported once (some drivers export it again on every call)
};
constexpr std::size_t kSharedHandles = 256;

// Handles per thread: up to 512 (a MODIS season touches 65 files per tile), within the process's
// open-file limit, whose soft value is first raised towards the hard one (to 65536 at most) since a
// time series keeps many files open.
std::size_t handles_per_thread() {
  static const std::size_t n = [] {
    struct rlimit rl {};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return std::size_t{32};
    if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 65536) {
      struct rlimit raised = rl;
      raised.rlim_cur = std::min<rlim_t>(rl.rlim_max, 65536);
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
    }
    const double budget = static_cast<double>(rl.rlim_cur) - static_cast<double>(kSharedHandles) - 128;
    const double threads = std::max(1u, std::thread::hardware_concurrency());
    return static_cast<std::size_t>(std::clamp(budget / (2 * threads), 8.0, 512.0));
  }();
  return n;
}

// Never destroyed: oneTBB's worker threads end (and their caches deregister) after static
// destructors have run.
struct ThreadCache;
std::mutex& caches_lock() {
  static auto* m = new std::mutex;
  return *m;
}
std::set<ThreadCache*>& thread_caches() {
  static auto* caches = new std::set<ThreadCache*>;
  return *caches;
}
struct ThreadCache {
  std::mutex lock;  // taken by the owner thread while it uses an entry, and by close_cached_datasets()
  std::vector<CachedDataset> entries;
  ThreadCache() {
    std::lock_guard<std::mutex> g(caches_lock());
    thread_caches().insert(this);
  }
  ~ThreadCache() {
    std::lock_guard<std::mutex> g(caches_lock());
    thread_caches().erase(this);
  }
};

std::string file_key(const std::string& path) {
  std::error_code ec;
  std::string key = path;
  if (std::filesystem::is_regular_file(path, ec)) {
    key += fmt::format("|{}|{}", std::filesystem::file_size(path, ec),
                       std::filesystem::last_write_time(path, ec).time_since_epoch().count());
  }
  return key;
}

struct Source {
  GDALDatasetH ds = nullptr;
  std::string wkt;
};

Source cached_open(const std::string& path) {
  thread_local ThreadCache cache;
  const std::string key = file_key(path);
  std::lock_guard<std::mutex> g(cache.lock);
  auto& entries = cache.entries;
  for (std::size_t k = 0; k < entries.size(); ++k) {
    if (entries[k].key == key) {
      std::rotate(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(k),
                  entries.begin() + static_cast<std::ptrdiff_t>(k) + 1);
      return {entries.front().ds.get(), entries.front().wkt};
    }
  }
  CPLErrorReset();
  Dataset ds(GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
  if (!ds) fail<InputError>("{}: not a raster GDAL can open ({})", path, CPLGetLastErrorMsg());
  const char* wkt = GDALGetProjectionRef(ds.get());
  std::string text = wkt ? wkt : "";
  if (entries.size() >= handles_per_thread()) entries.pop_back();
  entries.insert(entries.begin(), CachedDataset{key, std::move(ds), std::move(text)});
  return {entries.front().ds.get(), entries.front().wkt};
}

// One more handle per file, shared by every thread under a mutex, for the window reads of the
// direct path: threads then share GDAL's cached blocks of the file instead of each decoding its own
// copy (with a handle per thread, two threads decode and hold every block twice). At most
// kSharedHandles files stay open (least recently used closed first), so that a run over thousands
// of files (a MODIS time series) stays under the open-file limit; a reader holds its handle while
// it reads.
struct SharedHandle {
  std::mutex lock;
  Dataset ds;
};
std::mutex g_registry_lock;
std::list<std::pair<std::string, std::shared_ptr<SharedHandle>>>& shared_registry() {
  static std::list<std::pair<std::string, std::shared_ptr<SharedHandle>>> registry;  // most recent first
  return registry;
}

std::shared_ptr<SharedHandle> shared_handle(const std::string& path) {
  const std::string key = file_key(path);
  std::lock_guard<std::mutex> g(g_registry_lock);
  auto& registry = shared_registry();
  for (auto it = registry.begin(); it != registry.end(); ++it) {
    if (it->first == key) {
      registry.splice(registry.begin(), registry, it);
      return registry.front().second;
    }
  }
  auto h = std::make_shared<SharedHandle>();
  h->ds.reset(GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
  if (!h->ds) fail<InputError>("{}: not a raster GDAL can open ({})", path, CPLGetLastErrorMsg());
  registry.emplace_front(key, h);
  if (registry.size() > kSharedHandles) registry.pop_back();
  return h;
}

// GDAL's image-to-image transformer from a source to a grid CRS, built once per thread, source
// grid and CRS (building it sets up the PROJ operation, the costly part) and pointed at each tile's
// geotransform.
struct CachedTransformer {
  std::string key;
  void* arg = nullptr;
  CachedTransformer(std::string k, void* a) : key(std::move(k)), arg(a) {}
  CachedTransformer(CachedTransformer&& o) noexcept : key(std::move(o.key)), arg(std::exchange(o.arg, nullptr)) {}
  CachedTransformer& operator=(CachedTransformer&& o) noexcept {
    std::swap(key, o.key);
    std::swap(arg, o.arg);
    return *this;
  }
  ~CachedTransformer() {
    if (arg) GDALDestroyGenImgProjTransformer(arg);
  }
};

void* cached_transformer(GDALDatasetH source, const std::string& source_wkt, GDALDatasetH dst, const std::string& path,
                         const TileGrid& grid, double* gt) {
  thread_local std::vector<CachedTransformer> cache;
  // A source georeferenced by a plain geotransform is keyed by its CRS and geotransform, so that the
  // files of one product grid (the composites of a MODIS tile) share one transformer; one with GCPs,
  // RPCs or geolocation arrays, by the file.
  double src_gt[6];
  const bool plain = GDALGetGeoTransform(source, src_gt) == CE_None && GDALGetGCPCount(source) == 0 &&
                     !GDALGetMetadata(source, "RPC") && !GDALGetMetadata(source, "GEOLOCATION");
  const std::string key = (plain ? fmt::format("gt {:.17g} {:.17g} {:.17g} {:.17g} {:.17g} {:.17g} {}", src_gt[0],
                                               src_gt[1], src_gt[2], src_gt[3], src_gt[4], src_gt[5], source_wkt)
                                 : fmt::format("{}|{}", static_cast<void*>(source), path)) +
                          "|" + grid.wkt;
  for (auto& c : cache) {
    if (c.key == key) {
      GDALSetGenImgProjTransformerDstGeoTransform(c.arg, gt);
      return c.arg;
    }
  }
  void* arg = GDALCreateGenImgProjTransformer2(source, dst, nullptr);
  if (!arg) return nullptr;
  if (cache.size() == 32) cache.erase(cache.begin());  // transformers kept per thread
  cache.emplace_back(key, arg);
  return arg;
}

// Whether two WKT strings name the same CRS. PROJ's comparison costs about a millisecond, and a
// build compares the same few pairs for every read, so the answers are kept per thread.
bool same_crs(const std::string& a, const std::string& grid_wkt) {
  struct Answer {
    std::string a, b;
    bool same;
  };
  thread_local std::vector<Answer> answers;
  for (const auto& x : answers) {
    if (x.a == a && x.b == grid_wkt) return x.same;
  }
  OGRSpatialReference sa, sb;
  const bool same =
      sa.importFromWkt(a.c_str()) == OGRERR_NONE && sb.importFromWkt(grid_wkt.c_str()) == OGRERR_NONE && sa.IsSame(&sb);
  if (answers.size() == 16) answers.erase(answers.begin());
  answers.push_back({a, grid_wkt, same});
  return same;
}

// True when the source pixels are the grid's pixels: same CRS, north-up, same pixel size, and the
// grid's corner on a source pixel corner. Then a window read replaces the warper.
bool same_grid(GDALDatasetH src, const std::string& src_wkt, const TileGrid& grid, int& x0, int& y0) {
  double gt[6];
  if (GDALGetGeoTransform(src, gt) != CE_None || gt[2] != 0 || gt[4] != 0) return false;
  const double tol = 1e-9 * grid.res;
  if (std::abs(gt[1] - grid.res) > tol || std::abs(gt[5] + grid.res) > tol) return false;
  const double fx = (grid.min_x() - gt[0]) / grid.res, fy = (gt[3] - grid.max_y()) / grid.res;
  if (std::abs(fx - std::round(fx)) > 1e-6 || std::abs(fy - std::round(fy)) > 1e-6) return false;
  if (!same_crs(src_wkt, grid.wkt)) return false;
  x0 = static_cast<int>(std::lround(fx));
  y0 = static_cast<int>(std::lround(fy));
  return true;
}

// The warper's arithmetic for nearest and bilinear, without its general machinery: every tile
// pixel centre goes through the same transformer (row by row, as GDAL's warp kernel asks), the
// source window is read once as float32, and each pixel is computed as GDAL's kernel computes it
// (GWK's no-mask bilinear formula inside the raster; at its edges and with nodata, no value when
// the pixel under the point is nodata, else weights renormalised over the valid neighbours;
// nearest: the source pixel containing the point).
// Returns false, leaving the tile untouched, when the GDAL warper must run instead: bilinear
// downsampling (GDAL widens its kernel then) or a failed read.
bool direct_warp(GDALDatasetH source, const std::string& path, const std::vector<int>& bands,
                 const std::vector<double>* nodata, Resampling resampling, GDALTransformerFunc fn, void* arg,
                 WarpedTile& t) {
  const int n = t.size, nb = t.bands;
  const int width = GDALGetRasterXSize(source), height = GDALGetRasterYSize(source);
  const std::size_t plane = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  thread_local std::vector<double> sx, sy, z;
  thread_local std::vector<int> ok;
  sx.resize(plane);
  sy.resize(plane);
  z.assign(static_cast<std::size_t>(n), 0.0);
  ok.resize(static_cast<std::size_t>(n));
  double minx = 1e300, maxx = -1e300, miny = 1e300, maxy = -1e300;
  for (int r = 0; r < n; ++r) {
    double* x = sx.data() + static_cast<std::size_t>(r) * n;
    double* y = sy.data() + static_cast<std::size_t>(r) * n;
    for (int c = 0; c < n; ++c) {
      x[c] = c + 0.5;
      y[c] = r + 0.5;
    }
    std::fill(z.begin(), z.end(), 0.0);
    fn(arg, TRUE, n, x, y, z.data(), ok.data());
    for (int c = 0; c < n; ++c) {
      if (!ok[static_cast<std::size_t>(c)] || std::isnan(x[c]) || std::isnan(y[c])) {
        x[c] = y[c] = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      minx = std::min(minx, x[c]);
      maxx = std::max(maxx, x[c]);
      miny = std::min(miny, y[c]);
      maxy = std::max(maxy, y[c]);
    }
  }
  if (minx > maxx) return true;  // no pixel maps into the source's CRS: all NaN
  if (resampling == Resampling::bilinear && (maxx - minx > n || maxy - miny > n)) return false;
  const int x0 = static_cast<int>(std::max(0.0, std::floor(minx) - 2));
  const int y0 = static_cast<int>(std::max(0.0, std::floor(miny) - 2));
  const int x1 = static_cast<int>(std::min<double>(width, std::ceil(maxx) + 2));
  const int y1 = static_cast<int>(std::min<double>(height, std::ceil(maxy) + 2));
  if (x1 <= x0 || y1 <= y0) return true;  // the tile misses the source
  const int ww = x1 - x0, wh = y1 - y0;
  const std::size_t wplane = static_cast<std::size_t>(ww) * static_cast<std::size_t>(wh);
  thread_local std::vector<float> src;
  src.resize(wplane * static_cast<std::size_t>(nb));
  const std::shared_ptr<SharedHandle> shared = shared_handle(path);
  CPLErr read_err;
  {
    std::lock_guard<std::mutex> g(shared->lock);
    read_err = GDALDatasetRasterIO(shared->ds.get(), GF_Read, x0, y0, ww, wh, src.data(), ww, wh, GDT_Float32, nb,
                                   const_cast<int*>(bands.data()), 0, 0, 0);
  }
  if (read_err != CE_None) {
    spdlog::debug("{}: window read failed, using GDAL's warper ({})", path, CPLGetLastErrorMsg());
    return false;
  }
  // Per pixel, once for all bands: where its neighbourhood starts in the window and its weights.
  // kind 0: no value; 1: nearest; 2: bilinear with 4 neighbours inside the raster; 3: bilinear at
  // the raster's edge (renormalised weights).
  struct Sample {
    std::ptrdiff_t off;
    std::ptrdiff_t centre;  // the source pixel containing the point
    double rx, ry;
    int ix, iy;
    unsigned char kind;
  };
  thread_local std::vector<Sample> samples;
  samples.resize(plane);
  for (std::size_t p = 0; p < plane; ++p) {
    Sample& q = samples[p];
    q.kind = 0;
    const double x = sx[p], y = sy[p];
    if (std::isnan(x) || x < 0 || y < 0) continue;
    const int cx = static_cast<int>(x + 1e-10), cy = static_cast<int>(y + 1e-10);
    if (cx >= width || cy >= height) continue;
    q.centre = static_cast<std::ptrdiff_t>(cy - y0) * ww + (cx - x0);
    if (resampling == Resampling::nearest) {
      q.kind = 1;
      q.off = q.centre;
      continue;
    }
    q.ix = static_cast<int>(std::floor(x - 0.5));
    q.iy = static_cast<int>(std::floor(y - 0.5));
    q.rx = 1.5 - (x - q.ix);
    q.ry = 1.5 - (y - q.iy);
    q.kind = q.ix >= 0 && q.iy >= 0 && q.ix + 1 < width && q.iy + 1 < height ? 2 : 3;
    q.off = static_cast<std::ptrdiff_t>(q.iy - y0) * ww + (q.ix - x0);
  }
  for (int k = 0; k < nb; ++k) {
    const float* s = src.data() + static_cast<std::size_t>(k) * wplane;
    float* out = t.values.data() + static_cast<std::size_t>(k) * plane;
    const bool has_nd = nodata && !std::isnan((*nodata)[static_cast<std::size_t>(k)]);
    const float nd = has_nd ? static_cast<float>((*nodata)[static_cast<std::size_t>(k)]) : 0.0f;
    // A source pixel (image coordinates) that exists and is not nodata.
    auto valid = [&](int ix, int iy) {
      if (ix < 0 || iy < 0 || ix >= width || iy >= height) return false;
      return !has_nd || s[static_cast<std::size_t>(iy - y0) * ww + static_cast<std::size_t>(ix - x0)] != nd;
    };
    auto value = [&](int ix, int iy) {
      return static_cast<double>(s[static_cast<std::size_t>(iy - y0) * ww + static_cast<std::size_t>(ix - x0)]);
    };
    for (std::size_t p = 0; p < plane; ++p) {
      const Sample& q = samples[p];
      switch (q.kind) {
        case 0: break;
        case 1:
          if (!has_nd || s[q.off] != nd) out[p] = s[q.off];
          break;
        case 2:
          if (!has_nd) {
            // GDAL's no-mask bilinear formula, same operations in the same order.
            const float* a = s + q.off;
            const double v =
                (a[0] * q.rx + a[1] * (1.0 - q.rx)) * q.ry + (a[ww] * q.rx + a[ww + 1] * (1.0 - q.rx)) * (1.0 - q.ry);
            out[p] = static_cast<float>(v);
            break;
          }
          [[fallthrough]];
        default: {
          // As GDAL's warp kernel: no value when the pixel under the point is nodata; else the
          // valid neighbours' weights (upper left, upper right, lower right, lower left, in GDAL's
          // order), renormalised.
          if (has_nd && s[q.centre] == nd) break;
          const int px[4] = {q.ix, q.ix + 1, q.ix + 1, q.ix};
          const int py[4] = {q.iy, q.iy, q.iy + 1, q.iy + 1};
          const double w[4] = {q.rx * q.ry, (1.0 - q.rx) * q.ry, (1.0 - q.rx) * (1.0 - q.ry), q.rx * (1.0 - q.ry)};
          double acc = 0, div = 0;
          for (int j = 0; j < 4; ++j) {
            if (valid(px[j], py[j])) {
              acc += value(px[j], py[j]) * w[j];
              div += w[j];
            }
          }
          if (div >= 0.00001) out[p] = static_cast<float>(div == 1.0 ? acc : acc / div);
        }
      }
    }
  }
  return true;
}
}  // namespace

WarpedTile warp_to_grid(const std::string& path, const TileGrid& grid, const WarpOptions& opt) {
  init_gdal();
  const Source opened = cached_open(path);
  GDALDatasetH source = opened.ds;
  if (opened.wkt.empty() && GDALGetGCPCount(source) == 0) {
    fail<InputError>("{}: the raster has no coordinate reference system", path);
  }
  const int count = GDALGetRasterCount(source);
  std::vector<int> bands = opt.bands;
  if (bands.empty()) {
    for (int b = 1; b <= count; ++b) bands.push_back(b);
  }
  for (int b : bands) {
    if (b < 1 || b > count) fail<InputError>("{}: band {} asked, the raster has {}", path, b, count);
  }
  int x0 = 0, y0 = 0;
  if (!opt.force_warp && same_grid(source, opened.wkt, grid, x0, y0)) {
    ++g_window;
    return read_window(source, path, grid, bands, opt, x0, y0);
  }
  const int nb = static_cast<int>(bands.size());
  const int size = grid.size;

  // The warper writes straight into the tile's buffer (a MEM dataset over it), NaN-initialised.
  WarpedTile t;
  t.bands = nb;
  t.size = size;
  t.values.assign(static_cast<std::size_t>(nb) * static_cast<std::size_t>(size) * static_cast<std::size_t>(size), kNaN);
  Dataset dst(GDALCreate(GDALGetDriverByName("MEM"), "", size, size, 0, GDT_Float32, nullptr));
  for (int k = 0; k < nb; ++k) {
    char** bo = nullptr;
    bo = CSLSetNameValue(
        bo, "DATAPOINTER",
        fmt::format("{}", static_cast<void*>(t.values.data() + static_cast<std::size_t>(k) * size * size)).c_str());
    GDALAddBand(dst.get(), GDT_Float32, bo);
    CSLDestroy(bo);
  }
  auto gt = grid.geotransform();
  GDALSetGeoTransform(dst.get(), gt.data());
  GDALSetProjection(dst.get(), grid.wkt.c_str());

  GDALWarpOptions* wo = GDALCreateWarpOptions();
  wo->hSrcDS = source;
  wo->hDstDS = dst.get();
  wo->nBandCount = nb;
  wo->panSrcBands = static_cast<int*>(CPLMalloc(sizeof(int) * static_cast<std::size_t>(nb)));
  wo->panDstBands = static_cast<int*>(CPLMalloc(sizeof(int) * static_cast<std::size_t>(nb)));
  bool any_src_nodata = false;
  std::vector<double> src_nodata(static_cast<std::size_t>(nb), 0);
  for (int k = 0; k < nb; ++k) {
    wo->panSrcBands[k] = bands[static_cast<std::size_t>(k)];
    wo->panDstBands[k] = k + 1;
    int has = 0;
    const double nd = GDALGetRasterNoDataValue(GDALGetRasterBand(source, bands[static_cast<std::size_t>(k)]), &has);
    if (opt.src_nodata) {
      src_nodata[static_cast<std::size_t>(k)] = *opt.src_nodata;
      any_src_nodata = true;
    } else if (has) {
      src_nodata[static_cast<std::size_t>(k)] = nd;
      any_src_nodata = true;
    }
  }
  if (any_src_nodata) {
    // Partly valid source pixels are blended with the destination, which must then be known as
    // nodata (NaN), as gdalwarp -dstnodata does. Without source nodata the buffer's NaN fill is
    // enough, and GDAL skips its destination masks.
    wo->padfSrcNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double) * static_cast<std::size_t>(nb)));
    wo->padfDstNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double) * static_cast<std::size_t>(nb)));
    for (int k = 0; k < nb; ++k) {
      wo->padfSrcNoDataReal[k] = src_nodata[static_cast<std::size_t>(k)];
      wo->padfDstNoDataReal[k] = std::numeric_limits<double>::quiet_NaN();
      GDALSetRasterNoDataValue(GDALGetRasterBand(dst.get(), k + 1), std::numeric_limits<double>::quiet_NaN());
    }
    wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "INIT_DEST", "NO_DATA");
  }
  wo->eResampleAlg = gdal_alg(opt.resampling);
  wo->eWorkingDataType = GDT_Float32;
  void* transform = cached_transformer(source, opened.wkt, dst.get(), path, grid, gt.data());
  if (!transform) {
    GDALDestroyWarpOptions(wo);
    fail<InputError>("{}: no transformation to {} ({})", path, grid.crs, CPLGetLastErrorMsg());
  }
  if (opt.error_threshold > 0) {
    void* approx = GDALCreateApproxTransformer(GDALGenImgProjTransform, transform, opt.error_threshold);
    wo->pfnTransformer = GDALApproxTransform;
    wo->pTransformerArg = approx;
  } else {
    wo->pfnTransformer = GDALGenImgProjTransform;
    wo->pTransformerArg = transform;
  }
  CPLErr err = CE_None;
  const bool fast = !opt.force_warp &&
                    (opt.resampling == Resampling::nearest || opt.resampling == Resampling::bilinear) &&
                    direct_warp(source, path, bands, any_src_nodata ? &src_nodata : nullptr, opt.resampling,
                                wo->pfnTransformer, wo->pTransformerArg, t);
  ++(fast ? g_direct : g_gdal);
  if (!fast) {
    GDALWarpOperation op;
    err = op.Initialize(wo);
    if (err == CE_None) err = op.ChunkAndWarpImage(0, 0, size, size);
  }
  if (opt.error_threshold > 0) GDALDestroyApproxTransformer(wo->pTransformerArg);
  wo->hSrcDS = nullptr;
  wo->hDstDS = nullptr;
  GDALDestroyWarpOptions(wo);
  if (err != CE_None) fail<InputError>("{}: warping failed ({})", path, CPLGetLastErrorMsg());

  dst.reset();  // flushes nothing: the bands are views of t.values
  finish_tile(t, source, bands, grid);
  return t;
}

WarpCounts warp_counts() {
  return {g_window.load(), g_direct.load(), g_gdal.load()};
}

double valid_fraction(const WarpedTile& t) {
  const std::size_t plane = static_cast<std::size_t>(t.size) * static_cast<std::size_t>(t.size);
  if (plane == 0 || t.bands == 0) return 0;
  // Band by band (contiguous), marking pixels that are NaN in any band.
  std::vector<unsigned char> bad(plane, 0);
  for (int k = 0; k < t.bands; ++k) {
    const float* v = t.values.data() + static_cast<std::size_t>(k) * plane;
    for (std::size_t p = 0; p < plane; ++p) bad[p] |= static_cast<unsigned char>(!std::isfinite(v[p]));
  }
  std::size_t invalid = 0;
  for (unsigned char b : bad) invalid += b;
  return static_cast<double>(plane - invalid) / static_cast<double>(plane);
}

void write_geotiff(const std::string& path, const WarpedTile& tile, const TileGrid& grid) {
  init_gdal();
  AtomicFile out(path);
  const std::string tmp = out.partial_path().string();
  {
    char** co = nullptr;
    co = CSLSetNameValue(co, "COMPRESS", "DEFLATE");
    co = CSLSetNameValue(co, "TILED", "YES");
    Dataset ds(
        GDALCreate(GDALGetDriverByName("GTiff"), tmp.c_str(), tile.size, tile.size, tile.bands, GDT_Float32, co));
    CSLDestroy(co);
    if (!ds) fail<IoError>("{}: cannot create GeoTIFF ({})", tmp, CPLGetLastErrorMsg());
    auto gt = grid.geotransform();
    GDALSetGeoTransform(ds.get(), gt.data());
    GDALSetProjection(ds.get(), grid.wkt.c_str());
    const std::size_t plane = static_cast<std::size_t>(tile.size) * static_cast<std::size_t>(tile.size);
    std::vector<float> rows(plane);
    for (int k = 0; k < tile.bands; ++k) {
      GDALRasterBandH band = GDALGetRasterBand(ds.get(), k + 1);
      GDALSetRasterNoDataValue(band, std::numeric_limits<double>::quiet_NaN());
      if (static_cast<std::size_t>(k) < tile.descriptions.size())
        GDALSetDescription(band, tile.descriptions[static_cast<std::size_t>(k)].c_str());
      const float* src = tile.values.data() + static_cast<std::size_t>(k) * plane;
      // GeoTIFFs are written north-up whatever the array's row order.
      for (int r = 0; r < tile.size; ++r) {
        const int from = grid.south_up ? tile.size - 1 - r : r;
        std::copy(src + static_cast<std::size_t>(from) * tile.size,
                  src + static_cast<std::size_t>(from + 1) * tile.size,
                  rows.begin() + static_cast<std::ptrdiff_t>(r) * tile.size);
      }
      if (GDALRasterIO(band, GF_Write, 0, 0, tile.size, tile.size, rows.data(), tile.size, tile.size, GDT_Float32, 0,
                       0) != CE_None) {
        fail<IoError>("{}: write failed", tmp);
      }
    }
  }
  out.commit();
}

void close_cached_datasets() {
  {
    std::lock_guard<std::mutex> g(caches_lock());
    for (ThreadCache* c : thread_caches()) {
      std::lock_guard<std::mutex> e(c->lock);
      c->entries.clear();
    }
  }
  std::lock_guard<std::mutex> g(g_registry_lock);
  shared_registry().clear();
}

}  // namespace sbench::raster
