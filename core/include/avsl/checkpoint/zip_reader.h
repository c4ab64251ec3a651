// Reading the zip container that `torch.save` (PyTorch >= 1.6) writes. Such archives hold STORED
// (uncompressed) entries `<archive>/data.pkl`, `<archive>/data/<key>` and `<archive>/version`, so an
// entry's bytes can be handed out as a view into the file without inflating anything. Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace avsl::checkpoint {

/// One entry of the central directory.
struct ZipEntry {
  std::string name;
  uint64_t data_offset = 0;  ///< Where the entry's bytes start in the file.
  uint64_t size = 0;         ///< Stored (= uncompressed) size in bytes.
  uint32_t crc32 = 0;
};

/// A zip archive read fully into memory. Only STORED entries can be read (torch.save never compresses);
/// zip64 archives are supported. Every error message names the file.
class ZipReader {
 public:
  /// An empty archive with no entries.
  ZipReader() = default;

  /// Reads and indexes `path`. Fails with a message naming `path` when the file cannot be read, is not a
  /// zip archive (with a hint when it is a legacy pre-1.6 torch.save file), is truncated, or has a corrupt
  /// central directory.
  static absl::StatusOr<ZipReader> Open(const std::string& path);

  /// As Open, for bytes already in memory; `name` is used in error messages.
  static absl::StatusOr<ZipReader> FromBytes(std::string bytes, const std::string& name);

  /// Entry names in central-directory order.
  const std::vector<std::string>& names() const { return names_; }
  bool Has(const std::string& name) const { return entries_.count(name) > 0; }
  const ZipEntry* Find(const std::string& name) const;
  /// True when Read can return the entry's bytes: present, STORED and not encrypted.
  bool Readable(const std::string& name) const { return Has(name) && unreadable_.count(name) == 0; }

  /// The bytes of entry `name`, a view into this reader's buffer (valid while the reader lives). Fails when
  /// the entry is absent, compressed or encrypted, or (with `verify_crc`) its CRC-32 does not match.
  absl::StatusOr<absl::string_view> Read(const std::string& name, bool verify_crc = true) const;

  const std::string& path() const { return path_; }

 private:
  absl::Status Index();

  std::string path_;
  std::shared_ptr<const std::string> bytes_;  // shared so the reader stays cheap to move and copy
  std::vector<std::string> names_;
  std::map<std::string, ZipEntry> entries_;
  std::map<std::string, std::string> unreadable_;  // entry -> why Read() must refuse it
};

}  // namespace avsl::checkpoint
