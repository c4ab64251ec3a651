// A multi-threaded prefetching batch loader over an avsl::Dataset, torch-free.
//
// Determinism: the batch order is a permutation drawn from (seed, epoch) with a counter-based generator, and
// every sample is Dataset::Get(index, {seed, epoch, train}), so batches are identical whatever the worker
// count and whichever thread computed a sample. Resuming at (epoch, position) therefore yields exactly the
// batches an uninterrupted run would have produced from that position on.
//
// Broken samples are never silently replaced by other ones (the reference loaders do that): with
// OnError::kError the loader stops and returns the error naming the sample; with OnError::kSkip the sample is
// left out of its batch and recorded in skipped().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/core/dataset.h"
#include "avsl/core/export.h"
#include "avsl/core/transform.h"

namespace avsl::data {

/// How a data-parallel job splits an epoch's order among its ranks (LoaderOptions::world_size > 1). Rank r takes
/// positions r, r + W, r + 2W, ... of the order (torch's DistributedSampler), so after k steps of batch B the W
/// ranks together have consumed exactly the first k·B·W positions, whatever W: a resume under another world size
/// continues from the same sample position.
enum class ShardTail {
  kPad,     ///< repeat the order's first positions until it divides by W (DistributedSampler's default): every
            ///< rank has as many samples, a few are seen twice per epoch
  kDrop,    ///< drop the last positions (n mod W of them): every rank has as many samples, a few are not seen
  kUneven,  ///< neither: ranks differ by one sample (evaluation, which gathers the records and has no steps to match)
};

/// "pad" / "drop" (the recipe's `data.shard_tail`); anything else is InvalidArgument.
absl::StatusOr<ShardTail> ParseShardTail(const std::string& name);

/// What to do with a sample whose Dataset::Get fails.
enum class OnError {
  kError,  ///< stop: Next() returns the error, naming the sample and why
  kSkip,   ///< leave the sample out of its batch, count it and list it in skipped()
};

/// "error" / "skip" (the recipe's `data.on_error`); anything else is InvalidArgument.
absl::StatusOr<OnError> ParseOnError(const std::string& name);

struct LoaderOptions {
  size_t batch_size = 32;
  size_t workers = 2;      ///< threads computing samples; 0 computes them in the thread that calls Next()
  size_t prefetch = 4;     ///< batches that may be in flight or ready ahead of the consumer (>= 1)
  bool shuffle = true;     ///< per-epoch permutation from (seed, epoch); false keeps dataset order
  bool drop_last = false;  ///< drop the final batch when it would be smaller than batch_size
  OnError on_error = OnError::kError;
  uint64_t seed = 0;      ///< order and augmentation seed (SampleContext::seed)
  bool train = false;     ///< SampleContext::train: training-time augmentation on/off
  size_t rank = 0;        ///< this process's shard of every epoch (ShardTail)
  size_t world_size = 1;  ///< 1: the whole order
  ShardTail shard_tail = ShardTail::kPad;
  /// Next() also returns batches whose samples were all skipped (empty samples), so that every rank of a
  /// data-parallel job takes the same number of steps.
  bool return_empty_batches = false;
  /// Applied in order to every sample after Dataset::Get, in the worker that computed it.
  std::vector<std::shared_ptr<const Transform>> transforms;
};

/// One batch, in permutation order. Skipped samples are absent, so samples.size() may be < batch_size.
struct SampleBatch {
  uint64_t epoch = 0;
  size_t batch_index = 0;  ///< position in the epoch; resume with StartEpoch(epoch, batch_index + 1)
  /// Positions of the epoch's order that all ranks together have consumed once this batch (and the same batch of
  /// every other rank) is done; resume with StartEpochAtSample(epoch, epoch_position).
  size_t epoch_position = 0;
  std::vector<size_t> indices;  ///< dataset index of each sample
  std::vector<Sample> samples;
};

/// A sample left out under OnError::kSkip.
struct SkippedSample {
  uint64_t epoch = 0;
  size_t batch_index = 0;
  size_t index = 0;         ///< dataset index
  std::string description;  ///< Dataset::Describe(index)
  absl::Status status;      ///< why Get failed
};

/// One line for the run log: "epoch 3 batch 17: sample 42 (<description>) skipped: <reason>".
std::string FormatSkipped(const SkippedSample& skipped);

/// The permutation of [0, n) used for `epoch`: Fisher-Yates driven by SplitMix64 counters keyed by
/// (seed, epoch) with unbiased bounded integers, so it is the same on every platform and standard library.
std::vector<size_t> EpochPermutation(size_t n, uint64_t seed, uint64_t epoch);

class AVSL_EXPORT Loader {
 public:
  /// Fails on a null dataset, batch_size 0 or prefetch 0.
  static absl::StatusOr<std::unique_ptr<Loader>> Create(std::shared_ptr<const Dataset> dataset,
                                                        const LoaderOptions& options);
  /// Stops and joins the workers (they finish the sample they are computing; queued work is dropped).
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// Begins `epoch` at batch `start_batch` (the number of batches already consumed, 0 for a fresh epoch),
  /// abandoning any epoch in progress. OutOfRange if start_batch > batches_per_epoch().
  absl::Status StartEpoch(uint64_t epoch, size_t start_batch = 0);
  /// Begins `epoch` after its first `start_sample` positions (all ranks together; ShardTail): the rest of the order
  /// is sharded among the ranks. OutOfRange if start_sample > dataset_size(). With one rank and start_sample =
  /// b × batch_size this is StartEpoch(epoch, b).
  absl::Status StartEpochAtSample(uint64_t epoch, size_t start_sample);

  /// The next batch, std::nullopt at the end of the epoch. Batches whose samples were all skipped are not
  /// returned (their positions still count). Under OnError::kError a failed sample ends the epoch: the error
  /// is returned (code of the dataset's error, message naming the sample) now and by every later call until
  /// StartEpoch. FailedPrecondition before the first StartEpoch.
  absl::StatusOr<std::optional<SampleBatch>> Next();

  /// Of a whole epoch on this rank.
  size_t batches_per_epoch() const;
  size_t dataset_size() const { return dataset_->size(); }
  const LoaderOptions& options() const { return options_; }
  /// Samples skipped so far (all epochs), in the order their batches were delivered.
  const std::vector<SkippedSample>& skipped() const { return skipped_; }
  size_t skipped_count() const { return skipped_.size(); }

 private:
  struct PendingBatch {
    std::vector<std::optional<absl::StatusOr<Sample>>> results;
    size_t remaining = 0;
  };

  Loader(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options);
  void StopWorkers();
  void WorkerLoop();
  absl::StatusOr<Sample> Compute(size_t index) const;  ///< Get(), with exceptions turned into a Status
  size_t BatchBegin(size_t batch) const { return batch * options_.batch_size; }
  size_t BatchEnd(size_t batch) const;
  /// Batches of a shard of `length` samples.
  size_t BatchesOf(size_t length) const;
  /// This rank's positions of the `n` global positions left in an epoch.
  size_t ShardLength(size_t n) const;
  /// Turns computed results into a batch (applying the error policy); its samples are empty when every sample was
  /// skipped.
  absl::StatusOr<SampleBatch> Assemble(size_t batch, PendingBatch&& pending);

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  std::vector<SkippedSample> skipped_;  // consumer thread only

  // Epoch state; written by StartEpoch while no worker runs, then read-only except as noted.
  bool started_ = false;
  uint64_t epoch_ = 0;
  std::vector<size_t> order_;     // this rank's share of the rest of the epoch's permutation (dataset indices)
  size_t first_batch_index_ = 0;  // batch_index of order_'s first batch
  size_t start_sample_ = 0;       // global positions consumed before order_
  size_t rest_ = 0;               // global positions of the epoch from start_sample_ on (before padding/dropping)
  size_t end_batch_ = 0;
  size_t next_batch_ = 0;  // next batch Next() delivers (guarded by mutex_ while workers run)
  absl::Status error_;     // sticky error of the epoch (consumer thread only)

  // Shared with the workers, guarded by mutex_.
  std::mutex mutex_;
  std::condition_variable work_cv_;   // workers wait for room in the prefetch window
  std::condition_variable ready_cv_;  // the consumer waits for the next batch to complete
  bool stop_ = false;
  size_t next_task_ = 0;  // next position of order_ to compute
  size_t end_task_ = 0;
  std::map<size_t, PendingBatch> pending_;
  std::vector<std::thread> threads_;
};

}  // namespace avsl::data
