// ResNet-18/34 (He et al. 2016, torchvision's layout) with any number of input channels and a
// linear head of any width: regression (1 output) or classification (one logit per class).
// Internal to src/learn: includes LibTorch.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "tile_model.hpp"

namespace sbench::learn {

class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(std::int64_t in, std::int64_t out, std::int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Sequential down_{nullptr};  // 1 x 1 projection where the shape changes
};
TORCH_MODULE(BasicBlock);

class ResNetImpl : public TileModel {
 public:
  // depth 18 or 34; width = channels of the first stage (64 in torchvision).
  ResNetImpl(int depth, std::int64_t in_channels, std::int64_t outputs, std::int64_t width = 64);
  // (N, in_channels, H, W) -> (N, outputs)
  torch::Tensor forward(const torch::Tensor& x) override;
  // (N, in_channels, H, W) -> (N, 8 * width): the pooled embedding before the head.
  torch::Tensor features(const torch::Tensor& x) override;
  torch::nn::Linear head() override { return fc_; }
  std::vector<torch::Tensor> head_parameters() override;
  std::vector<torch::Tensor> backbone_parameters() override;

 private:
  torch::nn::Conv2d stem_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  torch::nn::Sequential layers_[4];
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(ResNet);

}  // namespace sbench::learn
