#include "avsl/data/open_set_split.h"

#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/data/split_lists.h"

namespace avsl::data {

std::vector<LabeledId> LabeledIds(const VggssIndex& index) {
  std::vector<LabeledId> items;
  items.reserve(index.size());
  for (const VggssEntry& e : index.entries()) items.push_back({e.file, e.class_name});
  return items;
}

absl::StatusOr<OpenSetSplit> ComputeOpenSetSplit(const std::vector<LabeledId>& items,
                                                 const std::vector<std::string>& heard_classes,
                                                 const std::optional<std::vector<std::string>>& unheard_classes) {
  std::set<std::string> present;
  for (const LabeledId& item : items) present.insert(item.class_name);
  const std::set<std::string> heard(heard_classes.begin(), heard_classes.end());
  for (const std::string& c : heard) {
    if (!present.count(c)) return absl::InvalidArgumentError(absl::StrCat("heard class \"", c, "\" has no test ids"));
  }
  std::set<std::string> unheard;
  if (unheard_classes) {
    for (const std::string& c : *unheard_classes) {
      if (!present.count(c)) {
        return absl::InvalidArgumentError(absl::StrCat("unheard class \"", c, "\" has no test ids"));
      }
      if (heard.count(c)) {
        return absl::InvalidArgumentError(absl::StrCat("class \"", c, "\" is both heard and unheard"));
      }
      unheard.insert(c);
    }
  } else {
    for (const std::string& c : present) {
      if (!heard.count(c)) unheard.insert(c);
    }
  }
  OpenSetSplit split;
  split.heard_classes.assign(heard.begin(), heard.end());
  split.unheard_classes.assign(unheard.begin(), unheard.end());
  for (const std::string& c : present) {
    if (!heard.count(c) && !unheard.count(c)) split.excluded_classes.push_back(c);
  }
  for (const LabeledId& item : items) {
    if (heard.count(item.class_name)) {
      split.heard_test_ids.push_back(item.id);
    } else if (unheard.count(item.class_name)) {
      split.unheard_test_ids.push_back(item.id);
    } else {
      split.excluded_test_ids.push_back(item.id);
    }
  }
  return split;
}

absl::StatusOr<OpenSetSplit> ComputeOpenSetSplit(const VggssIndex& index, const std::vector<std::string>& heard_classes,
                                                 const std::optional<std::vector<std::string>>& unheard_classes) {
  return ComputeOpenSetSplit(LabeledIds(index), heard_classes, unheard_classes);
}

absl::StatusOr<OpenSetSplit> ReadPublishedOpenSetSplit(const VggssIndex& index, const std::string& heard_test_csv,
                                                       const std::string& unheard_test_csv) {
  AVSL_ASSIGN_OR_RETURN(std::vector<TestEntry> heard, ReadTestCsv(heard_test_csv));
  AVSL_ASSIGN_OR_RETURN(std::vector<TestEntry> unheard, ReadTestCsv(unheard_test_csv));

  OpenSetSplit split;
  // class -> the file that first gave it a side, to report a class split across both files.
  std::map<std::string, std::string> side_of_class;
  std::set<std::string> heard_ids;
  auto take = [&](const std::vector<TestEntry>& entries, const std::string& path, bool is_heard,
                  std::vector<std::string>* ids) -> absl::Status {
    for (const TestEntry& e : entries) {
      const VggssEntry* entry = index.Find(e.video_id);
      if (entry == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("open-set split ", path, ": id ", e.video_id, " is not in the vggss annotations"));
      }
      if (!is_heard && heard_ids.count(e.video_id)) {
        return absl::InvalidArgumentError(
            absl::StrCat("open-set split ", path, ": id ", e.video_id, " is also in ", heard_test_csv));
      }
      if (is_heard) heard_ids.insert(e.video_id);
      auto [it, inserted] = side_of_class.emplace(entry->class_name, path);
      if (!inserted && it->second != path) {
        return absl::InvalidArgumentError(absl::StrCat("open-set split ", path, ": class \"", entry->class_name,
                                                       "\" (id ", e.video_id, ") is also in ", it->second));
      }
      ids->push_back(e.video_id);
    }
    return absl::OkStatus();
  };
  AVSL_RETURN_IF_ERROR(take(heard, heard_test_csv, true, &split.heard_test_ids));
  AVSL_RETURN_IF_ERROR(take(unheard, unheard_test_csv, false, &split.unheard_test_ids));

  for (const auto& [cls, path] : side_of_class) {
    (path == heard_test_csv ? split.heard_classes : split.unheard_classes).push_back(cls);
  }
  std::set<std::string> listed(split.heard_test_ids.begin(), split.heard_test_ids.end());
  listed.insert(split.unheard_test_ids.begin(), split.unheard_test_ids.end());
  std::set<std::string> excluded;
  for (const VggssEntry& e : index.entries()) {
    if (listed.count(e.file)) continue;
    split.excluded_test_ids.push_back(e.file);
    if (!side_of_class.count(e.class_name)) excluded.insert(e.class_name);
  }
  split.excluded_classes.assign(excluded.begin(), excluded.end());
  return split;
}

}  // namespace avsl::data
