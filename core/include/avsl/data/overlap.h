// Train/test id overlap. The published lists leak test clips into training (3709 of the 5158 VGG-SS test ids
// are in `vggss_144k.txt`); the reference does not remove them, so we detect and report them and let a recipe
// option exclude them.
#pragma once

#include <string>
#include <vector>

namespace avsl::data {

/// The train ids that are also test ids, in train-list order.
struct OverlapReport {
  std::vector<std::string> ids;
  size_t count() const { return ids.size(); }
};

/// Ids of `train` that appear in `test`.
OverlapReport FindOverlap(const std::vector<std::string>& train, const std::vector<std::string>& test);

/// `train` without the ids in `exclude`, order kept.
std::vector<std::string> ExcludeIds(const std::vector<std::string>& train, const std::vector<std::string>& exclude);

/// One-line summary for run logs, e.g. "3709 of 144000 train ids (vggss_144k) are test ids (vggss_test): a, b,
/// ... (+3704 more)", listing at most `max_listed` ids.
std::string DescribeOverlap(const OverlapReport& report, size_t train_size, const std::string& train_name,
                            const std::string& test_name, size_t max_listed = 5);

}  // namespace avsl::data
