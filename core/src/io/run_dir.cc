#include "avsl/io/run_dir.h"

#include <signal.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace avsl::io {
namespace fs = std::filesystem;

absl::StatusOr<RunDir> RunDir::Create(const std::string& root, const std::string& name) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&now));
  fs::path base = fs::path(root) / name / stamp;
  fs::path path = base;
  for (int i = 1; fs::exists(path); ++i) path = base.string() + "-" + std::to_string(i);
  std::error_code ec;
  fs::create_directories(path / "checkpoints", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create run directory ", path.string(), ": ", ec.message()));
  return RunDir(path.string());
}

absl::StatusOr<RunDir> RunDir::CreateAt(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("the run directory path is empty");
  const fs::path dir(path);
  if (fs::exists(dir / "checkpoints" / "last.pt")) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " already holds a run with a checkpoint (checkpoints/last.pt): resume it with 'avsl train --resume ",
        path, "' or choose another directory"));
  }
  std::error_code ec;
  fs::create_directories(dir / "checkpoints", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create run directory ", path, ": ", ec.message()));
  RunDir run(path);
  // Records of an attempt that saved no checkpoint describe work nobody can resume: the new run starts them anew.
  if (fs::exists(dir / "metrics.jsonl")) {
    fs::remove(dir / "metrics.jsonl", ec);
    if (ec)
      return absl::InternalError(absl::StrCat("cannot remove the stale ", path, "/metrics.jsonl: ", ec.message()));
  }
  return run;
}

absl::StatusOr<RunDir> RunDir::Open(const std::string& path) {
  if (!fs::is_directory(path)) return absl::NotFoundError(absl::StrCat("run directory not found: ", path));
  if (!fs::exists(fs::path(path) / "recipe.toml")) {
    return absl::NotFoundError(absl::StrCat(path, " is not a run directory (no recipe.toml)"));
  }
  std::error_code ec;
  fs::create_directories(fs::path(path) / "checkpoints", ec);
  return RunDir(path);
}

RunDir RunDir::Mute(const std::string& path) { return RunDir(path, /*writes=*/false); }

std::string RunDir::File(const std::string& relative) const { return (fs::path(path_) / relative).string(); }

std::string RunDir::CheckpointPath(const std::string& name) const {
  return (fs::path(path_) / "checkpoints" / (name + ".pt")).string();
}

absl::Status RunDir::WriteFile(const std::string& relative, const std::string& contents) const {
  if (!writes_) return absl::OkStatus();
  const fs::path target = fs::path(path_) / relative;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  return WriteFileAtomically(target.string(), contents);
}

void RunDir::Log(const std::string& line) const {
  if (!writes_) return;
  LogToFile(line);
  if (stderr_echo_) std::cerr << line << "\n";
}

void RunDir::LogToFile(const std::string& line) const {
  if (!writes_) return;
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", std::localtime(&now));
  std::ofstream(File("log.txt"), std::ios::app) << stamp << "  " << line << "\n";
}

absl::Status RunDir::AppendMetrics(const std::string& json_line) const {
  if (!writes_) return absl::OkStatus();
  std::ofstream out(File("metrics.jsonl"), std::ios::app);
  out << json_line << "\n";
  out.flush();
  if (!out) return absl::InternalError(absl::StrCat("cannot append to ", File("metrics.jsonl")));
  return absl::OkStatus();
}

std::vector<std::string> RunDir::RemoveStaleTemporaryFiles() const {
  std::vector<std::string> removed;
  if (!writes_) return removed;
  for (const fs::path& dir : {fs::path(path_), fs::path(path_) / "checkpoints"}) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const long long pid = TemporaryFileWriter(entry.path().filename().string());
      if (pid == 0) continue;
      // A writer that still runs (an `avsl eval` of this run, say) keeps its file.
      if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
      std::error_code rm;
      if (fs::remove(entry.path(), rm)) removed.push_back(entry.path().string());
    }
  }
  return removed;
}

absl::StatusOr<int> RunDir::DropMetricsAfterStep(long long step) const {
  if (!writes_) return 0;
  const std::string path = File("metrics.jsonl");
  std::ifstream in(path, std::ios::binary);
  if (!in) return 0;  // nothing logged yet
  std::stringstream kept;
  std::string line;
  int dropped = 0;
  bool repair = false;  // a whole record without its newline
  while (std::getline(in, line)) {
    // A last line without its newline is an append that a kill cut short: kept only if it is whole all the same.
    const bool unterminated = in.eof();
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    const bool after = j.is_object() && j.contains("step") && j["step"].is_number_integer() &&
                       j["step"].get<long long>() > step;
    if (j.is_discarded() || after) {
      ++dropped;
      continue;
    }
    kept << line << "\n";
    repair = repair || unterminated;
  }
  if (dropped == 0 && !repair) return 0;
  if (absl::Status s = WriteFileAtomically(path, kept.str()); !s.ok()) return s;
  return dropped;
}

}  // namespace avsl::io
