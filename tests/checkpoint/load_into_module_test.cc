#include <torch/torch.h>

#include <string>
#include <vector>

#include "avsl/checkpoint/load_into_module.h"
#include "avsl/checkpoint/state_dict.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace avsl::checkpoint {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct NetImpl : torch::nn::Module {
  NetImpl() {
    fc1 = register_module("fc1", torch::nn::Linear(2, 3));
    bn = register_module("bn", torch::nn::BatchNorm1d(3));
    head = register_module("head", torch::nn::Linear(3, 1));
  }
  torch::nn::Linear fc1{nullptr}, head{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};
TORCH_MODULE(Net);

struct WrapperImpl : torch::nn::Module {
  WrapperImpl() { enc = register_module("enc", Net()); }
  Net enc{nullptr};
};
TORCH_MODULE(Wrapper);

// A state dict with the Net's names whose k-th tensor is filled with k + 1.
StateDict Filled(const std::string& prefix = "") {
  Net donor;
  StateDict sd;
  float k = 1;
  for (const auto& [name, t] : ModuleStateDict(*donor)) sd.emplace_back(prefix + name, torch::full_like(t, k++));
  return sd;
}

std::vector<std::string> Keys(const StateDict& sd) {
  std::vector<std::string> k;
  for (const auto& e : sd) k.push_back(e.first);
  return k;
}

TEST(ModuleStateDictTest, PyTorchOrderAndNames) {
  Net net;
  // Own parameters then buffers, children depth-first, as Python's Module.state_dict().
  EXPECT_THAT(Keys(ModuleStateDict(*net)),
              ElementsAre("fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                          "bn.num_batches_tracked", "head.weight", "head.bias"));
  Wrapper w;
  EXPECT_EQ(Keys(ModuleStateDict(*w)).front(), "enc.fc1.weight");
}

TEST(LoadIntoModuleTest, ExactMatchCopiesEverything) {
  Net net;
  auto report = LoadIntoModule(*net, Filled());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->complete());
  EXPECT_EQ(report->loaded.size(), 9u);
  // fc1.bias is the 2nd entry (filled with 2), bn.num_batches_tracked the 7th (int64 7).
  EXPECT_TRUE(torch::equal(net->fc1->bias, torch::full({3}, 2.0)));
  EXPECT_EQ(net->bn->num_batches_tracked.item<int64_t>(), 7);
  EXPECT_EQ(report->ToString(), "9 matched");
}

TEST(LoadIntoModuleTest, StrictMismatchListsEverythingAndLoadsNothing) {
  Net net;
  const torch::Tensor before = net->fc1->weight.clone();
  StateDict sd;
  for (auto& [k, t] : Filled()) {
    if (k == "head.bias") continue;                    // missing
    if (k == "head.weight") t = torch::zeros({2, 3});  // shape conflict
    sd.emplace_back(k, t);
  }
  sd.emplace_back("extra.w", torch::ones(1));  // unexpected
  LoadOptions o;
  o.source = "/ckpt/x.pt";
  auto r = LoadIntoModule(*net, sd, o);
  ASSERT_FALSE(r.ok());
  const std::string msg(r.status().message());
  EXPECT_EQ(msg, "/ckpt/x.pt does not match the module: 7 matched; "
                 "1 missing key(s) (in the module, not in the checkpoint): head.bias; "
                 "1 unexpected key(s) (in the checkpoint, not in the module): extra.w; "
                 "1 shape conflict(s): head.weight: checkpoint [2, 3] vs module [1, 3]");
  EXPECT_THAT(msg, HasSubstr("1 missing key(s) (in the module, not in the checkpoint): head.bias"));
  EXPECT_THAT(msg, HasSubstr("1 unexpected key(s) (in the checkpoint, not in the module): extra.w"));
  EXPECT_THAT(msg, HasSubstr("1 shape conflict(s): head.weight: checkpoint [2, 3] vs module [1, 3]"));
  EXPECT_TRUE(torch::equal(net->fc1->weight, before));  // all-or-nothing
}

TEST(LoadIntoModuleTest, NonStrictLoadsWhatMatchesAndReports) {
  Net net;
  const torch::Tensor head_before = net->head->weight.clone();
  StateDict sd;
  for (auto& [k, t] : Filled()) {
    if (k == "head.bias") continue;
    if (k == "head.weight") t = torch::zeros({2, 3});
    sd.emplace_back(k, t);
  }
  sd.emplace_back("extra.w", torch::ones(1));
  LoadOptions o;
  o.strict = false;
  auto r = LoadIntoModule(*net, sd, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->complete());
  EXPECT_THAT(r->missing, ElementsAre("head.bias"));
  EXPECT_THAT(r->unexpected, ElementsAre("extra.w"));
  ASSERT_EQ(r->shape_conflicts.size(), 1u);
  EXPECT_EQ(r->shape_conflicts[0].key, "head.weight");
  EXPECT_EQ(r->shape_conflicts[0].checkpoint_shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r->loaded.size(), 7u);
  EXPECT_TRUE(torch::equal(net->fc1->weight, torch::full({3, 2}, 1.0)));
  EXPECT_TRUE(torch::equal(net->head->weight, head_before));
}

TEST(LoadIntoModuleTest, KeyMapRenamesPrefixes) {
  Net net;
  LoadOptions o;
  o.key_map = {{"backbone.", ""}};
  auto r = LoadIntoModule(*net, Filled("backbone."), o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->loaded.size(), 9u);
  EXPECT_EQ(r->renamed.front(), std::make_pair(std::string("backbone.fc1.weight"), std::string("fc1.weight")));

  Wrapper w;
  LoadOptions add;
  add.key_map = {{"", "enc."}};
  auto r2 = LoadIntoModule(*w, Filled(), add);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_TRUE(torch::equal(w->enc->head->bias, torch::full({1}, 9.0)));
}

TEST(LoadIntoModuleTest, HintSuggestsTheMissingPrefix) {
  Wrapper w;
  auto r = LoadIntoModule(*w, Filled());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("9 missing key(s)"));
  EXPECT_THAT(r.status().message(),
              HasSubstr("try key_map {\"\", \"enc.\"} (in a recipe: [weights] rename = [\"=enc.\"])"));
  // The other direction: checkpoint keys carry a prefix the module lacks.
  Net net;
  auto r2 = LoadIntoModule(*net, Filled("encoder."));
  ASSERT_FALSE(r2.ok());
  EXPECT_THAT(r2.status().message(), HasSubstr("try key_map {\"encoder.\", \"\"}"));
}

TEST(LoadIntoModuleTest, IgnoredAndAllowedMissingPassStrict) {
  Net net;
  StateDict sd;
  for (auto& [k, t] : Filled()) {
    if (k.rfind("head.", 0) == 0) t = torch::zeros({7, 7});  // a classifier head of another size
    sd.emplace_back(k, t);
  }
  LoadOptions o;
  o.ignore_checkpoint_prefixes = {"head."};
  o.allow_missing_prefixes = {"head."};
  auto r = LoadIntoModule(*net, sd, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->ignored, ElementsAre("head.weight", "head.bias"));
  EXPECT_THAT(r->allowed_missing, ElementsAre("head.weight", "head.bias"));
  EXPECT_THAT(r->missing, IsEmpty());
  EXPECT_EQ(r->ToString(), "7 matched; 2 allowed missing; 2 ignored");
}

TEST(LoadIntoModuleTest, CollidingKeysAreAnError) {
  Net net;
  StateDict sd = {{"a.fc1.bias", torch::ones(3)}, {"b.fc1.bias", torch::ones(3)}};
  LoadOptions o;
  o.key_map = {{"a.", ""}, {"b.", ""}};
  auto r = LoadIntoModule(*net, sd, o);
  EXPECT_THAT(r.status().message(), HasSubstr("'a.fc1.bias' and 'b.fc1.bias' both map to module key 'fc1.bias'"));
}

TEST(LoadIntoModuleTest, DtypeIsConverted) {
  Net net;
  StateDict sd = Filled();
  for (auto& [k, t] : sd) t = t.to(torch::kDouble);
  auto r = LoadIntoModule(*net, sd);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(net->fc1->weight.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(net->fc1->weight, torch::full({3, 2}, 1.0f)));
}

TEST(LoadIntoModuleTest, LongListsAreCut) {
  LoadReport r;
  for (int i = 0; i < 25; ++i) r.missing.push_back("k" + std::to_string(i));
  EXPECT_THAT(r.ToString(3),
              HasSubstr("25 missing key(s) (in the module, not in the checkpoint): k0, k1, k2, ... (22 more)"));
}

}  // namespace
}  // namespace avsl::checkpoint
