#include "avsl/data/split_lists.h"

#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "avsl/core/status_macros.h"
#include "avsl/data/csv.h"

namespace avsl::data {
namespace {

absl::Status LineError(const std::string& path, int line, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": ", what));
}

bool HasSpaceOrComma(const std::string& s) {
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f' || c == ',') return true;
  }
  return false;
}

// Tracks ids already seen so a duplicate reports both line numbers.
class DuplicateCheck {
 public:
  explicit DuplicateCheck(const std::string& path) : path_(path) {}
  absl::Status Add(const std::string& id, int line) {
    auto [it, inserted] = first_line_.emplace(id, line);
    if (inserted) return absl::OkStatus();
    return LineError(path_, line, absl::StrCat("duplicate id ", id, " (first on line ", it->second, ")"));
  }

 private:
  const std::string& path_;
  std::unordered_map<std::string, int> first_line_;
};

}  // namespace

absl::StatusOr<std::vector<std::string>> ReadIdList(const std::string& path, const IdListOptions& options) {
  AVSL_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  std::vector<std::string> ids;
  DuplicateCheck duplicates(path);
  size_t pos = 0;
  int line = 0;
  while (pos < text.size()) {
    ++line;
    size_t end = text.find('\n', pos);
    const bool has_newline = end != std::string::npos;
    if (!has_newline) end = text.size();
    std::string id = text.substr(pos, end - pos);
    pos = has_newline ? end + 1 : end;
    if (!id.empty() && id.back() == '\r') id.pop_back();
    if (id.empty()) return LineError(path, line, "empty line, expected one id per line");
    if (HasSpaceOrComma(id)) {
      return LineError(path, line, absl::StrCat("\"", id, "\" contains whitespace or ',', expected one id"));
    }
    if (options.strip_extension) {
      id = id.substr(0, id.find('.'));
      if (id.empty()) return LineError(path, line, "empty id before the extension");
    }
    AVSL_RETURN_IF_ERROR(duplicates.Add(id, line));
    ids.push_back(std::move(id));
  }
  return ids;
}

absl::StatusOr<std::vector<TestEntry>> ReadTestCsv(const std::string& path) {
  AVSL_ASSIGN_OR_RETURN(std::vector<CsvRow> rows, ReadCsvFile(path));
  std::vector<TestEntry> entries;
  entries.reserve(rows.size());
  DuplicateCheck duplicates(path);
  for (const CsvRow& row : rows) {
    if (row.fields.size() != rows.front().fields.size()) {
      return LineError(path, row.line,
                       absl::StrCat("row has ", row.fields.size(), " fields, expected ", rows.front().fields.size(),
                                    " (as on line ", rows.front().line, ")"));
    }
    const std::string& id = row.fields[0];
    if (id.empty()) return LineError(path, row.line, "empty id in column 1");
    if (HasSpaceOrComma(id)) return LineError(path, row.line, absl::StrCat("id \"", id, "\" contains whitespace"));
    AVSL_RETURN_IF_ERROR(duplicates.Add(id, row.line));
    entries.push_back(TestEntry{id, id, true});
  }
  return entries;
}

absl::StatusOr<std::vector<TestEntry>> ReadExtendedTestCsv(const std::string& path) {
  AVSL_ASSIGN_OR_RETURN(std::vector<CsvRow> rows, ReadCsvFile(path));
  const std::vector<std::string> header = {"video", "audio", "label"};
  if (rows.empty()) return LineError(path, 1, "empty file, expected the header video,audio,label");
  if (rows.front().fields != header) {
    return LineError(
        path, rows.front().line,
        absl::StrCat("header is \"", absl::StrJoin(rows.front().fields, ","), "\", expected \"video,audio,label\""));
  }
  std::vector<TestEntry> entries;
  entries.reserve(rows.size() - 1);
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    if (row.fields.size() != 3) {
      return LineError(path, row.line, absl::StrCat("row has ", row.fields.size(), " fields, expected 3"));
    }
    TestEntry entry{row.fields[0], row.fields[1], false};
    if (entry.video_id.empty() || entry.audio_id.empty()) {
      return LineError(path, row.line, "empty video or audio id");
    }
    if (HasSpaceOrComma(entry.video_id) || HasSpaceOrComma(entry.audio_id)) {
      return LineError(path, row.line, "video or audio id contains whitespace");
    }
    const std::string& label = row.fields[2];
    if (label == "sounding") {
      entry.sounding = true;
    } else if (label != "non-sounding") {
      return LineError(path, row.line,
                       absl::StrCat("label is \"", label, "\", expected \"non-sounding\" or \"sounding\""));
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<TestEntry> CombineExtendedTestSet(const std::vector<TestEntry>& positives,
                                              const std::vector<TestEntry>& extended) {
  std::vector<TestEntry> out = positives;
  for (const TestEntry& e : extended) {
    if (!e.sounding) out.push_back(e);
  }
  return out;
}

std::vector<std::string> VideoIds(const std::vector<TestEntry>& entries) {
  std::vector<std::string> ids;
  ids.reserve(entries.size());
  for (const TestEntry& e : entries) ids.push_back(e.video_id);
  return ids;
}

}  // namespace avsl::data
