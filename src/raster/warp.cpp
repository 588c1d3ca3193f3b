#include "sbench/raster/warp.hpp"

#include <cpl_conv.h>
#include <fmt/format.h>
#include <gdal_alg.h>
#include <gdal_priv.h>
#include <gdalwarper.h>

#include <ogr_spatialref.h>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>

#include "sbench/core/atomic_file.hpp"
#include "sbench/core/error.hpp"
#include "sbench/raster/gdal_env.hpp"

namespace sbench::raster {

namespace {
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
// keyed by path, size and modification time so a rewritten file is opened again.
struct CachedDataset {
  std::string key;
  Dataset ds;
};
constexpr std::size_t kHandlesPerThread = 32;

GDALDatasetH cached_open(const std::string& path) {
  thread_local std::vector<CachedDataset> cache;
  std::error_code ec;
  std::string key = path;
  if (std::filesystem::is_regular_file(path, ec)) {
    key += fmt::format("|{}|{}", std::filesystem::file_size(path, ec),
                       std::filesystem::last_write_time(path, ec).time_since_epoch().count());
  }
  for (std::size_t k = 0; k < cache.size(); ++k) {
    if (cache[k].key == key) {
      std::rotate(cache.begin(), cache.begin() + static_cast<std::ptrdiff_t>(k),
                  cache.begin() + static_cast<std::ptrdiff_t>(k) + 1);
      return cache.front().ds.get();
    }
  }
  CPLErrorReset();
  Dataset ds(GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
  if (!ds) fail<InputError>("{}: not a raster GDAL can open ({})", path, CPLGetLastErrorMsg());
  if (cache.size() == kHandlesPerThread) cache.pop_back();
  cache.insert(cache.begin(), CachedDataset{key, std::move(ds)});
  return cache.front().ds.get();
}

// True when the source pixels are the grid's pixels: same CRS, north-up, same pixel size, and the
// grid's corner on a source pixel corner. Then a window read replaces the warper.
bool same_grid(GDALDatasetH src, const TileGrid& grid, int& x0, int& y0) {
  double gt[6];
  if (GDALGetGeoTransform(src, gt) != CE_None || gt[2] != 0 || gt[4] != 0) return false;
  const double tol = 1e-9 * grid.res;
  if (std::abs(gt[1] - grid.res) > tol || std::abs(gt[5] + grid.res) > tol) return false;
  const double fx = (grid.min_x() - gt[0]) / grid.res, fy = (gt[3] - grid.max_y()) / grid.res;
  if (std::abs(fx - std::round(fx)) > 1e-6 || std::abs(fy - std::round(fy)) > 1e-6) return false;
  OGRSpatialReference a, b;
  if (a.importFromWkt(GDALGetProjectionRef(src)) != OGRERR_NONE || b.importFromWkt(grid.wkt.c_str()) != OGRERR_NONE) {
    return false;
  }
  if (!a.IsSame(&b)) return false;
  x0 = static_cast<int>(std::lround(fx));
  y0 = static_cast<int>(std::lround(fy));
  return true;
}
}  // namespace

WarpedTile warp_to_grid(const std::string& path, const TileGrid& grid, const WarpOptions& opt) {
  init_gdal();
  GDALDatasetH source = cached_open(path);
  const char* srs = GDALGetProjectionRef(source);
  if ((!srs || !*srs) && GDALGetGCPCount(source) == 0) {
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
  if (!opt.force_warp && same_grid(source, grid, x0, y0)) return read_window(source, path, grid, bands, opt, x0, y0);
  const int nb = static_cast<int>(bands.size());
  const int size = grid.size;

  Dataset dst(GDALCreate(GDALGetDriverByName("MEM"), "", size, size, nb, GDT_Float32, nullptr));
  auto gt = grid.geotransform();
  GDALSetGeoTransform(dst.get(), gt.data());
  GDALSetProjection(dst.get(), grid.wkt.c_str());

  GDALWarpOptions* wo = GDALCreateWarpOptions();
  wo->hSrcDS = source;
  wo->hDstDS = dst.get();
  wo->nBandCount = nb;
  wo->panSrcBands = static_cast<int*>(CPLMalloc(sizeof(int) * static_cast<std::size_t>(nb)));
  wo->panDstBands = static_cast<int*>(CPLMalloc(sizeof(int) * static_cast<std::size_t>(nb)));
  wo->padfDstNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double) * static_cast<std::size_t>(nb)));
  bool any_src_nodata = false;
  std::vector<double> src_nodata(static_cast<std::size_t>(nb), 0);
  for (int k = 0; k < nb; ++k) {
    wo->panSrcBands[k] = bands[static_cast<std::size_t>(k)];
    wo->panDstBands[k] = k + 1;
    wo->padfDstNoDataReal[k] = std::numeric_limits<double>::quiet_NaN();
    GDALSetRasterNoDataValue(GDALGetRasterBand(dst.get(), k + 1), std::numeric_limits<double>::quiet_NaN());
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
    wo->padfSrcNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double) * static_cast<std::size_t>(nb)));
    for (int k = 0; k < nb; ++k) wo->padfSrcNoDataReal[k] = src_nodata[static_cast<std::size_t>(k)];
  }
  wo->eResampleAlg = gdal_alg(opt.resampling);
  wo->eWorkingDataType = GDT_Float32;
  wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "INIT_DEST", "NO_DATA");
  void* transform = GDALCreateGenImgProjTransformer2(source, dst.get(), nullptr);
  if (!transform) {
    GDALDestroyWarpOptions(wo);
    fail<InputError>("{}: no transformation to {} ({})", path, grid.crs, CPLGetLastErrorMsg());
  }
  if (opt.error_threshold > 0) {
    void* approx = GDALCreateApproxTransformer(GDALGenImgProjTransform, transform, opt.error_threshold);
    GDALApproxTransformerOwnsSubtransformer(approx, TRUE);
    wo->pfnTransformer = GDALApproxTransform;
    wo->pTransformerArg = approx;
  } else {
    wo->pfnTransformer = GDALGenImgProjTransform;
    wo->pTransformerArg = transform;
  }
  GDALWarpOperation op;
  CPLErr err = op.Initialize(wo);
  if (err == CE_None) err = op.ChunkAndWarpImage(0, 0, size, size);
  if (opt.error_threshold > 0) {
    GDALDestroyApproxTransformer(wo->pTransformerArg);
  } else {
    GDALDestroyGenImgProjTransformer(wo->pTransformerArg);
  }
  wo->hSrcDS = nullptr;
  wo->hDstDS = nullptr;
  GDALDestroyWarpOptions(wo);
  if (err != CE_None) fail<InputError>("{}: warping failed ({})", path, CPLGetLastErrorMsg());

  WarpedTile t;
  t.bands = nb;
  t.size = size;
  t.values.assign(static_cast<std::size_t>(nb) * static_cast<std::size_t>(size) * static_cast<std::size_t>(size), kNaN);
  std::vector<int> dst_bands(static_cast<std::size_t>(nb));
  for (int k = 0; k < nb; ++k) dst_bands[static_cast<std::size_t>(k)] = k + 1;
  if (GDALDatasetRasterIO(dst.get(), GF_Read, 0, 0, size, size, t.values.data(), size, size, GDT_Float32, nb,
                          dst_bands.data(), 0, 0, 0) != CE_None) {
    fail<Error>("reading the warped tile of {} failed", path);
  }
  finish_tile(t, source, bands, grid);
  return t;
}

double valid_fraction(const WarpedTile& t) {
  const std::size_t plane = static_cast<std::size_t>(t.size) * static_cast<std::size_t>(t.size);
  if (plane == 0) return 0;
  std::size_t valid = 0;
  for (std::size_t p = 0; p < plane; ++p) {
    bool ok = true;
    for (int k = 0; k < t.bands && ok; ++k) ok = std::isfinite(t.values[static_cast<std::size_t>(k) * plane + p]);
    valid += ok;
  }
  return static_cast<double>(valid) / static_cast<double>(plane);
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

}  // namespace sbench::raster
