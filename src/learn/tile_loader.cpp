#include "tile_loader.hpp"

#include <fmt/format.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "random.hpp"
#include "sbench/core/error.hpp"

namespace sbench::learn {

namespace {

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t s = a;
  const std::uint64_t x = splitmix64(s);
  s = x ^ b;
  return splitmix64(s);
}

// Converts n values of a store element type to float.
void to_float(const std::byte* src, store::ElementType type, std::size_t n, float* dst) {
  auto conv = [&](auto tag) {
    using T = decltype(tag);
    for (std::size_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, src + i * sizeof(T), sizeof(T));
      dst[i] = static_cast<float>(v);
    }
  };
  switch (type) {
    case store::ElementType::float32: std::memcpy(dst, src, n * sizeof(float)); break;
    case store::ElementType::float64: conv(double{}); break;
    case store::ElementType::uint8: conv(std::uint8_t{}); break;
    case store::ElementType::int8: conv(std::int8_t{}); break;
    case store::ElementType::uint16: conv(std::uint16_t{}); break;
    case store::ElementType::int16: conv(std::int16_t{}); break;
    case store::ElementType::uint32: conv(std::uint32_t{}); break;
    case store::ElementType::int32: conv(std::int32_t{}); break;
    default: fail<InputError>("tile input of type {}: not a numeric image type", store::to_string(type));
  }
}

// A queue of at most cap batches between the pipeline thread and the training thread.
class BatchQueue {
 public:
  explicit BatchQueue(std::size_t cap) : cap_(cap) {}
  void push(TileBatch b) {
    std::unique_lock<std::mutex> lock(m_);
    not_full_.wait(lock, [&] { return q_.size() < cap_ || closed_; });
    if (closed_) return;
    q_.push_back(std::move(b));
    not_empty_.notify_one();
  }
  std::optional<TileBatch> pop() {
    std::unique_lock<std::mutex> lock(m_);
    not_empty_.wait(lock, [&] { return !q_.empty() || done_ || closed_; });
    if (q_.empty() || closed_) return std::nullopt;
    TileBatch b = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return b;
  }
  void done() {
    std::lock_guard<std::mutex> lock(m_);
    done_ = true;
    not_empty_.notify_all();
  }
  void close() {
    std::lock_guard<std::mutex> lock(m_);
    closed_ = true;
    q_.clear();
    not_full_.notify_all();
    not_empty_.notify_all();
  }
  bool closed() {
    std::lock_guard<std::mutex> lock(m_);
    return closed_;
  }

 private:
  std::size_t cap_;
  std::mutex m_;
  std::condition_variable not_full_, not_empty_;
  std::deque<TileBatch> q_;
  bool done_ = false, closed_ = false;
};

}  // namespace

namespace {
// The dates of one example's time series (T int32 values; other integer types converted).
void read_dates(const store::StoreReader& store, const store::Field& f, std::size_t row,
                std::vector<std::int32_t>& dates) {
  dates.resize(f.values_per_example());
  if (f.type == store::ElementType::int32) {  // the release's type: straight into the reused buffer
    store.read(f.name, row, 1, dates.data());
    return;
  }
  std::vector<std::byte> raw(f.example_bytes());
  store.read(f.name, row, 1, raw.data());
  std::vector<float> tmp(dates.size());
  to_float(raw.data(), f.type, tmp.size(), tmp.data());
  dates.assign(tmp.begin(), tmp.end());
}

}  // namespace

std::vector<std::int64_t> pick_steps(const std::int32_t* dates, std::int64_t t, std::int64_t k, bool random,
                                     std::uint64_t seed, std::int64_t epoch, std::size_t row, std::size_t input) {
  std::vector<std::int64_t> valid;
  for (std::int64_t i = 0; i < t; ++i) {
    if (!dates || dates[i] != 0) valid.push_back(i);
  }
  std::vector<std::int64_t> out;
  const std::int64_t nv = static_cast<std::int64_t>(valid.size());
  if (nv == 0 || k <= 0) return out;
  if (nv <= k) return valid;
  if (random) {  // a partial Fisher-Yates shuffle, then time order
    std::uint64_t st =
        mix64(seed ^ mix64(static_cast<std::uint64_t>(epoch) * 0x100000001B3ULL ^ mix64(row * 31 + input)));
    for (std::int64_t i = 0; i < k; ++i) {
      st = mix64(st);
      std::swap(
          valid[static_cast<std::size_t>(i)],
          valid[static_cast<std::size_t>(i + static_cast<std::int64_t>(st % static_cast<std::uint64_t>(nv - i)))]);
    }
    out.assign(valid.begin(), valid.begin() + k);
    std::sort(out.begin(), out.end());
    return out;
  }
  for (std::int64_t j = 0; j < k; ++j) out.push_back(valid[static_cast<std::size_t>((2 * j + 1) * nv / (2 * k))]);
  return out;
}

InputLayout layout_of(const store::Field& f) {
  InputLayout l;
  l.axes = f.axes;
  const auto& s = f.shape;
  if (f.axes == "CHW" && s.size() == 3) {
    l.channels = s[0];
    l.height = s[1];
    l.width = s[2];
  } else if (f.axes == "CT" && s.size() == 2) {
    l.channels = s[0];
    l.width = s[1];
  } else if (f.axes == "T" && s.size() == 1) {
    l.width = s[0];
  } else if (f.axes == "CTHW" && s.size() == 4) {
    l.channels = s[0];
    l.steps = s[1];
    l.height = s[2];
    l.width = s[3];
  } else if (f.axes == "BTC" && s.size() == 3) {
    l.channels = s[0] * s[2];  // every (band, bin) pair is a channel over time
    l.width = s[1];
  } else {
    return {};
  }
  return l;
}

void to_channels_first(const float* raw, const store::Field& f, float* out) {
  const std::size_t n = f.values_per_example();
  if (f.axes != "BTC") {
    std::memcpy(out, raw, n * sizeof(float));
    return;
  }
  const std::size_t bins = static_cast<std::size_t>(f.shape[0]), t = static_cast<std::size_t>(f.shape[1]),
                    c = static_cast<std::size_t>(f.shape[2]);
  for (std::size_t b = 0; b < bins; ++b)
    for (std::size_t k = 0; k < t; ++k)
      for (std::size_t ch = 0; ch < c; ++ch) out[((ch * bins) + b) * t + k] = raw[(b * t + k) * c + ch];
}

std::vector<std::string> tile_inputs(const TaskCard& task, const store::StoreReader& store) {
  std::vector<std::string> out;
  std::int64_t h = -1, w = -1;
  auto is_dates_of_series = [&](const std::string& name) {
    const std::string suffix = "_dates";
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      return false;
    }
    const std::string base = name.substr(0, name.size() - suffix.size());
    return std::any_of(task.inputs.begin(), task.inputs.end(),
                       [&](const InputSpec& i) { return i.name == base && i.axes == "CTHW"; });
  };
  for (const auto& in : task.inputs) {
    if (is_dates_of_series(in.name)) continue;
    const store::Field* f = store.schema().find(in.name);
    if (!f || f->group != store::Group::input) {
      fail<InputError>("{}: the store has no input '{}' of task {}", store.path().string(), in.name, task.id);
    }
    const InputLayout l = layout_of(*f);
    if (l.axes.empty()) {
      fail<InputError>(
          "{}: input '{}' has axes {} ({} dimensions); the loader reads C x H x W tiles, C x T x H x W time series "
          "of tiles and C x T, T or B x T x C series",
          store.path().string(), in.name, f->axes, f->shape.size());
    }
    if (h >= 0 && (l.height != h || l.width != w)) {
      fail<InputError>("{}: input '{}' is {} x {}, the others {} x {} (inputs are stacked along channels)",
                       store.path().string(), in.name, l.height, l.width, h, w);
    }
    h = l.height;
    w = l.width;
    out.push_back(in.name);
    // A time series' dates, when the card has them: T integers per example.
    if (l.steps > 0 && std::any_of(task.inputs.begin(), task.inputs.end(),
                                   [&](const InputSpec& i) { return i.name == in.name + "_dates"; })) {
      const store::Field* d = store.schema().find(in.name + "_dates");
      using T = store::ElementType;
      const T ints[] = {T::int32, T::uint32, T::int16, T::uint16, T::int8, T::uint8};
      if (!d || d->values_per_example() != static_cast<std::size_t>(l.steps) ||
          std::find(std::begin(ints), std::end(ints), d->type) == std::end(ints)) {
        fail<InputError>(
            "{}: input '{}' needs '{}_dates' with {} integer dates per example (0: padding){}", store.path().string(),
            in.name, in.name, l.steps,
            d ? fmt::format("; the store's has {} values of {}", d->values_per_example(), store::to_string(d->type))
              : std::string("; the store has none"));
      }
    }
  }
  return out;
}

TileNormalizer card_normalizer(const TaskCard& task, const store::StoreReader& store,
                               const std::vector<std::string>& inputs, const std::vector<double>& fallback_mean,
                               const std::vector<double>& fallback_std) {
  // Channel c of the stack: (input, band name).
  std::vector<std::pair<std::string, std::string>> channels;
  for (const auto& in : inputs) {
    const auto& f = store.schema().field(in);
    const InputLayout l = layout_of(f);
    for (std::int64_t c = 0; c < l.channels; ++c) {
      // Band names for C x H x W and C x T inputs; a T input is its own channel; the (band, bin)
      // channels of a B x T x C histogram have no band name the card could use.
      std::string name = std::to_string(c);
      if ((f.axes == "CHW" || f.axes == "CT" || f.axes == "CTHW") && c < static_cast<std::int64_t>(f.bands.size())) {
        name = f.bands[c];
      }
      if (f.axes == "T") name = in;
      channels.emplace_back(in, name);
    }
  }
  if (fallback_mean.size() != channels.size() || fallback_std.size() != channels.size()) {
    fail<InputError>("{}: {} stacked channels, but statistics for {}", store.path().string(), channels.size(),
                     fallback_mean.size());
  }
  // A band the card normalizes must be in the store: a renamed band would silently lose its constants.
  for (const auto& spec : task.normalization) {
    if (std::find(inputs.begin(), inputs.end(), spec.input) == inputs.end()) continue;
    for (const auto& band : spec.bands) {
      const bool found = std::any_of(channels.begin(), channels.end(),
                                     [&](const auto& ch) { return ch.first == spec.input && ch.second == band; });
      if (!found) {
        fail<InputError>("{}: the card of {} normalizes band {} of input '{}', which the store's input does not have",
                         store.path().string(), task.id, band, spec.input);
      }
    }
  }
  // The meta values the card's group selectors read.
  std::map<std::string, std::vector<double>> numbers;
  std::map<std::string, std::vector<std::string>> strings;
  for (const auto& s : task.normalization) {
    if (s.select_meta.empty()) continue;
    if (!store.schema().find(s.select_meta)) {
      fail<InputError>("{}: no meta field '{}', which the normalization of {} selects on", store.path().string(),
                       s.select_meta, task.id);
    }
    if (s.select_equals) {
      if (!strings.count(s.select_meta)) strings[s.select_meta] = store.read_strings(s.select_meta);
    } else if (!numbers.count(s.select_meta)) {
      numbers[s.select_meta] = store.read_numbers(s.select_meta);
    }
  }
  TileNormalizer n;
  n.table_of.resize(store.size());
  std::map<std::pair<std::vector<float>, std::vector<float>>, std::uint32_t> tables;
  std::vector<float> mean(channels.size()), sd(channels.size());
  for (std::size_t row = 0; row < store.size(); ++row) {
    for (std::size_t c = 0; c < channels.size(); ++c) {
      mean[c] = static_cast<float>(fallback_mean[c]);
      sd[c] = static_cast<float>(fallback_std[c]);
    }
    for (const auto& s : task.normalization) {
      if (!s.select_meta.empty()) {
        if (s.select_equals) {
          if (strings.at(s.select_meta)[row] != *s.select_equals) continue;
        } else {
          const double v = numbers.at(s.select_meta)[row];
          if (!std::isfinite(v) || (s.select_min && v < *s.select_min) || (s.select_max && v > *s.select_max)) continue;
        }
      }
      for (std::size_t b = 0; b < s.bands.size(); ++b) {
        for (std::size_t c = 0; c < channels.size(); ++c) {
          if (channels[c].first == s.input && channels[c].second == s.bands[b]) {
            mean[c] = static_cast<float>(s.mean[b]);
            sd[c] = static_cast<float>(s.std[b]);
          }
        }
      }
    }
    auto key = std::make_pair(mean, sd);
    auto it = tables.find(key);
    if (it == tables.end()) {
      it = tables.emplace(key, static_cast<std::uint32_t>(n.mean.size())).first;
      n.mean.push_back(mean);
      n.std.push_back(sd);
    }
    n.table_of[row] = it->second;
  }
  return n;
}

void channel_statistics(const store::StoreReader& store, const std::vector<std::string>& inputs,
                        const std::vector<std::size_t>& rows, std::vector<double>& mean, std::vector<double>& sd) {
  mean.clear();
  sd.clear();
  for (const auto& in : inputs) {
    const auto& f = store.schema().field(in);
    const InputLayout l = layout_of(f);
    const std::size_t c = static_cast<std::size_t>(l.channels);
    const std::size_t plane = static_cast<std::size_t>(l.height * l.width);
    std::vector<double> sum(c, 0.0), sq(c, 0.0);
    std::vector<std::uint64_t> count(c, 0);
    std::vector<std::byte> raw(f.example_bytes());
    std::vector<float> v(f.values_per_example()), u(f.values_per_example());
    // Two passes per example keep the sums well conditioned: shift by the first finite value.
    std::vector<double> shift(c, std::nan(""));
    // A time series of tiles: every valid step's plane of a channel (padding left out).
    const std::size_t steps = static_cast<std::size_t>(std::max<std::int64_t>(1, l.steps));
    const store::Field* dates_field = l.steps > 0 ? store.schema().find(in + "_dates") : nullptr;
    std::vector<std::int32_t> dates(steps, 1);
    for (auto row : rows) {
      store.read(in, row, 1, raw.data());
      to_float(raw.data(), f.type, u.size(), u.data());
      to_channels_first(u.data(), f, v.data());
      if (dates_field) read_dates(store, *dates_field, row, dates);
      for (std::size_t k = 0; k < c; ++k) {
        for (std::size_t t = 0; t < steps; ++t) {
          if (dates[t] == 0) continue;
          const float* p = v.data() + (k * steps + t) * plane;
          for (std::size_t i = 0; i < plane; ++i) {
            if (!std::isfinite(p[i])) continue;
            if (std::isnan(shift[k])) shift[k] = p[i];
            const double d = p[i] - shift[k];
            sum[k] += d;
            sq[k] += d * d;
            ++count[k];
          }
        }
      }
    }
    for (std::size_t k = 0; k < c; ++k) {
      if (count[k] == 0) {
        mean.push_back(0);
        sd.push_back(1);
        continue;
      }
      const double m = sum[k] / static_cast<double>(count[k]);
      const double var = std::max(0.0, sq[k] / static_cast<double>(count[k]) - m * m);
      mean.push_back(m + shift[k]);
      sd.push_back(var > 0 ? std::sqrt(var) : 1.0);
    }
  }
}

std::vector<std::size_t> pass_order(std::vector<std::size_t> rows, bool shuffle, std::uint64_t seed,
                                    std::int64_t epoch) {
  if (!shuffle) return rows;
  std::uint64_t state = mix(seed, static_cast<std::uint64_t>(epoch) * 2 + 1);
  for (std::size_t i = rows.size(); i > 1; --i) {
    // Lemire's bounded integer without bias is not needed for a shuffle order; modulo of a 64-bit
    // value has a bias below 2^-40 for any store size here.
    const std::size_t j = static_cast<std::size_t>(splitmix64(state) % i);
    std::swap(rows[i - 1], rows[j]);
  }
  return rows;
}

int augmentation_of(std::uint64_t seed, std::int64_t epoch, std::size_t row) {
  return static_cast<int>(mix(mix(seed, static_cast<std::uint64_t>(epoch) * 2), row) & 7u);
}

void augment_plane(const float* src, float* dst, std::int64_t h, std::int64_t w, int op) {
  if (h != w) {
    const bool lr = op & 1, ud = op & 2;
    for (std::int64_t i = 0; i < h; ++i) {
      const std::int64_t si = ud ? h - 1 - i : i;
      for (std::int64_t j = 0; j < w; ++j) dst[i * w + j] = src[si * w + (lr ? w - 1 - j : j)];
    }
    return;
  }
  const std::int64_t n = h;
  const int turns = op & 3;
  const bool mirror = op & 4;
  // dst = rot90^turns(mirror(src)) with np.rot90's convention (dst[i][j] = src[j][n-1-i]): the
  // source pixel of (i, j) after the quarter turns, then the mirror (dst[i][j] = src[i][n-1-j]).
  for (std::int64_t i = 0; i < n; ++i) {
    float* row = dst + i * n;
    for (std::int64_t j = 0; j < n; ++j) {
      std::int64_t a = i, b = j;
      switch (turns) {
        case 1:
          a = j;
          b = n - 1 - i;
          break;
        case 2:
          a = n - 1 - i;
          b = n - 1 - j;
          break;
        case 3:
          a = n - 1 - j;
          b = i;
          break;
        default: break;
      }
      if (mirror) b = n - 1 - b;
      row[j] = src[a * n + b];
    }
  }
}

TileLoader::TileLoader(const store::StoreReader& store, std::vector<std::string> inputs, TileNormalizer normalizer,
                       LoaderOptions options)
    : store_(store), inputs_(std::move(inputs)), norm_(std::move(normalizer)), options_(options) {
  if (inputs_.empty()) fail<InputError>("{}: no tile input to load", store.path().string());
  for (const auto& in : inputs_) {
    const auto& f = store.schema().field(in);
    const InputLayout l = layout_of(f);
    if (l.axes.empty())
      fail<InputError>("{}: input '{}' with axes {} cannot be loaded", store.path().string(), in, f.axes);
    if (!input_fields_.empty() && (l.height != height_ || l.width != width_)) {
      fail<InputError>("{}: input '{}' is {} x {}, the others {} x {}", store.path().string(), in, l.height, l.width,
                       height_, width_);
    }
    using T = store::ElementType;
    const T numeric[] = {T::float32, T::float64, T::uint8, T::int8, T::uint16, T::int16, T::uint32, T::int32};
    if (std::find(std::begin(numeric), std::end(numeric), f.type) == std::end(numeric)) {
      fail<InputError>("{}: input '{}' of type {} is not numeric", store.path().string(), in, store::to_string(f.type));
    }
    input_channels_.push_back(l.channels);
    input_steps_.push_back(l.steps);
    input_types_.push_back(f.type);
    input_fields_.push_back(&f);
    const store::Field* dates = l.steps > 0 ? store.schema().find(in + "_dates") : nullptr;
    if (dates && dates->values_per_example() != static_cast<std::size_t>(l.steps)) {
      fail<InputError>("{}: '{}_dates' holds {} dates, '{}' has {} steps", store.path().string(), in,
                       dates->values_per_example(), in, l.steps);
    }
    input_dates_.push_back(dates);
    if (l.steps > 0 && options_.time_steps < 1) {
      fail<InputError>("{}: input '{}' is a time series of {} steps: the loader needs time_steps > 0",
                       store.path().string(), in, l.steps);
    }
    base_channels_ += l.channels;
    channels_ += l.steps > 0 ? options_.time_steps * (l.channels + 1) : l.channels;
    height_ = l.height;
    width_ = l.width;
  }
  if (!options_.mask.empty()) {
    const store::Field* m = store.schema().find(options_.mask);
    if (!m || m->group != store::Group::target || m->shape.size() != 2 || m->shape[0] != height_ ||
        m->shape[1] != width_) {
      fail<InputError>("{}: no target '{}' of {} x {} masks beside the tiles", store.path().string(), options_.mask,
                       height_, width_);
    }
    mask_type_ = m->type;
  }
  if (!options_.point_label.empty() &&
      (options_.point_label.size() != store.size() || options_.point_row.size() != store.size() ||
       options_.point_col.size() != store.size())) {
    fail<InputError>("{}: labelled pixels for {} examples, the store has {}", store.path().string(),
                     options_.point_label.size(), store.size());
  }
  for (std::size_t t = 0; t < norm_.mean.size(); ++t) {
    if (norm_.mean[t].size() != static_cast<std::size_t>(base_channels_) ||
        norm_.std[t].size() != norm_.mean[t].size()) {
      fail<InputError>("{}: normalization of {} channels for {} input channels", store.path().string(),
                       norm_.mean[t].size(), base_channels_);
    }
  }
  if (norm_.table_of.size() != store.size()) {
    fail<InputError>("{}: normalization for {} examples, the store has {}", store.path().string(),
                     norm_.table_of.size(), store.size());
  }
  if (options_.batch_size == 0) options_.batch_size = 1;
  if (options_.prefetch < 1) options_.prefetch = 1;
}

void TileLoader::fill(TileBatch& b, bool train, bool augment, std::uint64_t seed, std::int64_t epoch) const {
  const std::int64_t n = static_cast<std::int64_t>(b.rows.size());
  auto opts = torch::TensorOptions().dtype(torch::kFloat32);
  if (options_.pin_memory) opts = opts.pinned_memory(true);
  b.x = torch::empty({n, channels_, height_, width_}, opts);
  float* out = b.x.data_ptr<float>();
  float* mask_out = nullptr;
  const bool points = !options_.point_label.empty();
  if (!options_.mask.empty() || points) {
    b.y = torch::empty({n, height_, width_}, opts);
    mask_out = b.y.data_ptr<float>();
  }
  const std::size_t plane = static_cast<std::size_t>(height_ * width_);
  // Buffers reused across batches and owned by the loader (freed with it): one set per concurrent fill.
  std::unique_ptr<Scratch> held;
  {
    std::lock_guard<std::mutex> lock(scratch_mutex_);
    if (!scratch_.empty()) {
      held = std::move(scratch_.back());
      scratch_.pop_back();
    }
  }
  if (!held) held = std::make_unique<Scratch>();
  struct GiveBack {
    const TileLoader& loader;
    std::unique_ptr<Scratch>& set;
    ~GiveBack() {
      std::lock_guard<std::mutex> lock(loader.scratch_mutex_);
      loader.scratch_.push_back(std::move(set));
    }
  } give_back{*this, held};
  Scratch& buffers = *held;
  auto& raw = buffers.raw;
  auto& values = buffers.values;
  auto& scratch = buffers.scratch;
  auto& reorder = buffers.reorder;
  scratch.resize(plane);
  for (std::int64_t e = 0; e < n; ++e) {
    const std::size_t row = b.rows[static_cast<std::size_t>(e)];
    const std::uint32_t table = norm_.table_of[row];
    const auto& mean = norm_.mean[table];
    const auto& sd = norm_.std[table];
    // Series are not flipped: time has a direction.
    const int op = augment && height_ > 1 ? augmentation_of(seed, epoch, row) : 0;
    std::size_t c0 = 0, b0 = 0;  // stacked channel, normalization channel
    for (std::size_t k = 0; k < inputs_.size(); ++k) {
      const std::size_t nc = static_cast<std::size_t>(input_channels_[k]);
      if (input_steps_[k] > 0) {  // a time series of tiles: sampled steps, then their validity planes
        const std::int64_t t = input_steps_[k], ks = options_.time_steps;
        const std::size_t esize = store::element_size(input_types_[k]);
        raw.resize(nc * static_cast<std::size_t>(t) * plane * esize);
        store_.read(inputs_[k], row, 1, raw.data());
        const std::int32_t* dates = nullptr;
        if (input_dates_[k]) {
          read_dates(store_, *input_dates_[k], row, buffers.dates);
          dates = buffers.dates.data();
        }
        const auto steps = pick_steps(dates, t, ks, train, seed, epoch, row, k);
        values.resize(plane);
        for (std::int64_t j = 0; j < ks; ++j) {
          const bool used = j < static_cast<std::int64_t>(steps.size());
          for (std::size_t c = 0; c < nc; ++c) {
            float* dst = out + (static_cast<std::size_t>(e) * static_cast<std::size_t>(channels_) + c0 +
                                static_cast<std::size_t>(j) * nc + c) *
                                   plane;
            if (!used) {  // an empty slot
              std::fill(dst, dst + plane, 0.0f);
              continue;
            }
            // Only the picked plane is converted.
            const std::size_t at = (c * static_cast<std::size_t>(t) + static_cast<std::size_t>(steps[j])) * plane;
            to_float(raw.data() + at * esize, input_types_[k], plane, values.data());
            const float m = mean[b0 + c], inv = 1.0f / sd[b0 + c];
            float* tmp = op == 0 ? dst : scratch.data();
            for (std::size_t i = 0; i < plane; ++i) {
              const float v = (values[i] - m) * inv;
              tmp[i] = std::isfinite(v) ? v : 0.0f;
            }
            if (op != 0) augment_plane(tmp, dst, height_, width_, op);
          }
          float* valid = out + (static_cast<std::size_t>(e) * static_cast<std::size_t>(channels_) + c0 +
                                static_cast<std::size_t>(ks) * nc + static_cast<std::size_t>(j)) *
                                   plane;
          std::fill(valid, valid + plane, used ? 1.0f : 0.0f);
        }
        c0 += static_cast<std::size_t>(ks) * (nc + 1);
        b0 += nc;
        continue;
      }
      raw.resize(nc * plane * store::element_size(input_types_[k]));
      values.resize(nc * plane);
      store_.read(inputs_[k], row, 1, raw.data());
      if (input_fields_[k]->axes == "BTC") {
        reorder.resize(values.size());
        to_float(raw.data(), input_types_[k], values.size(), reorder.data());
        to_channels_first(reorder.data(), *input_fields_[k], values.data());
      } else {
        to_float(raw.data(), input_types_[k], values.size(), values.data());
      }
      for (std::size_t c = 0; c < nc; ++c) {
        const float m = mean[b0 + c], inv = 1.0f / sd[b0 + c];
        float* src = values.data() + c * plane;
        for (std::size_t i = 0; i < plane; ++i) {
          const float v = (src[i] - m) * inv;
          src[i] = std::isfinite(v) ? v : 0.0f;  // NaN pixels become the band mean
        }
        float* dst = out + (static_cast<std::size_t>(e) * static_cast<std::size_t>(channels_) + c0 + c) * plane;
        if (op == 0) {
          std::memcpy(dst, src, plane * sizeof(float));
        } else {
          augment_plane(src, dst, height_, width_, op);
        }
      }
      c0 += nc;
      b0 += nc;
    }
    if (mask_out && points) {  // the labelled pixel gets the tile's transform
      float* dst = mask_out + static_cast<std::size_t>(e) * plane;
      float* src = op == 0 ? dst : scratch.data();
      std::fill(src, src + plane, -1.0f);
      const double label = options_.point_label[row], r = options_.point_row[row], c = options_.point_col[row];
      if (std::isfinite(label) && r >= 0 && c >= 0 && r < static_cast<double>(height_) &&
          c < static_cast<double>(width_)) {
        src[static_cast<std::size_t>(r) * static_cast<std::size_t>(width_) + static_cast<std::size_t>(c)] =
            static_cast<float>(label);
      }
      if (op != 0) augment_plane(src, dst, height_, width_, op);
    } else if (mask_out) {  // the mask gets the tile's transform
      raw.resize(plane * store::element_size(mask_type_));
      store_.read(options_.mask, row, 1, raw.data());
      float* dst = mask_out + static_cast<std::size_t>(e) * plane;
      if (op == 0) {
        to_float(raw.data(), mask_type_, plane, dst);
      } else {
        to_float(raw.data(), mask_type_, plane, scratch.data());
        augment_plane(scratch.data(), dst, height_, width_, op);
      }
    }
  }
  if (options_.extra) b.extra = options_.extra(b.rows, train, seed, epoch);
}

std::vector<std::int64_t> TileLoader::series_channels() const {
  std::vector<std::int64_t> out;
  for (std::size_t k = 0; k < inputs_.size(); ++k) {
    if (input_steps_[k] > 0) out.push_back(input_channels_[k]);
  }
  return out;
}

bool TileLoader::only_series() const {
  return std::all_of(input_steps_.begin(), input_steps_.end(), [](std::int64_t t) { return t > 0; });
}

TileBatch TileLoader::batch(const std::vector<std::size_t>& rows) const {
  TileBatch b;
  b.rows = rows;
  fill(b, false, false, 0, 0);
  return b;
}

void TileLoader::pass(const std::vector<std::size_t>& rows, bool shuffle, bool augment, std::uint64_t seed,
                      std::int64_t epoch, const std::function<bool(TileBatch&)>& consume) const {
  const std::vector<std::size_t> order = pass_order(rows, shuffle, seed, epoch);
  const std::size_t bs = options_.batch_size;
  const std::int64_t batches = static_cast<std::int64_t>((order.size() + bs - 1) / bs);
  if (batches == 0) return;
  // The pipeline holds at most `prefetch` batches; one more waits in the queue, one is trained on.
  BatchQueue queue(1);
  std::exception_ptr error;
  std::atomic<bool> stop{false};
  // The pipeline runs on its own thread (in an arena of the loader's threads) so that training
  // stays on the calling thread, whose LibTorch thread settings apply.
  std::thread producer([&] {
    try {
      tbb::task_arena arena(options_.threads > 0 ? options_.threads : tbb::task_arena::automatic);
      arena.execute([&] {
        std::int64_t next = 0;
        tbb::parallel_pipeline(
            static_cast<std::size_t>(options_.prefetch),
            tbb::make_filter<void, std::int64_t>(tbb::filter_mode::serial_in_order,
                                                 [&](tbb::flow_control& fc) -> std::int64_t {
                                                   if (next >= batches || stop.load()) {
                                                     fc.stop();
                                                     return 0;
                                                   }
                                                   return next++;
                                                 }) &
                tbb::make_filter<std::int64_t, TileBatch>(tbb::filter_mode::parallel,
                                                          [&](std::int64_t i) {
                                                            TileBatch b;
                                                            b.index = i;
                                                            if (stop.load()) return b;
                                                            const std::size_t begin = static_cast<std::size_t>(i) * bs;
                                                            const std::size_t end = std::min(order.size(), begin + bs);
                                                            b.rows.assign(
                                                                order.begin() + static_cast<std::ptrdiff_t>(begin),
                                                                order.begin() + static_cast<std::ptrdiff_t>(end));
                                                            fill(b, shuffle, augment, seed, epoch);
                                                            return b;
                                                          }) &
                tbb::make_filter<TileBatch, void>(tbb::filter_mode::serial_in_order, [&](TileBatch b) {
                  if (!stop.load()) queue.push(std::move(b));
                }));
      });
    } catch (...) {
      error = std::current_exception();
    }
    queue.done();
  });
  try {
    while (auto b = queue.pop()) {
      if (!consume(*b)) break;
    }
  } catch (...) {
    stop = true;
    queue.close();
    producer.join();
    throw;
  }
  stop = true;
  queue.close();
  producer.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace sbench::learn
