// The brick-kiln release: examples_{k}.hdf5 (images, labels, bounds, indices) plus
// list_eval_partition.csv (SUSTAINBENCH.md 2.H). The image axis order is not settled upstream:
// (N, 13, 64, 64) per the writer script, (N, 64, 64, 13) per the website; both are read, and the
// order found is recorded in the store's attribute release_image_axes.
#include <fmt/format.h>

#include <mutex>
#include <unordered_map>

#include "h5.hpp"
#include "import_common.hpp"
#include "importers.hpp"
#include "sbench/core/csv.hpp"

namespace sbench::store::detail {

namespace fs = std::filesystem;

namespace {

struct KilnFile {
  h5::Handle file, images, labels, bounds, indices;
  std::int64_t n = 0;
  bool channels_last = false;
};

struct Row {
  std::string file;
  std::int64_t idx = 0;
  int partition = 0;
  double y = 0;
  std::size_t line = 0;
};

fs::path find_root(const fs::path& from) {
  for (const auto& c : {from, from / "brick_kiln_v1.0"}) {
    if (fs::exists(c / "list_eval_partition.csv")) return c;
  }
  fail<InputError>("{}: no list_eval_partition.csv (looked in the folder and in brick_kiln_v1.0/)", from.string());
}

std::vector<hsize_t> dims_of(hid_t ds) {
  h5::Handle space(H5Dget_space(ds));
  std::vector<hsize_t> d(static_cast<std::size_t>(std::max(0, H5Sget_simple_extent_ndims(space))));
  H5Sget_simple_extent_dims(space, d.data(), nullptr);
  return d;
}

// Reads row `idx` of a 2-D or higher dataset as doubles.
void read_row(hid_t ds, std::int64_t idx, std::vector<double>& out, const std::string& where) {
  const auto dims = dims_of(ds);
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  start[0] = static_cast<hsize_t>(idx);
  count[0] = 1;
  h5::Handle space(H5Dget_space(ds));
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  std::size_t n = 1;
  for (std::size_t d = 1; d < dims.size(); ++d) n *= dims[d];
  out.resize(n);
  h5::Handle mspace(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  h5::check(H5Dread(ds, H5T_NATIVE_DOUBLE, mspace, space, H5P_DEFAULT, out.data()), where);
}

}  // namespace

ImportReport import_brick_kiln(const TaskCard& task, const TaskRegistry& registry, const ImportOptions& opt) {
  const Schema schema = schema_from_card(task, registry);
  const fs::path root = find_root(opt.from);
  const fs::path csv_path = root / "list_eval_partition.csv";
  CsvReader csv(csv_path.string());
  const std::size_t c_y = csv.column("y"), c_part = csv.column("partition"), c_file = csv.column("hdf5_file"),
                    c_idx = csv.column("hdf5_idx");
  std::vector<Row> rows;
  CsvRow r;
  while (csv.next(r)) {
    Row row{r[c_file], csv.get_int(r, c_idx), static_cast<int>(csv.get_int(r, c_part)), csv.get_double(r, c_y),
            r.line()};
    if (row.partition < 0 || row.partition > 2) {
      fail<InputError>("{}: line {}: partition {} is not 0, 1 or 2", csv.name(), r.line(), row.partition);
    }
    rows.push_back(std::move(row));
  }

  // Open every HDF5 file the CSV names, and settle the image axis order.
  std::unordered_map<std::string, KilnFile> files;
  std::vector<fs::path> file_paths;
  std::string axes;
  for (const auto& row : rows) {
    if (files.count(row.file)) continue;
    const fs::path p = root / row.file;
    KilnFile& k = files[row.file];
    if (!fs::exists(p)) fail<InputError>("{}: line {}: {} does not exist", csv.name(), row.line, p.string());
    const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
      H5Eclear2(H5E_DEFAULT);
      fail<InputError>("{}: not a readable HDF5 file (truncated or corrupt?)", p.string());
    }
    k.file = h5::Handle(f);
    for (auto [name, handle] : {std::pair<const char*, h5::Handle*>{"images", &k.images},
                                {"labels", &k.labels},
                                {"bounds", &k.bounds},
                                {"indices", &k.indices}}) {
      if (H5Lexists(k.file, name, H5P_DEFAULT) <= 0) fail<InputError>("{}: no dataset '{}'", p.string(), name);
      *handle = h5::Handle(h5::check(H5Dopen2(k.file, name, H5P_DEFAULT), p.string()));
    }
    const auto d = dims_of(k.images);
    const bool first = d.size() == 4 && d[1] == 13 && d[2] == 64 && d[3] == 64;
    const bool last = d.size() == 4 && d[1] == 64 && d[2] == 64 && d[3] == 13;
    if (!first && !last) {
      std::vector<hsize_t> shown(d.begin(), d.end());
      fail<InputError>("{}: images have shape ({}), expected (N, 13, 64, 64) or (N, 64, 64, 13)", p.string(),
                       fmt::join(shown, ", "));
    }
    k.channels_last = last;
    k.n = static_cast<std::int64_t>(d[0]);
    const std::string found = last ? "NHWC" : "NCHW";
    if (!axes.empty() && axes != found) {
      fail<InputError>("{}: images are {} while earlier files are {}", p.string(), found, axes);
    }
    axes = found;
    for (auto [name, ds, cols] : {std::tuple<const char*, hid_t, hsize_t>{"labels", k.labels, 1},
                                  {"bounds", k.bounds, 4},
                                  {"indices", k.indices, 3}}) {
      const auto dd = dims_of(ds);
      std::size_t per = 1;
      for (std::size_t i = 1; i < dd.size(); ++i) per *= dd[i];
      if (dd.empty() || dd[0] != d[0] || per != cols) {
        fail<InputError>("{}: '{}' does not have {} rows of {} values", p.string(), name, d[0], cols);
      }
    }
    file_paths.push_back(p);
  }
  for (const auto& row : rows) {
    if (row.idx < 0 || row.idx >= files.at(row.file).n) {
      fail<InputError>("{}: line {}: hdf5_idx {} is outside {} ({} images)", csv.name(), row.line, row.idx, row.file,
                       files.at(row.file).n);
    }
  }

  StoreWriter writer(opt.out, schema, writer_options(opt));
  writer.add_source_file(describe_file(csv_path));
  for (const auto& p : file_paths) writer.add_source_file(describe_file(p));

  auto id_of = [&](std::size_t i) { return fmt::format("{}_{}", fs::path(rows[i].file).stem().string(), rows[i].idx); };
  Tally tally;
  std::mutex hdf5;  // one release file handle shared by the workers
  run_import(
      writer, rows.size(), opt.threads, id_of,
      [&](std::size_t i, Example& ex) -> Loaded {
        const Row& row = rows[i];
        const KilnFile& k = files.at(row.file);
        const std::string where = fmt::format("{} row {}", (root / row.file).string(), row.idx);
        std::vector<double> image, label, bounds, indices;
        {
          std::lock_guard<std::mutex> lock(hdf5);
          read_row(k.images, row.idx, image, where);
          read_row(k.labels, row.idx, label, where);
          read_row(k.bounds, row.idx, bounds, where);
          read_row(k.indices, row.idx, indices, where);
        }
        if (label[0] != row.y) {
          fail<InputError>("{}: line {}: y = {} but {} has label {}", csv.name(), row.line, row.y, where, label[0]);
        }
        ex.id = id_of(i);
        ex.split = static_cast<std::uint8_t>(row.partition);
        float* x = ex.as<float>("x");
        for (std::size_t c = 0; c < 13; ++c) {
          for (std::size_t p = 0; p < 64 * 64; ++p) {
            x[c * 4096 + p] = static_cast<float>(k.channels_last ? image[p * 13 + c] : image[c * 4096 + p]);
          }
        }
        ex.set("label", label[0]);
        ex.set("hdf5_file", row.file);
        ex.set("hdf5_idx", static_cast<double>(row.idx));
        // bounds are rasterio's [left, bottom, right, top]: the CSV's lat_top_left is the bottom.
        ex.set("lon_left", bounds[0]);
        ex.set("lat_bottom", bounds[1]);
        ex.set("lon_right", bounds[2]);
        ex.set("lat_top", bounds[3]);
        // indices are [row, col, offset], whatever the CSV's column names say.
        ex.set("offset", indices[2]);
        return {};
      },
      tally, opt.progress);
  return finish_import(writer, tally, task, opt, {{"release_image_axes", axes}});
}

}  // namespace sbench::store::detail
