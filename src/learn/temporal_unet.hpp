// The U-Net over time series of tiles (crop_type_africa): for each sensor a small encoder shared by
// all its dates reads each sampled date's bands; the date features are pooled over the valid dates
// (mean and maximum), the sensors' pooled maps are concatenated and a U-Net segments them. Takes
// the loader's stacking of C x T x H x W inputs: per sensor K x C planes (date-major), then K planes
// of 1 (a valid date) or 0 (docs/training.md). Internal to src/learn: includes LibTorch.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "tile_model.hpp"
#include "unet.hpp"

namespace sbench::learn {

class TemporalUNetImpl : public TileModel {
 public:
  // sensor_channels: C of each sensor in stacking order; steps: K dates per sensor; the per-date
  // encoders have `width` features, the U-Net `width` at its first level.
  TemporalUNetImpl(std::vector<std::int64_t> sensor_channels, std::int64_t steps, std::int64_t outputs,
                   std::int64_t width);
  // (N, sum_s K (C_s + 1), H, W) -> (N, outputs, H, W)
  torch::Tensor forward(const torch::Tensor& x) override;
  // (N, sum_s K (C_s + 1), H, W) -> (N, 2 * width * sensors, H, W): the pooled date features.
  torch::Tensor pooled(const torch::Tensor& x);
  std::vector<torch::Tensor> head_parameters() override;
  std::vector<torch::Tensor> backbone_parameters() override;

 private:
  std::vector<std::int64_t> channels_;
  std::int64_t steps_, width_;
  std::vector<torch::nn::Sequential> encoders_;
  UNet unet_{nullptr};
};
TORCH_MODULE(TemporalUNet);

}  // namespace sbench::learn
