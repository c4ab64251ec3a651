#include "avsl/metrics/upsample.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"

namespace avsl::metrics {
namespace {

// torch's `area_pixel_compute_source_index` scale factor.
double Scale(int in, int out, bool align_corners) {
  if (align_corners) return out > 1 ? static_cast<double>(in - 1) / (out - 1) : 0.0;
  return static_cast<double>(in) / out;
}

double SourceIndex(double scale, int dst, bool align_corners, bool cubic) {
  if (align_corners) return scale * dst;
  double src = scale * (dst + 0.5) - 0.5;
  // Linear modes clamp negative source coordinates to 0; cubic does not (it extrapolates via the kernel
  // weights and clamps only the tap indices).
  return (!cubic && src < 0) ? 0.0 : src;
}

constexpr double kCubicA = -0.75;

double Cubic1(double x) { return ((kCubicA + 2) * x - (kCubicA + 3)) * x * x + 1; }
double Cubic2(double x) { return ((kCubicA * x - 5 * kCubicA) * x + 8 * kCubicA) * x - 4 * kCubicA; }

std::array<double, 4> CubicWeights(double t) { return {Cubic2(t + 1.0), Cubic1(t), Cubic1(1.0 - t), Cubic2(2.0 - t)}; }

// Per-axis taps and weights; the 2-D result is the tensor product, so precomputing per axis keeps the
// resize O(out_h·out_w·taps²) with no per-pixel transcendental work.
struct Axis {
  std::vector<std::array<int, 4>> idx;
  std::vector<std::array<double, 4>> w;
  int taps = 0;
};

Axis MakeAxis(int in, int out, UpsampleMode mode, bool align_corners) {
  Axis a;
  a.idx.resize(out);
  a.w.resize(out);
  auto clampi = [in](int i) { return std::min(std::max(i, 0), in - 1); };
  if (mode == UpsampleMode::kNearest) {
    a.taps = 1;
    // torch computes the nearest scale in float.
    const float scale = static_cast<float>(in) / static_cast<float>(out);
    for (int d = 0; d < out; ++d) {
      int s = std::min(static_cast<int>(std::floor(static_cast<float>(d) * scale)), in - 1);
      a.idx[d] = {s, 0, 0, 0};
      a.w[d] = {1.0, 0, 0, 0};
    }
    return a;
  }
  const double scale = Scale(in, out, align_corners);
  if (mode == UpsampleMode::kBilinear) {
    a.taps = 2;
    for (int d = 0; d < out; ++d) {
      double src = SourceIndex(scale, d, align_corners, false);
      int i0 = static_cast<int>(src);  // src >= 0, so truncation is floor.
      int i1 = i0 < in - 1 ? i0 + 1 : i0;
      double l1 = src - i0;
      a.idx[d] = {i0, i1, 0, 0};
      a.w[d] = {1.0 - l1, l1, 0, 0};
    }
    return a;
  }
  a.taps = 4;
  for (int d = 0; d < out; ++d) {
    double src = SourceIndex(scale, d, align_corners, true);
    int i = static_cast<int>(std::floor(src));
    double t = src - i;
    a.idx[d] = {clampi(i - 1), clampi(i), clampi(i + 1), clampi(i + 2)};
    a.w[d] = CubicWeights(t);
  }
  return a;
}

}  // namespace

absl::StatusOr<UpsampleMode> ParseUpsampleMode(const std::string& name) {
  if (name == "nearest") return UpsampleMode::kNearest;
  if (name == "bilinear") return UpsampleMode::kBilinear;
  if (name == "bicubic") return UpsampleMode::kBicubic;
  return absl::InvalidArgumentError(
      absl::StrCat("upsample mode '", name, "' is unknown, expected nearest, bilinear or bicubic"));
}

absl::StatusOr<Map2D> Upsample(const Map2D& in, int out_h, int out_w, UpsampleMode mode, bool align_corners) {
  if (in.height <= 0 || in.width <= 0 || in.size() != static_cast<size_t>(in.height) * in.width) {
    return absl::InvalidArgumentError(
        absl::StrCat("upsample: input map is ", in.height, "x", in.width, " with ", in.size(), " values"));
  }
  if (out_h <= 0 || out_w <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("upsample: output size ", out_h, "x", out_w, " is empty"));
  }
  if (mode == UpsampleMode::kNearest && align_corners) {
    return absl::InvalidArgumentError("upsample: align_corners is only defined for bilinear and bicubic");
  }
  const Axis ax = MakeAxis(in.width, out_w, mode, align_corners);
  const Axis ay = MakeAxis(in.height, out_h, mode, align_corners);
  Map2D out(out_h, out_w);
  for (int y = 0; y < out_h; ++y) {
    for (int x = 0; x < out_w; ++x) {
      double acc = 0.0;
      for (int j = 0; j < ay.taps; ++j) {
        double row = 0.0;
        for (int i = 0; i < ax.taps; ++i) row += ax.w[x][i] * in.at(ay.idx[y][j], ax.idx[x][i]);
        acc += ay.w[y][j] * row;
      }
      out.at(y, x) = acc;
    }
  }
  return out;
}

}  // namespace avsl::metrics
