#include "avsl/data/overlap.h"

#include <algorithm>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace avsl::data {

OverlapReport FindOverlap(const std::vector<std::string>& train, const std::vector<std::string>& test) {
  const std::unordered_set<std::string> test_set(test.begin(), test.end());
  OverlapReport report;
  for (const std::string& id : train) {
    if (test_set.count(id)) report.ids.push_back(id);
  }
  return report;
}

std::vector<std::string> ExcludeIds(const std::vector<std::string>& train, const std::vector<std::string>& exclude) {
  const std::unordered_set<std::string> drop(exclude.begin(), exclude.end());
  std::vector<std::string> kept;
  kept.reserve(train.size());
  for (const std::string& id : train) {
    if (!drop.count(id)) kept.push_back(id);
  }
  return kept;
}

std::string DescribeOverlap(const OverlapReport& report, size_t train_size, const std::string& train_name,
                            const std::string& test_name, size_t max_listed) {
  std::string out = absl::StrCat(report.count(), " of ", train_size, " train ids (", train_name, ") are test ids (",
                                 test_name, ")");
  if (report.count() == 0) return out;
  const size_t shown = std::min(max_listed, report.count());
  absl::StrAppend(&out, ": ", absl::StrJoin(report.ids.begin(), report.ids.begin() + static_cast<long>(shown), ", "));
  if (shown < report.count()) absl::StrAppend(&out, ", ... (+", report.count() - shown, " more)");
  return out;
}

}  // namespace avsl::data
