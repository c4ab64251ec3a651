// SSL-TIE's geometric transform T (jinxiang-liu/SSL-TIE utils/tf_equivariance_loss.py @c49e6a9, on kornia 0.5.6):
// the second view of a frame is T(frame) and the equivariance target is T(map of the frame). One draw holds a scale
// from a list and a horizontal flip for the whole batch, and an integer rotation angle per sample. Applying it
// (WarpLikeSslTie) follows the reference step by step: resize to the canvas (bilinear, align_corners = false) when
// the input is not canvas-sized, rotate and scale about the canvas centre with kornia's warp_affine (bilinear, zero
// padding, align_corners = true), resize to int(size · scale) (bilinear, align_corners = false), then flip.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace avsl::plugins::ssltie {

struct GeometricTransformOptions {
  std::vector<double> scales = {1.0, 0.5};  ///< one drawn per batch, uniformly (reference: 1.0 or 0.5, p = 0.5 each)
  int64_t max_angle = 30;                   ///< degrees; per sample, an integer in [-max_angle, max_angle]
  double flip_probability = 0.5;            ///< per batch
};

struct GeometricTransform {
  torch::Tensor angles;  ///< [B] double, degrees (positive = counter-clockwise on screen, OpenCV's convention)
  double scale = 1.0;
  bool flip = false;
  int64_t canvas_height = 0, canvas_width = 0;  ///< the frame size the rotation lives on (the first view's)
};

/// Draws one transform for a batch of `batch` frames on a canvas_height x canvas_width canvas, from torch's default
/// generator (so the trainer's seed makes it reproducible).
GeometricTransform SampleGeometricTransform(int64_t batch, int64_t canvas_height, int64_t canvas_width,
                                            const GeometricTransformOptions& options);

/// The affine_grid matrices [B,2,3] (double) of kornia's warp_affine with align_corners = true: destination
/// normalized coordinates to source normalized coordinates, N · M⁻¹ · N⁻¹, with M kornia's
/// get_rotation_matrix2d(centre (W/2, H/2), angle, scale) in pixels and N the pixel-to-[-1, 1] map over (size - 1).
torch::Tensor AffineTheta(const GeometricTransform& transform);

/// T(x) for x [B,C,h,w] (any h, w): the output is [B,C,int(h·scale),int(w·scale)], in x's dtype (computed in
/// float32 at least). Differentiable with respect to x.
torch::Tensor WarpLikeSslTie(const torch::Tensor& x, const GeometricTransform& transform);

}  // namespace avsl::plugins::ssltie
