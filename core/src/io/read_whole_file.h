// One read of a whole file, for the readers that own all of a file's bytes: the zip reader and the checkpoint
// archive (which hand out views into them) and the image decoder (which hands them to libjpeg / OpenCV).
#pragma once

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace avsl::io::internal {

/// The bytes of `path` as `Bytes` (std::string or std::vector<uint8_t>); errors start with "<label> <path>: " (e.g.
/// "checkpoint /runs/x.pt: cannot open: ..."). A regular file is read in one call sized by stat(): a character-at-a-
/// time istreambuf_iterator cost 2 % of the training loader. A directory is refused by name (a stream opens one on
/// Linux and reports a size of 2^63 - 1 on ext4); a pipe or device, which has no size up front, is streamed.
template <typename Bytes>
absl::StatusOr<Bytes> ReadWholeFile(const std::string& path, const std::string& label) {
  auto cannot_open = [&] {
    return absl::NotFoundError(absl::StrCat(label, " ", path, ": cannot open: ", std::strerror(errno)));
  };
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return cannot_open();
  if (S_ISDIR(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(label, " ", path, ": is a directory"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return cannot_open();
  Bytes bytes;
  if (!S_ISREG(st.st_mode)) {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return bytes;
  }
  bytes.resize(static_cast<size_t>(st.st_size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<size_t>(in.gcount()) != bytes.size()) {
    return absl::DataLossError(absl::StrCat(label, " ", path, ": read ", in.gcount(), " of its ", bytes.size(),
                                            " bytes (did the file change while it was read?)"));
  }
  return bytes;
}

}  // namespace avsl::io::internal
