#include "gp.hpp"

#include "sbench/core/error.hpp"

namespace sbench::learn {

namespace {

// (x - mean) / range over the rows of both, per column; a column of one value stays centred.
std::pair<torch::Tensor, torch::Tensor> normalize(const torch::Tensor& a, const torch::Tensor& b) {
  const auto all = torch::cat({a, b});
  const auto mean = all.mean(0, true);
  auto range = std::get<0>(all.max(0, true)) - std::get<0>(all.min(0, true));
  range = torch::where(range > 0, range, torch::ones_like(range));
  return {(a - mean) / range, (b - mean) / range};
}

torch::Tensor kernel(const GpSites& a, const torch::Tensor& loc_a, const torch::Tensor& year_a, const GpSites& b,
                     const torch::Tensor& loc_b, const torch::Tensor& year_b, const GpParams& p) {
  auto arg = -torch::cdist(year_a, year_b).pow(2) / (2 * p.r_year * p.r_year);
  if (loc_a.defined()) arg = arg - torch::cdist(loc_a, loc_b).pow(2) / (2 * p.r_loc * p.r_loc);
  auto k = p.sigma * p.sigma * torch::exp(arg);
  if (!loc_a.defined()) k = k * (a.group.unsqueeze(1) == b.group.unsqueeze(0)).to(torch::kFloat64);
  return k;
}

}  // namespace

torch::Tensor gp_correct(const torch::Tensor& h_train, const torch::Tensor& y_train, const GpSites& train,
                         const torch::Tensor& h_test, const GpSites& test, const torch::Tensor& head_w,
                         const torch::Tensor& head_b, const GpParams& p) {
  const auto f64 = torch::kFloat64;
  const std::int64_t n = h_train.size(0);
  if (n == 0) fail<InputError>("the Gaussian-process correction needs labelled training examples");
  const bool by_loc = train.loc.defined();
  if (!by_loc && !train.group.defined()) fail<UsageError>("gp_correct: neither locations nor groups");
  // Features with a constant 1 for the head's bias: H (N, D + 1); prior mean b = (w, bias).
  auto ones = [&](std::int64_t m) { return torch::ones({m, 1}, f64); };
  const auto H = torch::cat({h_train.to(f64), ones(n)}, 1);
  const auto Hs = torch::cat({h_test.to(f64), ones(h_test.size(0))}, 1);
  const auto b = torch::cat({head_w.to(f64).flatten(), head_b.to(f64).flatten()});
  const auto y = y_train.to(f64).flatten();
  auto [year_tr, year_te] = normalize(train.year.to(f64).reshape({-1, 1}), test.year.to(f64).reshape({-1, 1}));
  torch::Tensor loc_tr, loc_te;
  if (by_loc) std::tie(loc_tr, loc_te) = normalize(train.loc.to(f64), test.loc.to(f64));
  const auto K = kernel(train, loc_tr, year_tr, train, loc_tr, year_tr, p) + p.sigma_e * p.sigma_e * torch::eye(n, f64);
  const auto Ks = kernel(train, loc_tr, year_tr, test, loc_te, year_te, p);  // (N, M)
  const auto L = torch::linalg::cholesky(K);
  auto solve = [&](const torch::Tensor& rhs) { return torch::cholesky_solve(rhs, L); };  // K^-1 rhs
  const auto Ki_H = solve(H);                                                            // (N, D + 1)
  const auto Ki_y = solve(y.unsqueeze(1)).squeeze(1);
  const double inv_b = 1.0 / (p.sigma_b * p.sigma_b);
  const std::int64_t d = H.size(1);
  // beta = (B^-1 + H^T K^-1 H)^-1 (H^T K^-1 y + B^-1 b)
  const auto A = inv_b * torch::eye(d, f64) + H.t().matmul(Ki_H);
  const auto beta = torch::linalg::solve(A, (H.t().matmul(Ki_y) + inv_b * b).unsqueeze(1), true).squeeze(1);
  // mean at the test sites: H* beta + Ks^T K^-1 (y - H beta)
  const auto residual = solve((y - H.matmul(beta)).unsqueeze(1)).squeeze(1);
  return Hs.matmul(beta) + Ks.t().matmul(residual);
}

}  // namespace sbench::learn
