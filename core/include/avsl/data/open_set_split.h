// Open-set (heard / unheard classes) evaluation split of SLAVC/EZ-VSL: either the published test lists
// (`vggss_heard_test.csv`, `vggss_unheard_test.csv`) checked against vggss.json, or computed from any
// (id, class) list and a choice of heard classes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/data/vggss_annotation.h"

namespace avsl::data {

/// A test id and its class.
struct LabeledId {
  std::string id;
  std::string class_name;
};

/// The two test subsets and the classes behind them.
struct OpenSetSplit {
  std::vector<std::string> heard_test_ids;    ///< in the order of the source list.
  std::vector<std::string> unheard_test_ids;  ///< in the order of the source list.
  std::vector<std::string> heard_classes;     ///< sorted.
  std::vector<std::string> unheard_classes;   ///< sorted.
  /// Classes present in the labelled set but in neither side (e.g. `singing choir` in the published split),
  /// sorted, with the ids left out because of them.
  std::vector<std::string> excluded_classes;
  std::vector<std::string> excluded_test_ids;
};

/// Computes the split of `items`: ids whose class is in `heard_classes` are heard; with `unheard_classes`
/// given, ids of those classes are unheard and all others excluded, otherwise every other id is unheard.
/// A class named in either list but absent from `items`, or named in both, is an error (it is a typo or an
/// inconsistent split).
absl::StatusOr<OpenSetSplit> ComputeOpenSetSplit(
    const std::vector<LabeledId>& items, const std::vector<std::string>& heard_classes,
    const std::optional<std::vector<std::string>>& unheard_classes = std::nullopt);

/// Same, with the (file, class) pairs of a vggss.json index in file order.
absl::StatusOr<OpenSetSplit> ComputeOpenSetSplit(
    const VggssIndex& index, const std::vector<std::string>& heard_classes,
    const std::optional<std::vector<std::string>>& unheard_classes = std::nullopt);

/// Reads the published heard/unheard test lists (test-CSV format) and derives their classes from `index`.
/// Errors name the file: an id not in the index, an id on both sides, a class on both sides.
absl::StatusOr<OpenSetSplit> ReadPublishedOpenSetSplit(const VggssIndex& index, const std::string& heard_test_csv,
                                                       const std::string& unheard_test_csv);

/// The (file, class) pairs of a vggss.json index, in file order.
std::vector<LabeledId> LabeledIds(const VggssIndex& index);

}  // namespace avsl::data
