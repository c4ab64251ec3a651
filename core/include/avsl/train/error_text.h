// Error text for people: an exception thrown inside a method (TORCH_CHECK raises c10::Error, whose what() carries
// a C++ backtrace of dozens of lines) becomes one line, unless the user asked for the full text (`--verbose`).
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace avsl::train {

/// The text that starts a c10::Error's backtrace in what() ("Exception raised from <function> at <file>:<line>
/// (most recent call first): frame #0 ...").
inline constexpr char kBacktraceMarker[] = "Exception raised from";

/// `text` as one line: cut where a c10 backtrace starts (kBacktraceMarker), every run of whitespace that holds a
/// line break replaced by one space, trimmed, and at most 1000 characters (longer text ends with " [...]").
std::string OneLineError(std::string_view text);

/// What to tell the user about `e`. verbose: e.what() as it is (for a c10::Error, message and backtrace).
/// Otherwise one line: a c10::Error's what_without_backtrace(), another exception's what(), through OneLineError.
std::string DescribeException(const std::exception& e, bool verbose);

/// `status` with a c10 backtrace quoted in its message (an e.what() embedded by a lower layer) cut off and the
/// message folded onto one line by OneLineError; a message without kBacktraceMarker is returned unchanged.
absl::Status WithoutBacktrace(const absl::Status& status);

}  // namespace avsl::train
