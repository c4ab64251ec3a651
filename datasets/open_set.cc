#include "open_set.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/data/csv.h"
#include "components.h"

namespace avsl::plugins::datasets {

absl::StatusOr<std::vector<size_t>> OpenSetSplit::Select(const std::vector<SplitItem>& items) const {
  std::vector<size_t> kept;
  for (size_t i = 0; i < items.size(); ++i) {
    const SplitItem& item = items[i];
    if (item.class_name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("datasets.OpenSet: id ", item.video_id,
                                                     " has no class; the open-set split needs the class of every "
                                                     "id (e.g. from the dataset's annotations file)"));
    }
    if ((heard_.count(item.class_name) > 0) == keep_heard_) kept.push_back(i);
  }
  return kept;
}

absl::StatusOr<std::vector<std::string>> ReadClassList(const std::string& path) {
  AVSL_ASSIGN_OR_RETURN(std::vector<data::CsvRow> rows, data::ReadCsvFile(path));
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const data::CsvRow& row : rows) {
    if (row.fields.size() != 1 || row.fields[0].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("class list ", path, ":", row.line,
                                                     ": expected one class name, "
                                                     "found ",
                                                     row.fields.size(), " comma-separated field(s)"));
    }
    if (!seen.insert(row.fields[0]).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("class list ", path, ":", row.line, ": duplicate class \"", row.fields[0], "\""));
    }
    names.push_back(row.fields[0]);
  }
  return names;
}

absl::StatusOr<std::shared_ptr<Split>> MakeOpenSet(const ComponentConfig& c) {
  const std::vector<std::string> listed = c.GetStringArray("classes");
  const bool has_file = c.Has("classes_file");
  if (has_file == !listed.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("datasets.OpenSet ", c.path(),
                                                   ": give exactly one of classes_file and classes (got ",
                                                   has_file ? "both" : "neither", ")"));
  }
  std::vector<std::string> heard = listed;
  if (has_file) {
    AVSL_ASSIGN_OR_RETURN(heard, ReadClassList(c.GetString("classes_file")));
  }
  std::set<std::string> heard_set;
  for (const std::string& name : heard) {
    if (!heard_set.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("datasets.OpenSet ", c.path(), ": class \"", name, "\" is listed twice"));
    }
  }
  if (heard_set.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("datasets.OpenSet ", c.path(), ": the heard class list is empty"));
  }
  return std::make_shared<OpenSetSplit>(std::move(heard_set), c.GetString("keep") == "heard");
}

void RegisterOpenSet(Registrar& registrar) {
  Schema s("Open-set split: keep the ids whose class is heard, or those whose class is not");
  s.OptionalString("classes_file", "file of heard class names, one per line (e.g. metadata/heard_classes.txt)");
  s.StringArray("classes", {}, "heard class names, instead of classes_file");
  s.String("keep", "heard", "which side to keep: heard (classes listed) or unheard (every other class)")
      .OneOf({"heard", "unheard"});
  registrar.Register<Split>("OpenSet", std::move(s), MakeOpenSet,
                            "heard/unheard classes split (SLAVC open-set evaluation) from a class list");
}

}  // namespace avsl::plugins::datasets
