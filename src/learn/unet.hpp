// U-Net (Ronneberger et al. 2015) for the dense tile tasks: four 2 x 2 poolings, two 3 x 3
// convolutions with BatchNorm and ReLU per level, transposed-convolution upsampling and skip
// concatenation, a 1 x 1 head with one logit per output map. Inputs of any size: the tile is
// zero-padded to a multiple of 16 and the output cropped back (cropland's 50 x 50 tiles).
// Internal to src/learn: includes LibTorch.
#pragma once

#include <torch/torch.h>

#include "tile_model.hpp"

namespace sbench::learn {

class UNetImpl : public TileModel {
 public:
  // width: channels of the first level (64 in the paper); the levels double it.
  UNetImpl(std::int64_t in_channels, std::int64_t outputs, std::int64_t width = 64);
  // (N, in_channels, H, W) -> (N, outputs, H, W)
  torch::Tensor forward(const torch::Tensor& x) override;
  std::vector<torch::Tensor> head_parameters() override;
  std::vector<torch::Tensor> backbone_parameters() override;

 private:
  torch::nn::Sequential down_[5];
  torch::nn::ConvTranspose2d up_[4] = {nullptr, nullptr, nullptr, nullptr};
  torch::nn::Sequential dec_[4];
  torch::nn::Conv2d head_{nullptr};
};
TORCH_MODULE(UNet);

}  // namespace sbench::learn
