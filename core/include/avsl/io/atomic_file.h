// The one way avsl writes a file that must never be seen half-written (metrics, checkpoints, maps, pictures):
// write a temporary file beside the target, fsync it, rename it over the target, fsync the directory.
// A crash or a full disk leaves either the previous file or the new one, never a torn one.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "avsl/core/export.h"

namespace avsl::io {

/// The temporary name used for `path` by this process ("<path>.tmp-<pid>"): same directory, so the rename is atomic.
AVSL_EXPORT std::string TemporaryPathFor(const std::string& path);
/// The writer's pid in a file name TemporaryPathFor made ("last.pt.tmp-4242" -> 4242), 0 for any other name.
AVSL_EXPORT long long TemporaryFileWriter(const std::string& file_name);

/// Writes `contents` to `path` atomically. Errors name the file and the failing system call; the temporary file
/// is removed on failure.
AVSL_EXPORT absl::Status WriteFileAtomically(const std::string& path, std::string_view contents);

/// For writers that stream into TemporaryPathFor(path) themselves (zip archives, LibTorch archives): fsyncs
/// `temporary` and renames it onto `path`. On failure the temporary file is removed.
AVSL_EXPORT absl::Status CommitTemporaryFile(const std::string& temporary, const std::string& path);

}  // namespace avsl::io
