// CRC-32 (the zip/IEEE 802.3 polynomial) shared by the zip reader and writer. Both PyTorch's miniz and
// Python's zipfile verify it on every read, so the writer must get it right and the reader checks it too.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace avsl::checkpoint::internal {

/// CRC-32 of `data`, continuing from `crc` (pass the previous result to checksum data in pieces).
uint32_t Crc32(absl::string_view data, uint32_t crc = 0);

}  // namespace avsl::checkpoint::internal
