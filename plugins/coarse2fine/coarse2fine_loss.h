// CoarsetoFine, simplified `new/` version (Qian et al., ECCV 2020; see README.md), as free functions shared
// by the plugin and its golden-value tests: the audio-visual correspondence loss, the class-head BCE, the
// class-specific (CAM-weighted) features, the stage-two alignment loss and the class-aware test map.
#pragma once

#include <torch/types.h>

namespace avsl::plugins::coarse2fine {

/// train_stage_*: ½·mean_{i=j} CE(avc_ij, 1) + ½·mean_{i≠j} CE(avc_ij, 0); avc [N,N,2] (audio i, image j). N ≥ 2.
torch::Tensor AvcLoss(const torch::Tensor& avc);

/// nn.BCELoss(σ(logits), target), mean over the rows where `valid` is true and all classes (0 if none is valid);
/// logits, target [N,C], valid [N] bool.
torch::Tensor ClassLoss(const torch::Tensor& logits, const torch::Tensor& target, const torch::Tensor& valid);

/// Align/Location: fine_c = mean_hw(feat · cam_c) / (Σ_hw cam_c + 1e-10), the mean and the division as coded.
/// feat [N,D,h,w], cam [N,C,h,w] -> [N,D,C].
torch::Tensor ClassFeatures(const torch::Tensor& feat, const torch::Tensor& cam);

/// Stage-two alignment L_d on L2-normalized fine_a, fine_v [N,D,C] with the class logits cls_a, cls_v [N,C]:
/// dist = 2 − 2·cos over all (N·C)² (sample, class) pairs, row index i·C + c; eff = [σ(cls_a) > thr]·[σ(cls_v) > thr];
/// positives = identity. L_d = Σ dist·eff·pos / Σ(pos·eff + 1e-10) + Σ ReLU(margin − √dist)²·eff·neg / Σ(neg·eff +
/// 1e-10), where the 1e-10 is added to every element before the sum, as coded. √ is taken of max(dist, 1e-12).
torch::Tensor AlignLoss(const torch::Tensor& fine_a, const torch::Tensor& fine_v, const torch::Tensor& cls_a,
                        const torch::Tensor& cls_v, double threshold, double margin);

/// main.py::test + visualize at the native resolution: sim = ReLU(einsum(fine_a [N,D,C], fine_v [N,D,hw])) [N,C,hw];
/// map = Σ_{c∈eff} sim_c·p_c / Σ_{c∈eff} p_c with eff = {p_c > thr} ∪ {argmax p}, then map / max(map) (left at 0
/// where the map is all 0). p = class probabilities [N,C]. -> [N,hw], in [0, 1].
/// relu = false (recipe key map_relu): sim is the cosine itself, without the ReLU, and the map is divided by
/// max |map| instead (left at 0 where the map is all 0), so it lies in [-1, 1]: a positive rescaling, which keeps
/// the order of all cells. With one class in eff, the cells where the ReLU map is > 0 keep their order, and the
/// cells where it is exactly 0 become distinct negative values. relu = true is the released map, bit for bit.
torch::Tensor ClassAwareMap(const torch::Tensor& fine_a, const torch::Tensor& fine_v, const torch::Tensor& p,
                            double threshold, bool relu = true);

}  // namespace avsl::plugins::coarse2fine
