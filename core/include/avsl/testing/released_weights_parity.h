// Parity of a plugin with its authors' released checkpoints, proven without the real weights: a fixture script
// (Python, torch) re-derives the official model, saves random weights in the official checkpoint layout and the
// official test-time maps; this loads the file through a recipe's [weights] table exactly as `avsl eval --weights`
// does, localizes the same inputs, puts the maps on the recipe's evaluation grid (metrics::ToEvalMap) and compares
// them after per-sample min-max normalization (and the confidences, when the script wrote them).
//
// Header-only, framework-neutral like method_test_kit.h. The script's contract:
//   python3 SCRIPT OUT_DIR  -> exit 0 and OUT_DIR/<weights file> + OUT_DIR/io.pt, a dict of image [N,3,H,W],
//                              audio [N,1,F,T], maps [N,S,S] (min-max normalized), optionally confidence [N];
//                              exit 3 when torch is not importable (the result then carries a skip reason).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "avsl/checkpoint/state_dict.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/metrics/eval_protocol.h"
#include "avsl/testing/python_fixture.h"
#include "avsl/train/recipe_builders.h"
#include "avsl/train/released_weights.h"

namespace avsl::testkit {

struct ReleasedWeightsParity {
  std::string skip_reason;          ///< non-empty: python3 with torch is missing, nothing was compared
  std::string load;                 ///< train::DescribeReleasedWeightsLoad of the file
  int64_t samples = 0;              ///< pairs compared
  double max_map_diff = 0;          ///< max |ours - official| over all pixels of the min-max maps
  double max_confidence_diff = -1;  ///< max |ours - official| of the confidences; -1: the script wrote none
};

/// Runs `script` into a fresh temporary folder, then compares as described above. `recipe` is loaded with
/// `overrides` (--set syntax) and validated against `host`; `weights_file` is the checkpoint's name in the folder.
inline absl::StatusOr<ReleasedWeightsParity> CheckReleasedWeightsParity(
    const PluginHost& host, const std::string& script, const std::string& recipe, const std::string& weights_file,
    const std::vector<std::string>& overrides = {}) {
  namespace fs = std::filesystem;
  ReleasedWeightsParity out;
  const ScratchDir scratch(absl::StrCat("avsl_released_", fs::path(script).stem().string()));
  const fs::path& dir = scratch.path();
  absl::StatusOr<std::string> skip = RunPythonScript(script, dir);
  if (!skip.ok()) return skip.status();
  if (!skip->empty()) {
    out.skip_reason = *skip;
    return out;
  }
  absl::StatusOr<Recipe> parsed = Recipe::Load(recipe, overrides);
  if (!parsed.ok()) return parsed.status();
  if (absl::Status s = parsed->Validate(host); !s.ok()) return s;
  const ComponentConfig root = parsed->Root();
  absl::StatusOr<std::shared_ptr<Method>> method = train::BuildSeededMethod(root, 0, torch::kCPU, host.registry());
  if (!method.ok()) return method.status();
  absl::StatusOr<train::WeightsLayout> layout = train::WeightsLayoutFromRecipe(root);
  if (!layout.ok()) return layout.status();
  const std::string file = (dir / weights_file).string();
  absl::StatusOr<train::ReleasedWeightsLoad> loaded = train::LoadReleasedWeights(file, *layout, **method);
  if (!loaded.ok()) return loaded.status();
  out.load = train::DescribeReleasedWeightsLoad(weights_file, *loaded);
  absl::StatusOr<checkpoint::StateDict> io = checkpoint::LoadStateDict((dir / "io.pt").string());
  if (!io.ok()) return io.status();
  const torch::Tensor* image = checkpoint::FindTensor(*io, "image");
  const torch::Tensor* audio = checkpoint::FindTensor(*io, "audio");
  const torch::Tensor* maps = checkpoint::FindTensor(*io, "maps");
  const torch::Tensor* confidence = checkpoint::FindTensor(*io, "confidence");
  if (image == nullptr || audio == nullptr || maps == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(script, " wrote no image, audio or maps tensor in io.pt"));
  }
  absl::StatusOr<metrics::EvalProtocol> protocol = train::EvalProtocolFromRecipe(root);
  if (!protocol.ok()) return protocol.status();
  Batch batch;
  batch.image = *image;
  batch.audio = *audio;
  (*method)->eval();
  torch::NoGradGuard no_grad;
  const Localization loc = (*method)->Localize(batch);
  const torch::Tensor native = loc.maps.to(torch::kDouble).contiguous();
  out.samples = native.size(0);
  if (maps->size(0) != out.samples) {
    return absl::InvalidArgumentError(absl::StrCat("io.pt has ", maps->size(0), " maps for ", out.samples, " pairs"));
  }
  for (int64_t i = 0; i < out.samples; ++i) {
    Map2D m(static_cast<int>(native.size(1)), static_cast<int>(native.size(2)));
    std::copy_n(native[i].data_ptr<double>(), m.values.size(), m.values.begin());
    absl::StatusOr<Map2D> grid = metrics::ToEvalMap(std::move(m), *protocol, absl::StrCat("pair ", i), loc.range_min,
                                                    loc.range_max);
    if (!grid.ok()) return grid.status();
    const torch::Tensor want = (*maps)[i].to(torch::kDouble).contiguous();
    if (want.numel() != static_cast<int64_t>(grid->values.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("official map ", i, " has ", want.numel(), " pixels, the recipe's grid ", grid->values.size()));
    }
    const auto [lo, hi] = std::minmax_element(grid->values.begin(), grid->values.end());
    const double low = *lo, span = *hi - *lo;
    const double* w = want.data_ptr<double>();
    for (size_t p = 0; p < grid->values.size(); ++p) {
      const double ours = span > 0 ? (grid->values[p] - low) / span : grid->values[p];
      const double d = std::abs(ours - w[p]);
      // A NaN on either side must fail the comparison, which std::max would hide.
      if (!(d <= out.max_map_diff)) out.max_map_diff = std::isnan(d) ? INFINITY : d;
    }
  }
  if (confidence != nullptr) {
    if (!loc.confidence.defined()) {
      return absl::InvalidArgumentError("the official side has a confidence, the method's Localize gives none");
    }
    out.max_confidence_diff =
        (loc.confidence.to(torch::kDouble) - confidence->to(torch::kDouble)).abs().max().item<double>();
  }
  return out;
}

}  // namespace avsl::testkit
