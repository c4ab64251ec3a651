#include "avsl/models/appearance_augment.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <torch/torch.h>

namespace avsl::models {
namespace {

namespace F = torch::nn::functional;

double Uniform(double lo, double hi) { return lo + (hi - lo) * torch::rand({1}, torch::kDouble).item<double>(); }
bool Coin(double p) { return torch::rand({1}, torch::kDouble).item<double>() < p; }
int64_t RandInt(int64_t lo, int64_t hi_inclusive) {
  return torch::randint(lo, hi_inclusive + 1, {1}, torch::kLong).item<int64_t>();
}

// ITU-R 601 luma, as torchvision's rgb_to_grayscale. x: [3,H,W] -> [1,H,W].
torch::Tensor Gray(const torch::Tensor& x) { return (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]).unsqueeze(0); }

// torchvision RandomResizedCrop.get_params: ten tries at a box of the drawn area and log-uniform aspect ratio, then
// the whole-image fallback clamped to the ratio range; the box is resized back to H x W (bilinear).
torch::Tensor ResizedCrop(const torch::Tensor& x, double scale_min) {
  const int64_t h = x.size(1), w = x.size(2);
  const double area = static_cast<double>(h * w);
  const double log_lo = std::log(3.0 / 4), log_hi = std::log(4.0 / 3);
  int64_t ch = h, cw = w, top = 0, left = 0;
  bool found = false;
  for (int attempt = 0; attempt < 10 && !found; ++attempt) {
    const double target = area * Uniform(scale_min, 1.0);
    const double ratio = std::exp(Uniform(log_lo, log_hi));
    const auto bw = static_cast<int64_t>(std::lround(std::sqrt(target * ratio)));
    const auto bh = static_cast<int64_t>(std::lround(std::sqrt(target / ratio)));
    if (bw > 0 && bh > 0 && bw <= w && bh <= h) {
      ch = bh;
      cw = bw;
      top = RandInt(0, h - bh);
      left = RandInt(0, w - bw);
      found = true;
    }
  }
  if (!found) {  // centre crop at the nearest allowed ratio
    const double in_ratio = static_cast<double>(w) / static_cast<double>(h);
    if (in_ratio < 3.0 / 4) {
      cw = w;
      ch = static_cast<int64_t>(std::lround(static_cast<double>(w) / (3.0 / 4)));
    } else if (in_ratio > 4.0 / 3) {
      ch = h;
      cw = static_cast<int64_t>(std::lround(static_cast<double>(h) * (4.0 / 3)));
    }
    top = (h - ch) / 2;
    left = (w - cw) / 2;
  }
  const torch::Tensor box = x.slice(1, top, top + ch).slice(2, left, left + cw).unsqueeze(0);
  return F::interpolate(
             box,
             F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false))
      .squeeze(0);
}

// torchvision's _rgb2hsv / _hsv2rgb on [3,H,W] in [0, 1], with the hue shifted by `shift` (a fraction of the turn).
torch::Tensor ShiftHue(const torch::Tensor& x, double shift) {
  const torch::Tensor r = x[0], g = x[1], b = x[2];
  const torch::Tensor maxc = std::get<0>(x.max(0)), minc = std::get<0>(x.min(0));
  const torch::Tensor eqc = maxc == minc;
  const torch::Tensor cr = maxc - minc;
  const torch::Tensor ones = torch::ones_like(maxc);
  const torch::Tensor s = cr / torch::where(eqc, ones, maxc);
  const torch::Tensor cr_div = torch::where(eqc, ones, cr);
  const torch::Tensor rc = (maxc - r) / cr_div, gc = (maxc - g) / cr_div, bc = (maxc - b) / cr_div;
  const torch::Tensor hr = (maxc == r).to(x.dtype()) * (bc - gc);
  const torch::Tensor hg = ((maxc == g) & (maxc != r)).to(x.dtype()) * (2.0 + rc - bc);
  const torch::Tensor hb = ((maxc != g) & (maxc != r)).to(x.dtype()) * (4.0 + gc - rc);
  torch::Tensor hue = torch::fmod((hr + hg + hb) / 6.0 + 1.0, 1.0);
  hue = torch::fmod(hue + shift + 1.0, 1.0);
  const torch::Tensor v = maxc;
  const torch::Tensor i = torch::floor(hue * 6.0);
  const torch::Tensor f = hue * 6.0 - i;
  const torch::Tensor ii = i.to(torch::kLong).remainder(6);
  const torch::Tensor p = (v * (1.0 - s)).clamp(0.0, 1.0);
  const torch::Tensor q = (v * (1.0 - s * f)).clamp(0.0, 1.0);
  const torch::Tensor t = (v * (1.0 - s * (1.0 - f))).clamp(0.0, 1.0);
  // Sector k's (r, g, b): (v,t,p) (q,v,p) (p,v,t) (p,q,v) (t,p,v) (v,p,q).
  const std::vector<std::vector<const torch::Tensor*>> sectors = {{&v, &t, &p}, {&q, &v, &p}, {&p, &v, &t},
                                                                  {&p, &q, &v}, {&t, &p, &v}, {&v, &p, &q}};
  std::vector<torch::Tensor> out;
  for (int channel = 0; channel < 3; ++channel) {
    torch::Tensor c = torch::zeros_like(v);
    for (int k = 0; k < 6; ++k) c = torch::where(ii == k, *sectors[k][channel], c);
    out.push_back(c);
  }
  return torch::stack(out);
}

// A normalized Gaussian of standard deviation sigma, separable, reflect-padded; radius ceil(3 sigma) (PIL's
// GaussianBlur approximates the same Gaussian with box passes).
torch::Tensor Blur(const torch::Tensor& x, double sigma) {
  const int64_t radius = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(3 * sigma)));
  const int64_t pad = std::min<int64_t>(radius, std::min(x.size(1), x.size(2)) - 1);
  torch::Tensor k = torch::arange(-radius, radius + 1, x.options()).pow(2).div(-2 * sigma * sigma).exp();
  k = k / k.sum();
  torch::Tensor y = x.unsqueeze(1);  // [3,1,H,W]: one channel per image plane
  y = F::pad(y, F::PadFuncOptions({pad, pad, pad, pad}).mode(torch::kReflect));
  if (pad < radius) y = F::pad(y, F::PadFuncOptions({radius - pad, radius - pad, radius - pad, radius - pad}));
  y = F::conv2d(y, k.view({1, 1, 1, -1}));
  y = F::conv2d(y, k.view({1, 1, -1, 1}));
  return y.squeeze(1);
}

torch::Tensor Jitter(torch::Tensor x, const AppearanceOptions& o) {
  // ColorJitter applies its four adjustments in a random order, each with a factor drawn once.
  const torch::Tensor order = torch::randperm(4, torch::kLong);
  for (int64_t k = 0; k < 4; ++k) {
    switch (order[k].item<int64_t>()) {
      case 0:
        if (o.brightness > 0) x = (x * Uniform(std::max(0.0, 1 - o.brightness), 1 + o.brightness)).clamp(0, 1);
        break;
      case 1:
        if (o.contrast > 0) {
          const double f = Uniform(std::max(0.0, 1 - o.contrast), 1 + o.contrast);
          x = (f * x + (1 - f) * Gray(x).mean()).clamp(0, 1);
        }
        break;
      case 2:
        if (o.saturation > 0) {
          const double f = Uniform(std::max(0.0, 1 - o.saturation), 1 + o.saturation);
          x = (f * x + (1 - f) * Gray(x)).clamp(0, 1);
        }
        break;
      default:
        if (o.hue > 0) x = ShiftHue(x, Uniform(-o.hue, o.hue));
        break;
    }
  }
  return x;
}

}  // namespace

torch::Tensor AugmentAppearance(const torch::Tensor& image, const AppearanceOptions& o) {
  TORCH_CHECK(image.dim() == 4 && image.size(1) == 3, "AugmentAppearance: expected RGB frames [B,3,H,W], got ",
              image.sizes());
  if (!o.appearance) return image;
  torch::NoGradGuard no_grad;
  const torch::Tensor mean = torch::tensor({0.485, 0.456, 0.406}, image.options().dtype(torch::kFloat)).view({3, 1, 1});
  const torch::Tensor std = torch::tensor({0.229, 0.224, 0.225}, image.options().dtype(torch::kFloat)).view({3, 1, 1});
  std::vector<torch::Tensor> out;
  out.reserve(static_cast<size_t>(image.size(0)));
  for (int64_t i = 0; i < image.size(0); ++i) {
    torch::Tensor x = (image[i].to(torch::kFloat) * std + mean).clamp(0, 1);
    if (o.crop_scale_min < 1) x = ResizedCrop(x, o.crop_scale_min);
    if (Coin(o.jitter_probability)) x = Jitter(x, o);
    if (Coin(o.grayscale_probability)) x = Gray(x).expand({3, -1, -1}).contiguous();
    if (Coin(o.blur_probability)) x = Blur(x, Uniform(o.blur_sigma_min, o.blur_sigma_max));
    out.push_back((x - mean) / std);
  }
  return torch::stack(out).to(image.scalar_type());
}

absl::Status CheckAppearanceOptions(const AppearanceOptions& o, const ComponentConfig& c) {
  if (o.blur_sigma_min > o.blur_sigma_max) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key '", c.path(), ".blur_sigma_min' = ", o.blur_sigma_min,
                                                   ": expected at most blur_sigma_max = ", o.blur_sigma_max));
  }
  return absl::OkStatus();
}

}  // namespace avsl::models
