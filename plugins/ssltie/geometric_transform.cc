#include "geometric_transform.h"

#include <cmath>
#include <vector>

#include <torch/torch.h>

namespace avsl::plugins::ssltie {
namespace {

namespace F = torch::nn::functional;

torch::Tensor Resize(const torch::Tensor& x, int64_t h, int64_t w) {
  if (x.size(2) == h && x.size(3) == w) return x;  // kornia's resize to the same size is the identity
  return F::interpolate(
      x, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false));
}

}  // namespace

GeometricTransform SampleGeometricTransform(int64_t batch, int64_t canvas_height, int64_t canvas_width,
                                            const GeometricTransformOptions& o) {
  TORCH_CHECK(!o.scales.empty(), "SampleGeometricTransform: no scales to draw from");
  GeometricTransform t;
  t.canvas_height = canvas_height;
  t.canvas_width = canvas_width;
  const int64_t pick = torch::randint(static_cast<int64_t>(o.scales.size()), {1}, torch::kLong).item<int64_t>();
  t.scale = o.scales[static_cast<size_t>(pick)];
  // random.randint(-max, max) is inclusive at both ends.
  t.angles = torch::randint(-o.max_angle, o.max_angle + 1, {batch}, torch::kLong).to(torch::kDouble);
  t.flip = torch::rand({1}, torch::kDouble).item<double>() < o.flip_probability;
  return t;
}

torch::Tensor AffineTheta(const GeometricTransform& t) {
  const int64_t b = t.angles.size(0);
  const double w = static_cast<double>(t.canvas_width), h = static_cast<double>(t.canvas_height);
  const double cx = w / 2, cy = h / 2;
  // N: pixels -> [-1, 1] with align_corners = true (kornia normal_transform_pixel).
  const torch::Tensor n =
      torch::tensor({2 / (w - 1), 0.0, -1.0, 0.0, 2 / (h - 1), -1.0, 0.0, 0.0, 1.0}, torch::kDouble).view({3, 3});
  const torch::Tensor angles = t.angles.to(torch::kDouble).contiguous();
  const double* deg = angles.data_ptr<double>();
  std::vector<torch::Tensor> thetas;
  thetas.reserve(static_cast<size_t>(b));
  for (int64_t i = 0; i < b; ++i) {
    const double rad = deg[i] * M_PI / 180.0;
    const double alpha = t.scale * std::cos(rad), beta = t.scale * std::sin(rad);
    const torch::Tensor m = torch::tensor({alpha, beta, (1 - alpha) * cx - beta * cy, -beta, alpha,
                                           beta * cx + (1 - alpha) * cy, 0.0, 0.0, 1.0},
                                          torch::kDouble)
                                .view({3, 3});
    // warp_affine samples the source at M⁻¹ · destination, in normalized coordinates.
    thetas.push_back(n.matmul(torch::inverse(m)).matmul(torch::inverse(n)).slice(0, 0, 2));
  }
  return torch::stack(thetas);
}

torch::Tensor WarpLikeSslTie(const torch::Tensor& x, const GeometricTransform& t) {
  TORCH_CHECK(x.dim() == 4 && x.size(0) == t.angles.size(0),
              "WarpLikeSslTie: expected [B,C,h,w] with B = ", t.angles.size(0), ", got ", x.sizes());
  const auto out_h = static_cast<int64_t>(static_cast<double>(x.size(2)) * t.scale);  // int(h * s)
  const auto out_w = static_cast<int64_t>(static_cast<double>(x.size(3)) * t.scale);
  const torch::ScalarType type = x.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  torch::Tensor y = Resize(x.to(type), t.canvas_height, t.canvas_width);
  const torch::Tensor grid = F::affine_grid(AffineTheta(t).to(y.options()),
                                            {y.size(0), y.size(1), t.canvas_height, t.canvas_width},
                                            /*align_corners=*/true);
  y = F::grid_sample(y, grid,
                     F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(true));
  y = Resize(y, out_h, out_w);
  if (t.flip) y = y.flip({3});
  return y.to(x.scalar_type());
}

}  // namespace avsl::plugins::ssltie
