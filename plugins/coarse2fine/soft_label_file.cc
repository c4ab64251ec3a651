#include "soft_label_file.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace avsl::plugins::coarse2fine {

absl::StatusOr<SoftLabelTable> SoftLabelTable::Load(const std::string& path, int64_t num_classes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("soft label file ", path, ": cannot be opened"));
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path, num_classes);
}

absl::StatusOr<SoftLabelTable> SoftLabelTable::Parse(const std::string& text, const std::string& path,
                                                     int64_t num_classes) {
  SoftLabelTable table;
  table.path_ = path;
  int line_no = 0;
  bool first_data_line = true;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_no;
    absl::string_view line = absl::StripAsciiWhitespace(raw);  // also drops a '\r' of CRLF files
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
    for (absl::string_view& f : fields) f = absl::StripAsciiWhitespace(f);
    const std::string where = absl::StrCat("soft label file ", path, " line ", line_no, ": ");
    const std::string key(fields[0]);
    if (first_data_line && key == "key") {
      first_data_line = false;
      continue;
    }
    first_data_line = false;
    if (key.empty()) return absl::InvalidArgumentError(where + "empty sample key");
    const int64_t n = static_cast<int64_t>(fields.size()) - 1;
    if (n != num_classes && n != 2 * num_classes) {
      return absl::InvalidArgumentError(absl::StrCat(where, "expected ", num_classes, " (both modalities) or ",
                                                     2 * num_classes, " (audio then visual) values after key '", key,
                                                     "', got ", n, " (num_classes = ", num_classes, ")"));
    }
    std::vector<float> values;
    for (int64_t i = 1; i <= n; ++i) {
      const std::string s(fields[static_cast<size_t>(i)]);
      char* end = nullptr;
      errno = 0;
      const double v = s.empty() ? 0 : std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "value ", i, " of key '", key, "' is '", s, "', expected a number in [0, 1]"));
      }
      if (v < 0 || v > 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "value ", i, " of key '", key, "' is ", s, ", outside [0, 1]"));
      }
      values.push_back(static_cast<float>(v));
    }
    SoftLabels row;
    row.line = line_no;
    row.audio.assign(values.begin(), values.begin() + num_classes);
    row.visual = n == num_classes ? row.audio : std::vector<float>(values.begin() + num_classes, values.end());
    auto [it, inserted] = table.rows_.emplace(key, std::move(row));
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "key '", key, "' repeated (first on line ", it->second.line, ")"));
    }
  }
  if (table.rows_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("soft label file ", path, ": no label rows"));
  }
  return table;
}

const SoftLabels* SoftLabelTable::Find(const std::string& key) const {
  auto it = rows_.find(key);
  return it == rows_.end() ? nullptr : &it->second;
}

}  // namespace avsl::plugins::coarse2fine
