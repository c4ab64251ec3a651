#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"

namespace avsl {
namespace {

class CenterPriorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const PluginRecord& r =
        host_.LoadFile(std::string(AVSL_BINARY_DIR) + "/lib/avsl/plugins/libavsl_center_prior.so");
    ASSERT_EQ(r.status, PluginStatus::kLoaded) << r.message;
  }
  std::shared_ptr<Method> Build(const std::string& options) {
    auto recipe = Recipe::Parse("[model]\ntype = \"center_prior.CenterPrior\"\n" + options, "inline.toml", ".", {});
    EXPECT_TRUE(recipe.ok()) << recipe.status();
    absl::Status s = recipe->Validate(host_.registry());
    EXPECT_TRUE(s.ok()) << s;
    auto method = host_.registry().Build<Method>(recipe->Root().Sub("model"));
    EXPECT_TRUE(method.ok()) << method.status();
    return *method;
  }
  Batch MakeBatch(int64_t n) {
    Batch b;
    b.image = torch::randn({n, 3, 32, 32});
    b.audio = torch::randn({n, 1, 16, 8});
    return b;
  }
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
  auto recipe = Recipe::Parse("[model]\ntype = \"center_prior.CenterPrior\"\nsigma = 0\n", "inline.toml", ".", {});
  ASSERT_TRUE(recipe.ok());
  absl::Status s = recipe->Validate(host_.registry());
  EXPECT_NE(std::string(s.message()).find("recipe key 'model.sigma' = 0 is out of range"), std::string::npos) << s;
}

}  // namespace
}  // namespace avsl
