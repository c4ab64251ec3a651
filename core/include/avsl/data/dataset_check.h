// Reading every item of a dataset once, as training or evaluation would (decoded, not just stat'ed), and sorting
// the failures into missing files and unreadable or corrupt ones: `avsl data check` runs it on each split of a
// recipe before hours of training find a truncated JPEG in epoch 7. Torch-free.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "avsl/core/dataset.h"

namespace avsl::data {

struct DatasetProblem {
  size_t index = 0;
  std::string item;   ///< Dataset::Describe(index): the sample key and its files
  std::string error;  ///< the reader's message (names the file)
};

struct DatasetCheck {
  size_t listed = 0;                    ///< items the dataset's lists name
  std::vector<DatasetProblem> missing;  ///< a file is not there (NotFound)
  std::vector<DatasetProblem> corrupt;  ///< present but unreadable: truncated, malformed, wrong format, ...
  size_t usable() const { return listed - missing.size() - corrupt.size(); }
  bool ok() const { return missing.empty() && corrupt.empty(); }
};

/// Gets every item of `dataset` in evaluation mode (no augmentation) on `threads` threads (0 = all cores) and
/// classifies each failure; problems come back in index order whatever the thread count. `on_progress`, when set,
/// is called with the number of items done (from the calling thread only, at most every 1 %).
DatasetCheck CheckDataset(const Dataset& dataset, int threads,
                          const std::function<void(size_t done, size_t total)>& on_progress = {});

}  // namespace avsl::data
