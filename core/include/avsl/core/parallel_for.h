// Data parallelism over independent items on plain threads, for torch-free work (scoring maps, bootstrap
// resamples) that LibTorch's intra-op pool does not cover.
#pragma once

#include <cstddef>
#include <functional>

#include "avsl/core/export.h"

namespace avsl {

/// `requested` threads, or the machine's hardware threads when it is 0 or negative; at least 1.
AVSL_EXPORT int ResolveThreadCount(int requested);

/// Calls body(i) once for every i in [0, n) on up to `threads` threads (the calling thread is one of them),
/// handing out indices in increasing order. Results stay deterministic when body(i) writes only its own slot i
/// of a pre-sized output. An exception thrown by body is rethrown here after all threads have stopped (the first
/// one caught; the remaining indices are skipped).
AVSL_EXPORT void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& body);

}  // namespace avsl
