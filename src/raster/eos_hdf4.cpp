// HDF-EOS2 (HDF4) grid files in the MODIS land products' layout, written with Debian's HDF-EOS2 library.
#include <cmath>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "eos_common.hpp"
#include "sbench/core/error.hpp"
#include "sbench/raster/eos.hpp"

#include <mfhdf.h>
extern "C" {
#include <HdfEosDef.h>
}

namespace sbench::raster {

EosGrid modis_tile_grid(const std::string& name, int h, int v, int pixels) {
  if (h < 0 || h > 35 || v < 0 || v > 17 || pixels < 1) {
    fail<UsageError>("MODIS tile h{:02d}v{:02d} at {} pixels: tiles are h00-h35, v00-v17", h, v, pixels);
  }
  const double west = -M_PI * kModisSphereRadius;      // -20015109.354 m
  const double north = M_PI / 2 * kModisSphereRadius;  // 10007554.677 m
  EosGrid g;
  g.name = name;
  g.xdim = g.ydim = pixels;
  g.ulx = west + h * kModisTileMetres;
  g.uly = north - v * kModisTileMetres;
  g.lrx = g.ulx + kModisTileMetres;
  g.lry = g.uly - kModisTileMetres;
  return g;
}

void write_modis_hdf4(const std::filesystem::path& path, const EosGrid& grid, const std::vector<EosField>& fields,
                      const std::string& granule_id) {
  eos_detail::check_field_sizes(path, grid, fields);
  std::filesystem::remove(path);
  std::string file = path.string();
  const int32 fid = GDopen(file.data(), DFACC_CREATE);
  if (fid < 0) fail<IoError>("{}: cannot create the HDF-EOS2 file", file);
  float64 ul[2] = {grid.ulx, grid.uly}, lr[2] = {grid.lrx, grid.lry};
  std::string gname = grid.name;
  int32 gid = GDcreate(fid, gname.data(), grid.xdim, grid.ydim, ul, lr);
  bool ok = gid >= 0;
  if (ok) {
    float64 parm[16] = {};
    parm[0] = kModisSphereRadius;
    ok = GDdefproj(gid, GCTP_SNSOID, 0, -1, parm) == 0 && GDdeforigin(gid, HDFE_GD_UL) == 0 &&
         GDdefpixreg(gid, HDFE_CENTER) == 0;
    for (const auto& f : fields) {
      intn comp[5] = {6, 0, 0, 0, 0};
      const int32 nt = f.type == EosType::u8 ? DFNT_UINT8 : f.type == EosType::i16 ? DFNT_INT16 : DFNT_UINT16;
      ok = ok && GDdefcomp(gid, HDFE_COMP_DEFLATE, comp) == 0 &&
           GDdeffield(gid, f.name.c_str(), "YDim,XDim", nt, HDFE_NOMERGE) == 0;
      std::string fname = f.name;
      if (ok) {
        if (f.type == EosType::u8) {
          uint8_t v = static_cast<uint8_t>(f.fill);
          ok = GDsetfillvalue(gid, fname.data(), &v) == 0;
        } else if (f.type == EosType::i16) {
          int16_t v = static_cast<int16_t>(f.fill);
          ok = GDsetfillvalue(gid, fname.data(), &v) == 0;
        } else {
          uint16_t v = static_cast<uint16_t>(f.fill);
          ok = GDsetfillvalue(gid, fname.data(), &v) == 0;
        }
      }
    }
    GDdetach(gid);
  }
  if (ok) {
    gid = GDattach(fid, gname.data());
    ok = gid >= 0;
    for (const auto& f : fields) {
      if (!ok) break;
      if (f.type == EosType::u8) {
        auto d = eos_detail::rounded<uint8_t>(f);
        ok = GDwritefield(gid, f.name.c_str(), nullptr, nullptr, nullptr, d.data()) == 0;
      } else if (f.type == EosType::i16) {
        auto d = eos_detail::rounded<int16_t>(f);
        ok = GDwritefield(gid, f.name.c_str(), nullptr, nullptr, nullptr, d.data()) == 0;
      } else {
        auto d = eos_detail::rounded<uint16_t>(f);
        ok = GDwritefield(gid, f.name.c_str(), nullptr, nullptr, nullptr, d.data()) == 0;
      }
    }
    if (gid >= 0) GDdetach(gid);
  }
  bool closed = GDclose(fid) == 0;
  if (ok && closed) {
    // The ECS inventory metadata, an ODL text in a global attribute, as the LP DAAC writes it.
    const std::string id = granule_id.empty() ? path.filename().string() : granule_id;
    const std::string text = fmt::format(
        "\nGROUP                  = INVENTORYMETADATA\n  GROUPTYPE            = MASTERGROUP\n\n"
        "  GROUP                  = ECSDATAGRANULE\n\n    OBJECT                 = LOCALGRANULEID\n"
        "      NUM_VAL              = 1\n      VALUE                = \"{}\"\n"
        "    END_OBJECT             = LOCALGRANULEID\n\n  END_GROUP              = ECSDATAGRANULE\n\n"
        "  GROUP                  = COLLECTIONDESCRIPTIONCLASS\n\n    OBJECT                 = SHORTNAME\n"
        "      NUM_VAL              = 1\n      VALUE                = \"{}\"\n"
        "    END_OBJECT             = SHORTNAME\n\n  END_GROUP              = COLLECTIONDESCRIPTIONCLASS\n\n"
        "END_GROUP              = INVENTORYMETADATA\n\nEND\n",
        id, id.substr(0, id.find('.')));
    const int32 sd = SDstart(file.c_str(), DFACC_WRITE);
    ok = sd >= 0 && SDsetattr(sd, "CoreMetadata.0", DFNT_CHAR8, static_cast<int32>(text.size()), text.data()) == 0;
    if (sd >= 0) closed = SDend(sd) == 0;
  }
  if (!ok || !closed) {
    std::filesystem::remove(path);
    fail<IoError>("{}: the HDF-EOS2 library could not write grid {}", file, grid.name);
  }
}

}  // namespace sbench::raster
