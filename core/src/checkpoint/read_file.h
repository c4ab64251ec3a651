// One read of a whole file, shared by the zip reader and the checkpoint archive (which sniffs the format before
// choosing a parser): both hand out views into the bytes, so they must own all of them.
#pragma once

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace avsl::checkpoint::internal {

/// The bytes of `path`; errors start with "<label> <path>: " (e.g. "checkpoint /runs/x.pt: cannot open: ...").
inline absl::StatusOr<std::string> ReadWholeFile(const std::string& path, const std::string& label) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(label, " ", path, ": cannot open: ", std::strerror(errno)));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::string bytes(size > 0 ? static_cast<size_t>(size) : 0, '\0');
  if (size < 0 || !in.read(bytes.data(), size)) {
    return absl::DataLossError(absl::StrCat(label, " ", path, ": read error: ", std::strerror(errno)));
  }
  return bytes;
}

}  // namespace avsl::checkpoint::internal
