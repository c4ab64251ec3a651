#include "grid_cell.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "avsl/data/csv.h"
#include "avsl/io/atomic_file.h"

namespace avsl::cli {
namespace fs = std::filesystem;
namespace {

constexpr char kLockFile[] = "grid.lock";
constexpr char kRecordFile[] = "grid_cell.json";

// A missing or unreadable file reads as "" (the state it would have said nothing about).
std::string ReadText(const fs::path& path) { return data::ReadTextFile(path.string()).value_or(""); }

// The pid the lock file names: the process that last took the lock; "" when unknown.
std::string LockHolder(const fs::path& lock_file) {
  return std::string(absl::StripAsciiWhitespace(ReadText(lock_file)));
}

// "stopped after epoch 3 of 20" from train_state.json and the run's recipe.toml; "" when they cannot be read.
std::string Progress(const fs::path& dir) {
  const nlohmann::json state = nlohmann::json::parse(ReadText(dir / "train_state.json"), nullptr, false);
  if (!state.is_object() || !state.contains("epoch") || !state["epoch"].is_number_integer()) return "";
  std::string total;
  try {
    const toml::table recipe = toml::parse_file((dir / "recipe.toml").string());
    if (std::optional<int64_t> epochs = recipe["train"]["epochs"].value<int64_t>()) {
      total = absl::StrCat(" of ", *epochs);
    }
  } catch (const toml::parse_error&) {
  }
  return absl::StrCat("stopped after epoch ", state["epoch"].get<long long>(), total);
}

}  // namespace

const char* CellStateName(CellState state) {
  switch (state) {
    case CellState::kPending: return "pending";
    case CellState::kResumable: return "resumable";
    case CellState::kRunning: return "running";
    case CellState::kDone: return "done";
    case CellState::kFailed: return "failed";
  }
  return "?";
}

CellStatus ReadCellStatus(const std::string& dir_path, bool check_lock) {
  const fs::path dir(dir_path);
  CellStatus status;
  if (!fs::is_directory(dir)) return status;
  const int fd = check_lock ? ::open((dir / kLockFile).c_str(), O_RDONLY | O_CLOEXEC) : -1;
  if (fd >= 0) {
    const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    if (!held) ::flock(fd, LOCK_UN);
    ::close(fd);
    if (held) {
      const std::string pid = LockHolder(dir / kLockFile);
      status.state = CellState::kRunning;
      status.detail = pid.empty() ? "" : "pid " + pid;
      return status;
    }
  }
  const bool checkpoint = fs::exists(dir / "checkpoints" / "last.pt");
  const nlohmann::json record = nlohmann::json::parse(ReadText(dir / kRecordFile), nullptr, false);
  const std::string recorded = record.is_object() && record.contains("state") && record["state"].is_string()
                                   ? record["state"].get<std::string>()
                                   : "";
  if (recorded == "done") {
    status.state = CellState::kDone;
    if (record.contains("seconds") && record["seconds"].is_number()) {
      status.detail = absl::StrFormat("%.0f s", record["seconds"].get<double>());
    }
    return status;
  }
  if (recorded == "failed") {
    status.state = CellState::kFailed;
    status.detail = absl::StrCat("exit ", record.value("exit_code", 0), ": ", record.value("reason", std::string()));
    if (checkpoint) {
      const std::string progress = Progress(dir);
      if (!progress.empty()) absl::StrAppend(&status.detail, " (", progress, "; the next run resumes)");
    }
    return status;
  }
  if (checkpoint) {
    status.state = CellState::kResumable;
    status.detail = Progress(dir);
  }
  return status;
}

absl::StatusOr<CellLock> CellLock::TryAcquire(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create the cell directory ", dir, ": ", ec.message()));
  const std::string path = (fs::path(dir) / kLockFile).string();
  // No O_CLOEXEC: the commands the grid starts inherit the lock (see the class comment).
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open the lock file ", path, ": ", std::strerror(errno)));
  // A --status or report of another process holds a shared lock for an instant: try a few times before "busy".
  int locked = -1;
  for (int attempt = 0; attempt < 10 && (locked = ::flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EWOULDBLOCK;
       ++attempt) {
    ::usleep(20000);
  }
  if (locked != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      const std::string pid = LockHolder(path);
      return absl::UnavailableError(absl::StrCat("another process is working on this cell (its lock ", path,
                                                 " was last taken by pid ", pid.empty() ? "?" : pid, ")"));
    }
    return absl::InternalError(absl::StrCat("cannot lock ", path, ": ", std::strerror(err)));
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The pid is only shown by --status; the lock itself is what matters.
  }
  return CellLock(fd);
}

CellLock::CellLock(CellLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

CellLock::~CellLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor of the open file drops the flock
}

absl::Status WriteCellRecord(const std::string& dir, const CellRecord& record) {
  nlohmann::json j;
  j["state"] = CellStateName(record.state);
  j["exit_code"] = record.exit_code;
  j["reason"] = record.reason;
  j["seconds"] = record.seconds;
  return io::WriteFileAtomically((fs::path(dir) / kRecordFile).string(), j.dump(2) + "\n");
}

void ClearCellRecord(const std::string& dir) {
  std::error_code ec;
  fs::remove(fs::path(dir) / kRecordFile, ec);
}

}  // namespace avsl::cli
