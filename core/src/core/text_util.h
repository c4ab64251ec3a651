// Private: small text helpers for messages.
#pragma once

#include <string>

namespace avsl {

/// "an optimizer", "a method", "an integer".
inline std::string WithArticle(const std::string& noun) {
  const bool vowel = !noun.empty() && std::string("aeiou").find(noun[0]) != std::string::npos;
  return (vowel ? "an " : "a ") + noun;
}

}  // namespace avsl
