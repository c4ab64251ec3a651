// Audio file decoding with the reference's sample semantics (EZ-VSL/SLAVC `load_audio_av` via PyAV):
// the stream is converted to mono int16 exactly as libswresample does for `format='s16p', layout='mono'`,
// then divided by 32767 and clipped to [-1, 1]. See docs/preprocessing.md §Audio decoding.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace avsl::data {

/// A decoded mono clip. `samples` hold q / 32767 clipped to [-1, 1], q being the int16 mono sample the
/// reference's resampler produces (so values are exact multiples of 1/32767 except -32768 -> -1).
struct MonoAudio {
  int sample_rate = 0;          ///< Native rate of the file (Hz).
  int source_channels = 0;      ///< Channel count before the downmix.
  std::vector<double> samples;  ///< Mono samples in [-1, 1].
};

/// Converts one frame of `channels` int16 samples to the mono int16 that libswresample's S16P
/// rematrix gives: identity for mono, (16384·(L+R) + 16384) >> 15 for stereo (i.e. the average rounded
/// half up), and the rounded mean for more channels (an approximation, see the docs).
int16_t DownmixInt16(const int16_t* frame, int channels);

/// Converts one frame of floating-point samples (full scale ±1) to mono int16 as libswresample does
/// from its float path: mean in the input precision, then clip(lrint(v · 32768)).
int16_t DownmixFloat(const float* frame, int channels);
int16_t DownmixDouble(const double* frame, int channels);

/// The highest sample rate ReadMonoAudio accepts (768 kHz, the highest rate audio hardware records); the datasets'
/// clips are 16-48 kHz.
inline constexpr int kMaxSampleRate = 768000;

/// Decodes any file libsndfile reads (WAV, FLAC, OGG, AIFF, ...) to the reference's mono int16 semantics.
/// Errors (NotFound / InvalidArgument / DataLoss) name `path`, and a file whose header promises more frames
/// than it holds (a truncated WAV) is an error, not a silently shorter clip; so is a rate above kMaxSampleRate.
absl::StatusOr<MonoAudio> ReadMonoAudio(const std::string& path);

/// Frames [first, first + count) of the file only, decoded and checked as ReadMonoAudio does (the same samples
/// as that slice of ReadMonoAudio's). `choose(frames, sample_rate)` picks {first, count} once the header is read;
/// a range past the end is clamped to it. The training loader reads the 3 s window of a 10 s clip this way.
absl::StatusOr<MonoAudio> ReadMonoAudioRange(const std::string& path,
                                             const std::function<std::pair<int64_t, int64_t>(int64_t, int)>& choose);

/// The complete 16-bit PCM WAV file (header + data) for `interleaved` samples of `channels` channels at
/// `sample_rate`: the canonical 44-byte header (RIFF, a 16-byte WAVE_FORMAT_PCM fmt chunk, data) and
/// little-endian samples, with no other chunk and no timestamp, so the bytes depend only on the arguments
/// (the synthetic benchmark relies on that for byte-identical datasets). InvalidArgument when `channels` or
/// `sample_rate` is not positive, the sample count is not a multiple of `channels`, or the data does not fit
/// the 32-bit RIFF sizes.
absl::StatusOr<std::string> EncodeWavPcm16(const std::vector<int16_t>& interleaved, int channels, int sample_rate);

/// Writes `mono` (full scale ±1) as a 16-bit PCM mono WAV: q = clip(round_half_even(x · 32767), ±32767),
/// so that ReadMonoAudio returns q / 32767 exactly.
absl::Status WriteWavPcm16(const std::string& path, const std::vector<float>& mono, int sample_rate);

/// Writes integer samples verbatim as a 16-bit PCM WAV with `channels` interleaved channels (the bytes of
/// EncodeWavPcm16). Errors name `path`.
absl::Status WriteWavPcm16Raw(const std::string& path, const std::vector<int16_t>& interleaved, int channels,
                              int sample_rate);

}  // namespace avsl::data
