// A data-parallel evaluation (the validation after each epoch, the final test): each rank scores its shard of the
// split (the loader's uneven shard), then the ranks exchange what each sample contributed (the per-sample record,
// its audio-dependence peak and interactive scores, the negative-audio samples) and every rank merges them in dataset
// order and scores them. What a single process keeps is exchanged bit for bit, so the metrics equal a single-process
// evaluation exactly, and every rank sees the same values (a recipe hook stops all of them at the same epoch).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/dist/communicator.h"
#include "avsl/metrics/eval_protocol.h"
#include "avsl/train/map_evaluation.h"

namespace avsl::train {

/// `local`'s per-sample contributions with their dataset indices (doubles bit-exact), and its confidence rule.
std::string EncodeShard(const MethodEvaluation& local);
/// Decodes EncodeShard into `out` (appending to indices, result.samples, contributions and negatives; confidence
/// set). DataLoss naming `rank` and the offset for a truncated or malformed buffer.
absl::Status DecodeShard(const std::string& bytes, int rank, MethodEvaluation* out);

/// Every rank's shard of this evaluation, merged by dataset index and scored with `protocol`: the result, audio
/// dependence, negative-audio and interactive scores of one process over the whole split, and the confidence rule
/// of the shard that holds its last sample. Every rank calls it, also one whose shard failed (`local` an error): all
/// then return an error naming the failed rank and its cause.
absl::StatusOr<MethodEvaluation> GatherMethodEvaluation(const absl::StatusOr<MethodEvaluation>& local,
                                                        const metrics::EvalProtocol& protocol,
                                                        dist::Communicator& comm);

}  // namespace avsl::train
