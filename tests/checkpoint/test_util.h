// Helpers shared by the checkpoint tests: temp dirs, files, and running Debian's python3 (the one with
// torch and numpy; the `python3` on PATH may lack them).
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace avsl::checkpoint::testing {

// Directories made by MakeTempDir, removed when the test binary exits unless AVSL_KEEP_TEST_FILES is set
// (to inspect the fixtures Python wrote).
inline std::vector<std::string>& TempDirs() {
  static auto* dirs = new std::vector<std::string>();
  return *dirs;
}

inline void RemoveTempDirs() {
  if (std::getenv("AVSL_KEEP_TEST_FILES") != nullptr) return;
  std::error_code ec;
  for (const std::string& d : TempDirs()) std::filesystem::remove_all(d, ec);
}

inline std::string MakeTempDir() {
  std::string tmpl = ::testing::TempDir() + "avsl_ckpt_XXXXXX";
  char* made = ::mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr) << "mkdtemp " << tmpl;
  if (TempDirs().empty()) std::atexit(RemoveTempDirs);
  TempDirs().push_back(tmpl);
  return tmpl;
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// Runs `/usr/bin/python3 <args>` with stderr merged; returns the exit status and fills `output`.
inline int RunPython(const std::string& args, std::string* output) {
  const std::string cmd = "/usr/bin/python3 " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  if (output != nullptr) *output = out;
  return ::pclose(p);
}

/// Writes `script` to `dir`/name and runs it with `args`.
inline int RunPythonScript(const std::string& dir, const std::string& name, const std::string& script,
                           const std::string& args, std::string* output) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << script;
  return RunPython(path + " " + args, output);
}

/// Whether Debian's python3-torch can be imported (checked once).
inline bool PythonHasTorch() {
  static const bool has = RunPython("-c 'import torch, numpy'", nullptr) == 0;
  return has;
}

}  // namespace avsl::checkpoint::testing
