// Shared scaffolding for method plugin tests: loading plugins into a PluginHost, building a component from a
// tiny inline TOML recipe, seeded random batches, parameter counts, a few optimizer steps on a fixed batch, the
// save/load checkpoint round trip and checks that an error names what it should.
//
// Header-only and framework-neutral on purpose: it is installed with the SDK so that out-of-tree plugin authors
// can use it with gtest, Catch2 or plain asserts. Nothing here includes gtest; helpers return absl::Status /
// absl::StatusOr or plain values, and an error Status always says what was expected and what happened, so a
// test can print it (with gtest: `EXPECT_EQ(kit::ErrorMentions(s, "key"), absl::OkStatus());` prints it).
//
// The namespace is `avsl::testkit`, not `avsl::testing`: inside `namespace avsl` an `avsl::testing` would
// shadow gtest's `::testing` for every unqualified `testing::TempDir()` in a plugin's tests.
#pragma once

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "avsl/builtins/core_components.h"
#include "avsl/checkpoint/state_dict.h"
#include "avsl/checkpoint/training_checkpoint.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/rank_group.h"
#include "avsl/core/recipe.h"
#include "avsl/models/resnet.h"

namespace avsl::testkit {

/// Where a build tree puts plugin `name`: `<build_dir>/lib/avsl/plugins/libavsl_<name>.so`. In-tree tests pass
/// the AVSL_BINARY_DIR compile definition; out-of-tree builds pass their own build directory.
inline std::string PluginPath(const std::string& build_dir, const std::string& name) {
  return build_dir + "/lib/avsl/plugins/libavsl_" + name + ".so";
}

/// Loads the core's built-ins (once) and each plugin of `names` (looked up with PluginPath) into `host`. Fails on
/// the first one that does not load, with its path and the host's reason.
inline absl::Status LoadPlugins(PluginHost& host, const std::string& build_dir, const std::vector<std::string>& names) {
  bool has_core = false;
  for (const PluginRecord& r : host.records()) has_core = has_core || r.name == "core";
  if (!has_core) AddCoreComponents(host);
  for (const std::string& name : names) {
    const std::string path = PluginPath(build_dir, name);
    const PluginRecord& r = host.LoadFile(path);
    if (r.status != PluginStatus::kLoaded) {
      return absl::FailedPreconditionError(absl::StrCat("plugin ", path, " did not load: ", r.message));
    }
  }
  return absl::OkStatus();
}

/// A new host with `names` loaded (see LoadPlugins); for suites that share one host across tests.
inline absl::StatusOr<std::unique_ptr<PluginHost>> MakePluginHost(const std::string& build_dir,
                                                                  const std::vector<std::string>& names) {
  auto host = std::make_unique<PluginHost>();
  absl::Status s = LoadPlugins(*host, build_dir, names);
  if (!s.ok()) return s;
  return host;
}

/// Builds the method of inline recipe text `toml` with the plugins `names` loaded from `build_dir`, seeding torch's
/// generator with `seed` first (see BuildMethod). The host is made once per set of names and kept until the test
/// binary exits (loading plugins is the slow part), so every test of a suite can call this directly.
inline absl::StatusOr<std::shared_ptr<Method>> BuildMethodWithPlugins(const std::string& build_dir,
                                                                      const std::vector<std::string>& names,
                                                                      const std::string& toml,
                                                                      std::optional<uint64_t> seed = 0);

/// Parses inline recipe text (origin "inline.toml", bases relative to ".") and validates it against
/// `registry`, as the trainer would before building anything.
inline absl::StatusOr<Recipe> ParseRecipe(const ComponentRegistry& registry, const std::string& toml) {
  auto recipe = Recipe::Parse(toml, "inline.toml", ".", {});
  if (!recipe.ok()) return recipe.status();
  absl::Status s = recipe->Validate(registry);
  if (!s.ok()) return s;
  return recipe;
}

/// Builds the recipe's `[model]` through `registry`. With `seed`, torch's generator is seeded right before the
/// build so the initial weights are reproducible; without it the caller's generator state is used as is.
inline absl::StatusOr<std::shared_ptr<Method>> BuildMethod(const ComponentRegistry& registry, const std::string& toml,
                                                           std::optional<uint64_t> seed = std::nullopt) {
  auto recipe = ParseRecipe(registry, toml);
  if (!recipe.ok()) return recipe.status();
  if (seed.has_value()) torch::manual_seed(*seed);
  return registry.Build<Method>(recipe->Root().Sub("model"));
}

inline absl::StatusOr<std::shared_ptr<Method>> BuildMethodWithPlugins(const std::string& build_dir,
                                                                      const std::vector<std::string>& names,
                                                                      const std::string& toml,
                                                                      std::optional<uint64_t> seed) {
  static auto* hosts = new std::map<std::vector<std::string>, std::unique_ptr<PluginHost>>();  // never destroyed:
  // a plugin's code must outlive every method built from it, including ones a test keeps in a static.
  auto it = hosts->find(names);
  if (it == hosts->end()) {
    absl::StatusOr<std::unique_ptr<PluginHost>> host = MakePluginHost(build_dir, names);
    if (!host.ok()) return host.status();
    it = hosts->emplace(names, std::move(*host)).first;
  }
  return BuildMethod(it->second->registry(), toml, seed);
}

/// Loads a recipe file and validates it against everything `host` loaded (the shipped-recipe check).
inline absl::StatusOr<Recipe> LoadRecipe(const std::string& path, const PluginHost& host) {
  auto recipe = Recipe::Load(path, {});
  if (!recipe.ok()) return recipe.status();
  absl::Status s = recipe->Validate(host);
  if (!s.ok()) return s;
  return recipe;
}

/// Shapes of RandomBatch's tensors (per sample): image [3, image_h, image_w], audio [1, audio_f, audio_t].
struct BatchShape {
  int64_t image_h = 32;
  int64_t image_w = 32;
  int64_t audio_f = 32;
  int64_t audio_t = 16;
};

/// A batch of `n` standard-normal images, then spectrograms (drawn in that order), after seeding torch's
/// generator with `seed` when given. Only image and audio are set; tests add GT maps, keys or classes.
inline Batch RandomBatch(int64_t n, const BatchShape& shape = {}, std::optional<uint64_t> seed = 7) {
  if (seed.has_value()) torch::manual_seed(*seed);
  Batch b;
  b.image = torch::randn({n, 3, shape.image_h, shape.image_w});
  b.audio = torch::randn({n, 1, shape.audio_f, shape.audio_t});
  return b;
}

/// Number of scalar parameters of `module` and all its submodules (buffers excluded).
inline int64_t CountParameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) total += p.numel();
  return total;
}

/// Names of the direct submodules of `module`, in registration order.
inline std::vector<std::string> ChildNames(const torch::nn::Module& module) {
  std::vector<std::string> names;
  for (const auto& c : module.named_children()) names.push_back(c.key());
  return names;
}

/// The value logged under `name` by a TrainStep; NaN when the step did not log it.
inline double LogValue(const StepOutput& out, const std::string& name) {
  for (const auto& [key, value] : out.logs) {
    if (key == name) return value;
  }
  return std::nan("");
}

/// Detached copies of every parameter and buffer of `module` by name, to compare two modules' whole state.
inline std::map<std::string, torch::Tensor> Snapshot(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : module.named_parameters()) out[p.key()] = p.value().detach().clone();
  for (const auto& b : module.named_buffers()) out[b.key()] = b.value().detach().clone();
  return out;
}

/// One training step as the trainer takes it: TrainStep(`batch`), zero_grad, backward, `optimizer.step()`,
/// then AfterOptimizerStep() (momentum encoders and other non-gradient updates).
inline StepOutput OptimizerStep(Method& method, torch::optim::Optimizer& optimizer, const Batch& batch) {
  StepOutput out = method.TrainStep(batch);
  optimizer.zero_grad();
  out.loss.backward();
  optimizer.step();
  method.AfterOptimizerStep();
  return out;
}

/// Puts `method` in train mode and takes `steps` steps as OptimizerStep does on the same `batch`, with a fresh
/// Adam of learning rate `lr`. Returns the loss of every step; each StepOutput too when `outs` is given. Fails when a
/// step's loss is not a scalar. The caller judges the numbers (finite, decreasing, ...).
inline absl::StatusOr<std::vector<double>> TrainLosses(Method& method, const Batch& batch, int steps, double lr,
                                                       std::vector<StepOutput>* outs = nullptr) {
  method.train();
  torch::optim::Adam adam(method.parameters(), torch::optim::AdamOptions(lr));
  std::vector<double> losses;
  for (int step = 0; step < steps; ++step) {
    StepOutput out = method.TrainStep(batch);
    if (out.loss.dim() != 0) {
      return absl::FailedPreconditionError(absl::StrCat("step ", step, ": TrainStep returned a loss of shape [",
                                                        absl::StrJoin(out.loss.sizes(), ", "), "], expected a scalar"));
    }
    losses.push_back(out.loss.item<double>());
    adam.zero_grad();
    out.loss.backward();
    adam.step();
    method.AfterOptimizerStep();
    if (outs != nullptr) outs->push_back(out);
  }
  return losses;
}

/// A data-parallel group of one rank: its collectives are identities that still report `gathered = true`, so a
/// method's `train.global_negatives` path (and SyncableBatchNorm2d's synchronized path) runs in one process and
/// must give what the single-process path gives.
class OneRankGroup final : public RankGroup {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  GatheredRows AllGather(const at::Tensor& local) override { return {local, 0, true}; }
  at::Tensor AllReduceSum(const at::Tensor& local) override { return local; }
};

/// Rank 1 of two, for a method's epoch-end gathers (TrainEvent::ranks) in one process: records what it contributes
/// to each gather and sees only its own rows. Pair with ReplayingRankGroup (rank 0) to check the gathered state.
class RecordingRankGroup final : public RankGroup {
 public:
  int rank() const override { return 1; }
  int world_size() const override { return 2; }
  GatheredRows AllGather(const at::Tensor& local) override {
    sent.push_back(local.clone());
    return {local, 0, true};
  }
  at::Tensor AllReduceSum(const at::Tensor& local) override { return local; }
  std::vector<at::Tensor> sent;
};

/// Rank 0 of two: its rows, then what a RecordingRankGroup's method sent to the same gather.
class ReplayingRankGroup final : public RankGroup {
 public:
  explicit ReplayingRankGroup(std::vector<at::Tensor> other) : other_(std::move(other)) {}
  int rank() const override { return 0; }
  int world_size() const override { return 2; }
  GatheredRows AllGather(const at::Tensor& local) override {
    return {torch::cat({local, other_.at(calls_++)}), 0, true};
  }
  at::Tensor AllReduceSum(const at::Tensor& local) override { return local; }

 private:
  std::vector<at::Tensor> other_;
  size_t calls_ = 0;
};

/// The loss of one TrainStep on `batch` without and with GatherNegatives active (on a OneRankGroup), torch's
/// generator seeded with `seed` before each so dropout draws agree, and the gathers the second step made. A method
/// that supports `train.global_negatives` gathers at least once and gets the same loss both ways.
struct GlobalNegativesCheck {
  double local_loss = 0, gathered_loss = 0;
  int gathers = 0;
};
inline GlobalNegativesCheck CheckGlobalNegatives(Method& method, const Batch& batch, uint64_t seed = 11) {
  GlobalNegativesCheck check;
  torch::manual_seed(seed);
  check.local_loss = method.TrainStep(batch).loss.item<double>();
  OneRankGroup group;
  DataParallelStepScope scope(&group, nullptr);
  torch::manual_seed(seed);
  check.gathered_loss = method.TrainStep(batch).loss.item<double>();
  check.gathers = scope.negatives_gathered();
  return check;
}

/// Mean of the first `k` values (added as v/k in order, so noisy losses compare as k-step averages).
inline double HeadMean(const std::vector<double>& v, size_t k) {
  double m = 0;
  for (size_t i = 0; i < k && i < v.size(); ++i) m += v[i] / static_cast<double>(k);
  return m;
}

/// Mean of the last `k` values (added as v/k from the end).
inline double TailMean(const std::vector<double>& v, size_t k) {
  double m = 0;
  for (size_t i = 0; i < k && i < v.size(); ++i) m += v[v.size() - 1 - i] / static_cast<double>(k);
  return m;
}

/// `<dir><stem>_<pid><extension>`: a file name that parallel test processes do not share.
inline std::string TempFilePath(const std::string& dir, const std::string& stem, const std::string& extension = ".pt") {
  return dir + stem + "_" + std::to_string(::getpid()) + extension;
}

/// Writes a torchvision-named ResNet18 state_dict to `path` (with fc, as torchvision's files have) for options that
/// read ImageNet weights (ogl's prior network, pretrained_weights): random weights drawn after seeding torch's
/// generator with `seed`, and randomized BatchNorm statistics, so a buffer that is not loaded changes the output.
inline absl::Status WriteRandomResNet18Weights(const std::string& path, uint64_t seed = 11) {
  torch::manual_seed(seed);
  models::ResNetOptions o;
  o.num_classes = 1000;
  models::ResNet net(o);
  torch::NoGradGuard no_grad;
  for (auto& b : net.named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) b.value().normal_(0, 0.1);
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 1.5);
  }
  return checkpoint::SaveStateDictForPython(path, checkpoint::ModuleStateDict(net));
}

/// The checkpoint round trip a trainer does: SaveCheckpoint(`path`, {method = `from`, recipe = `recipe_toml`,
/// optimizer = `optimizer` when given}), then LoadMethodWeights(`path`, `into`), then the file is removed.
/// The first failure is returned, naming the step.
inline absl::Status SaveAndLoadWeights(Method& from, Method& into, const std::string& path,
                                       const std::string& recipe_toml, torch::optim::Optimizer* optimizer = nullptr) {
  checkpoint::CheckpointContents contents;
  contents.method = &from;
  contents.optimizer = optimizer;
  contents.recipe_toml = recipe_toml;
  absl::Status s = checkpoint::SaveCheckpoint(path, contents);
  if (s.ok()) {
    s = checkpoint::LoadMethodWeights(path, into);
    if (!s.ok()) s = absl::Status(s.code(), absl::StrCat("loading the saved weights: ", s.message()));
  } else {
    s = absl::Status(s.code(), absl::StrCat("saving ", path, ": ", s.message()));
  }
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  return s;
}

/// The weights round trip of a method test: `a` and `b` are the same recipe built with different weights. Both
/// go to eval mode; without gradients, b's maps on `batch` must differ from a's before (else the check proves
/// nothing) and equal them bit for bit after SaveAndLoadWeights(a -> b, `path`, `recipe_toml`).
inline absl::Status CheckWeightsRoundTrip(Method& a, Method& b, const Batch& batch, const std::string& path,
                                          const std::string& recipe_toml) {
  a.eval();
  b.eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor want = a.Localize(batch).maps;
  if (torch::allclose(b.Localize(batch).maps, want)) {
    return absl::FailedPreconditionError(
        "the two methods give the same maps before loading: build them with different weights");
  }
  absl::Status s = SaveAndLoadWeights(a, b, path, recipe_toml);
  if (!s.ok()) return s;
  const torch::Tensor got = b.Localize(batch).maps;
  if (!torch::equal(got, want)) {
    return absl::FailedPreconditionError(
        absl::StrCat("after loading ", path, " the maps differ from the saved method's: max |diff| = ",
                     got.sizes() == want.sizes() ? (got - want).abs().max().item<double>() : std::nan("")));
  }
  return absl::OkStatus();
}

/// OK when `actual` is an error whose message contains `needle`; otherwise an error saying what was expected
/// and what came instead (OK, or the other message).
inline absl::Status ErrorMentions(const absl::Status& actual, const std::string& needle) {
  if (actual.ok())
    return absl::FailedPreconditionError(absl::StrCat("expected an error mentioning '", needle, "', got OK"));
  if (std::string(actual.message()).find(needle) == std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat("expected an error mentioning '", needle, "', got: ", actual.ToString()));
  }
  return absl::OkStatus();
}

/// Same, for the status of a StatusOr (e.g. a refused BuildMethod).
template <typename T>
absl::Status ErrorMentions(const absl::StatusOr<T>& actual, const std::string& needle) {
  return ErrorMentions(actual.status(), needle);
}

/// Runs `f` and expects it to throw a c10::Error (TORCH_CHECK) whose message contains `needle`: OK when it
/// does; otherwise an error saying that nothing was thrown or quoting the other message.
inline absl::Status ThrowsMentioning(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
  } catch (const c10::Error& e) {
    const std::string what = e.what();
    if (what.find(needle) != std::string::npos) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat("expected an error mentioning '", needle, "', got: ", what));
  }
  return absl::FailedPreconditionError(absl::StrCat("expected an error mentioning '", needle, "', nothing was thrown"));
}

}  // namespace avsl::testkit
