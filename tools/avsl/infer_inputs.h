// The data.test overrides avsl infer puts in the recipe: the user's files as a dataset that goes through the test
// pipeline of the recipe's own evaluation set (input size, spectrogram, audio window and rate).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "avsl/core/component_config.h"

namespace avsl::cli {

/// data.test = datasets.Pairs of (images[i], audios[i]) named keys[i].
std::string PairsOverride(const ComponentConfig& root, const std::vector<std::string>& images,
                          const std::vector<std::string>& audios, const std::vector<std::string>& keys);

/// data.test = datasets.VideoFrames of `video` sampled at `fps` (0: every frame), keys <key_prefix>_<k>; the audio
/// window is `window_seconds` when given, else the evaluation set's clip_seconds.
std::string VideoFramesOverride(const ComponentConfig& root, const std::string& video, double fps,
                                std::optional<double> window_seconds, const std::string& key_prefix);

/// The evaluation set's clip_seconds (test, else val, else train), nullopt when none declares one.
std::optional<double> RecipeClipSeconds(const ComponentConfig& root);

}  // namespace avsl::cli
