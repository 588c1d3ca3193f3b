// Street-view models of the DHS tasks (issue 9; docs/research/street_baseline.md): a ResNet encoder
// over each cluster's K street images, pooled per cluster (masked mean, or Ilse et al.'s attention
// over the valid images), and a linear head; the fused model concatenates the pooled street vector
// (and whether the cluster has any image) with the satellite ResNet's embedding. Internal to
// src/learn: includes LibTorch.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "resnet.hpp"
#include "tile_model.hpp"

namespace sbench::learn {

enum class Pooling { mean, attention, gated_attention };
Pooling parse_pooling(const std::string& name);  // mean, attention, gated_attention; else a UsageError

// (n, K, D) embeddings and an (n, K) mask (1 = an image) to (n, D). Slots whose mask is 0 have no
// influence; a bag without any image gives the learned vector `empty`. Invariant to the order of
// the slots (with their mask).
class MilPoolImpl : public torch::nn::Module {
 public:
  MilPoolImpl(std::int64_t dim, Pooling mode, std::int64_t hidden = 128);
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& mask);
  // The weights of the last forward (n, K): 1 / valid count for mean, the softmax for attention.
  const torch::Tensor& last_weights() const { return weights_; }

 private:
  Pooling mode_;
  torch::nn::Linear v_{nullptr}, u_{nullptr}, w_{nullptr};
  torch::Tensor empty_, weights_;
};
TORCH_MODULE(MilPool);

// Models that take street images beside (or instead of) the tile.
class StreetInput {
 public:
  virtual ~StreetInput() = default;
  // x: the satellite tiles (n, C, H, W), undefined for street-only models; street: (n, K, 3, S, S)
  // float, normalized; mask: (n, K).
  virtual torch::Tensor forward_street(const torch::Tensor& x, const torch::Tensor& street,
                                       const torch::Tensor& mask) = 0;
};

// Street-only: encoder on the valid images, pooling, head.
class StreetNetImpl : public TileModel, public StreetInput {
 public:
  StreetNetImpl(int depth, std::int64_t outputs, std::int64_t width, Pooling pooling);
  torch::Tensor forward_street(const torch::Tensor& x, const torch::Tensor& street, const torch::Tensor& mask) override;
  torch::Tensor forward(const torch::Tensor& x) override;  // an Error: it needs street images
  // The pooled street embedding (n, 8 * width).
  torch::Tensor embed(const torch::Tensor& street, const torch::Tensor& mask);
  std::vector<torch::Tensor> head_parameters() override;
  std::vector<torch::Tensor> backbone_parameters() override;
  MilPool& pool() { return pool_; }

 private:
  ResNet encoder_{nullptr};
  MilPool pool_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(StreetNet);

// Satellite and street: [ResNet(tile) features, pooled street embedding, has-images] -> head.
class FusedNetImpl : public TileModel, public StreetInput {
 public:
  FusedNetImpl(int depth, std::int64_t in_channels, std::int64_t outputs, std::int64_t width, Pooling pooling);
  torch::Tensor forward_street(const torch::Tensor& x, const torch::Tensor& street, const torch::Tensor& mask) override;
  torch::Tensor forward(const torch::Tensor& x) override;  // an Error: it needs street images
  std::vector<torch::Tensor> head_parameters() override;
  std::vector<torch::Tensor> backbone_parameters() override;

 private:
  ResNet satellite_{nullptr};
  StreetNet street_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(FusedNet);

}  // namespace sbench::learn
