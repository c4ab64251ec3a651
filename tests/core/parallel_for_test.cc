// ParallelFor: every index once, on several threads, and a body's exception surfaces in the caller.
#include "avsl/core/parallel_for.h"

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace avsl {
namespace {

TEST(ParallelForTest, EveryIndexOnceForAnyThreadCount) {
  for (int threads : {1, 2, 3, 8, 0}) {
    for (size_t n : {0, 1, 5, 1000}) {
      std::vector<std::atomic<int>> calls(n);
      ParallelFor(n, threads, [&](size_t i) { ++calls[i]; });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(calls[i].load(), 1) << "threads=" << threads << " n=" << n;
    }
  }
}

TEST(ParallelForTest, UsesSeveralThreads) {
  std::mutex m;
  std::set<std::thread::id> seen;
  std::atomic<int> arrived{0};
  // Four items that each wait until two are running at once: only concurrent execution finishes them.
  ParallelFor(4, 2, [&](size_t) {
    {
      std::lock_guard<std::mutex> lock(m);
      seen.insert(std::this_thread::get_id());
    }
    ++arrived;
    while (arrived.load() < 2) std::this_thread::yield();
  });
  EXPECT_EQ(seen.size(), 2u);
}

TEST(ParallelForTest, TheBodysExceptionReachesTheCaller) {
  EXPECT_THROW(ParallelFor(100, 3,
                           [](size_t i) {
                             if (i == 42) throw std::runtime_error("sample 42");
                           }),
               std::runtime_error);
}

TEST(ParallelForTest, ZeroMeansTheHardwareThreads) {
  EXPECT_GE(ResolveThreadCount(0), 1);
  EXPECT_EQ(ResolveThreadCount(3), 3);
}

}  // namespace
}  // namespace avsl
