// The field-delineation release (SUSTAINBENCH.md 2.G): clean_data.csv (ids, indices, split,
// max_lat, max_lon, min_lat, min_lon), imgs/{indices}.jpeg (RGB, 224 x 224), masks/{indices}.png
// (parcel boundaries) and masks_filled/{indices}.png (parcel interiors), masks 0/255 in three
// channels. Images are decoded by the caller's reader (GDAL's JPEG and PNG drivers).
#include <fmt/format.h>

#include <unordered_map>

#include "import_common.hpp"
#include "importers.hpp"
#include "sbench/core/csv.hpp"

namespace sbench::store::detail {

namespace fs = std::filesystem;

ImportReport import_field_delineation(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& opt) {
  if (!opt.read_image) {
    fail<UsageError>("importing {} needs an image decoder: build sbench with its GDAL part (SBENCH_WITH_GDAL=ON)",
                     task.id);
  }
  const Schema schema = schema_from_card(task, registry);
  fs::path root = opt.from;
  if (!fs::exists(root / "clean_data.csv") && fs::exists(root / "crop_delineation" / "clean_data.csv")) {
    root /= "crop_delineation";
  }
  const fs::path csv_path = root / "clean_data.csv";
  if (!fs::exists(csv_path))
    fail<InputError>("{}: no clean_data.csv (also looked in crop_delineation/)", opt.from.string());
  CsvReader csv(csv_path.string());
  const std::size_t c_idx = csv.column("indices"), c_split = csv.column("split"), c_max_lat = csv.column("max_lat"),
                    c_max_lon = csv.column("max_lon"), c_min_lat = csv.column("min_lat"),
                    c_min_lon = csv.column("min_lon");
  struct Row {
    std::string id;
    std::uint8_t split;
    double max_lat, max_lon, min_lat, min_lon;
  };
  std::vector<Row> rows;
  std::unordered_map<std::string, std::size_t> seen;
  CsvRow r;
  while (csv.next(r)) {
    const auto v = task.split.values.find(r[c_split]);
    if (v == task.split.values.end())
      fail<InputError>("{}: line {}: split '{}' is not train, val or test", csv.name(), r.line(), r[c_split]);
    if (auto [it, fresh] = seen.emplace(r[c_idx], r.line()); !fresh) {
      fail<InputError>("{}: line {}: duplicate indices '{}' (first on line {})", csv.name(), r.line(), r[c_idx],
                       it->second);
    }
    rows.push_back({r[c_idx], split_code(v->second), csv.get_double(r, c_max_lat), csv.get_double(r, c_max_lon),
                    csv.get_double(r, c_min_lat), csv.get_double(r, c_min_lon)});
  }
  const bool have_filled = fs::is_directory(root / "masks_filled");
  const auto& shape = schema.field("x").shape;  // (3, 224, 224)
  const std::size_t plane = static_cast<std::size_t>(shape[1] * shape[2]);

  StoreWriter writer(opt.out, schema, writer_options(opt));
  writer.add_source_file(describe_file(csv_path));
  Tally tally;
  run_import(
      writer, rows.size(), opt.threads, [&](std::size_t i) { return rows[i].id; },
      [&](std::size_t i, Example& ex) -> Loaded {
        const Row& row = rows[i];
        fs::path img = root / "imgs" / (row.id + ".jpeg");
        if (!fs::exists(img)) img = root / "imgs" / (row.id + ".jpg");
        const fs::path mask = root / "masks" / (row.id + ".png");
        const fs::path filled = root / "masks_filled" / (row.id + ".png");
        if (!fs::exists(img)) return {"missing_image", (root / "imgs" / (row.id + ".jpeg")).string(), {}};
        if (!fs::exists(mask)) return {"missing_mask", mask.string(), {}};
        Loaded out;
        const NpyArray x = opt.read_image(img);
        if (x.shape()[0] < 3 || x.shape()[1] != shape[1] || x.shape()[2] != shape[2]) {
          fail<InputError>("{}: image of {} bands, {} x {}; expected RGB {} x {}", img.string(), x.shape()[0],
                           x.shape()[2], x.shape()[1], shape[2], shape[1]);
        }
        std::memcpy(ex.bytes("x"), x.bytes(), 3 * plane);  // RGB; an alpha band is dropped
        out.files.push_back(describe_file(img));
        // Masks are 0/255 in every channel: the first channel, binarized.
        auto put_mask = [&](const fs::path& file, const char* field) {
          const NpyArray m = opt.read_image(file);
          if (m.shape()[1] != shape[1] || m.shape()[2] != shape[2]) {
            fail<InputError>("{}: mask of {} x {}, expected {} x {}", file.string(), m.shape()[2], m.shape()[1],
                             shape[2], shape[1]);
          }
          auto* dst = ex.as<std::uint8_t>(field);
          const auto* src = reinterpret_cast<const std::uint8_t*>(m.bytes());
          for (std::size_t p = 0; p < plane; ++p) dst[p] = src[p] > 127 ? 1 : 0;
          out.files.push_back(describe_file(file));
        };
        put_mask(mask, "mask");
        if (have_filled && fs::exists(filled)) {
          put_mask(filled, "mask_filled");
        } else {
          // No filled mask: 255 marks "unknown" in every pixel.
          std::memset(ex.bytes("mask_filled"), 255, plane);
        }
        ex.id = row.id;
        ex.split = row.split;
        ex.set("max_lat", row.max_lat);
        ex.set("max_lon", row.max_lon);
        ex.set("min_lat", row.min_lat);
        ex.set("min_lon", row.min_lon);
        return out;
      },
      tally, opt.progress);
  if (!have_filled) tally.add("no_masks_filled_folder", (root / "masks_filled").string());
  return finish_import(writer, tally, task, opt);
}

}  // namespace sbench::store::detail
