// The reference's clip selection (EZ-VSL/SLAVC `load_spectrogram(path, dur=3.)`): a window of
// `clip_seconds` centred on the clip middle, tiled when the clip is shorter. Optional resampling.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/data/wav_reader.h"

namespace avsl::data {

struct ClipOptions {
  double clip_seconds = 3.0;   ///< Window length; the reference always uses 3 s.
  int target_sample_rate = 0;  ///< 0 keeps the file's native rate (the reference); else ResamplePoly first.
};

/// Number of samples in the window: `int(sample_rate · clip_seconds)` with Python's double arithmetic.
int64_t ClipLength(int sample_rate, double clip_seconds);

/// First sample of the centred window for a clip of `num_samples`: floor(N/2 − L/2) with L = sr·clip_seconds,
/// computed exactly (see docs: the reference computes it in float seconds and truncates), 0 when N ≤ L.
int64_t CentreWindowStart(int64_t num_samples, int sample_rate, double clip_seconds);

/// Applies the reference's window: samples [start, start + L) when N ≥ L; otherwise the whole clip tiled
/// `int(L / N) + 1` times and cut to L. Fails on an empty input.
absl::StatusOr<std::vector<double>> CentreClip(const std::vector<double>& samples, int sample_rate,
                                               double clip_seconds);

/// Rational resampling identical to `scipy.signal.resample_poly(x, up, down)` with its defaults
/// (Kaiser β=5 windowed-sinc FIR of 2·10·max(up,down)+1 taps, zero padding, ceil(N·up/down) outputs).
/// up/down are reduced by their gcd first.
std::vector<double> ResamplePoly(const std::vector<double>& x, int up, int down);

/// Decodes `path` (ReadMonoAudio), optionally resamples the whole clip to `options.target_sample_rate`,
/// then applies CentreClip. The returned MonoAudio holds the window at its final rate.
absl::StatusOr<MonoAudio> LoadAudioClip(const std::string& path, const ClipOptions& options = {});

}  // namespace avsl::data
