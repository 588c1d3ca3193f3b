// The Gaussian-process correction of You et al. (2017) for crop yield: the network's last-layer
// features h(x) enter a GP regression with explicit basis functions (Rasmussen and Williams 2006,
// section 2.7), y = h(x)^T beta + f(x) + noise, beta ~ N(b, sigma_b^2 I) with b the trained head
// (weights and bias), f ~ GP(0, k) over location and year. Internal to src/learn: includes LibTorch.
#pragma once

#include <torch/torch.h>

namespace sbench::learn {

struct GpParams {
  double sigma = 1.0;     // kernel standard deviation
  double r_loc = 0.5;     // length scale of the normalized location
  double r_year = 1.5;    // length scale of the normalized year
  double sigma_e = 0.32;  // noise standard deviation
  double sigma_b = 0.01;  // prior standard deviation of beta around the trained head
};

// Where and when an example is: loc (N, 2) lat/lon, or undefined to use `group` instead (N,
// int64: examples of one group, e.g. one region, are correlated over years, others not); year (N).
struct GpSites {
  torch::Tensor loc, group, year;
};

// Posterior mean at the test examples. h: (N, D) features, y_train (N) targets, head_w (D),
// head_b (scalar). Locations and years are normalized as You et al. did: minus the mean, divided
// by the range, over train and test together. k(i, j) = sigma^2 exp(-|loc_i - loc_j|^2 / (2 r_loc^2)
// - (year_i - year_j)^2 / (2 r_year^2)), times [group_i == group_j] when by group. Double precision.
torch::Tensor gp_correct(const torch::Tensor& h_train, const torch::Tensor& y_train, const GpSites& train,
                         const torch::Tensor& h_test, const GpSites& test, const torch::Tensor& head_w,
                         const torch::Tensor& head_b, const GpParams& p);

}  // namespace sbench::learn
