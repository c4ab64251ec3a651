// The legacy torch.save format (PyTorch before 1.6, or _use_new_zipfile_serialization=False), in which the
// official LVS, DSOL and Coarse-to-Fine code saved their weights: five pickles in a row (a magic number, the
// protocol version 1001, sys_info, the object, the sorted list of storage keys), then every storage in that
// order as an int64 element count and the raw little-endian bytes. Torch-free; CheckpointArchive reads it.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "avsl/checkpoint/pickle_value.h"

namespace avsl::checkpoint {

struct LegacyTorchSave {
  ValuePtr root;  ///< the saved object
  /// Storage key -> its bytes (numel × element size), views into the parsed buffer.
  std::map<std::string, absl::string_view> storages;
};

/// True when `bytes` start with the legacy format's magic-number pickle (any pickle protocol).
bool IsLegacyTorchSave(absl::string_view bytes);

/// Parses a whole legacy file held in `bytes` (which must outlive the result). `source` names it in errors;
/// `allow_unknown_globals` as in UnpickleOptions. Every storage the object refers to must be listed and every
/// listed one present with the element count its persistent id declares.
absl::StatusOr<LegacyTorchSave> ParseLegacyTorchSave(absl::string_view bytes, const std::string& source,
                                                     bool allow_unknown_globals);

}  // namespace avsl::checkpoint
