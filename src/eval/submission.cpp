#include <fmt/format.h>
#include <fmt/ranges.h>
#include <hdf5.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <new>

#include "sbench/core/csv.hpp"
#include "sbench/core/error.hpp"
#include "sbench/eval/evaluate.hpp"
#include "sbench/eval/masks.hpp"

namespace sbench::eval {

namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A number as written by numpy, pandas or R ("nan", "inf", "NA" are kept as non-finite so that the
// checks can name them); a class name of the target gives its index.
double parse_value(const std::string& text, const TargetSpec& target, const std::string& where) {
  std::string_view t = text;
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  const std::string l = lower(std::string(t));
  if (l == "nan" || l == "na" || l.empty()) return kNaN;
  if (l == "inf" || l == "+inf" || l == "infinity") return std::numeric_limits<double>::infinity();
  if (l == "-inf" || l == "-infinity") return -std::numeric_limits<double>::infinity();
  double v = 0;
  const char* b = t.data();
  if (!t.empty() && *b == '+') ++b;
  const auto [ptr, ec] = std::from_chars(b, t.data() + t.size(), v);
  if (ec == std::errc() && ptr == t.data() + t.size()) return v;
  for (std::size_t k = 0; k < target.classes.size(); ++k) {
    if (lower(target.classes[k]) == l) return static_cast<double>(k);
  }
  fail<InputError>("{}: '{}' is neither a number nor a class of '{}'", where, text, target.name);
}

Submission read_csv(const TaskCard& task, const fs::path& path) {
  const TargetSpec& target = task.targets.front();
  CsvReader csv(path.string());
  const std::size_t c_id = csv.column("id");
  const std::size_t c_value = csv.column(target.name);
  const auto c_score = csv.find_column("score");
  Submission s;
  s.path = path;
  if (c_score) s.scores.emplace_back();
  CsvRow row;
  while (csv.next(row)) {
    const std::string where = fmt::format("{}: line {}", csv.name(), row.line());
    s.ids.push_back(row[c_id]);
    s.values.push_back(parse_value(row[c_value], target, where + ": column '" + target.name + "'"));
    if (c_score) s.scores[0].push_back(parse_value(row[*c_score], target, where + ": column 'score'"));
  }
  return s;
}

struct H5 {
  hid_t id;
  herr_t (*close)(hid_t);
  ~H5() {
    if (id >= 0) close(id);
  }
};

Submission read_h5(const TaskCard& task, const fs::path& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  H5 file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  if (file.id < 0) fail<InputError>("{}: not a readable HDF5 file", path.string());
  for (const char* name : {"id", "pred"}) {
    if (H5Lexists(file.id, name, H5P_DEFAULT) <= 0) {
      fail<InputError>("{}: no dataset '{}' (a dense submission holds /id and /pred)", path.string(), name);
    }
  }
  Submission s;
  s.path = path;
  H5 ids{H5Dopen2(file.id, "id", H5P_DEFAULT), H5Dclose};
  H5 space{H5Dget_space(ids.id), H5Sclose};
  const hssize_t n = H5Sget_simple_extent_npoints(space.id);
  H5 ftype{H5Dget_type(ids.id), H5Tclose};
  if (H5Tget_class(ftype.id) != H5T_STRING) fail<InputError>("{}: /id does not hold strings", path.string());
  if (n > 0) {
    if (H5Tis_variable_str(ftype.id) > 0) {
      H5 mtype{H5Tcopy(H5T_C_S1), H5Tclose};
      H5Tset_size(mtype.id, H5T_VARIABLE);
      H5Tset_cset(mtype.id, H5Tget_cset(ftype.id));  // h5py writes UTF-8; HDF5 does not convert between csets
      std::vector<char*> p(static_cast<std::size_t>(n));
      if (H5Dread(ids.id, mtype.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) < 0)
        fail<InputError>("{}: cannot read /id", path.string());
      for (char* c : p) s.ids.emplace_back(c ? c : "");
      H5Dvlen_reclaim(mtype.id, space.id, H5P_DEFAULT, p.data());
    } else {
      const std::size_t len = H5Tget_size(ftype.id);
      std::vector<char> buf(len * static_cast<std::size_t>(n));
      if (H5Dread(ids.id, ftype.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
        fail<InputError>("{}: cannot read /id", path.string());
      for (hssize_t i = 0; i < n; ++i)
        s.ids.emplace_back(buf.data() + i * static_cast<hssize_t>(len),
                           strnlen(buf.data() + i * static_cast<hssize_t>(len), len));
    }
  }
  H5 pred{H5Dopen2(file.id, "pred", H5P_DEFAULT), H5Dclose};
  H5 pspace{H5Dget_space(pred.id), H5Sclose};
  const int rank = H5Sget_simple_extent_ndims(pspace.id);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(pspace.id, dims.data(), nullptr);
  if (rank != 3 || static_cast<hssize_t>(dims[0]) != n) {
    std::vector<std::uint64_t> shown(dims.begin(), dims.end());
    fail<InputError>("{}: /pred has shape ({}), expected ({}, H, W) for the {} ids", path.string(),
                     fmt::join(shown, ", "), n, n);
  }
  s.dense_shape = {static_cast<std::int64_t>(dims[1]), static_cast<std::int64_t>(dims[2])};
  s.dense.resize(static_cast<std::size_t>(n) * dims[1] * dims[2]);
  if (!s.dense.empty() && H5Dread(pred.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, s.dense.data()) < 0) {
    fail<InputError>("{}: cannot read /pred as numbers", path.string());
  }
  (void)task;
  return s;
}

// A folder of <id>.png / <id>.tif masks, one per example, each of the target's H x W. Every file
// that cannot be used is reported (the first five of each kind), then nothing is scored.
Submission read_folder(const TaskCard& task, const fs::path& dir) {
  const auto& shape = task.targets.front().shape;
  const int h = static_cast<int>(shape.at(0)), w = static_cast<int>(shape.at(1));
  std::vector<fs::path> masks, others;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const std::string ext = lower(e.path().extension().string());
    if (name.empty() || name.front() == '.' || lower(name).find(".aux.xml") != std::string::npos) continue;
    std::error_code file_ec;
    if (e.is_regular_file(file_ec) && (ext == ".png" || ext == ".tif" || ext == ".tiff")) {
      masks.push_back(e.path());
    } else {
      others.push_back(e.path());
    }
  }
  if (ec) fail<IoError>("{}: cannot list the folder ({})", dir.string(), ec.message());
  std::sort(masks.begin(), masks.end());
  std::map<std::string, std::pair<std::size_t, std::vector<std::string>>> problems;
  auto problem = [&](const std::string& what, const std::string& text) {
    auto& p = problems[what];
    if (p.second.size() < 5) p.second.push_back(text);
    ++p.first;
  };
  for (const auto& o : others) problem("files that are not .png/.tif masks", o.filename().string());
  Submission s;
  s.path = dir;
  s.dense_shape = {h, w};
  s.dense.reserve(masks.size() * static_cast<std::size_t>(h) * static_cast<std::size_t>(w));
  for (const auto& m : masks) {
    MaskImage img;
    try {
      // The size from the header first: a mask of the wrong size is not decoded at all.
      img = read_mask(m, true);
      if (img.height == h && img.width == w) img = read_mask(m);
    } catch (const std::bad_alloc&) {
      problem("masks that cannot be read", m.string() + ": too large to decode");
      continue;
    } catch (const std::exception& e) {  // InputError, and IoError for a file that cannot be opened
      problem("masks that cannot be read", e.what());
      continue;
    }
    if (img.height != h || img.width != w) {
      problem(fmt::format("masks that are not {} x {} pixels (height x width)", h, w),
              fmt::format("{} is {} x {}", m.filename().string(), img.height, img.width));
      continue;
    }
    s.ids.push_back(m.stem().string());
    s.dense.insert(s.dense.end(), img.values.begin(), img.values.end());
  }
  if (masks.empty() && problems.empty()) {
    fail<InputError>("{}: no masks in the folder (expected <id>.png or <id>.tif, {} x {} pixels, for {})", dir.string(),
                     h, w, task.id);
  }
  if (!problems.empty()) {
    std::string msg = fmt::format("{}: invalid mask folder for {}:", dir.string(), task.id);
    for (const auto& [what, p] : problems)
      msg += fmt::format("\n  {} {} (e.g. {})", p.first, what, fmt::join(p.second, "; "));
    throw InputError(msg);
  }
  return s;
}

}  // namespace

Submission read_submission(const TaskCard& task, const fs::path& path) {
  if (!fs::exists(path)) fail<IoError>("{}: no such submission file", path.string());
  const bool dense = task.targets.front().kind == TargetKind::segmentation;
  const std::string ext = lower(path.extension().string());
  if (dense) {
    if (fs::is_directory(path)) return read_folder(task, path);
    if (ext != ".h5" && ext != ".hdf5") {
      fail<InputError>(
          "{}: task {} is scored per pixel: submit an HDF5 file with /id and /pred (N, {}, {}) or a folder of "
          "<id>.png / <id>.tif masks",
          path.string(), task.id, task.targets.front().shape.at(0), task.targets.front().shape.at(1));
    }
    return read_h5(task, path);
  }
  if (fs::is_directory(path)) {
    fail<InputError>("{}: a folder; task {} takes a CSV file with id and {}", path.string(), task.id,
                     task.targets.front().name);
  }
  return read_csv(task, path);
}

}  // namespace sbench::eval
