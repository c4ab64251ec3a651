#include "avsl/data/dataset_check.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <optional>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "avsl/core/parallel_for.h"

namespace avsl::data {

DatasetCheck CheckDataset(const Dataset& dataset, int threads,
                          const std::function<void(size_t done, size_t total)>& on_progress) {
  DatasetCheck out;
  out.listed = dataset.size();
  // One slot per item, so the result does not depend on which thread read what.
  std::vector<std::optional<absl::Status>> failures(out.listed);
  std::atomic<size_t> done{0};
  const size_t step = std::max<size_t>(1, out.listed / 100);
  const std::thread::id caller = std::this_thread::get_id();
  ParallelFor(out.listed, ResolveThreadCount(threads), [&](size_t i) {
    SampleContext context;  // evaluation: no augmentation; procedural sets draw from (seed 0, epoch 0, i)
    // A reader that throws (a plugin dataset, std::bad_alloc) marks its item, as the loader does, instead of
    // ending the check.
    try {
      absl::StatusOr<Sample> sample = dataset.Get(i, context);
      if (!sample.ok()) failures[i] = sample.status();
    } catch (const std::exception& e) {
      failures[i] = absl::InternalError(absl::StrCat("reading threw: ", e.what()));
    } catch (...) {
      failures[i] = absl::InternalError("reading threw a non-standard exception");
    }
    const size_t n = ++done;
    // The caller's own thread reports, so the callback needs no locking.
    if (on_progress && n % step == 0 && std::this_thread::get_id() == caller) on_progress(n, out.listed);
  });
  if (on_progress) on_progress(out.listed, out.listed);
  for (size_t i = 0; i < out.listed; ++i) {
    if (!failures[i]) continue;
    DatasetProblem p{i, dataset.Describe(i), std::string(failures[i]->message())};
    (failures[i]->code() == absl::StatusCode::kNotFound ? out.missing : out.corrupt).push_back(std::move(p));
  }
  return out;
}

}  // namespace avsl::data
