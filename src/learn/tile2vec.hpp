// Tile2Vec (Jean et al. 2019) for land_cover_rep: a ResNet encoder trained without labels by a
// triplet loss (an anchor tile nearer to a neighbouring tile than to a distant one), and a linear
// probe fitted on the embeddings of the labelled training tiles (docs/training.md). Internal to
// src/learn: includes LibTorch.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "resnet.hpp"
#include "tile_model.hpp"

namespace sbench::learn {

class Tile2VecImpl : public TileModel {
 public:
  // A ResNet-18 encoder of `width` (embeddings of 8 * width) and a probe over `classes`.
  Tile2VecImpl(std::int64_t in_channels, std::int64_t classes, std::int64_t width);
  // (N, C, H, W) -> (N, classes): the probe on the standardized embeddings.
  torch::Tensor forward(const torch::Tensor& x) override;
  // (N, C, H, W) -> (N, 8 * width)
  torch::Tensor embed(const torch::Tensor& x);
  // Fits the probe (multinomial logistic regression, L2 penalty l2 on its weights, L-BFGS from
  // zero) on embeddings z (N, D) and class indices y (N); the embeddings' mean and standard
  // deviation become buffers of the model.
  void fit_probe(const torch::Tensor& z, const torch::Tensor& y, double l2);
  std::vector<torch::Tensor> head_parameters() override;
  std::vector<torch::Tensor> backbone_parameters() override;

 private:
  ResNet encoder_{nullptr};
  torch::nn::Linear probe_{nullptr};
  torch::Tensor z_mean_, z_std_;
};
TORCH_MODULE(Tile2Vec);

// Tile2Vec's triplet loss: mean of max(0, |a - n| - |a - d| + margin) plus l2 times the mean
// Euclidean norm of the three embeddings. a, n, d: (N, D).
torch::Tensor triplet_loss(const torch::Tensor& a, const torch::Tensor& n, const torch::Tensor& d, double margin,
                           double l2);

// The k nearest of `points` to each point (itself left out), by distance on the plane of
// (lon * cos(mean lat), lat) degrees; ties by index. Grid buckets: about k points per cell.
std::vector<std::vector<std::size_t>> nearest_neighbours(const std::vector<double>& lat, const std::vector<double>& lon,
                                                         std::size_t k);

// The store rows of one Tile2Vec pass: for each position i of `order` (positions into rows) the
// triple (rows[i], rows[j] for j drawn from neighbours[i], rows[m] for m drawn among the other
// positions that are neither i nor in neighbours[i]); each draw depends on (seed, epoch, i) only.
std::vector<std::size_t> triplet_rows(const std::vector<std::size_t>& rows,
                                      const std::vector<std::vector<std::size_t>>& neighbours,
                                      const std::vector<std::size_t>& order, std::uint64_t seed, std::int64_t epoch);

}  // namespace sbench::learn
