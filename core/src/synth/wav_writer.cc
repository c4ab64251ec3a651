#include "avsl/synth/wav_writer.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace avsl {
namespace synth {
namespace {

// Explicit byte order: the file is little-endian whatever the host is.
void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
}

}  // namespace

std::string EncodeWavPcm16Mono(const std::vector<int16_t>& samples, int sample_rate) {
  const uint32_t data_bytes = static_cast<uint32_t>(samples.size() * 2);
  std::string out;
  out.reserve(44 + data_bytes);
  out.append("RIFF");
  PutU32(out, 36 + data_bytes);
  out.append("WAVE");
  out.append("fmt ");
  PutU32(out, 16);  // PCM fmt chunk size
  PutU16(out, 1);   // WAVE_FORMAT_PCM
  PutU16(out, 1);   // channels
  PutU32(out, static_cast<uint32_t>(sample_rate));
  PutU32(out, static_cast<uint32_t>(sample_rate) * 2);  // byte rate
  PutU16(out, 2);                                       // block align
  PutU16(out, 16);                                      // bits per sample
  out.append("data");
  PutU32(out, data_bytes);
  for (int16_t s : samples) PutU16(out, static_cast<uint16_t>(s));
  return out;
}

absl::Status WriteFileBytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return absl::InternalError(absl::StrCat("cannot open ", path, " for writing: ", std::strerror(errno)));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) return absl::InternalError(absl::StrCat("error writing ", path, " (", bytes.size(), " bytes)"));
  return absl::OkStatus();
}

}  // namespace synth
}  // namespace avsl
