// Helpers shared by the data-format tests: where the published reference files are kept, and small
// hand-made fixtures under ::testing::TempDir().
#pragma once

#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace avsl::data::testing {

/// <repo root>/../shared/data/reference: the published split lists and annotation files (<upstream repo>/metadata/
/// of SLAVC, EZ-VSL, LVS, ...; see docs/datasets.md, 'Where the published files come from'). They are not shipped
/// with avsl; tests that need a file from it GTEST_SKIP() with MissingReference(path) when it is absent.
inline std::string ReferenceDir() { return std::string(AVSL_SOURCE_DIR) + "/../shared/data/reference"; }

inline bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

/// The GTEST_SKIP() message for an absent reference file or folder.
inline std::string MissingReference(const std::string& path) {
  return "published reference files not found at " + path;
}

/// A fresh directory <TempDir>/avsl_<name>_XXXXXX (no trailing '/').
inline std::string MakeTempDir(const std::string& name) {
  std::string base = ::testing::TempDir();
  if (!base.empty() && base.back() == '/') base.pop_back();
  std::string tmpl = base + "/avsl_" + name + "_XXXXXX";
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr) << "mkdtemp " << tmpl;
  return tmpl;
}

/// Writes `text` verbatim (binary, so "\r\n" stays) and returns `path`.
inline std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return path;
}

}  // namespace avsl::data::testing
