// Metric component: extra numbers computed from an evaluation's per-sample records (`eval.metrics` in a
// recipe); they join metrics.jsonl and metrics.json beside the core metrics.
#pragma once

#include <map>
#include <string>

#include "avsl/core/eval_result.h"
#include "avsl/core/export.h"

namespace avsl {

class AVSL_EXPORT Metric {
 public:
  virtual ~Metric();
  /// Named values (e.g. {"loc_acc@0.3": 0.71}); NaN when undefined.
  virtual std::map<std::string, double> Compute(const EvalResult& result) const = 0;
};

}  // namespace avsl
