// One fuzz target per parser that reads outside bytes. A target file defines its entry point with
//   AVSL_FUZZ_TARGET(name) { ... uses data, size ... }
// which is libFuzzer's LLVMFuzzerTestOneInput in the fuzz build (fuzz/CMakeLists.txt, clang, ASan + UBSan) and a
// registered function in the regression test (tests/fuzz/, the normal build), which replays every seed and every
// saved crash input of each target. A target returns normally for any input: a parser's error is an expected
// outcome; a crash, a sanitizer report, an uncaught exception or a hang is a finding.
#pragma once

#include <cstddef>
#include <cstdint>

#ifdef AVSL_FUZZ_REGRESSION
#include <map>
#include <string>

namespace avsl::fuzz {
using TargetFn = int (*)(const uint8_t* data, size_t size);
std::map<std::string, TargetFn>& Targets();
struct RegisterTarget {
  RegisterTarget(const char* name, TargetFn fn) { Targets()[name] = fn; }
};
}  // namespace avsl::fuzz

#define AVSL_FUZZ_TARGET(name)                                                                 \
  static int AvslFuzz_##name(const uint8_t* data, size_t size);                                \
  static const ::avsl::fuzz::RegisterTarget avsl_fuzz_register_##name(#name, AvslFuzz_##name); \
  static int AvslFuzz_##name(const uint8_t* data, size_t size)
#else
#define AVSL_FUZZ_TARGET(name) extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
#endif
