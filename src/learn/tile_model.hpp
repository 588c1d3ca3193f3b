// What the trainer needs of a tile model (ResNet, U-Net): a forward pass and its parameters split
// into the backbone and the head (they get their own weight decay). Internal to src/learn.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace sbench::learn {

class TileModel : public torch::nn::Module {
 public:
  // (N, C, H, W) -> (N, outputs) for the ResNet, (N, outputs, H, W) for the U-Net.
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  virtual std::vector<torch::Tensor> head_parameters() = 0;
  virtual std::vector<torch::Tensor> backbone_parameters() = 0;
  // The input of a linear head, (N, D), and that head, for the models that end in one (the
  // Gaussian-process correction uses both); an undefined tensor and nullptr for the others.
  virtual torch::Tensor features(const torch::Tensor& x) {
    (void)x;
    return {};
  }
  virtual torch::nn::Linear head() { return nullptr; }

 protected:
  // Every parameter whose name does not start with `prefix` (the backbone of a model whose head
  // is the submodule registered as `prefix`, e.g. "fc.").
  std::vector<torch::Tensor> parameters_outside(const std::string& prefix) {
    std::vector<torch::Tensor> out;
    for (const auto& p : named_parameters()) {
      if (p.key().rfind(prefix, 0) != 0) out.push_back(p.value());
    }
    return out;
  }
};

}  // namespace sbench::learn
