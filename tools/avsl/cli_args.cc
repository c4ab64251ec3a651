#include "cli_args.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace avsl::cli {

Args::Args(std::string synopsis, std::string summary) : synopsis_(std::move(synopsis)), summary_(std::move(summary)) {}

Args& Args::Option(const std::string& name, const std::string& value_name, const std::string& help, bool repeatable) {
  specs_.push_back({name, value_name, help, false, repeatable});
  return *this;
}

Args& Args::Flag(const std::string& name, const std::string& help) {
  specs_.push_back({name, "", help, true, false});
  return *this;
}

Args& Args::Positional(const std::string& name, const std::string& help, bool required) {
  positional_specs_.emplace_back(name, help);
  if (required) ++required_positionals_;
  return *this;
}

Args& Args::RepeatedPositional(const std::string& name, const std::string& help) {
  Positional(name, help);
  repeated_last_ = true;
  return *this;
}

absl::Status Args::Parse(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      return absl::OkStatus();
    }
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      positionals_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    auto spec = std::find_if(specs_.begin(), specs_.end(), [&](const Spec& s) { return s.name == name; });
    if (spec == specs_.end()) return absl::InvalidArgumentError(absl::StrCat("unknown option '--", name, "'"));
    if (spec->flag) {
      if (has_value) return absl::InvalidArgumentError(absl::StrCat("option '--", name, "' takes no value"));
      values_[name].push_back("true");
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat("option '--", name, "' needs a value"));
      value = argv[++i];
    }
    if (!spec->repeatable && values_.count(name)) {
      return absl::InvalidArgumentError(absl::StrCat("option '--", name, "' given twice"));
    }
    values_[name].push_back(value);
  }
  if (positionals_.size() < required_positionals_) {
    return absl::InvalidArgumentError(absl::StrCat("missing argument ", positional_specs_[positionals_.size()].first));
  }
  if (!repeated_last_ && positionals_.size() > positional_specs_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", positionals_[positional_specs_.size()], "'"));
  }
  return absl::OkStatus();
}

std::string Args::Usage() const {
  std::string out = absl::StrCat("usage: ", synopsis_, "\n\n", summary_, "\n");
  if (!positional_specs_.empty()) {
    out += "\narguments:\n";
    for (const auto& [name, help] : positional_specs_) out += absl::StrFormat("  %-26s %s\n", name, help);
  }
  out += "\noptions:\n";
  for (const Spec& s : specs_) {
    std::string lhs = "--" + s.name + (s.flag ? "" : " " + s.value_name);
    out += absl::StrFormat("  %-26s %s%s\n", lhs, s.help, s.repeatable ? " (repeatable)" : "");
  }
  out += absl::StrFormat("  %-26s %s\n", "--help", "show this help");
  return out;
}

bool Args::Has(const std::string& name) const { return values_.count(name) > 0; }

std::string Args::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace avsl::cli
