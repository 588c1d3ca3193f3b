// The CNN-LSTM of crop yield (after You et al. 2017): at every 8-day step a small 1-D CNN reads the
// step's histograms (bands as channels, bins as length), an LSTM runs over the steps with any
// other per-step channels (the mean NDVI) beside the CNN's features, and a linear head reads its
// last hidden state. Takes the loader's (N, C, 1, T) where channel c * bins + b is band c's bin b
// (docs/training.md). Internal to src/learn: includes LibTorch.
#pragma once

#include <torch/torch.h>

#include "tile_model.hpp"

namespace sbench::learn {

class CnnLstmImpl : public TileModel {
 public:
  // in_channels = bins * bands + extra per-step channels; the CNN has widths width and 2 * width,
  // the LSTM 2 * width hidden units.
  CnnLstmImpl(std::int64_t in_channels, std::int64_t outputs, std::int64_t bins, std::int64_t bands,
              std::int64_t width = 32);
  torch::Tensor forward(const torch::Tensor& x) override;
  // (N, C, 1, T) -> (N, 2 * width): the LSTM's last hidden state.
  torch::Tensor features(const torch::Tensor& x) override;
  torch::nn::Linear head() override { return fc_; }
  std::vector<torch::Tensor> head_parameters() override;
  std::vector<torch::Tensor> backbone_parameters() override;

 private:
  std::int64_t bins_, bands_, extra_;
  torch::nn::Sequential cnn_{nullptr};
  torch::nn::LSTM lstm_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(CnnLstm);

}  // namespace sbench::learn
