// The reference audio front-end: scipy.signal.spectrogram(x, fs, nperseg=512, noverlap=274) with all other
// defaults, then log(P + 1e-7) / 12 (EZ-VSL/SLAVC `load_spectrogram` + Normalize(0, 12)).
#pragma once

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/sample.h"

namespace avsl::data {

struct SpectrogramOptions {
  int nperseg = 512;          ///< Segment length = FFT length (scipy's nfft default).
  int noverlap = 274;         ///< Hop = nperseg − noverlap = 238.
  double tukey_alpha = 0.25;  ///< scipy's default window ('tukey', 0.25), periodic (fftbins=True).
  double log_eps = 1e-7;      ///< log(P + eps).
  double log_divisor = 12.0;  ///< Normalize(mean=0, std=12).
  bool apply_log = true;      ///< false returns the raw density P (float32) for inspection.
};

using ::avsl::Spectrogram;  // a value type of the SDK (avsl/core/sample.h)

/// scipy.signal.get_window(('tukey', alpha), n) — the periodic Tukey window (tukey(n+1, sym=True)[:-1]).
std::vector<double> PeriodicTukey(int n, double alpha);

/// Computes the spectrogram in double: per segment, subtract its mean, multiply by the window, real FFT,
/// P = |X|² / (fs · Σw²), ×2 for bins 1..nfft/2−1 (nfft even), no padding; then log(P + eps) / divisor,
/// stored as float32 (the model's input precision). FFTW plans are cached per size under a mutex, so this
/// is safe to call from many threads. Errors: n < nperseg, noverlap ∉ [0, nperseg), odd nperseg, fs ≤ 0.
absl::StatusOr<Spectrogram> ComputeSpectrogram(const double* x, size_t n, double fs,
                                               const SpectrogramOptions& options = {});
absl::StatusOr<Spectrogram> ComputeSpectrogram(const std::vector<double>& x, double fs,
                                               const SpectrogramOptions& options = {});
absl::StatusOr<Spectrogram> ComputeSpectrogram(const std::vector<float>& x, double fs,
                                               const SpectrogramOptions& options = {});

}  // namespace avsl::data
