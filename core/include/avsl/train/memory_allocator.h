// Which malloc serves this process, and the tuning avsl applies when it is glibc's.
//
// A training step frees and re-allocates the same activation and gradient buffers every step (tens of MB at 224 px).
// glibc returns blocks above its mmap threshold to the kernel on free, so each step pays page faults and the
// kernel's zeroing again (13 % of a full-size fp32 SLAVC step here, docs/performance.md "Allocator"). A caching
// allocator (tcmalloc, which the avsl CLI links when it is installed) or glibc with a high mmap and trim threshold
// keeps them.
#pragma once

#include <string>

namespace avsl::train {

/// E.g. "tcmalloc 2.10", "jemalloc 5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c" or "glibc malloc 2.36 (tuned:
/// mmap threshold 32 MiB, trim threshold 1 GiB)"; found at run time, so an LD_PRELOADed allocator is named too.
std::string DescribeAllocator();

/// When glibc's malloc serves the process: freed blocks of up to 32 MiB stay in the heap instead of going back to
/// the kernel (M_MMAP_THRESHOLD, M_TRIM_THRESHOLD). Does nothing and returns false under another allocator or
/// another C library. Affects speed and resident memory only, never a computed value (LibTorch aligns tensor data
/// itself). Call it early, before the large allocations start.
bool TuneGlibcMalloc();

}  // namespace avsl::train
