// Optimizer component: builds a torch optimizer over the trainable parameters.
#pragma once

#include <memory>
#include <vector>

#include <torch/optim/optimizer.h>

#include "avsl/core/export.h"

namespace avsl {

class AVSL_EXPORT OptimizerFactory {
 public:
  virtual ~OptimizerFactory();
  virtual std::unique_ptr<torch::optim::Optimizer> Create(std::vector<torch::Tensor> params) const = 0;
  /// Base learning rate; schedules scale it.
  virtual double learning_rate() const = 0;
};

}  // namespace avsl
