#include "avsl/train/memory_allocator.h"

#include <dlfcn.h>

#include <atomic>
#include <cstddef>

#include "absl/strings/str_cat.h"

#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#include <malloc.h>
#endif

namespace avsl::train {
namespace {

// glibc caps M_MMAP_THRESHOLD at HEAP_MAX_SIZE / 2, 32 MiB on 64-bit systems; mallopt refuses more.
constexpr int kMmapThreshold = 32 << 20;
constexpr int kTrimThreshold = 1 << 30;
std::atomic<bool> glibc_tuned{false};

// The allocator that the process's malloc resolves to, by the symbols only it exports (the global lookup order is
// the one malloc itself was bound by, so an LD_PRELOADed allocator is found first).
std::string ReplacementAllocator() {
  using TcVersion = const char* (*)(int*, int*, const char**);
  if (auto tc_version = reinterpret_cast<TcVersion>(dlsym(RTLD_DEFAULT, "tc_version"))) {
    int major = 0, minor = 0;
    const char* patch = nullptr;
    tc_version(&major, &minor, &patch);
    return absl::StrCat("tcmalloc ", major, ".", minor, patch != nullptr ? patch : "");
  }
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  if (auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"))) {
    const char* version = nullptr;
    size_t size = sizeof(version);
    if (mallctl("version", &version, &size, nullptr, 0) == 0 && version != nullptr) {
      return absl::StrCat("jemalloc ", version);
    }
    return "jemalloc";
  }
  return "";
}

}  // namespace

std::string DescribeAllocator() {
  if (std::string other = ReplacementAllocator(); !other.empty()) return other;
#if defined(__GLIBC__)
  std::string glibc = absl::StrCat("glibc malloc ", gnu_get_libc_version());
  if (glibc_tuned.load()) {
    absl::StrAppend(&glibc, " (tuned: mmap threshold ", kMmapThreshold >> 20, " MiB, trim threshold ",
                    kTrimThreshold >> 30, " GiB)");
  } else {
    absl::StrAppend(&glibc, " (default thresholds: large blocks go back to the kernel on free)");
  }
  return glibc;
#else
  return "the C library's malloc";
#endif
}

bool TuneGlibcMalloc() {
#if defined(__GLIBC__)
  if (!ReplacementAllocator().empty()) return false;
  if (glibc_tuned.load()) return true;
  // Setting the mmap threshold also turns off glibc's own dynamic threshold, which would settle lower.
  const bool ok = mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
  glibc_tuned.store(ok);
  return ok;
#else
  return false;
#endif
}

}  // namespace avsl::train
