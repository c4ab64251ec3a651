#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "avsl/builtins/core_components.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/core/transform.h"
#include "avsl/data/loader.h"

namespace avsl {
namespace {

Sample Ones(int bins, int frames) {
  Sample s;
  s.audio.freq_bins = bins;
  s.audio.frames = frames;
  s.audio.values.assign(static_cast<size_t>(bins) * frames, 1.0f);
  return s;
}

std::shared_ptr<Transform> BuildMask(const std::string& options) {
  static PluginHost host;
  AddCoreComponents(host);
  auto recipe = Recipe::Parse("[data]\ntransforms = [{ type = \"core.SpectrogramMask\"" + options + " }]\n",
                              "inline.toml", ".", {});
  EXPECT_TRUE(recipe.ok());
  EXPECT_TRUE(recipe->Validate(host).ok());
  auto t = host.registry().Build<Transform>(recipe->Root().Sub("data").SubArray("transforms")[0]);
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

size_t Masked(const Sample& s) {
  return static_cast<size_t>(std::count(s.audio.values.begin(), s.audio.values.end(), 0.0f));
}

TEST(SpectrogramMaskTest, OnlyDuringTraining) {
  auto mask = BuildMask(", freq_masks = 2, time_masks = 2");
  Sample s = Ones(40, 30);
  ASSERT_TRUE(mask->Apply(s, SampleContext{1, 0, /*train=*/false}, 5).ok());
  EXPECT_EQ(Masked(s), 0u);
}

TEST(SpectrogramMaskTest, OneFullWidthBandMasksWholeRows) {
  // One frequency band of at most 3 bins and no time mask: whole rows of 30 frames are masked.
  auto mask = BuildMask(", freq_masks = 1, max_freq_width = 3, time_masks = 0");
  bool some = false;
  for (size_t index = 0; index < 20; ++index) {
    Sample s = Ones(40, 30);
    ASSERT_TRUE(mask->Apply(s, SampleContext{1, 0, true}, index).ok());
    EXPECT_EQ(Masked(s) % 30, 0u);
    EXPECT_LE(Masked(s), 3u * 30u);
    some = some || Masked(s) > 0;
  }
  EXPECT_TRUE(some);
}

TEST(SpectrogramMaskTest, DeterministicPerSeedEpochIndex) {
  auto mask = BuildMask("");
  Sample a = Ones(64, 50), b = Ones(64, 50), c = Ones(64, 50), d = Ones(64, 50);
  ASSERT_TRUE(mask->Apply(a, SampleContext{7, 2, true}, 11).ok());
  ASSERT_TRUE(mask->Apply(b, SampleContext{7, 2, true}, 11).ok());
  ASSERT_TRUE(mask->Apply(c, SampleContext{7, 3, true}, 11).ok());
  ASSERT_TRUE(mask->Apply(d, SampleContext{7, 2, true}, 12).ok());
  EXPECT_EQ(a.audio.values, b.audio.values);
  EXPECT_NE(a.audio.values, c.audio.values);
  EXPECT_NE(a.audio.values, d.audio.values);
}

class CountingDataset final : public Dataset {
 public:
  size_t size() const override { return 10; }
  std::string Describe(size_t i) const override { return "sample " + std::to_string(i); }
  absl::StatusOr<Sample> Get(size_t index, const SampleContext&) const override {
    Sample s = Ones(4, 4);
    s.key = std::to_string(index);
    return s;
  }
};

class Tag final : public Transform {
 public:
  absl::Status Apply(Sample& s, const SampleContext& c, size_t index) const override {
    if (index == 7) return absl::InvalidArgumentError("refused");
    s.key += c.train ? "+train" : "+eval";
    return absl::OkStatus();
  }
};

TEST(LoaderTransformsTest, AppliedByWorkersAndErrorsNameTheSample) {
  data::LoaderOptions o;
  o.batch_size = 3;
  o.workers = 2;
  o.shuffle = false;
  o.train = true;
  o.on_error = data::OnError::kSkip;
  o.transforms.push_back(std::make_shared<Tag>());
  auto loader = data::Loader::Create(std::make_shared<CountingDataset>(), o);
  ASSERT_TRUE(loader.ok());
  ASSERT_TRUE((*loader)->StartEpoch(0).ok());
  std::vector<std::string> keys;
  while (true) {
    auto batch = (*loader)->Next();
    ASSERT_TRUE(batch.ok()) << batch.status();
    if (!batch->has_value()) break;
    for (const Sample& s : (*batch)->samples) keys.push_back(s.key);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"0+train", "1+train", "2+train", "3+train", "4+train", "5+train", "6+train",
                                            "8+train", "9+train"}));
  ASSERT_EQ((*loader)->skipped().size(), 1u);
  EXPECT_THAT(data::FormatSkipped((*loader)->skipped()[0]), ::testing::HasSubstr("transform 0: refused"));
}

}  // namespace
}  // namespace avsl
