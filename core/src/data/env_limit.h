// Limits on hostile input (docs/robustness.md) that a user with unusual but honest files may raise.
#pragma once

#include <cstdint>
#include <cstdlib>

#include "absl/strings/numbers.h"

namespace avsl::data {

/// The value of the environment variable `name` when it is a positive integer, else `fallback`.
inline uint64_t LimitFromEnvironment(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  uint64_t value = 0;
  if (text != nullptr && absl::SimpleAtoi(text, &value) && value > 0) return value;
  return fallback;
}

}  // namespace avsl::data
