#include "avsl/data/spectrogram.h"

#include <fftw3.h>

#include <cmath>
#include <complex>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace avsl::data {
namespace {

// FFTW's planner is not thread-safe, but executing one plan on new arrays (fftw_execute_dft_r2c) is. Plans
// are made once per size with FFTW_UNALIGNED so that any std::vector buffer can be used.
fftw_plan PlanFor(int n) {
  static std::mutex mu;
  static std::map<int, fftw_plan>* plans = new std::map<int, fftw_plan>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = plans->find(n);
  if (it != plans->end()) return it->second;
  double* in = fftw_alloc_real(n);
  fftw_complex* out = fftw_alloc_complex(n / 2 + 1);
  fftw_plan p = fftw_plan_dft_r2c_1d(n, in, out, FFTW_ESTIMATE | FFTW_UNALIGNED);
  fftw_free(in);
  fftw_free(out);
  (*plans)[n] = p;
  return p;
}

}  // namespace

std::vector<double> PeriodicTukey(int n, double alpha) {
  if (n <= 0) return {};
  if (n == 1) return {1.0};
  if (alpha <= 0.0) return std::vector<double>(n, 1.0);
  const int m = n + 1;  // scipy: _extend(M, sym=False) then _truncate.
  std::vector<double> w(m);
  if (alpha >= 1.0) {  // scipy falls back to hann(M, sym=False) = 0.5 − 0.5 cos(2πk/n).
    for (int k = 0; k < n; ++k) w[k] = 0.5 - 0.5 * std::cos(2.0 * M_PI * k / (m - 1));
  } else {
    // Same expressions as scipy.signal.windows.tukey so the results agree to the last bits.
    const int width = static_cast<int>(std::floor(alpha * (m - 1) / 2.0));
    for (int k = 0; k < m; ++k) {
      if (k <= width) {
        w[k] = 0.5 * (1 + std::cos(M_PI * (-1 + 2.0 * k / alpha / (m - 1))));
      } else if (k < m - width - 1) {
        w[k] = 1.0;
      } else {
        w[k] = 0.5 * (1 + std::cos(M_PI * (-2.0 / alpha + 1 + 2.0 * k / alpha / (m - 1))));
      }
    }
  }
  w.resize(n);
  return w;
}

absl::StatusOr<Spectrogram> ComputeSpectrogram(const double* x, size_t n, double fs, const SpectrogramOptions& o) {
  if (o.nperseg <= 0 || o.nperseg % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("spectrogram: nperseg must be even and > 0, got ", o.nperseg));
  }
  if (o.noverlap < 0 || o.noverlap >= o.nperseg) {
    return absl::InvalidArgumentError(
        absl::StrCat("spectrogram: noverlap must be in [0, nperseg=", o.nperseg, "), got ", o.noverlap));
  }
  if (!(fs > 0.0)) return absl::InvalidArgumentError(absl::StrCat("spectrogram: fs must be > 0, got ", fs));
  if (n < static_cast<size_t>(o.nperseg)) {
    // scipy would shrink nperseg to n with a warning; a shorter input means the clip stage went wrong.
    return absl::InvalidArgumentError(
        absl::StrCat("spectrogram: input has ", n, " samples, expected at least nperseg=", o.nperseg));
  }
  const int nfft = o.nperseg;
  const int bins = nfft / 2 + 1;
  const size_t step = static_cast<size_t>(o.nperseg - o.noverlap);
  const int frames = static_cast<int>((n - o.noverlap) / step);
  const std::vector<double> win = PeriodicTukey(nfft, o.tukey_alpha);
  double win_sq = 0.0;
  for (double v : win) win_sq += v * v;
  const double scale = 1.0 / (fs * win_sq);

  Spectrogram s;
  s.freq_bins = bins;
  s.frames = frames;
  s.values.resize(static_cast<size_t>(bins) * frames);
  fftw_plan plan = PlanFor(nfft);
  std::vector<double> seg(nfft);
  std::vector<std::complex<double>> spec(bins);
  for (int t = 0; t < frames; ++t) {
    const double* src = x + t * step;
    double mean = 0.0;
    for (int k = 0; k < nfft; ++k) mean += src[k];
    mean /= nfft;
    for (int k = 0; k < nfft; ++k) seg[k] = (src[k] - mean) * win[k];
    fftw_execute_dft_r2c(plan, seg.data(), reinterpret_cast<fftw_complex*>(spec.data()));
    for (int f = 0; f < bins; ++f) {
      double p = std::norm(spec[f]) * scale;
      if (f > 0 && f < bins - 1) p *= 2.0;  // One-sided: DC and Nyquist are not doubled.
      const double v = o.apply_log ? std::log(p + o.log_eps) / o.log_divisor : p;
      s.values[static_cast<size_t>(f) * frames + t] = static_cast<float>(v);
    }
  }
  return s;
}

absl::StatusOr<Spectrogram> ComputeSpectrogram(const std::vector<double>& x, double fs,
                                               const SpectrogramOptions& options) {
  return ComputeSpectrogram(x.data(), x.size(), fs, options);
}

absl::StatusOr<Spectrogram> ComputeSpectrogram(const std::vector<float>& x, double fs,
                                               const SpectrogramOptions& options) {
  const std::vector<double> d(x.begin(), x.end());
  return ComputeSpectrogram(d.data(), d.size(), fs, options);
}

}  // namespace avsl::data
