// A torch.save archive as a whole: the zip container, the unpickled object tree of `data.pkl` and access
// to the storage records its tensors point into; and the inverse, writing such an archive. Torch-free:
// tensors stay TensorRef descriptions until state_dict.h materializes them.
#pragma once

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

/// An opened torch.save file (PyTorch >= 1.6 zip format).
class CheckpointArchive {
 public:
  /// Reads `path`: the zip directory, `<archive>/version`, `<archive>/byteorder` (must be "little" when
  /// present) and `<archive>/data.pkl`. Errors name `path`; a TorchScript archive (torch.jit.save) and the
  /// legacy non-zip format are recognised and explained.
  static absl::StatusOr<CheckpointArchive> Open(const std::string& path, const ReadOptions& options = {});

  /// The unpickled object, e.g. a dict of tensors or {'model': {...}, 'epoch': 3}.
  const ValuePtr& root() const { return root_; }
  const std::string& path() const { return zip_.path(); }
  /// The folder all records live in (torch uses the file's stem or "archive").
  const std::string& archive_name() const { return prefix_; }
  /// The `version` record (3 for torch 1.13).
  int64_t format_version() const { return version_; }

  /// The bytes of `data/<key>` (exactly numel * element size of them); fails when the record is missing,
  /// too short or corrupt.
  absl::StatusOr<absl::string_view> StorageBytes(const StorageRef& storage) const;

 private:
  CheckpointArchive() = default;
  ZipReader zip_;
  std::string prefix_;
  ValuePtr root_;
  int64_t version_ = 0;
  bool verify_crc_ = true;
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
