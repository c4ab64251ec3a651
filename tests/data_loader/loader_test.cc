#include "avsl/data/loader.h"

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace avsl::data {
namespace {

using ::testing::HasSubstr;

// A dataset whose samples record the context they were made with, so a test can see that augmentation is a
// function of (seed, epoch, index) only. Sample i takes a few microseconds that vary with i, so with several
// workers samples complete out of order.
class FakeDataset : public Dataset {
 public:
  explicit FakeDataset(size_t n, std::set<size_t> broken = {}, std::set<size_t> throwing = {}, int max_sleep_us = 30)
      : n_(n), broken_(std::move(broken)), throwing_(std::move(throwing)), max_sleep_us_(max_sleep_us) {}
  size_t size() const override { return n_; }
  absl::StatusOr<Sample> Get(size_t index, const SampleContext& ctx) const override {
    calls_.fetch_add(1);
    if (max_sleep_us_ > 0) std::this_thread::sleep_for(std::chrono::microseconds((index * 7) % max_sleep_us_));
    if (throwing_.count(index)) throw std::runtime_error(absl::StrCat("decoder crashed on item_", index));
    if (broken_.count(index)) {
      return absl::DataLossError(absl::StrCat("/data/item_", index, ".wav: header promises 48000 frames, found 100"));
    }
    Sample s;
    s.key = absl::StrCat("item_", index);
    s.class_id = static_cast<int>(index);
    // Stand-in for a random crop: a value derived from the whole context.
    s.image.values = {static_cast<float>((ctx.seed * 1000003 + ctx.epoch * 101 + index) % 65521),
                      ctx.train ? 1.0f : 0.0f};
    return s;
  }
  std::string Describe(size_t index) const override {
    return absl::StrCat("item_", index, " (/data/item_", index, ")");
  }
  int calls() const { return calls_.load(); }

 private:
  size_t n_;
  std::set<size_t> broken_, throwing_;
  int max_sleep_us_;
  mutable std::atomic<int> calls_{0};
};

// A batch reduced to what must be identical: position, dataset indices, keys and the context-derived values.
struct BatchDigest {
  uint64_t epoch;
  size_t batch_index;
  std::vector<size_t> indices;
  std::vector<std::string> keys;
  std::vector<std::vector<float>> values;
  bool operator==(const BatchDigest& o) const {
    return epoch == o.epoch && batch_index == o.batch_index && indices == o.indices && keys == o.keys &&
           values == o.values;
  }
};

BatchDigest Digest(const SampleBatch& b) {
  BatchDigest d{b.epoch, b.batch_index, b.indices, {}, {}};
  for (const Sample& s : b.samples) {
    d.keys.push_back(s.key);
    d.values.push_back(s.image.values);
  }
  return d;
}

std::unique_ptr<Loader> MakeLoader(std::shared_ptr<const Dataset> ds, LoaderOptions o) {
  absl::StatusOr<std::unique_ptr<Loader>> loader = Loader::Create(std::move(ds), o);
  EXPECT_TRUE(loader.ok()) << loader.status();
  return *std::move(loader);
}

// All batches of `epoch` from `start`, or the first error.
absl::StatusOr<std::vector<BatchDigest>> RunEpoch(Loader& loader, uint64_t epoch, size_t start = 0) {
  absl::Status s = loader.StartEpoch(epoch, start);
  if (!s.ok()) return s;
  std::vector<BatchDigest> out;
  while (true) {
    absl::StatusOr<std::optional<SampleBatch>> b = loader.Next();
    if (!b.ok()) return b.status();
    if (!b->has_value()) return out;
    out.push_back(Digest(**b));
  }
}

TEST(EpochPermutationTest, MatchesAnIndependentImplementation) {
  // Expected values from a separate Python transcription of the algorithm (SplitMix64 finalizer, key
  // Mix64(Mix64(seed ^ 0x6c6f61646572) + epoch), draw n = Mix64(key + n*golden), Lemire bounded ints,
  // Fisher-Yates from the end): perm(10, 0, 0), perm(10, 0, 1), perm(10, 42, 0).
  EXPECT_EQ(EpochPermutation(10, 0, 0), (std::vector<size_t>{6, 2, 9, 7, 5, 0, 4, 3, 1, 8}));
  EXPECT_EQ(EpochPermutation(10, 0, 1), (std::vector<size_t>{4, 2, 9, 0, 3, 8, 7, 6, 5, 1}));
  EXPECT_EQ(EpochPermutation(10, 42, 0), (std::vector<size_t>{0, 5, 9, 3, 8, 4, 2, 6, 7, 1}));
}

TEST(EpochPermutationTest, IsAPermutationForAllSizes) {
  for (size_t n : {0, 1, 2, 3, 7, 64, 1000}) {
    std::vector<size_t> p = EpochPermutation(n, 5, 9);
    ASSERT_EQ(p.size(), n);
    std::set<size_t> seen(p.begin(), p.end());
    EXPECT_EQ(seen.size(), n) << "n=" << n;
    if (n > 0) {
      EXPECT_EQ(*seen.rbegin(), n - 1);
    }
  }
}

TEST(EpochPermutationTest, AllOrdersOfThreeAreRoughlyEquallyLikely) {
  // 6 orders over 3000 epochs: 500 expected each, binomial sd = sqrt(3000 * 1/6 * 5/6) = 20.4; +-5 sd = [398, 602].
  std::map<std::vector<size_t>, int> counts;
  for (uint64_t e = 0; e < 3000; ++e) ++counts[EpochPermutation(3, 1, e)];
  ASSERT_EQ(counts.size(), 6u);
  for (const auto& [order, count] : counts) {
    EXPECT_GE(count, 398);
    EXPECT_LE(count, 602);
  }
}

TEST(LoaderTest, SameSeedGivesIdenticalBatchesWhateverTheWorkerCount) {
  auto ds = std::make_shared<FakeDataset>(103);
  LoaderOptions o;
  o.batch_size = 8;
  o.seed = 17;
  o.train = true;
  std::vector<std::vector<BatchDigest>> runs;
  for (size_t workers : {0, 1, 2, 5}) {
    for (size_t prefetch : {1, 3}) {
      o.workers = workers;
      o.prefetch = prefetch;
      auto loader = MakeLoader(ds, o);
      std::vector<BatchDigest> all;
      for (uint64_t epoch : {0, 1}) {
        auto batches = RunEpoch(*loader, epoch);
        ASSERT_TRUE(batches.ok()) << batches.status();
        all.insert(all.end(), batches->begin(), batches->end());
      }
      runs.push_back(all);
    }
  }
  // ceil(103 / 8) = 13 batches per epoch, the last with 103 - 12*8 = 7 samples.
  ASSERT_EQ(runs[0].size(), 26u);
  EXPECT_EQ(runs[0][12].indices.size(), 7u);
  for (size_t r = 1; r < runs.size(); ++r) EXPECT_TRUE(runs[r] == runs[0]) << "run " << r;
  // Every sample saw the loader's seed, its epoch and train = true: value = (17*1000003 + e*101 + i) % 65521.
  const BatchDigest& b = runs[0][13];  // first batch of epoch 1
  EXPECT_EQ(b.epoch, 1u);
  EXPECT_EQ(b.values[0][0], static_cast<float>((17ull * 1000003 + 101 + b.indices[0]) % 65521));
  EXPECT_EQ(b.values[0][1], 1.0f);
}

TEST(LoaderTest, EachEpochIsAPermutationAndEpochsDiffer) {
  auto ds = std::make_shared<FakeDataset>(50, std::set<size_t>{}, std::set<size_t>{}, 0);
  LoaderOptions o;
  o.batch_size = 7;
  o.workers = 2;
  auto loader = MakeLoader(ds, o);
  std::vector<size_t> orders[2];
  for (uint64_t e = 0; e < 2; ++e) {
    auto batches = RunEpoch(*loader, e);
    ASSERT_TRUE(batches.ok());
    for (const BatchDigest& b : *batches) orders[e].insert(orders[e].end(), b.indices.begin(), b.indices.end());
    EXPECT_EQ(orders[e], EpochPermutation(50, 0, e));
  }
  EXPECT_NE(orders[0], orders[1]);
}

TEST(LoaderTest, DifferentSeedsGiveDifferentOrders) {
  auto ds = std::make_shared<FakeDataset>(40, std::set<size_t>{}, std::set<size_t>{}, 0);
  LoaderOptions a, b;
  a.seed = 1;
  b.seed = 2;
  auto ra = RunEpoch(*MakeLoader(ds, a), 0);
  auto rb = RunEpoch(*MakeLoader(ds, b), 0);
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_NE((*ra)[0].indices, (*rb)[0].indices);
  EXPECT_NE((*ra)[0].values, (*rb)[0].values);
}

TEST(LoaderTest, NoShuffleKeepsDatasetOrderAndDropLastDropsTheShortBatch) {
  auto ds = std::make_shared<FakeDataset>(10, std::set<size_t>{}, std::set<size_t>{}, 0);
  LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = false;
  auto keep = RunEpoch(*MakeLoader(ds, o), 3);
  ASSERT_TRUE(keep.ok());
  // 10 samples in batches of 4: [0..3], [4..7], [8, 9].
  ASSERT_EQ(keep->size(), 3u);
  EXPECT_EQ((*keep)[2].indices, (std::vector<size_t>{8, 9}));
  o.drop_last = true;
  auto loader = MakeLoader(ds, o);
  EXPECT_EQ(loader->batches_per_epoch(), 2u);  // floor(10 / 4)
  auto drop = RunEpoch(*loader, 3);
  ASSERT_TRUE(drop.ok());
  ASSERT_EQ(drop->size(), 2u);
  EXPECT_EQ((*drop)[1].indices, (std::vector<size_t>{4, 5, 6, 7}));
}

TEST(LoaderTest, ResumeGivesExactlyTheRemainingBatches) {
  auto ds = std::make_shared<FakeDataset>(37);
  LoaderOptions o;
  o.batch_size = 5;
  o.workers = 2;
  o.seed = 99;
  o.train = true;
  auto full = RunEpoch(*MakeLoader(ds, o), 4);
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(full->size(), 8u);  // ceil(37 / 5)
  for (size_t workers : {0, 2}) {
    o.workers = workers;
    auto loader = MakeLoader(ds, o);
    // Consume 2 batches of a fresh epoch, then "crash" and resume at position 3 on a new loader.
    ASSERT_TRUE(loader->StartEpoch(4).ok());
    ASSERT_TRUE(loader->Next().ok());
    auto resumed_loader = MakeLoader(ds, o);
    auto rest = RunEpoch(*resumed_loader, 4, 3);
    ASSERT_TRUE(rest.ok());
    std::vector<BatchDigest> expected(full->begin() + 3, full->end());
    EXPECT_TRUE(*rest == expected) << "workers " << workers;
    EXPECT_EQ(rest->front().batch_index, 3u);
  }
  auto loader = MakeLoader(ds, o);
  auto at_end = RunEpoch(*loader, 4, 8);
  ASSERT_TRUE(at_end.ok());
  EXPECT_TRUE(at_end->empty());
  absl::Status past = loader->StartEpoch(4, 9);
  EXPECT_EQ(past.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(past.message()), HasSubstr("epoch has 8 batches"));
}

TEST(LoaderTest, ErrorPolicyStopsNamingTheSampleAndWhy) {
  auto ds = std::make_shared<FakeDataset>(20, std::set<size_t>{13});
  for (size_t workers : {0, 2}) {
    LoaderOptions o;
    o.batch_size = 4;
    o.workers = workers;
    o.shuffle = false;
    auto loader = MakeLoader(ds, o);
    ASSERT_TRUE(loader->StartEpoch(0).ok());
    // Batches 0..2 hold samples 0..11; batch 3 holds 12..15 and fails on 13.
    for (int b = 0; b < 3; ++b) ASSERT_TRUE(loader->Next().ok());
    absl::StatusOr<std::optional<SampleBatch>> failed = loader->Next();
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), absl::StatusCode::kDataLoss);
    const std::string msg(failed.status().message());
    EXPECT_THAT(msg, HasSubstr("sample 13 (item_13 (/data/item_13))"));
    EXPECT_THAT(msg, HasSubstr("batch 3"));
    EXPECT_THAT(msg, HasSubstr("/data/item_13.wav: header promises 48000 frames"));
    // Sticky until the next StartEpoch: the broken sample is never replaced by another one.
    EXPECT_EQ(loader->Next().status(), failed.status());
    EXPECT_TRUE(loader->skipped().empty());
    ASSERT_TRUE(loader->StartEpoch(0, 4).ok());
    auto last = loader->Next();
    ASSERT_TRUE(last.ok() && last->has_value());
    EXPECT_EQ((*last)->indices, (std::vector<size_t>{16, 17, 18, 19}));
  }
}

TEST(LoaderTest, SkipPolicyLeavesSamplesOutCountsAndListsThem) {
  // Samples 4 and 5 are batch 2 (batch size 2, no shuffle): that batch is empty and not delivered; 9 is alone
  // broken in batch 4.
  auto ds = std::make_shared<FakeDataset>(12, std::set<size_t>{4, 5, 9});
  LoaderOptions o;
  o.batch_size = 2;
  o.workers = 2;
  o.shuffle = false;
  o.on_error = OnError::kSkip;
  auto loader = MakeLoader(ds, o);
  auto batches = RunEpoch(*loader, 0);
  ASSERT_TRUE(batches.ok()) << batches.status();
  std::vector<size_t> positions, delivered;
  for (const BatchDigest& b : *batches) {
    positions.push_back(b.batch_index);
    delivered.insert(delivered.end(), b.indices.begin(), b.indices.end());
  }
  EXPECT_EQ(positions, (std::vector<size_t>{0, 1, 3, 4, 5}));
  EXPECT_EQ(delivered, (std::vector<size_t>{0, 1, 2, 3, 6, 7, 8, 10, 11}));  // 12 - 3 skipped
  ASSERT_EQ(loader->skipped_count(), 3u);
  EXPECT_EQ(loader->skipped()[0].index, 4u);
  EXPECT_EQ(loader->skipped()[1].index, 5u);
  EXPECT_EQ(loader->skipped()[2].index, 9u);
  EXPECT_EQ(loader->skipped()[2].batch_index, 4u);
  EXPECT_EQ(loader->skipped()[2].status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(FormatSkipped(loader->skipped()[2]),
            "epoch 0 batch 4: sample 9 (item_9 (/data/item_9)) skipped: /data/item_9.wav: header promises 48000 "
            "frames, found 100");
  // A second epoch appends to the list.
  ASSERT_TRUE(RunEpoch(*loader, 1).ok());
  EXPECT_EQ(loader->skipped_count(), 6u);
  EXPECT_EQ(loader->skipped()[3].epoch, 1u);
}

TEST(LoaderTest, AnExceptionInGetBecomesAnErrorNamingTheSample) {
  auto ds = std::make_shared<FakeDataset>(6, std::set<size_t>{}, std::set<size_t>{2});
  LoaderOptions o;
  o.batch_size = 3;
  o.workers = 1;
  o.shuffle = false;
  auto r = RunEpoch(*MakeLoader(ds, o), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("sample 2 (item_2 (/data/item_2))"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("threw: decoder crashed on item_2"));
}

TEST(LoaderTest, PrefetchIsBoundedAndShutdownMidEpochIsClean) {
  auto ds = std::make_shared<FakeDataset>(1000, std::set<size_t>{}, std::set<size_t>{}, 200);
  LoaderOptions o;
  o.batch_size = 4;
  o.workers = 3;
  o.prefetch = 2;
  {
    auto loader = MakeLoader(ds, o);
    ASSERT_TRUE(loader->StartEpoch(0).ok());
    ASSERT_TRUE(loader->Next().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // Consumed batch 0; the window then allows batches 1 and 2: 4 + 2*4 = 12 samples at most.
    EXPECT_LE(ds->calls(), 12);
    // Restarting mid-epoch abandons the queued work, then the destructor joins mid-epoch.
    ASSERT_TRUE(loader->StartEpoch(1, 10).ok());
    auto b = loader->Next();
    ASSERT_TRUE(b.ok() && b->has_value());
    EXPECT_EQ((*b)->batch_index, 10u);
  }
  SUCCEED();  // reaching here means the workers were joined (a leaked thread would abort the process)
}

TEST(LoaderTest, UsageErrors) {
  auto ds = std::make_shared<FakeDataset>(3);
  LoaderOptions o;
  o.batch_size = 0;
  EXPECT_EQ(Loader::Create(ds, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.batch_size = 2;
  o.prefetch = 0;
  EXPECT_THAT(std::string(Loader::Create(ds, o).status().message()), HasSubstr("prefetch is 0"));
  EXPECT_EQ(Loader::Create(nullptr, LoaderOptions{}).status().code(), absl::StatusCode::kInvalidArgument);
  auto loader = MakeLoader(ds, LoaderOptions{});
  EXPECT_EQ(loader->Next().status().code(), absl::StatusCode::kFailedPrecondition);
  auto empty = RunEpoch(*MakeLoader(std::make_shared<FakeDataset>(0), LoaderOptions{}), 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(*ParseOnError("skip"), OnError::kSkip);
  EXPECT_THAT(std::string(ParseOnError("retry").status().message()), HasSubstr("expected error or skip"));
}

// Every dataset index a rank's loader delivers in `epoch` from global position `start`, in order.
std::vector<size_t> ShardIndices(std::shared_ptr<const Dataset> ds, LoaderOptions o, uint64_t epoch, size_t start) {
  std::unique_ptr<Loader> loader = MakeLoader(std::move(ds), o);
  EXPECT_TRUE(loader->StartEpochAtSample(epoch, start).ok());
  std::vector<size_t> out;
  while (true) {
    absl::StatusOr<std::optional<SampleBatch>> b = loader->Next();
    EXPECT_TRUE(b.ok()) << b.status();
    if (!b.ok() || !b->has_value()) return out;
    out.insert(out.end(), (*b)->indices.begin(), (*b)->indices.end());
  }
}

TEST(LoaderShardTest, RanksTogetherCoverEachSampleOncePerEpoch) {
  auto ds = std::make_shared<FakeDataset>(11, std::set<size_t>{}, std::set<size_t>{}, 0);
  for (size_t world : {1, 2, 3, 4}) {
    for (ShardTail tail : {ShardTail::kPad, ShardTail::kDrop, ShardTail::kUneven}) {
      std::multiset<size_t> seen;
      std::vector<size_t> lengths;
      for (size_t rank = 0; rank < world; ++rank) {
        LoaderOptions o;
        o.batch_size = 2;
        o.workers = rank % 2;  // the shard does not depend on the worker count
        o.seed = 9;
        o.rank = rank;
        o.world_size = world;
        o.shard_tail = tail;
        const std::vector<size_t> mine = ShardIndices(ds, o, 3, 0);
        lengths.push_back(mine.size());
        seen.insert(mine.begin(), mine.end());
      }
      const std::set<size_t> distinct(seen.begin(), seen.end());
      SCOPED_TRACE(absl::StrCat("world ", world, " tail ", static_cast<int>(tail)));
      if (tail == ShardTail::kPad) {
        EXPECT_EQ(distinct.size(), 11u);                           // every sample
        EXPECT_EQ(seen.size(), (11 + world - 1) / world * world);  // padded by repeating the first ones
      } else if (tail == ShardTail::kDrop) {
        EXPECT_EQ(seen.size(), 11 / world * world);
        EXPECT_EQ(distinct.size(), seen.size());  // none twice
      } else {
        EXPECT_EQ(seen.size(), 11u);
        EXPECT_EQ(distinct.size(), 11u);
      }
      if (tail != ShardTail::kUneven) {
        for (size_t l : lengths) EXPECT_EQ(l, lengths[0]) << "ranks must take the same number of steps";
      }
    }
  }
}

TEST(LoaderShardTest, OneRankIsTheUnshardedLoaderAndPositionsCountAllRanks) {
  auto ds = std::make_shared<FakeDataset>(10, std::set<size_t>{}, std::set<size_t>{}, 0);
  LoaderOptions o;
  o.batch_size = 3;
  o.workers = 1;
  o.seed = 4;
  std::unique_ptr<Loader> plain = MakeLoader(ds, o);
  absl::StatusOr<std::vector<BatchDigest>> a = RunEpoch(*plain, 2, 0);
  ASSERT_TRUE(a.ok());
  a->erase(a->begin());  // resuming at position 3 = after the first batch of 3
  std::unique_ptr<Loader> by_sample = MakeLoader(ds, o);
  ASSERT_TRUE(by_sample->StartEpochAtSample(2, 3).ok());
  std::vector<BatchDigest> b;
  while (true) {
    absl::StatusOr<std::optional<SampleBatch>> next = by_sample->Next();
    ASSERT_TRUE(next.ok());
    if (!next->has_value()) break;
    b.push_back(Digest(**next));
  }
  EXPECT_TRUE(*a == b);
  // Two ranks of batch 2 from position 4: the first step consumes 4 more positions of the epoch's order.
  o.batch_size = 2;
  o.world_size = 2;
  o.rank = 1;
  std::unique_ptr<Loader> rank1 = MakeLoader(ds, o);
  ASSERT_TRUE(rank1->StartEpochAtSample(0, 4).ok());
  absl::StatusOr<std::optional<SampleBatch>> first = rank1->Next();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->epoch_position, 8u);
  EXPECT_EQ((*first)->batch_index, 1u);
  const std::vector<size_t> order = EpochPermutation(10, 4, 0);
  EXPECT_EQ((*first)->indices, (std::vector<size_t>{order[5], order[7]}));
  EXPECT_EQ(rank1->StartEpochAtSample(0, 11).code(), absl::StatusCode::kOutOfRange);
}

TEST(LoaderShardTest, EmptyBatchesAreReturnedWhenRanksMustStepTogether) {
  auto ds = std::make_shared<FakeDataset>(4, std::set<size_t>{0, 1, 2, 3});
  LoaderOptions o;
  o.batch_size = 2;
  o.workers = 0;
  o.shuffle = false;
  o.on_error = OnError::kSkip;
  o.return_empty_batches = true;
  std::unique_ptr<Loader> loader = MakeLoader(ds, o);
  ASSERT_TRUE(loader->StartEpoch(0).ok());
  int batches = 0;
  while (true) {
    absl::StatusOr<std::optional<SampleBatch>> b = loader->Next();
    ASSERT_TRUE(b.ok());
    if (!b->has_value()) break;
    EXPECT_TRUE((*b)->samples.empty());
    ++batches;
  }
  EXPECT_EQ(batches, 2);
  EXPECT_EQ(loader->skipped_count(), 4u);
}

}  // namespace
}  // namespace avsl::data
