#include "street_loader.hpp"

#include "sbench/core/error.hpp"
#include "sbench/core/hash.hpp"

namespace sbench::learn {

StreetSampler::StreetSampler(const std::filesystem::path& store, std::int64_t k)
    : k_(k), index_(store::read_street_index(store)), images_(store) {
  if (k_ < 1) fail<UsageError>("street_images {}: expected at least 1", k_);
  if (images_.size() != index_.size)
    fail<InputError>("{}: /street/image holds {} x {} images, the size attribute says {}", store.string(),
                     images_.size(), images_.size(), index_.size);
}

std::vector<std::int64_t> StreetSampler::pick(std::size_t row, bool train, std::uint64_t seed,
                                              std::int64_t epoch) const {
  const std::int64_t first = index_.first.at(row), count = index_.count.at(row);
  std::vector<std::int64_t> all(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) all[static_cast<std::size_t>(i)] = first + i;
  const auto take = static_cast<std::size_t>(std::min(k_, count));
  if (train) {
    // A partial Fisher-Yates shuffle from a stream keyed by (seed, epoch, row).
    std::uint64_t state = mix64(seed ^ mix64(static_cast<std::uint64_t>(epoch) ^ mix64(row)));
    for (std::size_t i = 0; i < take; ++i) {
      state = mix64(state);
      const std::size_t j = i + static_cast<std::size_t>(state % (all.size() - i));
      std::swap(all[i], all[j]);
    }
  }
  all.resize(take);
  return all;
}

std::pair<torch::Tensor, torch::Tensor> StreetSampler::batch(const std::vector<std::size_t>& rows, bool train,
                                                             std::uint64_t seed, std::int64_t epoch) const {
  auto [raw, mask] = raw_batch(rows, train, seed, epoch);
  return {normalize(raw, mask), mask};
}

torch::Tensor StreetSampler::normalize(const torch::Tensor& raw, const torch::Tensor& mask) {
  const auto x = (raw.to(torch::kFloat32) / 255.0 - 0.5) / 0.25;
  return x * mask.view({mask.size(0), mask.size(1), 1, 1, 1});  // padding slots 0
}

std::pair<torch::Tensor, torch::Tensor> StreetSampler::raw_batch(const std::vector<std::size_t>& rows, bool train,
                                                                 std::uint64_t seed, std::int64_t epoch) const {
  const auto n = static_cast<std::int64_t>(rows.size());
  const std::int64_t s = index_.size, plane = 3 * s * s;
  auto raw = torch::zeros({n, k_, 3, s, s}, torch::kUInt8);
  auto mask = torch::zeros({n, k_}, torch::kFloat32);
  auto* dst = raw.data_ptr<std::uint8_t>();
  auto* m = mask.data_ptr<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    const auto picks = pick(rows[static_cast<std::size_t>(i)], train, seed, epoch);
    // Runs of consecutive positions (evaluation's first K) are read at once.
    for (std::size_t j = 0; j < picks.size();) {
      std::size_t e = j + 1;
      while (e < picks.size() && picks[e] == picks[e - 1] + 1) ++e;
      images_.read(picks[j], static_cast<std::int64_t>(e - j), dst + (i * k_ + static_cast<std::int64_t>(j)) * plane);
      for (std::size_t q = j; q < e; ++q) m[i * k_ + static_cast<std::int64_t>(q)] = 1;
      j = e;
    }
  }
  return {raw, mask};
}

}  // namespace sbench::learn
