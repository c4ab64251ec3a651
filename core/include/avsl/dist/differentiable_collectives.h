// avsl::RankGroup (avsl/core/rank_group.h) on a Communicator: the collectives a method (global negatives) or a
// layer (synchronized BatchNorm) calls inside a training step, as autograd functions whose backward is itself a
// collective, as torch.distributed.nn's are. Collectives run in float32 (Gloo has no bfloat16 reduction) and the
// results come back in the caller's dtype.
#pragma once

#include <memory>

#include "avsl/core/export.h"
#include "avsl/core/rank_group.h"
#include "avsl/dist/communicator.h"

namespace avsl::dist {

/// `comm` must outlive the group. Errors (a lost rank) are thrown as std::runtime_error with the Communicator's
/// message, from the forward or the backward pass.
AVSL_EXPORT std::unique_ptr<RankGroup> MakeRankGroup(Communicator* comm);

}  // namespace avsl::dist
