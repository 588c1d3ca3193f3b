// MAML (Finn et al. 2017) for land_cover_ood's 1-shot 2-way episodes (Wang, Russwurm, Koerner and
// Lobell 2020): a shallow 1-D CNN whose weights are meta-learned so that a few gradient steps on
// one labelled point of each of two classes of a region classify the region's other points of those
// classes; episodes are combined one-vs-one into a prediction for every point (docs/training.md).
// Internal to src/learn: includes LibTorch.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tile_model.hpp"

namespace sbench::learn {

// Three convolutions (kernel 5, padded, ReLU; widths w, 2w, 2w) over time, the mean over time,
// a linear head of 2 logits. No BatchNorm: the adapted weights are the whole state.
class MamlCnnImpl : public TileModel {
 public:
  MamlCnnImpl(std::int64_t in_channels, std::int64_t width);
  // (N, C, 1, T) or (N, C, T) -> (N, 2) with the model's own weights.
  torch::Tensor forward(const torch::Tensor& x) override;
  // The same with the given weights (in parameters() order).
  torch::Tensor forward_with(const torch::Tensor& x, const std::vector<torch::Tensor>& w) const;
  std::vector<torch::Tensor> head_parameters() override;
  std::vector<torch::Tensor> backbone_parameters() override;
};
TORCH_MODULE(MamlCnn);

struct MamlSettings {
  double inner_lr = 0.1;
  std::int64_t inner_steps = 5;
  bool first_order = false;
};

// Weights after `inner_steps` SGD steps on the cross-entropy of (x, y) from `start`; with
// create_graph the result stays differentiable with respect to `start` (second-order MAML).
std::vector<torch::Tensor> adapt(const MamlCnnImpl& model, const std::vector<torch::Tensor>& start,
                                 const torch::Tensor& x, const torch::Tensor& y, const MamlSettings& s,
                                 bool create_graph);

// The points of a split grouped by region: per region, per class (ascending), the point indices
// (positions in the split's arrays, ascending).
struct RegionPoints {
  std::string region;
  std::vector<std::int64_t> classes;
  std::vector<std::vector<std::size_t>> points;  // per class
};
std::vector<RegionPoints> group_by_region(const std::vector<std::string>& region,
                                          const std::vector<std::int64_t>& label);

// One 2-way 1-shot episode of meta-training: a region of `groups` with at least two classes of at
// least two points, two of those classes (label 0 the smaller class code), one support point of
// each and up to `query` other points of each as the query; every draw a function of (seed, step,
// task). Positions into the split's arrays.
struct Episode {
  std::vector<std::size_t> support, query;  // support: 2 positions (labels 0, 1)
  std::vector<std::int64_t> query_label;    // 0 or 1
};
Episode sample_episode(const std::vector<RegionPoints>& groups, std::uint64_t seed, std::int64_t step,
                       std::int64_t task, std::int64_t query);

// One-vs-one episodic prediction of every point of `groups` (positions into x, (N, C, 1, T)):
// per region, one support point per class drawn by (seed, region, class); a 2-way episode per pair of
// the region's classes adapts the model on the pair's two support points and votes on every
// point of the region; a point's class is the one with the most votes (ties: the larger summed
// probability). Support points keep their label; regions of one class predict it. Returns the
// predicted class per position and marks the support points.
std::vector<std::int64_t> episodic_predict(MamlCnnImpl& model, const torch::Tensor& x,
                                           const std::vector<RegionPoints>& groups, std::size_t n,
                                           const MamlSettings& s, std::uint64_t seed, std::vector<bool>& support);

}  // namespace sbench::learn
