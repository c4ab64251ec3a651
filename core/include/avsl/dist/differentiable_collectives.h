// avsl::RankGroup (avsl/core/rank_group.h) on a Communicator: the collectives a method (global negatives) or a
// layer (synchronized BatchNorm) calls inside a training step, as autograd functions whose backward is itself a
// collective, as torch.distributed.nn's are. They run on the Communicator's step channel (its own Gloo group, apart
// from the gradient buckets); half and bfloat16 travel as float32 (Gloo reduces no bfloat16) and come back in the
// caller's dtype.
#pragma once

#include <memory>

#include "avsl/core/export.h"
#include "avsl/core/rank_group.h"
#include "avsl/dist/communicator.h"

namespace avsl::dist {

/// `comm` must outlive the group and have its step channel open (Communicator::OpenStepChannel). Errors (a lost rank)
/// are thrown as std::runtime_error with the Communicator's message, from the forward or the backward pass.
AVSL_EXPORT std::unique_ptr<RankGroup> MakeRankGroup(Communicator* comm);

}  // namespace avsl::dist
