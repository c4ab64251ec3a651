#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/testing/method_test_kit.h"

namespace avsl {
namespace {

class CenterPriorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = testkit::LoadPlugins(host_, AVSL_BINARY_DIR, {"center_prior"});
    ASSERT_TRUE(s.ok()) << s;
  }
  std::shared_ptr<Method> Build(const std::string& options) {
    auto method = testkit::BuildMethod(host_.registry(), "[model]\ntype = \"center_prior.CenterPrior\"\n" + options);
    EXPECT_TRUE(method.ok()) << method.status();
    return *method;
  }
  // Unseeded: the prior ignores the content.
  Batch MakeBatch(int64_t n) { return testkit::RandomBatch(n, {32, 32, 16, 8}, std::nullopt); }
  PluginHost host_;
};

TEST_F(CenterPriorTest, MapShapeSymmetryPeakAndConstantConfidence) {
  auto method = Build("resolution = 4\nsigma = 0.5\n");
  Localization loc = method->Localize(MakeBatch(3));
  ASSERT_EQ(loc.maps.sizes(), (std::vector<int64_t>{3, 4, 4}));
  // Pixel centres (i + 0.5)/4 - 0.5 = -0.375, -0.125, 0.125, 0.375. Pixel (1,1): d2 = 2 * 0.125^2 = 0.03125,
  // value = exp(-0.03125 / (2 * 0.25)) = exp(-0.0625).
  EXPECT_NEAR(loc.maps[0][1][1].item<float>(), std::exp(-0.0625), 1e-6);
  // Corner (0,0): d2 = 2 * 0.375^2 = 0.28125 -> exp(-0.5625).
  EXPECT_NEAR(loc.maps[2][0][0].item<float>(), std::exp(-0.5625), 1e-6);
  EXPECT_TRUE(torch::equal(loc.maps[0], loc.maps[0].flip({0})));
  EXPECT_TRUE(torch::equal(loc.maps[0], loc.maps[0].t()));
  EXPECT_TRUE(torch::equal(loc.maps[0], loc.maps[2]));  // identical for every sample
  EXPECT_TRUE(torch::equal(loc.confidence, torch::ones({3})));
  EXPECT_EQ(loc.confidence_name, "constant");
}

TEST_F(CenterPriorTest, DefaultsAndNothingToLearn) {
  auto method = Build("");
  Localization loc = method->Localize(MakeBatch(1));
  EXPECT_EQ(loc.maps.size(1), 56);
  EXPECT_FALSE(method->trainable());
  EXPECT_EQ(method->parameters().size(), 0u);
  EXPECT_EQ(method->TrainStep(MakeBatch(2)).loss.item<float>(), 0.0f);
}

TEST_F(CenterPriorTest, OutOfRangeSigmaIsRejectedByTheSchema) {
  EXPECT_EQ(testkit::ErrorMentions(
                testkit::ParseRecipe(host_.registry(), "[model]\ntype = \"center_prior.CenterPrior\"\nsigma = 0\n"),
                "recipe key 'model.sigma' = 0 is out of range"),
            absl::OkStatus());
}

}  // namespace
}  // namespace avsl
