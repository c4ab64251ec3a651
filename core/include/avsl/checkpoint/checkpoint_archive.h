// A torch.save file as a whole: the zip container (PyTorch >= 1.6) or the legacy pickle stream (older PyTorch,
// _use_new_zipfile_serialization=False), the unpickled object tree and access to the storage bytes its tensors
// point into; and the inverse, writing a zip archive. Torch-free: tensors stay TensorRef descriptions until
// state_dict.h materializes them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "avsl/checkpoint/pickle_value.h"
#include "avsl/checkpoint/zip_reader.h"

namespace avsl::checkpoint {

struct ReadOptions {
  /// See UnpickleOptions::allow_unknown_globals.
  bool allow_unknown_globals = false;
  /// Check the CRC-32 of data.pkl and of every storage record that is read.
  bool verify_crc = true;
};

/// An opened torch.save file, either format.
class CheckpointArchive {
 public:
  /// Reads `path`. A zip archive: the zip directory, `<archive>/version`, `<archive>/byteorder` (must be
  /// "little" when present) and `<archive>/data.pkl`. A legacy file: its five pickles and the extent of every
  /// storage (legacy_torch_save.h). Errors name `path`; a TorchScript archive (torch.jit.save) is recognised and
  /// explained.
  static absl::StatusOr<CheckpointArchive> Open(const std::string& path, const ReadOptions& options = {});

  /// The unpickled object, e.g. a dict of tensors or {'model': {...}, 'epoch': 3}.
  const ValuePtr& root() const { return root_; }
  const std::string& path() const { return path_; }
  /// The folder all records live in (torch uses the file's stem or "archive"); "" for a legacy file.
  const std::string& archive_name() const { return prefix_; }
  /// The `version` record (3 for torch 1.13); 1001 for a legacy file (its protocol version).
  int64_t format_version() const { return version_; }
  /// True for the legacy (pre-1.6) format.
  bool legacy() const { return legacy_bytes_ != nullptr; }

  /// The bytes of storage `key` (exactly numel * element size of them); fails when the record is missing,
  /// too short or corrupt.
  absl::StatusOr<absl::string_view> StorageBytes(const StorageRef& storage) const;

 private:
  CheckpointArchive() = default;
  std::string path_;
  ZipReader zip_;
  std::string prefix_;
  ValuePtr root_;
  int64_t version_ = 0;
  bool verify_crc_ = true;
  // Legacy format: the whole file, and each storage's bytes within it.
  std::shared_ptr<const std::string> legacy_bytes_;
  std::map<std::string, absl::string_view> legacy_storages_;
};

/// The object tree of a checkpoint, tensors included as TensorRef descriptions (no data is read). Use it
/// for the non-tensor entries, e.g. `LoadCheckpointValues(p)->Find("epoch")->int_value`.
absl::StatusOr<ValuePtr> LoadCheckpointValues(const std::string& path, const ReadOptions& options = {});

/// Writes a torch.save-compatible archive: `root` pickled as `archive/data.pkl`, each (key, bytes) of
/// `storages` as `archive/data/<key>`, plus `archive/byteorder` ("little") and `archive/version` ("3"),
/// 64-byte aligned, through a temporary file renamed onto `path`.
absl::Status WriteCheckpointArchive(const std::string& path, const Value& root,
                                    const std::vector<std::pair<std::string, absl::string_view>>& storages);

}  // namespace avsl::checkpoint
