#include "plugin_templates.h"

#include <cctype>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace avsl::cli {
namespace {

// Placeholders: @NAME@ (plugin), @CLASS@ (component), @SDK@ (SDK version the folder was written for).
constexpr const char* kCMakeLists = R"tmpl(# @NAME@: an avsl method plugin, built against the installed avsl SDK.
#   cmake -S . -B build [-DCMAKE_PREFIX_PATH=<avsl install prefix>] && cmake --build build
#   ctest --test-dir build                      # the plugin's test (when GTest is installed)
#   avsl plugins list --plugin-path build       # shows @NAME@ and @NAME@.@CLASS@
#   avsl train synthetic.toml --plugin-path build
cmake_minimum_required(VERSION 3.18)
project(avsl_@NAME@ LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_EXTENSIONS OFF)  # gnu++17 predefines `linux` and `unix`, which would rename the entry point
find_package(avsl 1 REQUIRED)
avsl_add_plugin(NAME @NAME@ SOURCES @NAME@.cc TORCH OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

# The test links the plugin's objects (avsl_@NAME@_objects) and registers them through the plugin's own entry
# point, so it needs no plugin directory and no data.
find_package(GTest QUIET)
if(GTest_FOUND)
  enable_testing()
  add_executable(@NAME@_test @NAME@_test.cc)
  target_link_libraries(@NAME@_test PRIVATE avsl_@NAME@_objects GTest::gtest_main)
  add_test(NAME @NAME@_test COMMAND @NAME@_test)
else()
  message(STATUS "GTest not found: @NAME@_test is not built (Debian: apt install libgtest-dev)")
endif()
)tmpl";

// A method written from scratch on the core encoders: every line is the author's to change.
constexpr const char* kBlankSource =
    R"tmpl(// @NAME@.@CLASS@: a localization method on the core encoders (written by `avsl new-plugin`). As generated it is a
// two-tower contrastive localizer: a 1x1 conv image projection and a linear audio projection into a shared
// L2-normalized space, trained with the multiple-instance InfoNCE of EZ-VSL; the map is the cosine / tau at every
// location. Change Embed, TrainStep and Localize to make it yours; keep the options struct and the schema in step.
#include <torch/torch.h>

#include <memory>

#include "avsl/core/component_registry.h"
#include "avsl/core/encoder.h"
#include "avsl/core/method.h"
#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/core/status_macros.h"
#include "avsl/models/model_ops.h"
#include "avsl/models/objectives.h"
#include "avsl/models/two_tower.h"

namespace @NAME@_plugin {

namespace F = torch::nn::functional;
namespace models = avsl::models;

// The recipe keys: the member initializers are the defaults. The two-tower ones (image_encoder, audio_encoder,
// dim, tau) come from the SDK, so the shipped EZ-VSL recipes configure this method too.
struct @CLASS@Options : models::TwoTowerOptions {};

avsl::Options<@CLASS@Options> Make@CLASS@Options() {
  avsl::Options<@CLASS@Options> o("@CLASS@: TODO one line on what the method does");
  models::AddTwoTowerOptions(o);
  return o;
}

class @CLASS@ final : public avsl::Method {
 public:
  @CLASS@(std::shared_ptr<avsl::Encoder> image, std::shared_ptr<avsl::Encoder> audio, const @CLASS@Options& o) : tau_(o.tau) {
    image_encoder_ = register_module("image_encoder", std::move(image));
    audio_encoder_ = register_module("audio_encoder", std::move(audio));
    img_proj_ = register_module(
        "img_proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(image_encoder_->out_channels(), o.dim, 1)));
    aud_proj_ = register_module("aud_proj", torch::nn::Linear(audio_encoder_->out_channels(), o.dim));
  }

  avsl::StepOutput TrainStep(const avsl::Batch& batch) override {
    auto [v, a] = Embed(batch);
    const torch::Tensor logits = models::MaxMilLogits(v, a, tau_);  // [B,B], positives on the diagonal
    // loss, values for the epoch line and metrics.jsonl, and this forward's maps (for extra [[losses]]).
    return {models::SymmetricInfoNce(logits), models::CosineDiagnostics(logits, tau_), models::PairSimilarity(v, a, tau_)};
  }

  avsl::Localization Localize(const avsl::Batch& batch) override {
    auto [v, a] = Embed(batch);
    avsl::Localization out;
    out.maps = models::PairSimilarity(v, a, tau_);  // [B,h,w]
    out.range_min = -1.0 / tau_;                    // a cosine / tau: the evaluator maps [-1/tau, 1/tau] to [0,1]
    out.range_max = 1.0 / tau_;
    return out;
  }

 private:
  std::pair<torch::Tensor, torch::Tensor> Embed(const avsl::Batch& batch) {
    const auto unit = F::NormalizeFuncOptions().dim(1);
    torch::Tensor v = F::normalize(img_proj_(image_encoder_->Forward(batch.image)), unit);  // [B,D,h,w]
    torch::Tensor a = models::PooledAudioVector(audio_encoder_->Forward(batch.audio), "@NAME@.@CLASS@");
    return {v, F::normalize(aud_proj_(a), unit)};  // [B,D]
  }

  double tau_;
  std::shared_ptr<avsl::Encoder> image_encoder_, audio_encoder_;
  torch::nn::Conv2d img_proj_{nullptr};
  torch::nn::Linear aud_proj_{nullptr};
};

}  // namespace @NAME@_plugin

AVSL_PLUGIN("@NAME@", "0.1.0", "@CLASS@: TODO one line") {
  const auto options = @NAME@_plugin::Make@CLASS@Options();
  registrar.Register<avsl::Method>(
      "@CLASS@", options.schema(),
      [options](const avsl::ComponentConfig& c) { return avsl::models::BuildTwoTower<@NAME@_plugin::@CLASS@>(options, c); },
      "@CLASS@: TODO one line");
}
)tmpl";

// A variant of EZ-VSL: the SDK's two-tower localizer with its own objective.
constexpr const char* kEzvslSource =
    R"tmpl(// @NAME@.@CLASS@: a variant of EZ-VSL (written by `avsl new-plugin --from ezvsl`). Everything but the objective is
// the SDK's two-tower localizer (avsl/models/two_tower.h): encoders, projections, normalization, maps, EZ-VSL's
// initialization. As generated, Objective() is EZ-VSL's, so this trains exactly as ezvsl.EZVSL; change it (and add
// options) to make the variant.
#include <torch/torch.h>

#include <memory>

#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/models/objectives.h"
#include "avsl/models/two_tower.h"

namespace @NAME@_plugin {

namespace models = avsl::models;

// The recipe keys: EZ-VSL's (image_encoder, audio_encoder, dim, tau) plus this variant's own members.
struct @CLASS@Options : models::TwoTowerOptions {
  double weight = 1.0;  // an example option: scales the loss
};

class @CLASS@ final : public models::TwoTowerLocalizer {
 public:
  @CLASS@(std::shared_ptr<avsl::Encoder> image, std::shared_ptr<avsl::Encoder> audio, const @CLASS@Options& o)
      : TwoTowerLocalizer(std::move(image), std::move(audio), o, "@NAME@.@CLASS@"), weight_(o.weight) {}

 protected:
  avsl::StepOutput Objective(const models::TwoTowerEmbedding& e, const avsl::Batch& /*batch*/) override {
    const torch::Tensor logits = models::MaxMilLogits(e.image, e.audio, tau());  // [B,B], positives on the diagonal
    torch::Tensor loss = models::SymmetricInfoNce(logits);
    if (weight_ != 1.0) loss = loss * weight_;
    return {loss, models::CosineDiagnostics(logits, tau()), {}};
  }

 private:
  double weight_;
};

}  // namespace @NAME@_plugin

AVSL_PLUGIN("@NAME@", "0.1.0", "@CLASS@: a variant of EZ-VSL") {
  avsl::Options<@NAME@_plugin::@CLASS@Options> options("@CLASS@: EZ-VSL's two towers with its own objective");
  avsl::models::AddTwoTowerOptions(options);
  options.Float("weight", &@NAME@_plugin::@CLASS@Options::weight, "scale of the loss (1: EZ-VSL)").Range(0, 100);
  registrar.Register<avsl::Method>(
      "@CLASS@", options.schema(),
      [options](const avsl::ComponentConfig& c) { return avsl::models::BuildTwoTower<@NAME@_plugin::@CLASS@>(options, c); },
      "@CLASS@: a variant of EZ-VSL");
}
)tmpl";

constexpr const char* kTest =
    R"tmpl(// @NAME@.@CLASS@ with the SDK's method test kit on a tiny model: no data, no plugin directory.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <memory>
#include <string>

#include "avsl/testing/method_test_kit.h"

// The plugin's entry point, linked in from avsl_@NAME@_objects.
extern "C" const avsl::PluginInfo* avsl_plugin_info_@NAME@();

namespace {

using namespace avsl;

// Width-8 encoders; layer4 at stride 1 gives the image a 2x2 map for a 32x32 input.
const char* kTinyModel = R"toml(
[model]
type = "@NAME@.@CLASS@"
dim = 16
[model.image_encoder]
type = "core.ResNet18Image"
width = 8
layer4_stride = 1
[model.audio_encoder]
type = "core.ResNet18Audio"
width = 8
)toml";

class @CLASS@Test : public ::testing::Test {
 protected:
  void SetUp() override {
    AddCoreComponents(host_);
    const PluginRecord& r = host_.LoadLinked(*avsl_plugin_info_@NAME@(), "linked into @NAME@_test");
    ASSERT_EQ(r.status, PluginStatus::kLoaded) << r.message;
  }
  std::shared_ptr<Method> Build(uint64_t seed) {
    auto method = testkit::BuildMethod(host_.registry(), kTinyModel, seed);
    EXPECT_TRUE(method.ok()) << method.status();
    return method.ok() ? *method : nullptr;
  }
  static Batch MakeBatch(int64_t n) { return testkit::RandomBatch(n, {32, 32, 32, 16}); }
  PluginHost host_;
};

TEST_F(@CLASS@Test, LocalizesEachPairOnAMap) {
  auto method = Build(0);
  ASSERT_NE(method, nullptr);
  method->eval();
  torch::NoGradGuard no_grad;
  const Localization loc = method->Localize(MakeBatch(3));
  ASSERT_EQ(loc.maps.sizes(), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_TRUE(torch::isfinite(loc.maps).all().item<bool>());
}

TEST_F(@CLASS@Test, LossIsFiniteAndFallsOnAFixedBatch) {
  auto method = Build(0);
  ASSERT_NE(method, nullptr);
  auto losses = testkit::TrainLosses(*method, MakeBatch(6), 20, 1e-3);
  ASSERT_TRUE(losses.ok()) << losses.status();
  for (double loss : *losses) ASSERT_TRUE(std::isfinite(loss));
  EXPECT_LT(testkit::TailMean(*losses, 3), testkit::HeadMean(*losses, 3));
}

TEST_F(@CLASS@Test, WeightsRoundTripThroughACheckpoint) {
  auto a = Build(1), b = Build(2);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const std::string path = testkit::TempFilePath(::testing::TempDir(), "@NAME@_roundtrip");
  const absl::Status s = testkit::CheckWeightsRoundTrip(*a, *b, MakeBatch(2), path, kTinyModel);
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(@CLASS@Test, AnUnknownRecipeKeyIsRefusedByName) {
  auto built = testkit::BuildMethod(host_.registry(), std::string(kTinyModel) + "no_such_key = 1\n");
  EXPECT_EQ(testkit::ErrorMentions(built.status(), "no_such_key"), absl::OkStatus());
}

}  // namespace
)tmpl";

constexpr const char* kRecipe =
    R"tmpl(# @NAME@.@CLASS@ on the procedural synthetic benchmark (no data to download). The shipped EZ-VSL recipe, found by
# name in the installed SDK (share/avsl/recipes), sets the data, the encoders, the optimizer and 40 epochs; this
# file swaps the method. `avsl recipe dump synthetic.toml --plugin-path build` shows every key.
#   avsl train synthetic.toml --plugin-path build [--set train.epochs=N]
base = ["@avsl/ezvsl/synthetic.toml"]
plugins = ["@NAME@", "datasets"]
name = "@NAME@_synthetic"
# bf16 autocast + channels_last where the CPU or GPU computes bf16 natively, fp32 elsewhere; the run log says which.
# "none" keeps fp32 everywhere (docs/performance.md compares the two).
amp = "auto"

[model]
type = "@NAME@.@CLASS@"
)tmpl";

constexpr const char* kReadme = R"tmpl(# @NAME@

`@NAME@.@CLASS@`: TODO one paragraph: what the method does, the paper, the reference code it follows.

Written by `avsl new-plugin` for the avsl SDK @SDK@@FROM@.

## Build, test, run

```sh
cmake -S . -B build -DCMAKE_PREFIX_PATH=<avsl install prefix>   # the prefix is not needed under /usr or /usr/local
cmake --build build
ctest --test-dir build                   # @NAME@_test (built when GTest is installed)
avsl plugins list --plugin-path build    # @NAME@ ... loaded
avsl train synthetic.toml --plugin-path build --set train.epochs=2
avsl eval runs/@NAME@_synthetic/<timestamp>   # the run remembers where its plugins were
```

## Options

`avsl recipe describe @NAME@.@CLASS@ --plugin-path build` prints the schema. Keep this table in step with it.

| key | default | source of the default |
|---|---|---|
| `image_encoder` | `core.ResNet18Image` | TODO (e.g. the paper's ImageNet ResNet18) |
| `audio_encoder` | `core.ResNet18Audio` | TODO |
| `dim` | 512 | TODO (e.g. the reference's `--out_dim`) |
| `tau` | 0.03 | TODO |
@OPTIONS@
## Departures from the reference

TODO: every place where this plugin does something other than the reference code, and why (or "none").
)tmpl";

}  // namespace

std::vector<std::pair<std::string, std::string>> PluginTemplateBases() {
  return {{"", "a method written from scratch on the core encoders (the default)"},
          {"ezvsl", "a subclass of the SDK's two-tower localizer with its own objective (EZ-VSL variants)"}};
}

std::string ComponentNameFor(const std::string& plugin_name) {
  std::string out;
  bool upper = true;
  for (char c : plugin_name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

absl::Status ValidatePluginTemplateParams(const PluginTemplateParams& p) {
  auto is_name = [](const std::string& s) {
    if (s.empty() || !std::islower(static_cast<unsigned char>(s[0]))) return false;
    for (char c : s)
      if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
        return false;
    return true;
  };
  if (!is_name(p.name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("NAME: expected a lowercase identifier ([a-z][a-z0-9_]*, it becomes ",
                     "libavsl_NAME.so and the component prefix), found '", p.name, "'"));
  }
  // The name becomes a library stem, a component prefix and part of C++ identifiers (avsl_plugin_info_NAME,
  // namespace NAME_plugin); the core's own name and macros a compiler predefines are refused.
  static const std::set<std::string> kTaken = {"core", "linux", "unix"};
  if (kTaken.count(p.name) > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NAME: '", p.name, "' is taken (the core's built-ins, or a name compilers predefine); choose another"));
  }
  bool component_ok = !p.component.empty() && std::isupper(static_cast<unsigned char>(p.component[0]));
  for (char c : p.component) component_ok = component_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!component_ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--component: expected a C++ class name starting with an uppercase letter, found '", p.component, "'"));
  }
  std::vector<std::string> known;
  for (const auto& [base, doc] : PluginTemplateBases()) {
    if (base == p.from) return absl::OkStatus();
    if (!base.empty()) known.push_back(base);
  }
  return absl::InvalidArgumentError(absl::StrCat("--from: no template for '", p.from,
                                                 "'; available: ", absl::StrJoin(known, ", "),
                                                 " (or leave --from out for a method written from scratch)"));
}

std::vector<std::pair<std::string, std::string>> RenderPluginTemplate(const PluginTemplateParams& p) {
  const bool ezvsl = p.from == "ezvsl";
  const std::string from_note = ezvsl ? " from the ezvsl template (a subclass of `avsl::models::TwoTowerLocalizer`)"
                                      : " (a method written from scratch on the core encoders)";
  const std::string options = ezvsl ? "| `weight` | 1.0 | example option of the template: scales the loss |\n" : "";
  const std::vector<std::pair<std::string, std::string>> subs = {{"@NAME@", p.name},
                                                                 {"@CLASS@", p.component},
                                                                 {"@SDK@", p.sdk_version},
                                                                 {"@FROM@", from_note},
                                                                 {"@OPTIONS@", options}};
  auto render = [&](const char* text) { return absl::StrReplaceAll(text, subs); };
  return {{"CMakeLists.txt", render(kCMakeLists)},
          {p.name + ".cc", render(ezvsl ? kEzvslSource : kBlankSource)},
          {p.name + "_test.cc", render(kTest)},
          {"synthetic.toml", render(kRecipe)},
          {"README.md", render(kReadme)}};
}

}  // namespace avsl::cli
