// A 1-D CNN over time for the series tasks (crop_type_kenya's per-field Sentinel-2 series,
// land_cover_ood's MODIS point series, crop_yield's histograms with bins as channels): three stages
// of two k = 5 convolutions with BatchNorm and ReLU (widths w, 2w, 4w, a 2x max pool between
// stages), global average pooling over time, a linear head. Takes the loader's (N, C, 1, T).
// Internal to src/learn: includes LibTorch.
#pragma once

#include <torch/torch.h>

#include "tile_model.hpp"

namespace sbench::learn {

class Cnn1dImpl : public TileModel {
 public:
  Cnn1dImpl(std::int64_t in_channels, std::int64_t outputs, std::int64_t width = 64);
  // (N, C, 1, T) or (N, C, T) -> (N, outputs)
  torch::Tensor forward(const torch::Tensor& x) override;
  // (N, C, 1, T) -> (N, 4 * width): the mean over time before the head.
  torch::Tensor features(const torch::Tensor& x) override;
  torch::nn::Linear head() override { return fc_; }
  std::vector<torch::Tensor> head_parameters() override;
  std::vector<torch::Tensor> backbone_parameters() override;

 private:
  torch::nn::Sequential stages_[3];
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(Cnn1d);

}  // namespace sbench::learn
