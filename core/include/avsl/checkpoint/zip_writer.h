// Writing zip archives laid out the way torch.save lays them out: STORED entries whose data starts on a
// 64-byte boundary (PyTorch pads the local header's extra field so storages can be memory-mapped in
// place). Torch-free.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace avsl::checkpoint {

/// Streams entries into `<path>.tmp-<pid>` and renames it onto `path` in Finish(), so a crash or an error
/// never leaves a partial archive under the final name. An unfinished writer deletes its temporary file.
class ZipWriter {
 public:
  /// Data of every entry starts at a multiple of this many bytes from the start of the file.
  static constexpr uint64_t kAlignment = 64;

  explicit ZipWriter(std::string path);
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  /// Appends a STORED entry. Fails (naming the file) on I/O errors, duplicate names, or when the archive
  /// would exceed 4 GiB (this writer does not emit zip64 records).
  absl::Status Add(const std::string& name, absl::string_view data);

  /// Writes the central directory, flushes to disk and renames the temporary file onto the final path.
  absl::Status Finish();

 private:
  struct Written {
    std::string name;
    uint32_t crc32;
    uint32_t size;
    uint32_t header_offset;
  };
  absl::Status Write(absl::string_view bytes);
  absl::Status Fail(const std::string& what);

  std::string path_;
  std::string tmp_path_;
  std::FILE* file_ = nullptr;
  uint64_t offset_ = 0;
  std::vector<Written> entries_;
  absl::Status status_;
  bool finished_ = false;
};

}  // namespace avsl::checkpoint
