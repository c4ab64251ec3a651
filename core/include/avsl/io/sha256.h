// SHA-256 (FIPS 180-4) of bytes in memory, as 64 lowercase hex digits: how a test set is pinned (avsl/eval/test_set.h).
#pragma once

#include <string>
#include <string_view>

#include "avsl/core/export.h"

namespace avsl::io {

AVSL_EXPORT std::string Sha256Hex(std::string_view bytes);

}  // namespace avsl::io
