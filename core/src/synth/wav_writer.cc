#include "avsl/synth/wav_writer.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace avsl {
namespace synth {
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
