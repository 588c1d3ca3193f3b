// Writing HDF-EOS grid files in the layouts of the MODIS land products (HDF-EOS2, HDF4, sinusoidal
// grid) and of the VIIRS Black Marble products (HDF-EOS5, HDF5, geographic grid), for `sbench synth`
// and the tests. Real products are written by NASA's own HDF-EOS libraries; these files are written
// by the same libraries (Debian's libhdfeos0 and libhe5-hdfeos0), so GDAL and any HDF-EOS reader
// see the same structure: a grid with its projection in StructMetadata.0 and one field per band.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sbench::raster {

enum class EosType { u8, i16, u16 };

struct EosField {
  std::string name;  // "sur_refl_b01", "LST_Day_1km", "AllAngle_Composite_Snow_Free"
  EosType type = EosType::i16;
  double fill = 0;               // the field's _FillValue
  double scale = 1, offset = 0;  // written as scale_factor / add_offset attributes (HDF-EOS5 only)
  std::vector<double> values;    // ydim * xdim, row 0 at the north edge; converted to `type` when written
};

// The grid: its name, size, and the outer corners of the upper-left and lower-right pixels, in
// metres for the sinusoidal grid and in degrees for the geographic grid.
struct EosGrid {
  std::string name;
  int xdim = 0, ydim = 0;
  double ulx = 0, uly = 0, lrx = 0, lry = 0;
};

// The MODIS sinusoidal sphere (radius 6371007.181 m) and tile size (1111950.5197 m): the grid of tile
// hXXvYY at `pixels` pixels per side (2400 for 500 m, 1200 for 1 km, 4800 for 250 m).
constexpr double kModisSphereRadius = 6371007.181;
constexpr double kModisTileMetres = 1111950.5196666666;
EosGrid modis_tile_grid(const std::string& name, int h, int v, int pixels);

// The Black Marble tile hXXvYY: 10 x 10 degrees from (-180 + 10 h, 90 - 10 v), 2400 pixels per side.
EosGrid black_marble_tile_grid(const std::string& name, int h, int v, int pixels);

// Writes an HDF-EOS2 file with one sinusoidal grid (GCTP_SNSOID on the MODIS sphere) holding the
// fields, deflate-compressed, and the ECS inventory metadata (CoreMetadata.0) naming the granule
// (LOCALGRANULEID, SHORTNAME): `granule_id` or, when empty, the file name. Throws IoError when the
// file cannot be written.
void write_modis_hdf4(const std::filesystem::path& path, const EosGrid& grid, const std::vector<EosField>& fields,
                      const std::string& granule_id = "");

// Writes an HDF-EOS5 file with one geographic grid (HE5_GCTP_GEO) holding the fields under
// /HDFEOS/GRIDS/<grid>/Data Fields, with _FillValue, scale_factor and add_offset attributes, and the
// bounding coordinates, LocalGranuleID (`granule_id` or the file name) and ShortName as file
// attributes (as the VNP46 products).
void write_black_marble_h5(const std::filesystem::path& path, const EosGrid& grid, const std::vector<EosField>& fields,
                           const std::string& granule_id = "");

}  // namespace sbench::raster
