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

/// The allocator that serves `malloc` here, found at run time from the library that defines it (so an
/// LD_PRELOADed one is named too): e.g. "tcmalloc 2.10", "jemalloc 5.3.0-0-g54ea...", "AddressSanitizer's
/// allocator", or "glibc malloc 2.36 (tuned: mmap threshold 32 MiB, trim threshold 1 GiB)".
std::string DescribeAllocator();

/// When glibc's malloc serves the process: freed blocks of up to 32 MiB stay in the heap instead of going back to
/// the kernel (M_MMAP_THRESHOLD, M_TRIM_THRESHOLD; glibc caps the threshold there, so larger blocks, such as a
/// 224 px ResNet's first-stage activations at batch 16, are still mapped and unmapped each time). Does nothing and
/// returns false under another allocator, another C library, or when the user set glibc's malloc parameters in the
/// environment (GLIBC_TUNABLES, MALLOC_*_). Affects speed and resident memory only, never a computed value
/// (LibTorch aligns tensor data itself). Call it early, before the large allocations start.
bool TuneGlibcMalloc();

}  // namespace avsl::train
