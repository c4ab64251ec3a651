// The SDK's tensor value types: a collated batch, what a training step returns and what localization returns.
#pragma once

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace avsl {

/// One collated batch as the loader produces it.
struct Batch {
  torch::Tensor image;     ///< [B,3,H,W] float, normalized
  torch::Tensor audio;     ///< [B,1,F,T] log spectrogram (or another front-end)
  torch::Tensor gt_map;    ///< [B,H,W] in [0,1]; zeros where there is no annotation
  torch::Tensor has_gt;    ///< [B] bool: the sample carries a GT map usable for supervision
  torch::Tensor sounding;  ///< [B] bool: false for extended-test negatives
  torch::Tensor class_id;  ///< [B] int64, -1 when unknown
  std::vector<std::string> keys;
};

struct StepOutput {
  torch::Tensor loss;                                ///< scalar, differentiable
  std::vector<std::pair<std::string, double>> logs;  ///< extra scalars for metrics.jsonl
  /// Optional [B,h,w] localization maps of this same forward pass, differentiable, on the scale of
  /// Localize's maps. Extra losses (`[[losses]]` in a recipe) are computed on them, so a method that leaves
  /// them undefined cannot be combined with extra losses (the trainer says so, naming the method).
  torch::Tensor maps;
};

struct Localization {
  torch::Tensor maps;        ///< [B,h,w] raw scores at the method's native resolution
  torch::Tensor confidence;  ///< [B] native confidence; undefined -> the evaluator's generic confidence
  std::string confidence_name = "generic";
  /// Range the raw scores live in (e.g. [-1/tau, 1/tau]) for fixed-range normalization; NaN if unbounded.
  double range_min = std::numeric_limits<double>::quiet_NaN();
  double range_max = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace avsl
