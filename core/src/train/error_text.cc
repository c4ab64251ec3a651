#include "avsl/train/error_text.h"

#include <c10/util/Exception.h>

#include <cctype>

namespace avsl::train {

std::string OneLineError(std::string_view text) {
  constexpr size_t kMaxLength = 1000;
  const size_t marker = text.find(kBacktraceMarker);
  if (marker != std::string_view::npos) text = text.substr(0, marker);
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!std::isspace(c)) {
      out.push_back(text[i]);
      ++i;
      continue;
    }
    // A run of whitespace: kept as it is on one line, one space when it holds a line break.
    size_t end = i;
    bool breaks = false;
    while (end < text.size() && std::isspace(static_cast<unsigned char>(text[end]))) {
      breaks = breaks || text[end] == '\n' || text[end] == '\r';
      ++end;
    }
    if (breaks) {
      out.push_back(' ');
    } else {
      out.append(text.substr(i, end - i));
    }
    i = end;
  }
  const size_t first = out.find_first_not_of(" \t\v\f");
  if (first == std::string::npos) return "";
  const size_t last = out.find_last_not_of(" \t\v\f");
  out = out.substr(first, last - first + 1);
  if (out.size() > kMaxLength) out = out.substr(0, kMaxLength) + " [...]";
  return out;
}

std::string DescribeException(const std::exception& e, bool verbose) {
  if (verbose) return e.what();
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&e)) {
    return OneLineError(torch_error->what_without_backtrace());
  }
  return OneLineError(e.what());
}

absl::Status WithoutBacktrace(const absl::Status& status) {
  const std::string_view message(status.message().data(), status.message().size());  // absl's may not be std's
  if (status.ok() || message.find(kBacktraceMarker) == std::string_view::npos) return status;
  return absl::Status(status.code(), OneLineError(message));
}

}  // namespace avsl::train
