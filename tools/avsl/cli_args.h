// Minimal, strict command-line parsing for the avsl subcommands: unknown flags are usage errors (exit 2).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace avsl::cli {

class Args {
 public:
  /// `synopsis`: e.g. "avsl recipe dump RECIPE [--set KEY=VALUE]..."; `summary`: one paragraph.
  Args(std::string synopsis, std::string summary);

  /// --name VALUE (or --name=VALUE); `repeatable` collects every occurrence.
  Args& Option(const std::string& name, const std::string& value_name, const std::string& help,
               bool repeatable = false);
  Args& Flag(const std::string& name, const std::string& help);
  Args& Positional(const std::string& name, const std::string& help, bool required = true);
  /// The last positional takes one or more values (e.g. RUN_DIR...); read them with Positionals().
  Args& RepeatedPositional(const std::string& name, const std::string& help);

  /// Parses argv[first..]. `--help`/`-h` sets help() and stops.
  absl::Status Parse(int argc, char** argv, int first);

  bool help() const { return help_; }
  std::string Usage() const;
  bool Has(const std::string& name) const;
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> GetAll(const std::string& name) const;
  std::string Positional(size_t i) const { return i < positionals_.size() ? positionals_[i] : ""; }
  size_t positional_count() const { return positionals_.size(); }
  const std::vector<std::string>& Positionals() const { return positionals_; }

 private:
  struct Spec {
    std::string name, value_name, help;
    bool flag = false, repeatable = false;
  };
  std::string synopsis_, summary_;
  std::vector<Spec> specs_;
  std::vector<std::pair<std::string, std::string>> positional_specs_;
  size_t required_positionals_ = 0;
  bool repeated_last_ = false;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
  bool help_ = false;
};

}  // namespace avsl::cli
