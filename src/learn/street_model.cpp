#include "street_model.hpp"

#include <limits>

#include "sbench/core/error.hpp"

namespace sbench::learn {

Pooling parse_pooling(const std::string& name) {
  if (name == "mean") return Pooling::mean;
  if (name == "attention") return Pooling::attention;
  if (name == "gated_attention") return Pooling::gated_attention;
  fail<UsageError>("pooling '{}': expected mean, attention or gated_attention", name);
}

MilPoolImpl::MilPoolImpl(std::int64_t dim, Pooling mode, std::int64_t hidden) : mode_(mode) {
  empty_ = register_parameter("empty", torch::zeros({dim}));
  if (mode_ != Pooling::mean) {
    v_ = register_module("v", torch::nn::Linear(dim, hidden));
    w_ = register_module("w", torch::nn::Linear(hidden, 1));
    if (mode_ == Pooling::gated_attention) u_ = register_module("u", torch::nn::Linear(dim, hidden));
  }
}

torch::Tensor MilPoolImpl::forward(const torch::Tensor& h, const torch::Tensor& mask) {
  const auto m = mask.to(h.dtype());                    // (n, K)
  const auto any = (m.sum(1, true) > 0).to(h.dtype());  // (n, 1)
  torch::Tensor weights;
  if (mode_ == Pooling::mean) {
    weights = m / m.sum(1, true).clamp_min(1);
  } else {
    // Ilse et al. 2018: a_k = softmax_k(w^T (tanh(V h_k) [* sigmoid(U h_k)])), over the valid k.
    auto z = torch::tanh(v_->forward(h));
    if (mode_ == Pooling::gated_attention) z = z * torch::sigmoid(u_->forward(h));
    auto score = w_->forward(z).squeeze(-1);  // (n, K)
    score = score.masked_fill(m == 0, -std::numeric_limits<float>::infinity());
    // A bag without images would be all -inf: its weights are set to 0 (the empty vector is used).
    weights = torch::softmax(score.masked_fill((any == 0).expand_as(score), 0), 1) * m;
  }
  weights_ = weights.detach();
  const auto pooled = torch::bmm(weights.unsqueeze(1), h).squeeze(1);  // (n, D)
  return any * pooled + (1 - any) * empty_.unsqueeze(0);
}

StreetNetImpl::StreetNetImpl(int depth, std::int64_t outputs, std::int64_t width, Pooling pooling) {
  encoder_ = register_module("encoder", ResNet(depth, 3, 1, width));
  pool_ = register_module("pool", MilPool(8 * width, pooling));
  fc_ = register_module("fc", torch::nn::Linear(8 * width, outputs));
}

torch::Tensor StreetNetImpl::embed(const torch::Tensor& street, const torch::Tensor& mask) {
  const auto n = street.size(0), k = street.size(1);
  const auto flat = street.reshape({n * k, street.size(2), street.size(3), street.size(4)});
  const auto valid = mask.reshape({n * k}) > 0;
  const auto idx = valid.nonzero().squeeze(1);
  const std::int64_t dim = encoder_->head()->weight.size(1);
  auto h = torch::zeros({n * k, dim}, street.options());
  // The encoder runs on the images only (padding slots never reach its batch norm).
  if (idx.numel() > 0) h = h.index_copy(0, idx, encoder_->features(flat.index_select(0, idx)));
  return pool_->forward(h.reshape({n, k, dim}), mask);
}

torch::Tensor StreetNetImpl::forward_street(const torch::Tensor& x, const torch::Tensor& street,
                                            const torch::Tensor& mask) {
  (void)x;
  return fc_->forward(embed(street, mask));
}

torch::Tensor StreetNetImpl::forward(const torch::Tensor& x) {
  (void)x;
  fail<Error>("the street model needs the cluster's street images (forward_street)");
}

std::vector<torch::Tensor> StreetNetImpl::head_parameters() {
  return fc_->parameters();
}
std::vector<torch::Tensor> StreetNetImpl::backbone_parameters() {
  // The encoder's own head (unused: its features are pooled) is left out.
  std::vector<torch::Tensor> out = encoder_->backbone_parameters();
  for (const auto& p : pool_->parameters()) out.push_back(p);
  return out;
}

FusedNetImpl::FusedNetImpl(int depth, std::int64_t in_channels, std::int64_t outputs, std::int64_t width,
                           Pooling pooling) {
  satellite_ = register_module("satellite", ResNet(depth, in_channels, 1, width));
  street_ = register_module("street", StreetNet(depth, 1, width, pooling));
  fc_ = register_module("fc", torch::nn::Linear(16 * width + 1, outputs));
}

torch::Tensor FusedNetImpl::forward_street(const torch::Tensor& x, const torch::Tensor& street,
                                           const torch::Tensor& mask) {
  const auto has = (mask.sum(1, true) > 0).to(x.dtype());
  return fc_->forward(torch::cat({satellite_->features(x), street_->embed(street, mask), has}, 1));
}

torch::Tensor FusedNetImpl::forward(const torch::Tensor& x) {
  (void)x;
  fail<Error>("the fused model needs the cluster's street images (forward_street)");
}

std::vector<torch::Tensor> FusedNetImpl::head_parameters() {
  return fc_->parameters();
}
std::vector<torch::Tensor> FusedNetImpl::backbone_parameters() {
  std::vector<torch::Tensor> out = satellite_->backbone_parameters();
  for (const auto& p : street_->backbone_parameters()) out.push_back(p);
  return out;
}

}  // namespace sbench::learn
