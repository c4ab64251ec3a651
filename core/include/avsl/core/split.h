// Split component: selects which ids of a dataset's list take part (e.g. the open-set heard/unheard split).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/export.h"

namespace avsl {

struct SplitItem {
  std::string video_id;
  std::string audio_id;
  std::string class_name;  ///< "" when unknown
};

class AVSL_EXPORT Split {
 public:
  virtual ~Split();
  /// Indices of `items` kept by this split, in their original order.
  virtual absl::StatusOr<std::vector<size_t>> Select(const std::vector<SplitItem>& items) const = 0;
};

}  // namespace avsl
