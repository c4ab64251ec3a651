// Writing a Value tree as a protocol-2 pickle that Python's torch.load understands: tensors become
// torch._utils._rebuild_tensor_v2 calls on storages referenced by persistent id, exactly as torch.save
// writes them. Torch-free.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "avsl/checkpoint/pickle_value.h"

namespace avsl::checkpoint {

/// Serializes `root`. Dicts keep their insertion order (OrderedDicts are written as
/// collections.OrderedDict, with their BUILD state); bytes are written the protocol-2 way
/// (_codecs.encode(str, 'latin1')); kObject nodes become `class(*args)` plus their BUILD state. Fails for
/// a kGlobal whose name has no module part.
absl::StatusOr<std::string> Pickle(const Value& root);

}  // namespace avsl::checkpoint
