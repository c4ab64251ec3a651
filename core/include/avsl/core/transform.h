// Transform component: a per-sample change applied by the loader after Dataset::Get (`data.transforms` in a
// recipe), e.g. training-time audio augmentation. Must be a pure function of (sample, context, index) so
// batches stay identical whatever the worker count.
#pragma once

#include <cstddef>

#include "absl/status/status.h"
#include "avsl/core/dataset.h"
#include "avsl/core/export.h"

namespace avsl {

class AVSL_EXPORT Transform {
 public:
  virtual ~Transform();
  virtual absl::Status Apply(Sample& sample, const SampleContext& context, size_t index) const = 0;
};

}  // namespace avsl
