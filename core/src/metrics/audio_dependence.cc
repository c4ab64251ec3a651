#include "avsl/metrics/audio_dependence.h"

#include <cmath>

#include "avsl/metrics/pointing.h"

namespace avsl::metrics {

double AudioDependenceResult::rate() const {
  return pairs == 0 ? std::nan("") : static_cast<double>(moved) / static_cast<double>(pairs);
}

void AudioDependence::Add(const std::string& frame_id, bool sounding, const Map2D& map) {
  AddPeak(frame_id, sounding, map.values.empty() ? -1 : static_cast<int64_t>(PeakIndex(map)));
}

void AudioDependence::AddPeak(const std::string& frame_id, bool sounding, int64_t peak) {
  if (peak < 0) return;
  Peaks& p = peaks_[frame_id];
  int64_t& slot = sounding ? p.sounding : p.silent;
  if (slot < 0) slot = peak;
}

int64_t AudioDependence::SoundingPeak(const std::string& frame_id) const {
  auto it = peaks_.find(frame_id);
  return it == peaks_.end() ? -1 : it->second.sounding;
}

AudioDependenceResult AudioDependence::Finalize() const {
  AudioDependenceResult r;
  for (const auto& [frame, p] : peaks_) {
    if (p.sounding < 0 || p.silent < 0) continue;
    ++r.pairs;
    if (p.sounding != p.silent) ++r.moved;
  }
  return r;
}

}  // namespace avsl::metrics
