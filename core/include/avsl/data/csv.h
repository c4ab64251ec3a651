// Minimal, strict text/CSV reading shared by the dataset format readers. The published split files mix LF and
// CRLF and often lack the final newline, so every reader goes through here to get those rules in one place.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace avsl::data {

/// One CSV record and the 1-based line on which it starts (for error messages).
struct CsvRow {
  int line = 0;
  std::vector<std::string> fields;
};

/// Reads a whole file as bytes. NotFound / PermissionDenied / Internal errors name the path and the OS reason.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

/// Parses CSV text (RFC 4180 subset): ',' separator; records end with "\n" or "\r\n"; a missing final line
/// ending is accepted; a UTF-8 BOM at the start is dropped; a field that starts with '"' is quoted, may contain
/// ',', '"' (written "") and line breaks, and must be followed by ',' or the end of the record.
/// Strict on everything else: a bare '\r' not followed by '\n', a '"' inside an unquoted field, text after a
/// closing quote, an unterminated quote, and an empty line (other than after the last record) are errors that
/// name `source_name` and the line number.
absl::StatusOr<std::vector<CsvRow>> ParseCsv(const std::string& text, const std::string& source_name);

/// ReadTextFile + ParseCsv with the path as the source name.
absl::StatusOr<std::vector<CsvRow>> ReadCsvFile(const std::string& path);

}  // namespace avsl::data
