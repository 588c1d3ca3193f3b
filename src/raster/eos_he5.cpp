// HDF-EOS5 (HDF5) grid files in the VIIRS Black Marble products' layout, written with Debian's HDF-EOS5
// library. Kept apart from eos_hdf4.cpp: the HDF4 and HDF5 headers do not mix in one file.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "eos_common.hpp"
#include "sbench/core/error.hpp"
#include "sbench/raster/eos.hpp"

#include <HE5_HdfEosDef.h>

namespace sbench::raster {

EosGrid black_marble_tile_grid(const std::string& name, int h, int v, int pixels) {
  if (h < 0 || h > 35 || v < 0 || v > 17 || pixels < 1) {
    fail<UsageError>("Black Marble tile h{:02d}v{:02d} at {} pixels: tiles are h00-h35, v00-v17", h, v, pixels);
  }
  EosGrid g;
  g.name = name;
  g.xdim = g.ydim = pixels;
  g.ulx = -180.0 + 10.0 * h;
  g.uly = 90.0 - 10.0 * v;
  g.lrx = g.ulx + 10.0;
  g.lry = g.uly - 10.0;
  return g;
}

namespace {

hid_t native(EosType t) {
  return t == EosType::u8 ? H5T_NATIVE_UCHAR : t == EosType::i16 ? H5T_NATIVE_SHORT : H5T_NATIVE_USHORT;
}

}  // namespace

void write_black_marble_h5(const std::filesystem::path& path, const EosGrid& grid, const std::vector<EosField>& fields,
                           const std::string& granule_id) {
  eos_detail::check_field_sizes(path, grid, fields);
  std::filesystem::remove(path);
  const std::string file = path.string();
  const hid_t fid = HE5_GDopen(file.c_str(), H5F_ACC_TRUNC);
  if (fid < 0) fail<IoError>("{}: cannot create the HDF-EOS5 file", file);
  // HDF-EOS keeps geographic corners in packed degrees-minutes-seconds.
  double ul[2] = {HE5_EHconvAng(grid.ulx, HE5_HDFE_DEG_DMS), HE5_EHconvAng(grid.uly, HE5_HDFE_DEG_DMS)};
  double lr[2] = {HE5_EHconvAng(grid.lrx, HE5_HDFE_DEG_DMS), HE5_EHconvAng(grid.lry, HE5_HDFE_DEG_DMS)};
  hid_t gid = HE5_GDcreate(fid, grid.name.c_str(), grid.xdim, grid.ydim, ul, lr);
  bool ok = gid >= 0;
  if (ok) {
    double parm[16] = {};
    ok = HE5_GDdefproj(gid, HE5_GCTP_GEO, 0, 0, parm) == 0 && HE5_GDdeforigin(gid, HE5_HDFE_GD_UL) == 0 &&
         HE5_GDdefpixreg(gid, HE5_HDFE_CORNER) == 0;
    const hsize_t tile[2] = {static_cast<hsize_t>(std::min(grid.ydim, 240)),
                             static_cast<hsize_t>(std::min(grid.xdim, 240))};
    int comp[5] = {6, 0, 0, 0, 0};
    ok = ok && HE5_GDdeftile(gid, HE5_HDFE_TILE, 2, tile) == 0 && HE5_GDdefcomp(gid, HE5_HDFE_COMP_DEFLATE, comp) == 0;
    for (const auto& f : fields) {
      if (!ok) break;
      const hid_t t = native(f.type);
      if (f.type == EosType::u8) {
        uint8_t v = static_cast<uint8_t>(f.fill);
        ok = HE5_GDsetfillvalue(gid, f.name.c_str(), t, &v) == 0;
      } else if (f.type == EosType::i16) {
        int16_t v = static_cast<int16_t>(f.fill);
        ok = HE5_GDsetfillvalue(gid, f.name.c_str(), t, &v) == 0;
      } else {
        uint16_t v = static_cast<uint16_t>(f.fill);
        ok = HE5_GDsetfillvalue(gid, f.name.c_str(), t, &v) == 0;
      }
      char dims[] = "YDim,XDim";
      ok = ok && HE5_GDdeffield(gid, f.name.c_str(), dims, nullptr, t, HE5_HDFE_NOMERGE) == 0;
    }
    for (const auto& f : fields) {
      if (!ok) break;
      hssize_t start[2] = {0, 0};
      hsize_t edge[2] = {static_cast<hsize_t>(grid.ydim), static_cast<hsize_t>(grid.xdim)};
      if (f.type == EosType::u8) {
        auto d = eos_detail::rounded<uint8_t>(f);
        ok = HE5_GDwritefield(gid, f.name.c_str(), start, nullptr, edge, d.data()) == 0;
      } else if (f.type == EosType::i16) {
        auto d = eos_detail::rounded<int16_t>(f);
        ok = HE5_GDwritefield(gid, f.name.c_str(), start, nullptr, edge, d.data()) == 0;
      } else {
        auto d = eos_detail::rounded<uint16_t>(f);
        ok = HE5_GDwritefield(gid, f.name.c_str(), start, nullptr, edge, d.data()) == 0;
      }
      hsize_t one[1] = {1};
      double scale = f.scale, offset = f.offset;
      ok = ok && HE5_GDwritelocattr(gid, f.name.c_str(), "scale_factor", H5T_NATIVE_DOUBLE, one, &scale) == 0 &&
           HE5_GDwritelocattr(gid, f.name.c_str(), "add_offset", H5T_NATIVE_DOUBLE, one, &offset) == 0;
    }
    HE5_GDdetach(gid);
  }
  if (ok) {
    hsize_t one[1] = {1};
    const std::pair<const char*, double> bounds[] = {{"NorthBoundingCoord", grid.uly},
                                                     {"SouthBoundingCoord", grid.lry},
                                                     {"WestBoundingCoord", grid.ulx},
                                                     {"EastBoundingCoord", grid.lrx}};
    for (const auto& [name, value] : bounds) {
      double v = value;
      ok = ok && HE5_EHwriteglbattr(fid, name, H5T_NATIVE_DOUBLE, one, &v) == 0;
    }
    const std::string id = granule_id.empty() ? path.filename().string() : granule_id;
    const std::string short_name = id.substr(0, id.find('.'));
    for (const auto& [name, value] :
         {std::pair<const char*, std::string>{"LocalGranuleID", id}, {"ShortName", short_name}}) {
      hsize_t len[1] = {value.size()};
      ok = ok && HE5_EHwriteglbattr(fid, name, H5T_NATIVE_CHAR, len, const_cast<char*>(value.data())) == 0;
    }
  }
  const bool closed = HE5_GDclose(fid) == 0;
  if (!ok || !closed) {
    std::filesystem::remove(path);
    fail<IoError>("{}: the HDF-EOS5 library could not write grid {}", file, grid.name);
  }
}

}  // namespace sbench::raster
