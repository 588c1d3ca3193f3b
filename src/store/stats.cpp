#include "sbench/store/stats.hpp"

#include <fmt/format.h>

#include <cmath>

#include "h5.hpp"
#include "sbench/store/store.hpp"

namespace sbench::store {

namespace {

// Mean and sum of squared deviations, merged with Chan et al.'s pairwise update so that long
// streams keep their precision.
struct Moments {
  double n = 0, mean = 0, m2 = 0;
  void merge(double nb, double mean_b, double m2_b) {
    if (nb == 0) return;
    const double total = n + nb;
    const double delta = mean_b - mean;
    mean += delta * nb / total;
    m2 += m2_b + delta * delta * n * nb / total;
    n = total;
  }
};

template <typename T>
void band_moments(const T* v, std::size_t count, double& n, double& mean, double& m2) {
  double sum = 0;
  n = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const double x = static_cast<double>(v[i]);
    if (std::isfinite(x)) {
      sum += x;
      n += 1;
    }
  }
  mean = n > 0 ? sum / n : 0;
  m2 = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const double x = static_cast<double>(v[i]);
    if (std::isfinite(x)) m2 += (x - mean) * (x - mean);
  }
}

void moments_of(ElementType type, const std::byte* data, std::size_t count, double& n, double& mean, double& m2) {
  switch (type) {
    case ElementType::float32: band_moments(reinterpret_cast<const float*>(data), count, n, mean, m2); break;
    case ElementType::float64: band_moments(reinterpret_cast<const double*>(data), count, n, mean, m2); break;
    case ElementType::uint8:
    case ElementType::boolean: band_moments(reinterpret_cast<const std::uint8_t*>(data), count, n, mean, m2); break;
    case ElementType::int8: band_moments(reinterpret_cast<const std::int8_t*>(data), count, n, mean, m2); break;
    case ElementType::int16: band_moments(reinterpret_cast<const std::int16_t*>(data), count, n, mean, m2); break;
    case ElementType::uint16: band_moments(reinterpret_cast<const std::uint16_t*>(data), count, n, mean, m2); break;
    case ElementType::int32: band_moments(reinterpret_cast<const std::int32_t*>(data), count, n, mean, m2); break;
    case ElementType::uint32: band_moments(reinterpret_cast<const std::uint32_t*>(data), count, n, mean, m2); break;
    case ElementType::int64: band_moments(reinterpret_cast<const std::int64_t*>(data), count, n, mean, m2); break;
    case ElementType::uint64: band_moments(reinterpret_cast<const std::uint64_t*>(data), count, n, mean, m2); break;
    case ElementType::string: break;
  }
}

}  // namespace

std::size_t compute_stats(const std::filesystem::path& path, const std::vector<StatsGroup>& groups,
                          const ProgressFn& progress) {
  struct Result {
    std::string field, group;
    std::vector<std::string> bands;
    std::vector<Moments> moments;
  };
  std::vector<Result> results;
  std::size_t examples = 0;
  {
    StoreReader reader(path);
    const auto train = reader.indices("train");
    examples = train.size();
    std::vector<const Field*> fields;
    for (const Field* f : reader.schema().group(Group::input)) {
      if (f->axes.find('C') != std::string::npos && f->type != ElementType::string) fields.push_back(f);
    }
    // Membership of each train example in each group.
    std::vector<std::string> group_names = {"all"};
    std::vector<std::vector<bool>> member = {std::vector<bool>(reader.size(), true)};
    for (const auto& g : groups) {
      const Field& mf = reader.schema().field(g.meta);
      std::vector<bool> in(reader.size(), false);
      if (mf.type == ElementType::string) {
        const auto values = reader.read_strings(g.meta);
        for (std::size_t i = 0; i < values.size(); ++i) in[i] = g.equals && values[i] == *g.equals;
      } else {
        const auto values = reader.read_numbers(g.meta);
        for (std::size_t i = 0; i < values.size(); ++i) {
          in[i] = (!g.min || values[i] >= *g.min) && (!g.max || values[i] <= *g.max) &&
                  (!g.equals || fmt::format("{}", values[i]) == *g.equals);
        }
      }
      group_names.push_back(g.name);
      member.push_back(std::move(in));
    }
    for (const Field* f : fields) {
      for (const auto& g : group_names) {
        results.push_back({f->name, g, f->bands, std::vector<Moments>(f->bands.size())});
      }
    }
    std::vector<std::byte> buf;
    std::size_t done = 0;
    for (std::size_t i : train) {
      for (std::size_t fi = 0; fi < fields.size(); ++fi) {
        const Field& f = *fields[fi];
        buf.resize(f.example_bytes());
        reader.read(f.name, i, 1, buf.data());
        // Channels along axis 'C': values of channel c are strided unless C is the first axis.
        const std::size_t c_axis = f.axes.find('C');
        std::size_t outer = 1, inner = 1;
        for (std::size_t d = 0; d < c_axis; ++d) outer *= static_cast<std::size_t>(f.shape[d]);
        for (std::size_t d = c_axis + 1; d < f.shape.size(); ++d) inner *= static_cast<std::size_t>(f.shape[d]);
        const std::size_t channels = f.bands.size();
        const std::size_t esize = element_size(f.type);
        std::vector<std::byte> band(outer * inner * esize);
        for (std::size_t c = 0; c < channels; ++c) {
          const std::byte* src = buf.data();
          std::size_t count = inner;
          if (outer == 1) {
            src = buf.data() + c * inner * esize;
          } else {
            for (std::size_t o = 0; o < outer; ++o) {
              std::memcpy(band.data() + o * inner * esize, buf.data() + (o * channels + c) * inner * esize,
                          inner * esize);
            }
            src = band.data();
            count = outer * inner;
          }
          double n = 0, mean = 0, m2 = 0;
          moments_of(f.type, src, count, n, mean, m2);
          for (std::size_t g = 0; g < group_names.size(); ++g) {
            if (member[g][i]) results[fi * group_names.size() + g].moments[c].merge(n, mean, m2);
          }
        }
      }
      if (progress && !progress(++done, train.size(), "stats")) throw Cancelled();
    }
  }
  // Write into the store (the reader is closed).
  h5::Handle file(
      h5::check(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), fmt::format("{}: open for writing", path.string())));
  if (H5Lexists(file, "/stats", H5P_DEFAULT) > 0) H5Ldelete(file, "/stats", H5P_DEFAULT);
  h5::Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl, 1);
  for (const auto& r : results) {
    const std::string gpath = fmt::format("/stats/{}/{}", r.field, r.group);
    h5::Handle g(h5::check(H5Gcreate2(file, gpath.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT), gpath));
    std::vector<double> mean, sd;
    std::uint64_t count = 0;
    for (const auto& m : r.moments) {
      mean.push_back(m.n > 0 ? m.mean : NAN);
      sd.push_back(m.n > 0 ? std::sqrt(m.m2 / m.n) : NAN);
      count = static_cast<std::uint64_t>(m.n);
    }
    const hsize_t nb = mean.size();
    h5::Handle space(H5Screate_simple(1, &nb, nullptr));
    for (auto [name, vec] : {std::pair<const char*, std::vector<double>*>{"mean", &mean}, {"std", &sd}}) {
      h5::Handle ds(
          h5::check(H5Dcreate2(g, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), gpath));
      h5::check(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, vec->data()), gpath);
    }
    h5::write_attribute(g, "bands", r.bands);
    h5::write_attribute(g, "count", static_cast<std::int64_t>(count));
    h5::write_attribute(g, "split", "train");
  }
  h5::check(H5Fflush(file, H5F_SCOPE_GLOBAL), fmt::format("{}: flush", path.string()));
  return examples;
}

}  // namespace sbench::store
