// The SHA-1 of a file's bytes as 40 lowercase hex digits: how env.json identifies the plugin files a run loaded, and
// how `avsl eval` / `--resume` tell whether a recorded plugin changed since.
#pragma once

#include <string>

#include "avsl/core/export.h"

namespace avsl::io {

/// "" when the file cannot be read.
AVSL_EXPORT std::string FileSha1(const std::string& path);

}  // namespace avsl::io
