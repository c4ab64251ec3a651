// Golden values from a Python re-derivation: runs `/usr/bin/python3 SCRIPT OUT_DIR` into a fresh temporary folder
// and loads the flat dict of tensors the script torch.save'd there. The plugins' parity tests (fnac, ssltie,
// sslalign) re-derive a loss in PyTorch on seeded tensors this way and compare values and gradients.
//
// A script exits with 3 when its imports fail (no torch); that, or no python3 at all (126/127), is not an error but a
// skip reason, since python3-torch is a test-only dependency. Header-only, framework-neutral (method_test_kit.h).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "avsl/checkpoint/state_dict.h"

namespace avsl::testkit {

struct PythonFixture {
  std::string skip_reason;  ///< non-empty: /usr/bin/python3 with torch is missing, `tensors` is empty
  std::string script;
  checkpoint::StateDict tensors;

  /// The tensor saved under `key`; a c10::Error naming the key and the script when there is none.
  torch::Tensor Get(const std::string& key) const {
    const torch::Tensor* t = checkpoint::FindTensor(tensors, key);
    TORCH_CHECK(t != nullptr, script, " saved no tensor '", key, "'");
    return *t;
  }
};

/// A fresh folder under the system's temporary directory, named `<stem>_<pid>`, removed with its contents when the
/// value goes out of scope.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& stem)
      : path_(std::filesystem::temp_directory_path() / absl::StrCat(stem, "_", ::getpid())) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    std::filesystem::create_directories(path_, ec);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Runs `/usr/bin/python3 script dir [args...]` (the folder must exist). Returns "" when the script succeeded, a skip
/// reason when python3 or its torch is missing (exit 3, 126, 127), or an error with the script's output.
inline absl::StatusOr<std::string> RunPythonScript(const std::string& script, const std::filesystem::path& dir,
                                                   const std::vector<std::string>& args = {}) {
  namespace fs = std::filesystem;
  const std::string log = dir.string() + ".log";
  std::string cmd = absl::StrCat("/usr/bin/python3 '", script, "' '", dir.string(), "'");
  for (const std::string& arg : args) absl::StrAppend(&cmd, " '", arg, "'");
  absl::StrAppend(&cmd, " > '", log, "' 2>&1");
  const int rc = std::system(cmd.c_str());
  const int code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  std::string text;
  {
    std::ifstream in(log);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::error_code ec;
  fs::remove(log, ec);
  if (code == 3 || code == 126 || code == 127) {
    return absl::StrCat("/usr/bin/python3 with torch is not available (exit ", code,
                        "); install python3-torch python3-torchvision to run ", fs::path(script).filename().string());
  }
  if (code != 0) return absl::InternalError(absl::StrCat("'", cmd, "' exited with ", code, ":\n", text));
  return std::string();
}

/// Runs `script` (a path) with a temporary output folder as its first argument (then `args`) and loads `file` from that
/// folder. The folder is removed afterwards. Errors: the script failed (its output is in the message), or the file is
/// missing or not a torch.save'd dict of tensors.
inline absl::StatusOr<PythonFixture> RunPythonFixture(const std::string& script, const std::string& file,
                                                      const std::vector<std::string>& args = {}) {
  namespace fs = std::filesystem;
  PythonFixture out;
  out.script = script;
  const ScratchDir scratch(absl::StrCat("avsl_fixture_", fs::path(script).stem().string()));
  const fs::path& dir = scratch.path();
  absl::StatusOr<std::string> skip = RunPythonScript(script, dir, args);
  if (!skip.ok()) return skip.status();
  out.skip_reason = *skip;
  if (!out.skip_reason.empty()) return out;
  absl::StatusOr<checkpoint::StateDict> loaded = checkpoint::LoadStateDict((dir / file).string());
  if (!loaded.ok()) return loaded.status();
  out.tensors = std::move(*loaded);
  return out;
}

}  // namespace avsl::testkit
