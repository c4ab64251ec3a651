// Dataset component: an indexable collection of audio-visual samples, torch-free. The loader turns samples
// into batches; collation into tensors happens only in the trainer.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "avsl/core/export.h"
#include "avsl/core/sample.h"

namespace avsl {

class AVSL_EXPORT Dataset {
 public:
  virtual ~Dataset();
  virtual size_t size() const = 0;
  /// Sample `index` (0 <= index < size()). Errors name the files involved and why.
  virtual absl::StatusOr<Sample> Get(size_t index, const SampleContext& context) const = 0;
  /// A short description of sample `index` (its key and files) for logs and error messages.
  virtual std::string Describe(size_t index) const = 0;
};

}  // namespace avsl
