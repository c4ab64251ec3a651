#include "avsl/data/csv.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace avsl::data {

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string reason = err != 0 ? std::strerror(err) : "cannot open";
    if (err == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": file not found (", reason, ")"));
    if (err == EACCES) return absl::PermissionDeniedError(absl::StrCat(path, ": ", reason));
    return absl::InternalError(absl::StrCat(path, ": cannot open (", reason, ")"));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat(path, ": read error"));
  return buffer.str();
}

absl::StatusOr<std::vector<CsvRow>> ParseCsv(const std::string& text, const std::string& source_name) {
  std::vector<CsvRow> rows;
  size_t i = 0;
  const size_t n = text.size();
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;
  int line = 1;

  auto error = [&](int at_line, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ":", at_line, ": ", what));
  };

  while (i < n) {
    CsvRow row;
    row.line = line;
    // An empty line ends no record: the reference's csv.reader would yield [] and then fail on item[0].
    if (text[i] == '\n' || (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')) {
      return error(line, "empty line, expected a CSV record");
    }
    std::string field;
    bool record_done = false;
    while (!record_done) {
      field.clear();
      if (i < n && text[i] == '"') {
        const int quote_line = line;
        ++i;
        bool closed = false;
        while (i < n) {
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (c == '\n') ++line;
          field.push_back(c);
          ++i;
        }
        if (!closed) return error(quote_line, "unterminated quoted field, expected a closing '\"'");
        if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          return error(line, absl::StrCat("unexpected character '", std::string(1, text[i]),
                                          "' after a closing quote, expected ',' or end of line"));
        }
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"') return error(line, "'\"' inside an unquoted field");
          field.push_back(text[i]);
          ++i;
        }
      }
      row.fields.push_back(field);
      if (i >= n) {
        record_done = true;
      } else if (text[i] == ',') {
        ++i;
      } else if (text[i] == '\n') {
        ++i;
        ++line;
        record_done = true;
      } else {  // '\r'
        if (i + 1 >= n || text[i + 1] != '\n') return error(line, "bare carriage return, expected \"\\r\\n\"");
        i += 2;
        ++line;
        record_done = true;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<std::vector<CsvRow>> ReadCsvFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) return text.status();
  return ParseCsv(*text, path);
}

}  // namespace avsl::data
