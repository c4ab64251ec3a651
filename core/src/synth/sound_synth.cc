#include "avsl/synth/sound_synth.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace avsl {
namespace synth {
namespace {
constexpr double kTwoPi = 6.283185307179586476925286766559;

absl::Status RangeError(const char* key, double got, const char* expected) {
  return absl::InvalidArgumentError(absl::StrCat("synth option ", key, ": got ", got, ", expected ", expected));
}
}  // namespace

int AudioOptions::num_samples() const { return static_cast<int>(std::floor(sample_rate * clip_seconds)); }

absl::Status ValidateAudioOptions(const AudioOptions& o) {
  if (o.sample_rate < 1000 || o.sample_rate > 192000) return RangeError("sample_rate", o.sample_rate, "[1000, 192000]");
  if (!(o.clip_seconds > 0.0) || o.clip_seconds > 60.0) return RangeError("clip_seconds", o.clip_seconds, "(0, 60]");
  if (o.num_samples() < 1) return RangeError("clip_seconds", o.clip_seconds, "at least one sample");
  if (o.max_partials < 1 || o.max_partials > 64) return RangeError("max_partials", o.max_partials, "[1, 64]");
  if (!(o.f0_jitter >= 0.0 && o.f0_jitter < 0.5)) return RangeError("f0_jitter", o.f0_jitter, "[0, 0.5)");
  if (!(o.am_depth >= 0.0 && o.am_depth <= 1.0)) return RangeError("am_depth", o.am_depth, "[0, 1]");
  if (!(o.gain_min >= 0.0 && o.gain_max >= o.gain_min)) return RangeError("gain_max", o.gain_max, ">= gain_min >= 0");
  if (!(o.noise_std_min >= 0.0 && o.noise_std_max >= o.noise_std_min)) {
    return RangeError("noise_std_max", o.noise_std_max, ">= noise_std_min >= 0");
  }
  if (!(o.distractor_prob >= 0.0 && o.distractor_prob <= 1.0)) {
    return RangeError("distractor_prob", o.distractor_prob, "[0, 1]");
  }
  if (!(o.distractor_gain_min >= 0.0 && o.distractor_gain_max >= o.distractor_gain_min)) {
    return RangeError("distractor_gain_max", o.distractor_gain_max, ">= distractor_gain_min >= 0");
  }
  if (!(o.output_scale > 0.0 && o.output_scale <= 1.0)) return RangeError("output_scale", o.output_scale, "(0, 1]");
  return absl::OkStatus();
}

std::vector<double> SynthesizeTone(const ClassSpec& spec, const AudioOptions& options, CounterRng& rng) {
  const int n = options.num_samples();
  const double fs = options.sample_rate;
  const double f0 = spec.f0_hz * (1.0 + rng.Uniform(-options.f0_jitter, options.f0_jitter));
  std::vector<double> tone(static_cast<size_t>(n), 0.0);

  struct Partial {
    double amp, cr, ci, sr, si;  // amplitude, current phasor (cr + i ci), per-sample rotation (sr + i si)
  };
  std::vector<Partial> partials;
  double amp_sum = 0.0;
  for (int p = 0; p < options.max_partials; ++p) {
    const int h = spec.odd_only ? 2 * p + 1 : p + 1;
    const double phase = kTwoPi * rng.Uniform();  // drawn for every partial so the stream stays aligned
    const double f = f0 * h;
    if (f >= 0.45 * fs) continue;
    const double amp = std::pow(static_cast<double>(h), -spec.rolloff);
    const double w = kTwoPi * f / fs;
    partials.push_back({amp, std::cos(phase), std::sin(phase), std::cos(w), std::sin(w)});
    amp_sum += amp;
  }
  for (Partial& p : partials) p.amp /= amp_sum;

  // AM envelope 1 - depth * (1 - cos(2 pi fm t + phi)) / 2, in [1 - depth, 1].
  const double am_phase = kTwoPi * rng.Uniform();
  double er = std::cos(am_phase), ei = std::sin(am_phase);
  const double aw = kTwoPi * spec.am_hz / fs;
  const double esr = std::cos(aw), esi = std::sin(aw);
  const bool modulated = spec.am_hz > 0.0 && options.am_depth > 0.0;

  for (int t = 0; t < n; ++t) {
    double v = 0.0;
    for (Partial& p : partials) {
      v += p.amp * p.ci;
      const double nr = p.cr * p.sr - p.ci * p.si;
      p.ci = p.cr * p.si + p.ci * p.sr;
      p.cr = nr;
    }
    if (modulated) {
      v *= 1.0 - options.am_depth * 0.5 * (1.0 - er);
      const double nr = er * esr - ei * esi;
      ei = er * esi + ei * esr;
      er = nr;
    }
    tone[static_cast<size_t>(t)] = v;
  }
  return tone;
}

AudioClip SynthesizeClip(const ClassCatalogue& catalogue, int sound_class, int distractor_class,
                         const AudioOptions& options, CounterRng& rng) {
  AudioClip clip;
  clip.sample_rate = options.sample_rate;
  clip.sound_class = sound_class;
  clip.distractor_class = distractor_class;
  clip.gain = rng.Uniform(options.gain_min, options.gain_max);
  clip.noise_std = rng.Uniform(options.noise_std_min, options.noise_std_max);
  // The distractor gain is drawn even without a distractor so later draws do not depend on its presence.
  const double distractor_gain = rng.Uniform(options.distractor_gain_min, options.distractor_gain_max);

  std::vector<double> mix = SynthesizeTone(catalogue.at(sound_class), options, rng);
  for (double& v : mix) v *= clip.gain;
  if (distractor_class >= 0) {
    const std::vector<double> d = SynthesizeTone(catalogue.at(distractor_class), options, rng);
    for (size_t t = 0; t < mix.size(); ++t) mix[t] += distractor_gain * d[t];
  }
  const size_t n = mix.size();
  clip.pcm.resize(n);
  clip.samples.resize(n);
  for (size_t t = 0; t < n; ++t) {
    double x = options.output_scale * (mix[t] + clip.noise_std * rng.Normal());
    x = std::min(1.0, std::max(-1.0, x));
    const int16_t q = static_cast<int16_t>(std::floor(x * 32767.0 + 0.5));
    clip.pcm[t] = q;
    clip.samples[t] = static_cast<float>(q / 32767.0);
  }
  return clip;
}

}  // namespace synth
}  // namespace avsl
