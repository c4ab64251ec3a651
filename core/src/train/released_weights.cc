#include "avsl/train/released_weights.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "avsl/core/status_macros.h"

namespace avsl::train {

absl::StatusOr<WeightsLayout> WeightsLayoutFromRecipe(const ComponentConfig& root) {
  const ComponentConfig w = root.Sub("weights");
  WeightsLayout layout;
  layout.entry = w.GetString("entry");
  layout.strip_prefixes = w.GetStringArray("strip_prefixes");
  layout.ignore = w.GetStringArray("ignore");
  layout.allow_missing = w.GetStringArray("allow_missing");
  for (const std::string& r : w.GetStringArray("rename")) {
    const size_t eq = r.find('=');
    if (eq == std::string::npos) {  // "=x." (an empty FROM) puts x. before every key no earlier entry matched
      return absl::InvalidArgumentError(absl::StrCat("recipe key 'weights.rename': entry '", r,
                                                     "' is not \"FROM=TO\" (a file key prefix, '=', the method's)"));
    }
    layout.rename.emplace_back(r.substr(0, eq), r.substr(eq + 1));
  }
  return layout;
}

absl::StatusOr<ReleasedWeightsLoad> LoadReleasedWeights(const std::string& path, const WeightsLayout& layout,
                                                        torch::nn::Module& module) {
  checkpoint::StateDictOptions read;
  read.key = layout.entry;
  read.strip_prefixes = layout.strip_prefixes;
  ReleasedWeightsLoad out;
  absl::StatusOr<checkpoint::StateDict> state_dict = checkpoint::LoadStateDict(path, read, &out.file);
  if (!state_dict.ok()) {
    // Only the importer's "where is the state dict" errors (they list the file's entries) are the entry's business;
    // a missing or truncated file is not.
    const absl::string_view m = state_dict.status().message();
    const bool about_entry = absl::StrContains(m, "top-level entries") || absl::StrContains(m, "; it has: ") ||
                             absl::StrContains(m, "its entries") || absl::StrContains(m, ", not a dict");
    if (!about_entry) return state_dict.status();
    return absl::Status(state_dict.status().code(),
                        absl::StrCat(m, " (the recipe's [weights] entry names the dict that holds the state dict)"));
  }
  checkpoint::LoadOptions load;
  load.strict = true;
  load.key_map = layout.rename;
  load.ignore_checkpoint_prefixes = layout.ignore;
  load.allow_missing_prefixes = layout.allow_missing;
  load.source = path;
  absl::StatusOr<checkpoint::LoadReport> report = checkpoint::LoadIntoModule(module, *state_dict, load);
  if (!report.ok()) {
    return absl::Status(report.status().code(),
                        absl::StrCat(report.status().message(),
                                     " (the recipe's [weights] table maps a released file's keys to the method's: "
                                     "entry, strip_prefixes, rename, ignore, allow_missing; docs/model_zoo.md)"));
  }
  out.report = *std::move(report);
  return out;
}

std::string DescribeReleasedWeightsLoad(const std::string& path, const ReleasedWeightsLoad& load) {
  std::string line = absl::StrCat(path, ": ", load.report.loaded.size(), " tensors loaded");
  absl::StrAppend(&line,
                  load.file.source_key.empty() ? " from the top level" : " from entry '" + load.file.source_key + "'");
  if (load.file.prefixes_stripped > 0) absl::StrAppend(&line, ", ", load.file.prefixes_stripped, " keys stripped");
  if (!load.report.renamed.empty()) absl::StrAppend(&line, ", ", load.report.renamed.size(), " renamed");
  if (!load.report.ignored.empty()) absl::StrAppend(&line, ", ", load.report.ignored.size(), " ignored");
  if (!load.report.allowed_missing.empty()) {
    absl::StrAppend(&line, ", left as built: ", absl::StrJoin(load.report.allowed_missing, " "));
  }
  return line;
}

}  // namespace avsl::train
