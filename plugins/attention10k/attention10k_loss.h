// Attention10k's attention, objectives and supervised attention loss as free functions on tensors, so the
// arithmetic is testable on fixed values without building a model (original losses.py and DSOL's port).
#pragma once

#include <torch/types.h>

namespace avsl::plugins::attention10k {

/// Attention logits of the ResNet18 port: logits[b,p] = <v[b,p,:], a[b,:]> with `v` [B,P,C] and `a` [B,C]
/// both already L2-normalized over C (DSOL attention_net.py: bmm(v, a), no ReLU before the softmax).
torch::Tensor AttentionLogits(const torch::Tensor& v, const torch::Tensor& a);

/// The attended visual vector z[b,:] = sum_p alpha[b,p] * v[b,p,:]; `alpha` [B,P], `v` [B,P,C].
torch::Tensor AttendedVector(const torch::Tensor& alpha, const torch::Tensor& v);

/// The positive and negative distances of the ratio loss, each [B].
struct RatioDistances {
  torch::Tensor d_pos;  ///< ||f_v - f_+ + 1e-6||_2
  torch::Tensor d_neg;  ///< ||f_v - f_- + 1e-6||_2
};

/// d+- = F.pairwise_distance(f_v, f_+-) (p = 2, eps = 1e-6: ||f_v - f_+- + 1e-6||_2) for three [B,C] tensors.
RatioDistances RatioLossDistances(const torch::Tensor& f_v, const torch::Tensor& pos, const torch::Tensor& neg);

/// The ratio loss of given distances: p = softmax([d+, d-]), L = mean((p - [0, 1])^2) over the batch and both
/// entries, which equals mean_b sigmoid(d+ - d-)^2.
torch::Tensor RatioLossOfDistances(const torch::Tensor& d_pos, const torch::Tensor& d_neg);

/// The original unsupervised loss (losses.py UnsupervisedLoss): d+- = F.pairwise_distance(f_v, f_+-) (which is
/// ||f_v - f_+- + 1e-6||_2), p = softmax([d+, d-]), L = mean((p - [0, 1])^2) over the batch and both entries.
/// RatioLossOfDistances(RatioLossDistances(f_v, pos, neg)), the same operations in the same order.
torch::Tensor RatioLoss(const torch::Tensor& f_v, const torch::Tensor& pos, const torch::Tensor& neg);

/// DSOL's ContrastiveLoss on squared distances `d2` [N] with labels `y` [N] (1: matching pair, 0: negative):
/// mean(0.5 * (y * d2 + (1 - y) * relu(margin - sqrt(d2 + 1e-9))^2)) (avsl::models::MarginContrastiveLoss).
torch::Tensor ContrastiveLoss(const torch::Tensor& d2, const torch::Tensor& y, double margin);

/// How the [B,H,W] GT map becomes the [B,h,w] target g of the attention cross-entropy. The GT is first area-
/// averaged onto the attention grid (adaptive average pooling), giving each cell's covered fraction c.
enum class SupervisionTarget {
  kBinary,        ///< g = 1[c >= 0.5]: an un-normalized binary map, as the released gt_box20 (default)
  kSoft,          ///< g = c
  kDistribution,  ///< g = c / sum(c): a proper distribution (zero where the pooled GT is empty)
};

/// The target g [B,h,w] for attention logits on an h x w grid from GT maps `gt` [B,H,W].
torch::Tensor SupervisionGrid(const torch::Tensor& gt, int64_t h, int64_t w, SupervisionTarget target);

/// The supervised attention loss (losses.py SupervisedLoss): mean over the WHOLE batch of
/// w_b * (-sum_p g[b,p] * log alpha[b,p]) with w_b = has_gt[b] and alpha = softmax(logits) over the h*w cells.
/// `logits` [B,h,w]; `gt` [B,H,W] (any H, W); `has_gt` [B]. Zero when no sample is annotated (or `gt` is
/// undefined). log alpha is computed as log_softmax, so a cell whose alpha underflows costs a large finite
/// amount instead of the reference's log(0) (NaN when g is 0 there).
torch::Tensor SupervisedAttentionLoss(const torch::Tensor& logits, const torch::Tensor& gt, const torch::Tensor& has_gt,
                                      SupervisionTarget target);

}  // namespace avsl::plugins::attention10k
