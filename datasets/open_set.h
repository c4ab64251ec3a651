// datasets.OpenSet: the open-set (heard / unheard classes) split as a split component. The heard classes come
// from a class-list file or an explicit array; `keep` selects the heard or the unheard side.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/component_config.h"
#include "avsl/core/split.h"

namespace avsl::plugins::datasets {

class OpenSetSplit final : public Split {
 public:
  /// `heard`: the heard class names; `keep_heard`: keep items of those classes (else of all other classes).
  OpenSetSplit(std::set<std::string> heard, bool keep_heard) : heard_(std::move(heard)), keep_heard_(keep_heard) {}

  /// Every item needs a class: an item with an empty class_name is an error naming its id, because guessing a
  /// side for it would silently move samples between the heard and unheard sets.
  absl::StatusOr<std::vector<size_t>> Select(const std::vector<SplitItem>& items) const override;

 private:
  std::set<std::string> heard_;
  bool keep_heard_;
};

/// Reads a class-list file: one class name per line (names may contain spaces), LF or CRLF, final newline
/// optional. Errors name the file and line: an empty line, a comma, a duplicate name.
absl::StatusOr<std::vector<std::string>> ReadClassList(const std::string& path);

/// Builds the split from a validated datasets.OpenSet table (also used by datasets.VggSound's `split`).
absl::StatusOr<std::shared_ptr<Split>> MakeOpenSet(const ComponentConfig& config);

}  // namespace avsl::plugins::datasets
