// The negative_audio option every dataset of the plugin shares: the split's positives again, each frame heard with
// its sound replaced by silence, white noise or an off-screen clip, so the evaluator can ask whether a map and its
// confidence follow the sound (metrics::NegativeAudio; docs/evaluation.md, "Negative audio").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/component_config.h"
#include "avsl/core/schema.h"

namespace avsl::plugins::datasets {

/// Adds the `negative_audio` key (array of "silence", "noise", "offscreen"; default empty).
void AddNegativeAudioField(Schema& schema);

/// The kinds the key names, checked: known, not repeated, and only in a test split (`test_split` false is an
/// InvalidArgument naming the key: negatives have no place in training).
absl::StatusOr<std::vector<std::string>> ReadNegativeAudioKinds(const ComponentConfig& config,
                                                                const std::string& component, bool test_split);

/// The samples that replace a clip of `n` samples: zeros ("silence") or N(0, 1) white noise ("noise"; the
/// amplitude vssl_eval uses) from a generator seeded with `seed`.
std::vector<double> ReplacementWaveform(const std::string& kind, size_t n, uint64_t seed);

/// The noise generator's seed for frame `video_id`: FNV-1a of the id, so a frame hears the same noise in every run,
/// seed and split (the scores of two methods, or two seeds, differ by the model only).
uint64_t NoiseSeed(const std::string& video_id);

/// For each of `n` positives, the positive whose clip is its off-screen sound: the first j after i + n/2 (cyclic)
/// with another frame and, where both classes are known (>= 0), another class. Deterministic, so every method is
/// scored on the same pairs. NotFound naming `component` and the recipe `key` when some positive has no such partner
/// (e.g. one class).
absl::StatusOr<std::vector<size_t>> OffscreenPartners(const std::vector<std::string>& frames,
                                                      const std::vector<int>& classes, const std::string& component,
                                                      const std::string& key);

/// Sample key of a negative: "<video>__<kind>", or "<video>__offscreen_<audio>".
std::string NegativeAudioKey(const std::string& video_id, const std::string& kind, const std::string& audio_id);

}  // namespace avsl::plugins::datasets
