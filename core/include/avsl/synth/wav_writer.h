// A minimal RIFF/WAVE PCM16 mono encoder: 44-byte canonical header + little-endian samples, no optional
// chunks and no timestamps, so the bytes depend only on the samples and the rate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace avsl {
namespace synth {

/// The complete WAV file (header + data) for mono 16-bit PCM at `sample_rate`.
std::string EncodeWavPcm16Mono(const std::vector<int16_t>& samples, int sample_rate);

/// Writes `bytes` to `path` (binary, truncating); the error names the path.
absl::Status WriteFileBytes(const std::string& path, const std::string& bytes);

}  // namespace synth
}  // namespace avsl
