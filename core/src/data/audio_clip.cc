#include "avsl/data/audio_clip.h"

#include <cmath>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"

namespace avsl::data {
namespace {

double Sinc(double x) {
  if (x == 0.0) return 1.0;
  const double px = M_PI * x;
  return std::sin(px) / px;
}

// scipy.signal.firwin(numtaps, cutoff, window=('kaiser', 5.0)) for a low-pass with the default scaling.
std::vector<double> KaiserLowpass(int numtaps, double cutoff, double beta) {
  std::vector<double> h(numtaps);
  const double alpha = 0.5 * (numtaps - 1);
  const double i0_beta = std::cyl_bessel_i(0.0, beta);
  double sum = 0.0;
  for (int n = 0; n < numtaps; ++n) {
    const double m = n - alpha;
    const double r = (n - alpha) / alpha;
    const double w = std::cyl_bessel_i(0.0, beta * std::sqrt(std::max(0.0, 1.0 - r * r))) / i0_beta;
    h[n] = cutoff * Sinc(cutoff * m) * w;
    sum += h[n];
  }
  for (double& v : h) v /= sum;
  return h;
}

}  // namespace

int64_t ClipLength(int sample_rate, double clip_seconds) {
  return static_cast<int64_t>(static_cast<double>(sample_rate) * clip_seconds);
}

int64_t CentreWindowStart(int64_t num_samples, int sample_rate, double clip_seconds) {
  const double window = static_cast<double>(sample_rate) * clip_seconds;
  if (static_cast<double>(num_samples) <= window) return 0;
  // (N − L)/2 is exact in double for integer N and L; the 1e-9 guards a non-integer L product.
  return static_cast<int64_t>(std::floor((static_cast<double>(num_samples) - window) / 2.0 + 1e-9));
}

absl::StatusOr<std::vector<double>> CentreClip(const std::vector<double>& samples, int sample_rate,
                                               double clip_seconds) {
  if (samples.empty()) return absl::InvalidArgumentError("CentreClip: empty audio clip");
  if (sample_rate <= 0 || !(clip_seconds > 0.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("CentreClip: invalid sample_rate=", sample_rate, " clip_seconds=", clip_seconds));
  }
  const int64_t length = ClipLength(sample_rate, clip_seconds);
  const int64_t n = static_cast<int64_t>(samples.size());
  std::vector<double> out(static_cast<size_t>(length));
  // Reference: `if len < sr*dur: tile int(sr*dur/len)+1 times`, then `[:int(sr*dur)]`; tiling then cutting
  // is a cyclic read from sample 0.
  if (static_cast<double>(n) < static_cast<double>(sample_rate) * clip_seconds) {
    for (int64_t i = 0; i < length; ++i) out[i] = samples[static_cast<size_t>(i % n)];
    return out;
  }
  const int64_t start = CentreWindowStart(n, sample_rate, clip_seconds);
  for (int64_t i = 0; i < length; ++i) out[i] = samples[static_cast<size_t>(start + i)];
  return out;
}

std::vector<double> ResamplePoly(const std::vector<double>& x, int up, int down) {
  const int g = std::gcd(up, down);
  up /= g;
  down /= g;
  if (up == 1 && down == 1) return x;
  const int64_t n_in = static_cast<int64_t>(x.size());
  const int64_t n_out = (n_in * up + down - 1) / down;
  const int64_t half_len = 10 * static_cast<int64_t>(std::max(up, down));
  std::vector<double> h = KaiserLowpass(static_cast<int>(2 * half_len + 1), 1.0 / std::max(up, down), 5.0);
  for (double& v : h) v *= up;
  const int64_t taps = static_cast<int64_t>(h.size());
  std::vector<double> y(static_cast<size_t>(n_out), 0.0);
  // y[k] = Σ_j x[j]·h[k·down − j·up + half_len] (scipy's upfirdn followed by its output trimming).
  for (int64_t k = 0; k < n_out; ++k) {
    const int64_t t = k * down + half_len;
    int64_t j_hi = t / up;  // largest j with t − j·up ≥ 0
    int64_t j_lo = (t - (taps - 1) + up - 1) / up;
    if (t - (taps - 1) <= 0) j_lo = 0;
    j_hi = std::min(j_hi, n_in - 1);
    double acc = 0.0;
    for (int64_t j = j_lo; j <= j_hi; ++j) acc += x[static_cast<size_t>(j)] * h[static_cast<size_t>(t - j * up)];
    y[static_cast<size_t>(k)] = acc;
  }
  return y;
}

absl::StatusOr<MonoAudio> LoadAudioClip(const std::string& path, const ClipOptions& options) {
  // Without resampling only the window is decoded (3 s of a 10 s clip): the file's samples [start, start + L) are
  // exactly what CentreClip would cut from the whole clip, and a clip shorter than L is read whole and tiled.
  // Resampling filters the whole clip, so it reads everything.
  const bool resample = options.target_sample_rate > 0;
  const double seconds = options.clip_seconds;
  auto window = [resample, seconds](int64_t frames, int rate) {
    const int64_t length = ClipLength(rate, seconds);
    if (resample || length <= 0 || frames < length) return std::pair<int64_t, int64_t>{0, frames};
    return std::pair<int64_t, int64_t>{CentreWindowStart(frames, rate, seconds), length};
  };
  AVSL_ASSIGN_OR_RETURN(MonoAudio audio, ReadMonoAudioRange(path, window));
  if (options.target_sample_rate > 0 && options.target_sample_rate != audio.sample_rate) {
    audio.samples = ResamplePoly(audio.samples, options.target_sample_rate, audio.sample_rate);
    audio.sample_rate = options.target_sample_rate;
  }
  auto clip = CentreClip(audio.samples, audio.sample_rate, options.clip_seconds);
  if (!clip.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("audio ", path, ": ", clip.status().message()));
  }
  audio.samples = *std::move(clip);
  return audio;
}

}  // namespace avsl::data
