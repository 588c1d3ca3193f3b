// Street images of a batch of clusters for the street-view models (issue 9): up to K of each
// cluster's images from the store's /street, as (n, K, 3, S, S) float ((x / 255 - 0.5) / 0.25) and
// an (n, K) mask. Training draws K without replacement, keyed by (seed, epoch, row), so a run is
// reproducible and resumable; evaluation takes the first K. Internal to src/learn.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <utility>
#include <vector>

#include "sbench/store/street.hpp"

namespace sbench::learn {

class StreetSampler {
 public:
  // A store without /street is an InputError naming `sbench street import`.
  StreetSampler(const std::filesystem::path& store, std::int64_t k);
  std::int64_t k() const { return k_; }
  int size() const { return index_.size; }
  std::int32_t count(std::size_t row) const { return index_.count.at(row); }
  // The /street positions of a row's images in the batch's order (at most K).
  std::vector<std::int64_t> pick(std::size_t row, bool train, std::uint64_t seed, std::int64_t epoch) const;
  std::pair<torch::Tensor, torch::Tensor> batch(const std::vector<std::size_t>& rows, bool train, std::uint64_t seed,
                                                std::int64_t epoch) const;
  // The same images as stored, (n, K, 3, S, S) uint8 (a quarter of the float batch, for the loader's
  // queue and the copy to the device), and the mask; normalize() gives batch()'s pair.
  std::pair<torch::Tensor, torch::Tensor> raw_batch(const std::vector<std::size_t>& rows, bool train,
                                                    std::uint64_t seed, std::int64_t epoch) const;
  static torch::Tensor normalize(const torch::Tensor& raw, const torch::Tensor& mask);

 private:
  std::int64_t k_;
  store::StreetIndex index_;
  store::StreetImageReader images_;  // /street/image kept open for the batches
};

}  // namespace sbench::learn
