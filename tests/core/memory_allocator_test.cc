// The allocator description the trainer logs and avsl bench prints, and the glibc tuning avsl's main() applies.
#include "avsl/train/memory_allocator.h"

#include <cstdlib>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "gtest/gtest.h"

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitizerMalloc = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitizerMalloc = true;
#else
constexpr bool kSanitizerMalloc = false;
#endif
#else
constexpr bool kSanitizerMalloc = false;
#endif

#if defined(__GLIBC__)
TEST(MemoryAllocatorTest, TunedGlibcKeepsLargeBlocksInTheHeap) {
  if (kSanitizerMalloc) GTEST_SKIP() << "AddressSanitizer replaces malloc; there is no glibc heap to tune";
  // Test binaries do not link tcmalloc (only the avsl CLI does), so glibc serves them.
  const std::string before = avsl::train::DescribeAllocator();
  ASSERT_EQ(before.rfind("glibc malloc ", 0), 0u) << before;
  ASSERT_TRUE(avsl::train::TuneGlibcMalloc());
  EXPECT_TRUE(avsl::train::TuneGlibcMalloc()) << "a second call is a no-op that still reports the tuning";
  const std::string after = avsl::train::DescribeAllocator();
  EXPECT_NE(after.find("(tuned: mmap threshold 32 MiB, trim threshold 1 GiB)"), std::string::npos) << after;
  // A 24 MiB block, the size of a 224 px ResNet activation at batch 16, comes from the heap now, not from its own
  // mmap (which glibc would unmap on free, so the next step faults it in again).
  const size_t mapped_before = mallinfo2().hblkhd;
  void* block = std::malloc(24 << 20);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(mallinfo2().hblkhd, mapped_before);
  std::free(block);
}
#endif

}  // namespace
