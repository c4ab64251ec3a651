#include "avsl/train/memory_allocator.h"

#include <dlfcn.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

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

enum class Allocator { kGlibc, kTcmalloc, kJemalloc, kAddressSanitizer, kOther };

// The library that `malloc` resolves to in the global lookup (what the executable's calls are bound to), by the
// file that defines it: an exported tcmalloc or jemalloc symbol alone would not say which one serves malloc when
// both are loaded (an LD_PRELOADed jemalloc in front of the linked tcmalloc).
std::string MallocFile() {
  void* symbol = dlsym(RTLD_DEFAULT, "malloc");
  Dl_info info;
  if (symbol == nullptr || dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

Allocator Detect(const std::string& file) {
  // ASan's runtime may be linked statically into the executable; its entry point says it is there.
  if (dlsym(RTLD_DEFAULT, "__asan_init") != nullptr || file.find("libasan") != std::string::npos) {
    return Allocator::kAddressSanitizer;
  }
  const absl::string_view name = absl::string_view(file).substr(file.rfind('/') + 1);
  if (name.find("tcmalloc") != absl::string_view::npos) return Allocator::kTcmalloc;
  if (name.find("jemalloc") != absl::string_view::npos) return Allocator::kJemalloc;
  if (name.rfind("libc.so", 0) == 0) return Allocator::kGlibc;
  return Allocator::kOther;
}

std::string TcmallocVersion() {
  using TcVersion = const char* (*)(int*, int*, const char**);
  auto tc_version = reinterpret_cast<TcVersion>(dlsym(RTLD_DEFAULT, "tc_version"));
  if (tc_version == nullptr) return "tcmalloc";
  int major = 0, minor = 0;
  const char* patch = nullptr;
  tc_version(&major, &minor, &patch);
  return absl::StrCat("tcmalloc ", major, ".", minor, patch != nullptr ? patch : "");
}

std::string JemallocVersion() {
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  const char* version = nullptr;
  size_t size = sizeof(version);
  if (mallctl != nullptr && mallctl("version", &version, &size, nullptr, 0) == 0 && version != nullptr) {
    return absl::StrCat("jemalloc ", version);
  }
  return "jemalloc";
}

// The user's own glibc malloc settings, which avsl leaves alone.
bool MallocSetByEnvironment() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) return true;
  for (const char* name : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

}  // namespace

std::string DescribeAllocator() {
  const std::string file = MallocFile();
  switch (Detect(file)) {
    case Allocator::kTcmalloc: return TcmallocVersion();
    case Allocator::kJemalloc: return JemallocVersion();
    case Allocator::kAddressSanitizer: return "AddressSanitizer's allocator";
    case Allocator::kOther:
      return file.empty() ? "unknown (malloc's library not found)" : absl::StrCat("the malloc of ", file);
    case Allocator::kGlibc: break;
  }
#if defined(__GLIBC__)
  std::string glibc = absl::StrCat("glibc malloc ", gnu_get_libc_version());
  if (glibc_tuned.load()) {
    absl::StrAppend(&glibc, " (tuned: mmap threshold ", kMmapThreshold >> 20, " MiB, trim threshold ",
                    kTrimThreshold >> 30, " GiB)");
  } else if (MallocSetByEnvironment()) {
    absl::StrAppend(&glibc, " (thresholds from the environment: GLIBC_TUNABLES or MALLOC_*_)");
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
  if (Detect(MallocFile()) != Allocator::kGlibc || MallocSetByEnvironment()) return false;
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
