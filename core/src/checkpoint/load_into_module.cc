#include <torch/torch.h>

#include "avsl/checkpoint/load_into_module.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace avsl::checkpoint {
namespace {

bool HasAnyPrefix(const std::string& key, const std::vector<std::string>& prefixes) {
  for (const std::string& p : prefixes)
    if (absl::StartsWith(key, p)) return true;
  return false;
}

std::string MapKey(const std::string& key, const std::vector<std::pair<std::string, std::string>>& key_map) {
  for (const auto& [from, to] : key_map) {
    if (absl::StartsWith(key, from)) return to + key.substr(from.size());
  }
  return key;
}

std::string Shape(const std::vector<int64_t>& s) { return absl::StrCat("[", absl::StrJoin(s, ", "), "]"); }

std::string List(const std::vector<std::string>& keys, size_t max_listed) {
  std::vector<std::string> shown(keys.begin(), keys.begin() + std::min(keys.size(), max_listed));
  std::string s = absl::StrJoin(shown, ", ");
  if (keys.size() > max_listed) absl::StrAppend(&s, ", ... (", keys.size() - max_listed, " more)");
  return s;
}

// When a missing key ends with an unexpected one at a '.' boundary (or the other way round), the two differ
// only by a prefix; the most frequent such (checkpoint prefix, module prefix) pair is the key_map to suggest.
std::string KeyMapHint(const std::vector<std::string>& missing, const std::vector<std::string>& unexpected) {
  std::map<std::pair<std::string, std::string>, int> votes;
  const size_t cap = 200;  // keeps the quadratic scan cheap on very large mismatches
  for (size_t i = 0; i < std::min(missing.size(), cap); ++i) {
    const std::string& m = missing[i];
    for (size_t j = 0; j < std::min(unexpected.size(), cap); ++j) {
      const std::string& u = unexpected[j];
      if (m.size() > u.size() && absl::EndsWith(m, u) && m[m.size() - u.size() - 1] == '.') {
        ++votes[{"", m.substr(0, m.size() - u.size())}];
      } else if (u.size() > m.size() && absl::EndsWith(u, m) && u[u.size() - m.size() - 1] == '.') {
        ++votes[{u.substr(0, u.size() - m.size()), ""}];
      }
    }
  }
  const std::pair<const std::pair<std::string, std::string>, int>* best = nullptr;
  for (const auto& v : votes)
    if (best == nullptr || v.second > best->second) best = &v;
  if (best == nullptr) return "";
  return absl::StrCat("; hint: ", best->second, " missing/unexpected pairs differ only by a prefix, try key_map {\"",
                      best->first.first, "\", \"", best->first.second, "\"} (in a recipe: [weights] rename = [\"",
                      best->first.first, "=", best->first.second, "\"])");
}

}  // namespace

std::string LoadReport::ToString(size_t max_listed) const {
  std::vector<std::string> parts;
  parts.push_back(absl::StrCat(loaded.size(), " matched"));
  if (!missing.empty()) {
    parts.push_back(absl::StrCat(
        missing.size(), " missing key(s) (in the module, not in the checkpoint): ", List(missing, max_listed)));
  }
  if (!unexpected.empty()) {
    std::map<std::string, std::string> to;
    for (const auto& [a, b] : renamed) to[a] = b;
    std::vector<std::string> shown;
    for (const std::string& u : unexpected) {
      auto it = to.find(u);
      shown.push_back(it == to.end() ? u : absl::StrCat(u, " (as ", it->second, ")"));
    }
    parts.push_back(absl::StrCat(
        unexpected.size(), " unexpected key(s) (in the checkpoint, not in the module): ", List(shown, max_listed)));
  }
  if (!shape_conflicts.empty()) {
    std::vector<std::string> shown;
    for (const ShapeConflict& c : shape_conflicts) {
      shown.push_back(
          absl::StrCat(c.key, ": checkpoint ", Shape(c.checkpoint_shape), " vs module ", Shape(c.module_shape)));
    }
    parts.push_back(absl::StrCat(shape_conflicts.size(), " shape conflict(s): ", List(shown, max_listed)));
  }
  if (!allowed_missing.empty()) parts.push_back(absl::StrCat(allowed_missing.size(), " allowed missing"));
  if (!ignored.empty()) parts.push_back(absl::StrCat(ignored.size(), " ignored"));
  std::vector<std::string> unexpected_mapped;
  for (const std::string& u : unexpected) {
    std::string m = u;
    for (const auto& [a, b] : renamed)
      if (a == u) m = b;
    unexpected_mapped.push_back(m);
  }
  return absl::StrCat(absl::StrJoin(parts, "; "), KeyMapHint(missing, unexpected_mapped));
}

absl::StatusOr<LoadReport> LoadIntoModule(torch::nn::Module& module, const StateDict& state_dict,
                                          const LoadOptions& options) {
  LoadReport report;
  StateDict targets = ModuleStateDict(module);
  std::map<std::string, const torch::Tensor*> target_by_key;
  for (const auto& [k, t] : targets) target_by_key.emplace(k, &t);

  // Module key -> (checkpoint key, tensor).
  std::map<std::string, std::pair<std::string, const torch::Tensor*>> incoming;
  for (const auto& [key, tensor] : state_dict) {
    if (HasAnyPrefix(key, options.ignore_checkpoint_prefixes)) {
      report.ignored.push_back(key);
      continue;
    }
    std::string mapped = MapKey(key, options.key_map);
    if (mapped != key) report.renamed.emplace_back(key, mapped);
    auto [it, inserted] = incoming.emplace(mapped, std::make_pair(key, &tensor));
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(options.source, ": checkpoint keys '", it->second.first, "' and '",
                                                     key, "' both map to module key '", mapped, "'"));
    }
    if (target_by_key.count(mapped) == 0) report.unexpected.push_back(key);
  }
  std::vector<std::pair<torch::Tensor, const torch::Tensor*>> copies;
  for (const auto& [key, target] : targets) {
    auto it = incoming.find(key);
    if (it == incoming.end()) {
      (HasAnyPrefix(key, options.allow_missing_prefixes) ? report.allowed_missing : report.missing).push_back(key);
      continue;
    }
    const torch::Tensor& src = *it->second.second;
    if (src.sizes() != target.sizes()) {
      report.shape_conflicts.push_back({key, src.sizes().vec(), target.sizes().vec()});
      continue;
    }
    copies.emplace_back(target, &src);
    report.loaded.push_back(key);
  }
  if (options.strict && !report.complete()) {
    return absl::FailedPreconditionError(
        absl::StrCat(options.source, " does not match the module: ", report.ToString()));
  }
  torch::NoGradGuard no_grad;
  for (auto& [target, src] : copies) target.copy_(*src);
  return report;
}

}  // namespace avsl::checkpoint
