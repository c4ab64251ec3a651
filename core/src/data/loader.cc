#include "avsl/data/loader.h"

#include <algorithm>
#include <exception>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "avsl/core/counter_rng.h"

namespace avsl::data {
namespace {

absl::Status Annotate(const absl::Status& status, const std::string& prefix) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

}  // namespace

absl::StatusOr<OnError> ParseOnError(const std::string& name) {
  if (name == "error") return OnError::kError;
  if (name == "skip") return OnError::kSkip;
  return absl::InvalidArgumentError(absl::StrCat("loader on_error \"", name, "\": expected error or skip"));
}

absl::StatusOr<ShardTail> ParseShardTail(const std::string& name) {
  if (name == "pad") return ShardTail::kPad;
  if (name == "drop") return ShardTail::kDrop;
  return absl::InvalidArgumentError(absl::StrCat("shard tail \"", name, "\": expected pad or drop"));
}

std::string FormatSkipped(const SkippedSample& s) {
  return absl::StrCat("epoch ", s.epoch, " batch ", s.batch_index, ": sample ", s.index, " (", s.description,
                      ") skipped: ", s.status.message());
}

std::vector<size_t> EpochPermutation(size_t n, uint64_t seed, uint64_t epoch) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  // The constant separates this stream from any other use of (seed, epoch) hashing. The stream starts one
  // SplitMix step after its key, which is how the permutation has always been drawn (loader_test pins it).
  const uint64_t key = SplitMix64(SplitMix64(seed ^ 0x6c6f61646572ULL /* "loader" */) + epoch);
  CounterRng rng(key + kSplitMixGamma);
  for (size_t i = n; i > 1; --i) {
    const size_t j = static_cast<size_t>(rng.UniformInt(i));
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

absl::StatusOr<std::unique_ptr<Loader>> Loader::Create(std::shared_ptr<const Dataset> dataset,
                                                       const LoaderOptions& options) {
  if (dataset == nullptr) return absl::InvalidArgumentError("loader: dataset is null");
  if (options.batch_size == 0) return absl::InvalidArgumentError("loader: batch_size is 0, expected >= 1");
  if (options.prefetch == 0) return absl::InvalidArgumentError("loader: prefetch is 0, expected >= 1");
  if (options.world_size == 0 || options.rank >= options.world_size) {
    return absl::InvalidArgumentError(absl::StrCat("loader: rank ", options.rank, " of world size ", options.world_size,
                                                   ": expected rank < world size"));
  }
  return std::unique_ptr<Loader>(new Loader(std::move(dataset), options));
}

Loader::Loader(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options)
    : dataset_(std::move(dataset)), options_(options) {}

Loader::~Loader() { StopWorkers(); }

size_t Loader::ShardLength(size_t n) const {
  const size_t w = options_.world_size;
  switch (options_.shard_tail) {
    case ShardTail::kPad: return (n + w - 1) / w;
    case ShardTail::kDrop: return n / w;
    case ShardTail::kUneven: return n / w + (options_.rank < n % w ? 1 : 0);
  }
  return 0;
}

size_t Loader::BatchesOf(size_t length) const {
  const size_t b = options_.batch_size;
  return options_.drop_last ? length / b : (length + b - 1) / b;
}

size_t Loader::batches_per_epoch() const { return BatchesOf(ShardLength(dataset_->size())); }

size_t Loader::BatchEnd(size_t batch) const { return std::min(order_.size(), (batch + 1) * options_.batch_size); }

void Loader::StopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  pending_.clear();
  stop_ = false;
}

absl::Status Loader::StartEpoch(uint64_t epoch, size_t start_batch) {
  const size_t batches = batches_per_epoch();
  if (start_batch > batches) {
    StopWorkers();
    started_ = false;
    return absl::OutOfRangeError(absl::StrCat("loader: cannot resume epoch ", epoch, " at batch ", start_batch,
                                              ": the epoch has ", batches, " batches"));
  }
  return StartEpochAtSample(epoch, std::min(dataset_->size(), start_batch * options_.batch_size * options_.world_size));
}

absl::Status Loader::StartEpochAtSample(uint64_t epoch, size_t start_sample) {
  StopWorkers();
  const size_t n = dataset_->size();
  if (start_sample > n) {
    started_ = false;
    return absl::OutOfRangeError(absl::StrCat("loader: cannot resume epoch ", epoch, " at sample position ",
                                              start_sample, ": the epoch has ", n, " samples"));
  }
  epoch_ = epoch;
  std::vector<size_t> order;
  if (options_.shuffle) {
    order = EpochPermutation(n, options_.seed, epoch);
  } else {
    order.resize(n);
    std::iota(order.begin(), order.end(), size_t{0});
  }
  // This rank's share of what is left: positions rank, rank + W, ... of the rest, padded by repeating the rest's
  // start (kPad) or cut (kDrop) so that every rank gets as many.
  const size_t w = options_.world_size;
  start_sample_ = start_sample;
  rest_ = n - start_sample;
  const size_t length = ShardLength(rest_);
  order_.clear();
  order_.reserve(length);
  for (size_t j = 0; j < length; ++j) {
    const size_t position = j * w + options_.rank;
    if (rest_ == 0) break;
    order_.push_back(order[start_sample + position % rest_]);
  }
  first_batch_index_ = start_sample / (options_.batch_size * w);
  const size_t batches = BatchesOf(order_.size());
  end_batch_ = batches;
  next_batch_ = 0;
  next_task_ = 0;
  end_task_ = std::min(order_.size(), BatchBegin(batches));
  error_ = absl::OkStatus();
  started_ = true;
  for (size_t i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  return absl::OkStatus();
}

absl::StatusOr<Sample> Loader::Compute(size_t index) const {
  try {
    const SampleContext context{options_.seed, epoch_, options_.train};
    absl::StatusOr<Sample> sample = dataset_->Get(index, context);
    for (size_t t = 0; sample.ok() && t < options_.transforms.size(); ++t) {
      absl::Status s = options_.transforms[t]->Apply(*sample, context, index);
      if (!s.ok()) return absl::Status(s.code(), absl::StrCat("transform ", t, ": ", s.message()));
    }
    return sample;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("Dataset::Get or a transform threw: ", e.what()));
  } catch (...) {
    return absl::InternalError("Dataset::Get threw a non-standard exception");
  }
}

void Loader::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    // Claim the next position only while its batch is inside the prefetch window, which bounds memory to
    // `prefetch` batches whatever the speed of the consumer.
    work_cv_.wait(lock, [this] {
      return stop_ || (next_task_ < end_task_ && next_task_ / options_.batch_size < next_batch_ + options_.prefetch);
    });
    if (stop_) return;
    const size_t position = next_task_++;
    const size_t batch = position / options_.batch_size;
    auto [it, inserted] = pending_.try_emplace(batch);
    if (inserted) {
      const size_t count = BatchEnd(batch) - BatchBegin(batch);
      it->second.results.resize(count);
      it->second.remaining = count;
    }
    const size_t index = order_[position];
    lock.unlock();
    absl::StatusOr<Sample> result = Compute(index);
    lock.lock();
    // The batch cannot have been consumed or dropped meanwhile: Next() waits for remaining == 0, and
    // StopWorkers() joins this thread before clearing pending_.
    PendingBatch& pending = pending_[batch];
    pending.results[position - BatchBegin(batch)] = std::move(result);
    if (--pending.remaining == 0) ready_cv_.notify_all();
  }
}

absl::StatusOr<std::optional<SampleBatch>> Loader::Next() {
  if (!started_) return absl::FailedPreconditionError("loader: Next() called before StartEpoch()");
  if (!error_.ok()) return error_;
  while (true) {
    if (next_batch_ >= end_batch_) return std::optional<SampleBatch>();
    const size_t batch = next_batch_;
    PendingBatch pending;
    if (options_.workers == 0) {
      const size_t count = BatchEnd(batch) - BatchBegin(batch);
      pending.results.resize(count);
      for (size_t k = 0; k < count; ++k) pending.results[k] = Compute(order_[BatchBegin(batch) + k]);
      ++next_batch_;
    } else {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_cv_.wait(lock, [this, batch] {
        auto it = pending_.find(batch);
        return it != pending_.end() && it->second.remaining == 0;
      });
      auto it = pending_.find(batch);
      pending = std::move(it->second);
      pending_.erase(it);
      ++next_batch_;
      lock.unlock();
      work_cv_.notify_all();  // the window moved: workers may claim the next batch
    }
    absl::StatusOr<SampleBatch> out = Assemble(batch, std::move(pending));
    if (!out.ok()) {
      error_ = out.status();
      // Stop computing the rest of an epoch that cannot continue.
      StopWorkers();
      return error_;
    }
    if (!out->samples.empty() || options_.return_empty_batches) return std::optional<SampleBatch>(*std::move(out));
  }
}

absl::StatusOr<SampleBatch> Loader::Assemble(size_t batch, PendingBatch&& pending) {
  SampleBatch out;
  out.epoch = epoch_;
  out.batch_index = first_batch_index_ + batch;
  out.epoch_position = start_sample_ + std::min(rest_, (batch + 1) * options_.batch_size * options_.world_size);
  out.samples.reserve(pending.results.size());
  for (size_t k = 0; k < pending.results.size(); ++k) {
    const size_t index = order_[BatchBegin(batch) + k];
    absl::StatusOr<Sample>& result = *pending.results[k];
    if (result.ok()) {
      out.indices.push_back(index);
      out.samples.push_back(std::move(*result));
      continue;
    }
    if (options_.on_error == OnError::kError) {
      return Annotate(result.status(),
                      absl::StrCat("loader: sample ", index, " (", dataset_->Describe(index), ") of epoch ", epoch_,
                                   ", batch ", out.batch_index, " failed (on_error = error): "));
    }
    skipped_.push_back(SkippedSample{epoch_, out.batch_index, index, dataset_->Describe(index), result.status()});
  }
  return out;
}

}  // namespace avsl::data
