// Data-parallel gradients: the average over the ranks of every parameter's gradient, as DDP computes it, bucketed
// (~25 MB per all-reduce) and overlapped with the backward pass: a bucket's all-reduce starts, on Gloo's threads,
// as soon as the autograd hooks have seen every gradient in it, while backward goes on with earlier layers.
//
// Buckets are filled in reverse parameter order (the order backward produces gradients) and always started in
// bucket order, so every rank issues the same sequence of collectives whatever its autograd does. A parameter that a
// rank did not use in this step contributes zeros; one that no rank used keeps no gradient (as in a single process),
// which each bucket tracks with a used-flag per parameter summed alongside the gradients.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/status/status.h"
#include "avsl/core/export.h"
#include "avsl/dist/communicator.h"

namespace avsl::dist {

class AVSL_EXPORT GradientSync {
 public:
  /// Registers a gradient hook on each of `params` that requires a gradient. `comm` must outlive this object.
  GradientSync(const std::vector<at::Tensor>& params, Communicator* comm, size_t bucket_bytes = 25u << 20);
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  /// Arms the hooks for one backward pass (clears the buckets).
  void BeforeBackward();
  /// After backward: starts the buckets still waiting (parameters this rank did not use), waits for all and sets
  /// each parameter's gradient to the average over the ranks. Errors name the lost rank (Communicator).
  absl::Status Finish();

  size_t bucket_count() const;
  /// Seconds the last Finish() waited for all-reduces after backward ended: the communication that the overlap
  /// with backward did not hide.
  double last_wait_seconds() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  ///< the hooks hold it weakly: they outlive this object on the parameters
};

}  // namespace avsl::dist
