// File output of the synthetic dataset writer. The WAV bytes themselves come from data::EncodeWavPcm16
// (avsl/data/wav_reader.h), whose output depends only on the samples and the rate.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace avsl {
namespace synth {

/// Writes `bytes` to `path` (binary, truncating); the error names the path.
absl::Status WriteFileBytes(const std::string& path, const std::string& bytes);

}  // namespace synth
}  // namespace avsl
