#include "avsl/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace avsl::io {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// fsync of the directory makes the rename itself durable; failure there is not an error (some file systems
// refuse to open directories for it), the data is already safe.
void SyncDirectoryOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// The last step of both writers: `temporary` is complete and synced; rename it over `path`, then make the rename
// durable. On failure the temporary file is removed.
absl::Status RenameIntoPlace(const std::string& temporary, const std::string& path) {
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    absl::Status s = Errno(absl::StrCat("cannot rename ", temporary, " to ", path));
    std::remove(temporary.c_str());
    return s;
  }
  SyncDirectoryOf(path);
  return absl::OkStatus();
}

}  // namespace

constexpr const char* kTemporarySuffix = ".tmp-";

std::string TemporaryPathFor(const std::string& path) { return absl::StrCat(path, kTemporarySuffix, ::getpid()); }

long long TemporaryFileWriter(const std::string& file_name) {
  const size_t at = file_name.rfind(kTemporarySuffix);
  long long pid = 0;
  if (at == std::string::npos || !absl::SimpleAtoi(file_name.substr(at + std::strlen(kTemporarySuffix)), &pid))
    return 0;
  return pid > 0 ? pid : 0;
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  const std::string tmp = TemporaryPathFor(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno(absl::StrCat("cannot open ", tmp, " for writing (writing ", path, ")"));
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status s = Errno(absl::StrCat("write to ", tmp, " failed (writing ", path, ")"));
      ::close(fd);
      std::remove(tmp.c_str());
      return s;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    absl::Status s = Errno(absl::StrCat("fsync of ", tmp, " failed (writing ", path, ")"));
    ::close(fd);
    std::remove(tmp.c_str());
    return s;
  }
  if (::close(fd) != 0) {
    absl::Status s = Errno(absl::StrCat("closing ", tmp, " failed (writing ", path, ")"));
    std::remove(tmp.c_str());
    return s;
  }
  return RenameIntoPlace(tmp, path);
}

absl::Status CommitTemporaryFile(const std::string& temporary, const std::string& path) {
  const int fd = ::open(temporary.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno(absl::StrCat("cannot reopen ", temporary, " to sync it (writing ", path, ")"));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) {
    absl::Status s = Errno(absl::StrCat("fsync of ", temporary, " failed (writing ", path, ")"));
    std::remove(temporary.c_str());
    return s;
  }
  return RenameIntoPlace(temporary, path);
}

}  // namespace avsl::io
