// What the trainer needs of a tile model (ResNet, U-Net): a forward pass and its parameters split
// into the backbone and the head (they get their own weight decay). Internal to src/learn.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace sbench::learn {

class TileModel : public torch::nn::Module {
 public:
  // (N, C, H, W) -> (N, outputs) for the ResNet, (N, outputs, H, W) for the U-Net.
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  virtual std::vector<torch::Tensor> head_parameters() = 0;
  virtual std::vector<torch::Tensor> backbone_parameters() = 0;
};

}  // namespace sbench::learn
