#include "maml.hpp"

#include <algorithm>
#include <functional>
#include <map>

#include "random.hpp"
#include "sbench/core/error.hpp"
#include "sbench/core/hash.hpp"

namespace sbench::learn {

namespace nn = torch::nn;

MamlCnnImpl::MamlCnnImpl(std::int64_t in_channels, std::int64_t width) {
  if (in_channels < 1 || width < 1) fail<UsageError>("MAML CNN: channels and width must be >= 1");
  register_module("conv1", nn::Conv1d(nn::Conv1dOptions(in_channels, width, 5).padding(2)));
  register_module("conv2", nn::Conv1d(nn::Conv1dOptions(width, 2 * width, 5).padding(2)));
  register_module("conv3", nn::Conv1d(nn::Conv1dOptions(2 * width, 2 * width, 5).padding(2)));
  register_module("fc", nn::Linear(2 * width, 2));
}

torch::Tensor MamlCnnImpl::forward_with(const torch::Tensor& x, const std::vector<torch::Tensor>& w) const {
  torch::Tensor y = x.dim() == 4 ? x.squeeze(2) : x;
  for (int c = 0; c < 3; ++c) {
    y = torch::relu(torch::conv1d(y, w[static_cast<std::size_t>(2 * c)], w[static_cast<std::size_t>(2 * c + 1)], 1, 2));
  }
  return torch::linear(y.mean(2), w[6], w[7]);
}

torch::Tensor MamlCnnImpl::forward(const torch::Tensor& x) {
  return forward_with(x, parameters());
}

std::vector<torch::Tensor> MamlCnnImpl::head_parameters() {
  auto p = parameters();
  return {p[6], p[7]};
}

std::vector<torch::Tensor> MamlCnnImpl::backbone_parameters() {
  auto p = parameters();
  return {p.begin(), p.begin() + 6};
}

std::vector<torch::Tensor> adapt(const MamlCnnImpl& model, const std::vector<torch::Tensor>& start,
                                 const torch::Tensor& x, const torch::Tensor& y, const MamlSettings& s,
                                 bool create_graph) {
  std::vector<torch::Tensor> w = start;
  for (std::int64_t k = 0; k < s.inner_steps; ++k) {
    const auto loss = torch::nn::functional::cross_entropy(model.forward_with(x, w), y);
    const auto g = torch::autograd::grad({loss}, w, {}, /*retain_graph=*/create_graph, create_graph);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = w[i] - s.inner_lr * g[i];
  }
  return w;
}

std::vector<RegionPoints> group_by_region(const std::vector<std::string>& region,
                                          const std::vector<std::int64_t>& label) {
  std::map<std::string, std::map<std::int64_t, std::vector<std::size_t>>> by;
  for (std::size_t i = 0; i < region.size(); ++i) by[region[i]][label[i]].push_back(i);
  std::vector<RegionPoints> out;
  for (auto& [name, classes] : by) {
    RegionPoints r;
    r.region = name;
    for (auto& [c, pts] : classes) {
      r.classes.push_back(c);
      r.points.push_back(std::move(pts));
    }
    out.push_back(std::move(r));
  }
  return out;
}

Episode sample_episode(const std::vector<RegionPoints>& groups, std::uint64_t seed, std::int64_t step,
                       std::int64_t task, std::int64_t query) {
  // Regions with two classes of two points or more (one to adapt on, one to query).
  std::vector<std::size_t> eligible;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    int usable = 0;
    for (const auto& pts : groups[g].points) usable += pts.size() >= 2 ? 1 : 0;
    if (usable >= 2) eligible.push_back(g);
  }
  if (eligible.empty()) {
    fail<InputError>("no region of the train split has two classes with two points each: nothing to meta-train on");
  }
  std::uint64_t state =
      mix64(seed) ^ mix64(static_cast<std::uint64_t>(step) * 0x100000001B3ULL + static_cast<std::uint64_t>(task));
  auto next = [&] { return state = mix64(state); };
  const RegionPoints& r = groups[eligible[next() % eligible.size()]];
  std::vector<std::size_t> classes;
  for (std::size_t c = 0; c < r.classes.size(); ++c) {
    if (r.points[c].size() >= 2) classes.push_back(c);
  }
  const std::size_t a = next() % classes.size();
  std::size_t b = next() % (classes.size() - 1);
  if (b >= a) ++b;
  const std::size_t ca = std::min(classes[a], classes[b]), cb = std::max(classes[a], classes[b]);
  Episode e;
  for (std::size_t pick = 0; pick < 2; ++pick) {
    std::vector<std::size_t> pts = r.points[pick == 0 ? ca : cb];
    // A partial Fisher-Yates shuffle: the first point is the support, the next `query` the query.
    const std::size_t take = std::min<std::size_t>(pts.size(), 1 + static_cast<std::size_t>(query));
    for (std::size_t i = 0; i < take; ++i) std::swap(pts[i], pts[i + next() % (pts.size() - i)]);
    e.support.push_back(pts[0]);
    for (std::size_t i = 1; i < take; ++i) {
      e.query.push_back(pts[i]);
      e.query_label.push_back(static_cast<std::int64_t>(pick));
    }
  }
  return e;
}

std::vector<std::int64_t> episodic_predict(MamlCnnImpl& model, const torch::Tensor& x,
                                           const std::vector<RegionPoints>& groups, std::size_t n,
                                           const MamlSettings& s, std::uint64_t seed, std::vector<bool>& support) {
  std::vector<std::int64_t> pred(n, -1);
  support.assign(n, false);
  std::vector<torch::Tensor> base;
  for (const auto& p : model.parameters()) base.push_back(p.detach());
  for (const auto& g : groups) {
    std::vector<std::size_t> all, shot;
    for (std::size_t c = 0; c < g.classes.size(); ++c) {
      all.insert(all.end(), g.points[c].begin(), g.points[c].end());
      const auto& pts = g.points[c];
      shot.push_back(
          pts[mix64(seed ^ mix64(fnv1a(g.region)) ^ mix64(static_cast<std::uint64_t>(g.classes[c]))) % pts.size()]);
    }
    std::sort(all.begin(), all.end());
    if (g.classes.size() == 1) {
      for (auto i : all) pred[i] = g.classes[0];
      support[shot[0]] = true;
      continue;
    }
    const auto index = torch::tensor(std::vector<std::int64_t>(all.begin(), all.end()), torch::kInt64);
    const auto xs = x.index_select(0, index.to(x.device()));
    const std::size_t k = g.classes.size();
    std::vector<double> votes(all.size() * k, 0.0), prob(all.size() * k, 0.0);
    for (std::size_t a = 0; a < k; ++a) {
      for (std::size_t b = a + 1; b < k; ++b) {
        const auto sx = x.index_select(
            0, torch::tensor({static_cast<std::int64_t>(shot[a]), static_cast<std::int64_t>(shot[b])}).to(x.device()));
        const auto sy = torch::tensor({0, 1}, torch::kInt64).to(x.device());
        std::vector<torch::Tensor> w;
        for (const auto& t : base) w.push_back(t.clone().requires_grad_(true));
        torch::Tensor p1;
        {
          torch::AutoGradMode grad(true);
          w = adapt(model, w, sx, sy, s, false);
        }
        {
          torch::NoGradGuard no_grad;
          for (auto& t : w) t = t.detach();
          p1 = torch::softmax(model.forward_with(xs, w), 1).select(1, 1).to(torch::kCPU).contiguous();
        }
        const float* q = p1.data_ptr<float>();
        for (std::size_t i = 0; i < all.size(); ++i) {
          votes[i * k + (q[i] > 0.5f ? b : a)] += 1;
          prob[i * k + b] += q[i];
          prob[i * k + a] += 1.0 - q[i];
        }
      }
    }
    for (std::size_t i = 0; i < all.size(); ++i) {
      std::size_t best = 0;
      for (std::size_t c = 1; c < k; ++c) {
        const double v = votes[i * k + c], bv = votes[i * k + best];
        if (v > bv || (v == bv && prob[i * k + c] > prob[i * k + best])) best = c;
      }
      pred[all[i]] = g.classes[best];
    }
    for (std::size_t c = 0; c < k; ++c) {
      pred[shot[c]] = g.classes[c];
      support[shot[c]] = true;
    }
  }
  return pred;
}

}  // namespace sbench::learn
