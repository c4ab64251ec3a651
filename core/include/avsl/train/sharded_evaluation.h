// A data-parallel validation: each rank scores its shard of the split (the loader's uneven shard), then the ranks
// exchange their per-sample records and every rank computes the metrics over all of them, in dataset order. The
// records are what a single process keeps (avsl/core/eval_result.h), so the metrics equal a single-process
// evaluation exactly, and every rank sees the same values (a recipe hook stops all of them at the same epoch).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "avsl/core/eval_result.h"
#include "avsl/dist/communicator.h"
#include "avsl/metrics/eval_protocol.h"
#include "avsl/train/map_evaluation.h"

namespace avsl::train {

/// The records of `local` with their dataset indices, as bytes (doubles bit-exact).
std::string EncodeShardRecords(const MethodEvaluation& local);
/// Decodes EncodeShardRecords; DataLoss naming `rank` and the offset for a truncated or malformed buffer.
absl::Status DecodeShardRecords(const std::string& bytes, int rank, std::vector<std::pair<size_t, SampleRecord>>* out);

/// Every rank's records of this evaluation, merged by dataset index and scored with `protocol`.
absl::StatusOr<EvalResult> GatherEvaluation(const MethodEvaluation& local, const metrics::EvalProtocol& protocol,
                                            dist::Communicator& comm);

}  // namespace avsl::train
