// Audio of the synthetic benchmark: each class's harmonic tone, mixed with noise and an optional
// off-screen distractor, quantized to PCM16 exactly as the WAV files store it.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "avsl/core/counter_rng.h"
#include "avsl/synth/class_catalogue.h"

namespace avsl {
namespace synth {

/// Parameters of the audio of one clip.
struct AudioOptions {
  int sample_rate = 16000;    ///< Hz.
  double clip_seconds = 0.5;  ///< clip length; 0.5 s at 16 kHz is what the feasibility study trained on.
  double f0_jitter = 0.015;   ///< per-clip relative f0 jitter, uniform in [-j, +j].
  int max_partials = 8;       ///< partials per tone (those above 0.45 fs are dropped).
  double am_depth = 0.8;      ///< depth of the class's amplitude modulation.
  double gain_min = 0.3;      ///< gain of the sounding class, uniform in [gain_min, gain_max].
  double gain_max = 1.0;
  double noise_std_min = 0.05;  ///< white-noise std (before output_scale), uniform in [min, max].
  double noise_std_max = 0.3;
  double distractor_prob = 0.0;  ///< probability of adding an off-screen class's sound.
  double distractor_gain_min = 0.1;
  double distractor_gain_max = 0.3;
  double output_scale = 0.5;  ///< the mix is scaled by this before clipping to [-1, 1], to keep headroom.

  /// Number of samples per clip: floor(sample_rate * clip_seconds).
  int num_samples() const;
};

/// Checks ranges; messages name the option and give the expected range.
absl::Status ValidateAudioOptions(const AudioOptions& options);

/// One clip as stored: `pcm` is what the WAV holds; `samples` is pcm / 32767 (the loader's int16 semantics).
struct AudioClip {
  int sample_rate = 0;
  std::vector<int16_t> pcm;
  std::vector<float> samples;
  int sound_class = -1;       ///< the class whose tone the clip carries.
  int distractor_class = -1;  ///< the off-screen class mixed in, or -1.
  double gain = 0.0;
  double noise_std = 0.0;
};

/// The class's tone at unit gain: partials h (all, or odd only) with amplitude h^-rolloff normalized to sum
/// 1 (so |tone| <= 1), random phases, f0 jittered, multiplied by the AM envelope. Oscillators are complex
/// phasor recurrences, which are exact to ~1e-12 over a clip and much cheaper than a sin() per sample.
std::vector<double> SynthesizeTone(const ClassSpec& spec, const AudioOptions& options, CounterRng& rng);

/// Mixes `sound_class` (gain g) + optional `distractor_class` (-1 for none) + white noise, scales by
/// output_scale, clips to [-1, 1] and quantizes to PCM16 (round half up of x * 32767).
AudioClip SynthesizeClip(const ClassCatalogue& catalogue, int sound_class, int distractor_class,
                         const AudioOptions& options, CounterRng& rng);

}  // namespace synth
}  // namespace avsl
