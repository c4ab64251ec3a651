// data::CheckDataset: every item read once; failures sorted into missing (NotFound) and corrupt (anything else),
// in index order whatever the thread count, with the dataset's description and the reader's message.
#include "avsl/data/dataset_check.h"

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace avsl::data {
namespace {

class ScriptedDataset : public Dataset {
 public:
  ScriptedDataset(size_t n, std::map<size_t, absl::Status> failures, size_t throw_at = SIZE_MAX)
      : n_(n), failures_(std::move(failures)), throw_at_(throw_at) {}
  size_t size() const override { return n_; }
  absl::StatusOr<Sample> Get(size_t index, const SampleContext& context) const override {
    EXPECT_FALSE(context.train);  // checked as evaluation reads it: no augmentation
    if (index == throw_at_) throw std::runtime_error("decoder blew up");
    auto it = failures_.find(index);
    if (it != failures_.end()) return it->second;
    Sample s;
    s.key = absl::StrCat("item", index);
    return s;
  }
  std::string Describe(size_t index) const override { return absl::StrCat("item", index, " (frame + clip)"); }

 private:
  size_t n_;
  std::map<size_t, absl::Status> failures_;
  size_t throw_at_;
};

TEST(DatasetCheckTest, SortsFailuresIntoMissingAndCorruptInIndexOrder) {
  const ScriptedDataset ds(500, {{401, absl::NotFoundError("image f401.jpg: cannot open")},
                                 {7, absl::DataLossError("image f7.jpg: truncated JPEG")},
                                 {3, absl::NotFoundError("audio a3.wav: cannot open")},
                                 {250, absl::InvalidArgumentError("annotation x250.xml: malformed")}});
  for (int threads : {1, 4}) {
    SCOPED_TRACE(threads);
    size_t last_done = 0, calls = 0;
    const DatasetCheck c = CheckDataset(ds, threads, [&](size_t done, size_t total) {
      EXPECT_EQ(total, 500u);
      EXPECT_GE(done, last_done);
      last_done = done;
      ++calls;
    });
    EXPECT_EQ(c.listed, 500u);
    EXPECT_EQ(c.usable(), 496u);
    EXPECT_FALSE(c.ok());
    ASSERT_EQ(c.missing.size(), 2u);
    EXPECT_EQ(c.missing[0].index, 3u);
    EXPECT_EQ(c.missing[0].item, "item3 (frame + clip)");
    EXPECT_EQ(c.missing[0].error, "audio a3.wav: cannot open");
    EXPECT_EQ(c.missing[1].index, 401u);
    ASSERT_EQ(c.corrupt.size(), 2u);
    EXPECT_EQ(c.corrupt[0].error, "image f7.jpg: truncated JPEG");
    EXPECT_EQ(c.corrupt[1].index, 250u);
    EXPECT_EQ(last_done, 500u);  // the last report is the total
    EXPECT_GE(calls, 1u);
  }
  // A reader that throws marks its item instead of ending the check (the loader treats it the same way).
  const ScriptedDataset throwing(10, {}, 6);
  const DatasetCheck t = CheckDataset(throwing, 2);
  ASSERT_EQ(t.corrupt.size(), 1u);
  EXPECT_EQ(t.corrupt[0].index, 6u);
  EXPECT_EQ(t.corrupt[0].error, "reading threw: decoder blew up");
  const ScriptedDataset clean(3, {});
  EXPECT_TRUE(CheckDataset(clean, 2).ok());
  EXPECT_EQ(CheckDataset(clean, 2).usable(), 3u);
}

}  // namespace
}  // namespace avsl::data
