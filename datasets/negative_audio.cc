#include "negative_audio.h"

#include <algorithm>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "avsl/metrics/negative_audio.h"

namespace avsl::plugins::datasets {

void AddNegativeAudioField(Schema& s) {
  s.StringArray("negative_audio", {},
                "test splits: also score every positive's frame with its sound replaced: silence, noise (white, "
                "N(0,1)), offscreen (another clip, of another class where classes are known); docs/evaluation.md");
}

absl::StatusOr<std::vector<std::string>> ReadNegativeAudioKinds(const ComponentConfig& c, const std::string& component,
                                                                bool test_split) {
  if (!c.Has("negative_audio")) return std::vector<std::string>{};
  const std::vector<std::string> kinds = c.GetStringArray("negative_audio");
  const std::vector<std::string>& known = metrics::NegativeAudioKinds();
  std::set<std::string> seen;
  for (const std::string& k : kinds) {
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat(component, " recipe key '", c.path(),
                                                     ".negative_audio': unknown kind \"", k, "\"; expected one of ",
                                                     absl::StrJoin(known, ", ")));
    }
    if (!seen.insert(k).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(component, " recipe key '", c.path(), ".negative_audio': \"", k, "\" is named twice"));
    }
  }
  if (!kinds.empty() && !test_split) {
    return absl::InvalidArgumentError(absl::StrCat(
        component, " recipe key '", c.path(),
        ".negative_audio': negative-audio samples are for evaluation; expected a test split, found a training one"));
  }
  return kinds;
}

std::vector<double> ReplacementWaveform(const std::string& kind, size_t n, uint64_t seed) {
  std::vector<double> out(n, 0.0);
  if (kind != "noise") return out;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (double& v : out) v = normal(rng);
  return out;
}

uint64_t NoiseSeed(const std::string& video_id) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : video_id) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

absl::StatusOr<std::vector<size_t>> OffscreenPartners(const std::vector<std::string>& frames,
                                                      const std::vector<int>& classes, const std::string& component,
                                                      const std::string& key) {
  const size_t n = frames.size();
  std::vector<size_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    bool found = false;
    for (size_t step = 0; step < n && !found; ++step) {
      const size_t j = (i + n / 2 + step) % n;
      if (j == i || frames[j] == frames[i]) continue;
      const int ci = i < classes.size() ? classes[i] : -1, cj = j < classes.size() ? classes[j] : -1;
      if (ci >= 0 && cj >= 0 && ci == cj) continue;
      out[i] = j;
      found = true;
    }
    if (!found) {
      return absl::NotFoundError(absl::StrCat(component, " recipe key '", key, "': \"offscreen\" needs, for frame ",
                                              frames[i], ", a clip of another frame",
                                              i < classes.size() && classes[i] >= 0 ? " and another class" : "",
                                              "; the split has none (", n, " positives)"));
    }
  }
  return out;
}

std::string NegativeAudioKey(const std::string& video_id, const std::string& kind, const std::string& audio_id) {
  return kind == "offscreen" ? absl::StrCat(video_id, "__offscreen_", audio_id) : absl::StrCat(video_id, "__", kind);
}

}  // namespace avsl::plugins::datasets
