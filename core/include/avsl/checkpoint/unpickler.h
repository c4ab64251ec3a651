// A pickle reader for what torch.save writes (protocol 2; the protocol 3-5 opcodes are read too) that builds
// the generic Value tree of pickle_value.h instead of Python objects. It interprets only an allow-list of
// globals (OrderedDict, torch's tensor/parameter rebuild functions and storage classes, torch.Size, numpy
// scalars, argparse.Namespace, torch.device), so reading an untrusted file cannot run code. Torch-free.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "avsl/checkpoint/pickle_value.h"

namespace avsl::checkpoint {

struct UnpickleOptions {
  /// Names the data in error messages, e.g. "checkpoint /runs/x.pt (archive/data.pkl)".
  std::string source = "pickle";
  /// When false (default) a global outside the allow-list is an error naming it; when true, instances of
  /// such classes become opaque Value::Kind::kObject nodes (name, constructor args, BUILD state).
  bool allow_unknown_globals = false;
  /// When set, receives the number of bytes read through STOP: the next pickle of a stream (the legacy
  /// torch.save format writes five in a row) starts there.
  size_t* consumed = nullptr;
};

/// Reads one pickle. Persistent ids must be torch storage ids ('storage', <storage class>, key, location,
/// numel), or the legacy format's ('storage', class, key, location, numel, None). Python sets read as lists. Errors
/// name `options.source`, the byte offset and the opcode/global.
absl::StatusOr<ValuePtr> Unpickle(absl::string_view data, const UnpickleOptions& options = {});

/// The allow-listed globals, as "module.name" (for documentation and error messages).
const std::vector<std::string>& SupportedGlobals();

}  // namespace avsl::checkpoint
