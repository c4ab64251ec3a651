// The allocator description the trainer logs and avsl bench prints, and the glibc tuning avsl's main() applies.
#include "avsl/train/memory_allocator.h"

#include <cstdlib>
#include <cstring>
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
// One test, in this order: the tuning is process-wide and happens once.
TEST(MemoryAllocatorTest, TunedGlibcKeepsLargeBlocksInTheHeapUnlessTheUserSetsMalloc) {
  if (kSanitizerMalloc) {
    EXPECT_EQ(avsl::train::DescribeAllocator(), "AddressSanitizer's allocator");
    EXPECT_FALSE(avsl::train::TuneGlibcMalloc());
    GTEST_SKIP() << "AddressSanitizer replaces malloc; there is no glibc heap to tune";
  }
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::string(tunables).find("glibc.malloc.") != std::string::npos) {
    GTEST_SKIP() << "GLIBC_TUNABLES sets malloc parameters in this environment";
  }
  // Test binaries do not link tcmalloc (only the avsl CLI does), so glibc serves them.
  const std::string before = avsl::train::DescribeAllocator();
  ASSERT_EQ(before.rfind("glibc malloc ", 0), 0u) << before;
  // The user's own settings win: avsl leaves malloc alone and says so.
  ASSERT_EQ(setenv("MALLOC_TRIM_THRESHOLD_", "1000000", 1), 0);
  EXPECT_FALSE(avsl::train::TuneGlibcMalloc());
  EXPECT_NE(avsl::train::DescribeAllocator().find("(thresholds from the environment"), std::string::npos);
  ASSERT_EQ(unsetenv("MALLOC_TRIM_THRESHOLD_"), 0);

  ASSERT_TRUE(avsl::train::TuneGlibcMalloc());
  EXPECT_TRUE(avsl::train::TuneGlibcMalloc()) << "a second call is a no-op that still reports the tuning";
  const std::string after = avsl::train::DescribeAllocator();
  EXPECT_NE(after.find("(tuned: mmap threshold 32 MiB, trim threshold 1 GiB)"), std::string::npos) << after;
  // A 24 MiB block comes from the heap now, not from its own mmap (which glibc would unmap on free, so that the next
  // training step faults it in again). Untuned, glibc maps it (checked when this test was written: hblkhd grows by
  // 25169920 bytes).
  const size_t mapped_before = mallinfo2().hblkhd;
  auto* block = static_cast<char*>(std::malloc(24 << 20));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, 24 << 20);
  EXPECT_EQ(mallinfo2().hblkhd, mapped_before);
  EXPECT_EQ(block[(24 << 20) - 1], 1);
  std::free(block);
}
#endif

}  // namespace
