#include "tile2vec.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "random.hpp"
#include "sbench/core/error.hpp"

namespace sbench::learn {

Tile2VecImpl::Tile2VecImpl(std::int64_t in_channels, std::int64_t classes, std::int64_t width) {
  encoder_ = register_module("encoder", ResNet(18, in_channels, 1, width));
  probe_ = register_module("probe", torch::nn::Linear(8 * width, classes));
  z_mean_ = register_buffer("z_mean", torch::zeros({8 * width}));
  z_std_ = register_buffer("z_std", torch::ones({8 * width}));
}

torch::Tensor Tile2VecImpl::embed(const torch::Tensor& x) {
  return encoder_->features(x);
}

torch::Tensor Tile2VecImpl::forward(const torch::Tensor& x) {
  return probe_((embed(x) - z_mean_) / z_std_);
}

void Tile2VecImpl::fit_probe(const torch::Tensor& z, const torch::Tensor& y, double l2) {
  torch::NoGradGuard outer;
  z_mean_.copy_(z.mean(0));
  z_std_.copy_(z.std(0, /*unbiased=*/false).clamp_min(1e-6));
  const auto zs = ((z - z_mean_) / z_std_).detach();
  torch::nn::init::zeros_(probe_->weight);
  torch::nn::init::zeros_(probe_->bias);
  torch::optim::LBFGS opt(probe_->parameters(),
                          torch::optim::LBFGSOptions(1.0).max_iter(200).line_search_fn("strong_wolfe"));
  auto closure = [&] {
    torch::AutoGradMode grad(true);
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(probe_(zs), y) + l2 * probe_->weight.pow(2).sum();
    loss.backward();
    return loss;
  };
  torch::AutoGradMode grad(true);
  opt.step(closure);
}

std::vector<torch::Tensor> Tile2VecImpl::head_parameters() {
  return probe_->parameters();
}

std::vector<torch::Tensor> Tile2VecImpl::backbone_parameters() {
  return encoder_->parameters();
}

torch::Tensor triplet_loss(const torch::Tensor& a, const torch::Tensor& n, const torch::Tensor& d, double margin,
                           double l2) {
  const auto near = (a - n).pow(2).sum(1).clamp_min(1e-12).sqrt();
  const auto far = (a - d).pow(2).sum(1).clamp_min(1e-12).sqrt();
  auto loss = torch::relu(near - far + margin).mean();
  if (l2 > 0) loss = loss + l2 * (a.norm(2, 1) + n.norm(2, 1) + d.norm(2, 1)).mean();
  return loss;
}

std::vector<std::vector<std::size_t>> nearest_neighbours(const std::vector<double>& lat, const std::vector<double>& lon,
                                                         std::size_t k) {
  const std::size_t n = lat.size();
  std::vector<std::vector<std::size_t>> out(n);
  if (n < 2) return out;
  k = std::min(k, n - 1);
  double mean_lat = 0;
  for (double v : lat) mean_lat += v / static_cast<double>(n);
  const double c = std::cos(mean_lat * M_PI / 180.0);
  std::vector<double> x(n), y(lat);
  for (std::size_t i = 0; i < n; ++i) x[i] = lon[i] * c;
  const auto [x0, x1] = std::minmax_element(x.begin(), x.end());
  const auto [y0, y1] = std::minmax_element(y.begin(), y.end());
  const double span_x = std::max(*x1 - *x0, 1e-12), span_y = std::max(*y1 - *y0, 1e-12);
  // Cells of about k points when the points spread evenly over the area, or along a line when
  // they lie on one (the larger of the two sizes).
  const double density = static_cast<double>(k + 1) / static_cast<double>(n);
  const double cell = std::max(std::sqrt(span_x * span_y * density), std::max(span_x, span_y) * density);
  const auto nx = static_cast<std::int64_t>(span_x / cell) + 1, ny = static_cast<std::int64_t>(span_y / cell) + 1;
  std::vector<std::vector<std::size_t>> grid(static_cast<std::size_t>(nx * ny));
  auto cx = [&](std::size_t i) { return std::min(nx - 1, static_cast<std::int64_t>((x[i] - *x0) / cell)); };
  auto cy = [&](std::size_t i) { return std::min(ny - 1, static_cast<std::int64_t>((y[i] - *y0) / cell)); };
  for (std::size_t i = 0; i < n; ++i) grid[static_cast<std::size_t>(cy(i) * nx + cx(i))].push_back(i);
  std::vector<std::pair<double, std::size_t>> cand;
  for (std::size_t i = 0; i < n; ++i) {
    cand.clear();
    const std::int64_t gx = cx(i), gy = cy(i);
    // Rings of cells at Chebyshev distance r, clipped to the grid, until the k-th candidate is
    // nearer than anything outside the ring can be, or the rings have left the grid.
    const std::int64_t last = std::max(std::max(gx, nx - 1 - gx), std::max(gy, ny - 1 - gy));
    auto visit = [&](std::int64_t xx, std::int64_t yy) {
      if (xx < 0 || yy < 0 || xx >= nx || yy >= ny) return;
      for (std::size_t j : grid[static_cast<std::size_t>(yy * nx + xx)]) {
        if (j != i) cand.emplace_back((x[i] - x[j]) * (x[i] - x[j]) + (y[i] - y[j]) * (y[i] - y[j]), j);
      }
    };
    for (std::int64_t r = 0; r <= last; ++r) {
      const std::int64_t y_lo = std::max<std::int64_t>(0, gy - r), y_hi = std::min(ny - 1, gy + r);
      const std::int64_t x_lo = std::max<std::int64_t>(0, gx - r), x_hi = std::min(nx - 1, gx + r);
      for (std::int64_t yy = y_lo; yy <= y_hi; ++yy) {
        if (yy == gy - r || yy == gy + r) {
          for (std::int64_t xx = x_lo; xx <= x_hi; ++xx) visit(xx, yy);
        } else if (r > 0) {
          visit(gx - r, yy);
          visit(gx + r, yy);
        } else {
          visit(gx, yy);
        }
      }
      // Points beyond ring r are at least r * cell away.
      if (cand.size() >= k) {
        std::nth_element(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(k - 1), cand.end());
        const double reach = static_cast<double>(r) * cell;
        if (cand[k - 1].first <= reach * reach) break;
      }
    }
    std::sort(cand.begin(), cand.end());
    for (std::size_t m = 0; m < k && m < cand.size(); ++m) out[i].push_back(cand[m].second);
  }
  return out;
}

std::vector<std::size_t> triplet_rows(const std::vector<std::size_t>& rows,
                                      const std::vector<std::vector<std::size_t>>& neighbours,
                                      const std::vector<std::size_t>& order, std::uint64_t seed, std::int64_t epoch) {
  const std::size_t n = rows.size();
  if (n < 3) fail<InputError>("Tile2Vec needs at least 3 training tiles, got {}", n);
  std::vector<std::size_t> out;
  out.reserve(order.size() * 3);
  for (std::size_t i : order) {
    std::uint64_t s = seed * 0x2545F4914F6CDD1DULL ^ (static_cast<std::uint64_t>(epoch) << 32) ^ (i * 0x9E3779B9ULL);
    splitmix64(s);
    const auto& near = neighbours[i];
    const std::size_t j = near.empty() ? i : near[splitmix64(s) % near.size()];
    // The distant tile: uniform over the tiles that are neither the anchor nor its neighbours.
    const std::size_t others = n - 1 - near.size();
    if (others == 0) {
      fail<InputError>(
          "Tile2Vec: every other training tile is a neighbour of tile {} ({} tiles, {} neighbours each); "
          "lower neighbors",
          i, n, near.size());
    }
    auto excluded = [&](std::size_t m) { return m == i || std::find(near.begin(), near.end(), m) != near.end(); };
    std::size_t m = splitmix64(s) % n;
    for (int tries = 0; tries < 64 && excluded(m); ++tries) m = splitmix64(s) % n;  // rejection: uniform
    if (excluded(m)) {  // few others (tiny stores): the k-th of them in index order
      std::size_t left = splitmix64(s) % others;
      for (m = 0;; ++m) {
        if (!excluded(m) && left-- == 0) break;
      }
    }
    out.push_back(rows[i]);
    out.push_back(rows[j]);
    out.push_back(rows[m]);
  }
  return out;
}

}  // namespace sbench::learn
