// Does the map listen? The audio-dependence rate: over the frames that an extended test split pairs once with
// their own sound and once with a silent (non-sounding) clip, the fraction whose map peak moves between the two.
// A map that ignores the audio (colour saliency, a centre prior, a DMC partition that the audio cannot change)
// scores 0 however well it localizes; baselines' READMEs and docs/results.md report it beside the untrained model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "avsl/core/map2d.h"

namespace avsl::metrics {

struct AudioDependenceResult {
  int64_t pairs = 0;  ///< frames seen with a sounding and a silent clip
  int64_t moved = 0;  ///< of those, frames whose peak pixel differs
  /// moved / pairs; NaN when no frame is paired (a split without negatives).
  double rate() const;
};

class AudioDependence {
 public:
  /// Records the peak of `map` (the first maximum in row-major order, as the pointing game takes it) for the frame
  /// `frame_id` heard with a sounding or a silent clip. Only the first sample of each (frame, kind) counts.
  void Add(const std::string& frame_id, bool sounding, const Map2D& map);
  /// Add with the peak index already found (-1: no map); what a data-parallel evaluation exchanges.
  void AddPeak(const std::string& frame_id, bool sounding, int64_t peak);
  AudioDependenceResult Finalize() const;
  /// The peak index recorded for `frame_id` heard with its sounding clip; -1 when none was added.
  int64_t SoundingPeak(const std::string& frame_id) const;

 private:
  struct Peaks {
    int64_t sounding = -1, silent = -1;
  };
  std::unordered_map<std::string, Peaks> peaks_;
};

}  // namespace avsl::metrics
