// The other ranks of a data-parallel job, as a method or a layer sees them inside one training step. The trainer
// opens a DataParallelStepScope around TrainStep when the recipe asks for it (`train.global_negatives`,
// `train.sync_bn`) and the job has more than one rank; everywhere else (one process, validation, `avsl eval`) the
// accessors return null and GatherNegatives is the identity, so a method written for one process runs unchanged.
//
// Gradients cross ranks the way torch.distributed.nn's collectives send them: the backward of a gather sums the
// gradient of the gathered tensor over the ranks and hands each rank its own rows. With the gradient average the
// trainer takes over ranks, a loss that is a mean over this rank's samples then has exactly the gradient of the
// single-process loss over the global batch (docs/distributed.md).
#pragma once

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>

#include "avsl/core/export.h"

namespace avsl {

/// Every rank's rows of a tensor, in rank order, and where this rank's rows sit among them.
struct GatheredRows {
  at::Tensor all;         ///< [sum of the ranks' rows, ...]
  int64_t offset = 0;     ///< this rank's rows are all[offset, offset + local rows)
  bool gathered = false;  ///< false: `all` is the local tensor itself (no data-parallel scope)
};

class AVSL_EXPORT RankGroup {
 public:
  virtual ~RankGroup();
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  /// Every rank's `local` concatenated along dim 0 (row counts may differ; the other dims must agree).
  /// Differentiable: `local` receives this rank's rows of the gradient of `all` summed over the ranks.
  /// Every rank must call it at the same point of the step. Throws std::runtime_error naming the lost rank when a
  /// peer is gone (the trainer reports it with the step).
  virtual GatheredRows AllGather(const at::Tensor& local) = 0;
  /// The sum of `local` over the ranks (same shape everywhere). Differentiable: the backward sums the gradient
  /// over the ranks.
  virtual at::Tensor AllReduceSum(const at::Tensor& local) = 0;
};

/// Installs, for the current thread, the groups of one training step: `negatives` for GatherNegatives (null =
/// local negatives) and `batch_norm` for synchronized batch statistics (null = per-process statistics). Restores
/// the previous ones on destruction.
class AVSL_EXPORT DataParallelStepScope {
 public:
  DataParallelStepScope(RankGroup* negatives, RankGroup* batch_norm);
  ~DataParallelStepScope();
  DataParallelStepScope(const DataParallelStepScope&) = delete;
  DataParallelStepScope& operator=(const DataParallelStepScope&) = delete;
  /// GatherNegatives calls that gathered inside this scope (the trainer refuses `train.global_negatives` for a
  /// method that gathers nothing: the option would silently do nothing).
  int negatives_gathered() const { return negatives_gathered_; }

 private:
  friend AVSL_EXPORT GatheredRows GatherNegatives(const at::Tensor& local);
  RankGroup* previous_negatives_;
  RankGroup* previous_batch_norm_;
  DataParallelStepScope* previous_scope_;
  int negatives_gathered_ = 0;
};

/// The group of this step's synchronized BatchNorm, or null (avsl/models/batch_norm.h uses it).
AVSL_EXPORT RankGroup* BatchNormRankGroup();

/// A sample key as a 64-bit number, the same in every process (FNV-1a, never 0): how a method sends the keys of its
/// rows through RankGroup::AllGather (a tensor), e.g. to keep one row per sample of a bank gathered from every rank
/// at the epoch's end (TrainEvent::ranks). SDK 1.6.
AVSL_EXPORT uint64_t SampleKeyHash(const std::string& key);

/// For a contrastive method's in-batch negatives: every rank's rows of `local` (an embedding whose dim 0 is the
/// batch) when `train.global_negatives` is on in a data-parallel step, `{local, 0, false}` otherwise. A loss over
/// this rank's samples against `all` then sees the negatives a single process with the global batch would see.
AVSL_EXPORT GatheredRows GatherNegatives(const at::Tensor& local);

}  // namespace avsl
