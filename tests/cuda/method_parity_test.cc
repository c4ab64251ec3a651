// Every in-tree method on CUDA equals itself on CPU (fp32, 1e-4): one table entry per registered method component
// (and a few variants), each built with the tiny recipe its plugin's own test uses. For each entry, two copies
// with the same weights (one moved to CUDA) see the same batch and must agree on
//   - Localize in eval mode: maps, native confidence (when defined), its name and the declared range;
//   - for trainable methods, one training step as the trainer takes it, in train mode (BatchNorm on batch
//     statistics): TrainStep's loss, logs and maps, the [[losses]] of the entry on those maps, the gradient of
//     every parameter after backward, and every parameter and buffer after an SGD step and AfterOptimizerStep
//     (momentum encoders, BatchNorm running statistics, step counters).
// Randomness: the in-batch negatives some methods draw (torch::randint on the CPU generator) are the same on both
// copies because the generator is re-seeded before each half; dropout draws differ between CPU and CUDA, so the
// entries set every dropout probability to 0 (checked). TF32 is turned off for the CUDA half (cuDNN convolutions
// use it by default on Ampere and later, ~1e-3 relative error).
// Without CUDA the CPU half still runs (each recipe builds, steps and back-propagates) and the test is skipped.
// CudaParityTable.CoversEveryInTreeMethod (no GPU needed) fails when a plugin registers a method the table lacks.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "avsl/core/component_kind.h"
#include "avsl/core/loss.h"
#include "avsl/core/method.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/train_event.h"
#include "avsl/testing/method_test_kit.h"
#include "cuda_skip.h"

namespace avsl {
namespace {

constexpr double kTolerance = 1e-4;  // max |CPU - CUDA| <= kTolerance * max(1, max |CPU|), per tensor
constexpr uint64_t kBuildSeed = 0;
constexpr uint64_t kStepSeed = 1234;
constexpr double kSgdLr = 0.1;
constexpr int64_t kBatchSize = 4;

// The recipe text "{prior_weights}" stands for a generated torchvision-named ResNet18 state_dict (ogl's prior).
constexpr const char* kPriorPlaceholder = "{prior_weights}";

struct MethodCase {
  std::string id;                    ///< test name suffix: letters, digits, underscores
  std::string type;                  ///< the registered method component this entry covers
  std::vector<std::string> plugins;  ///< loaded from the build tree
  std::string model;                 ///< the recipe's [model] tables
  testkit::BatchShape shape;         ///< per-sample image and spectrogram sizes
  std::string losses;                ///< optional [[losses]] tables, computed on TrainStep's maps as the trainer does
  /// Run on both copies (train mode, generator re-seeded) before the compared step: puts the method in a later
  /// state (e.g. DSOL after its first k-means).
  std::function<void(Method&, const Batch&)> prepare;
};

void PrintTo(const MethodCase& c, std::ostream* os) { *os << c.id << " (" << c.type << ")"; }

// Width-8 ResNet18 tables, as the plugins' tests write them.
std::string Encoders(const std::string& prefix, const std::string& image_extra, const std::string& audio_extra) {
  return "[" + prefix + ".image_encoder]\ntype = \"core.ResNet18Image\"\nwidth = 8\n" + image_extra + "[" + prefix +
         ".audio_encoder]\ntype = \"core.ResNet18Audio\"\nwidth = 8\n" + audio_extra;
}

MethodCase Case(std::string id, std::string type, std::vector<std::string> plugins, std::string model,
                testkit::BatchShape shape = {32, 32, 32, 16}) {
  MethodCase c;
  c.id = std::move(id);
  c.type = std::move(type);
  c.plugins = std::move(plugins);
  c.model = std::move(model);
  c.shape = shape;
  return c;
}

void EndEpoch(Method& m) {
  TrainEvent e;
  e.type = TrainEvent::Type::kEpochEnd;
  e.epoch = 1;
  m.OnTrainEvent(e);
}

std::vector<MethodCase> MethodCases() {
  const std::string stride1 = "layer4_stride = 1\n";
  const std::string ezvsl_model = "[model]\ntype = \"ezvsl.EZVSL\"\ndim = 16\n" +
                                  Encoders("model", stride1, "");  // ezvsl_test.cc kTinyModel
  std::vector<MethodCase> cases;
  cases.push_back(Case("ezvsl_EZVSL", "ezvsl.EZVSL", {"ezvsl"}, ezvsl_model));
  // fnac_test.cc TinyModel with dropout off: a mask is drawn by each device's own generator.
  cases.push_back(
      Case("fnac_FNAC", "fnac.FNAC", {"fnac"},
           "[model]\ntype = \"fnac.FNAC\"\ndim = 16\ndropout_img = 0.0\n" + Encoders("model", stride1, "")));
  // The semi-supervised loss on the step's maps (EZ-VSL + semi recipes); samples 0 and 1 carry a GT box.
  MethodCase semi = Case("ezvsl_EZVSL_with_semi_MapSupervision", "ezvsl.EZVSL", {"ezvsl", "semi"}, ezvsl_model);
  semi.losses = "[[losses]]\ntype = \"semi.MapSupervision\"\n";
  cases.push_back(semi);
  // slavc_test.cc TinyRecipe, image dropout off (the default 0.9 draws differently on CUDA); audio dropout is 0.
  cases.push_back(Case("slavc_SLAVC", "slavc.SLAVC", {"slavc"},
                       "[model]\ntype = \"slavc.SLAVC\"\ndim = 16\ndropout_img = 0.0\ndropout_aud = 0.0\n" +
                           Encoders("model", stride1, "")));
  // lvs_test.cc / hardpos_test.cc TinyModel (the LVS ResNet: layer4 stride 1 in both, reference init).
  const std::string lvs_encoders = Encoders("model", stride1 + "init = \"reference\"\n", stride1);
  cases.push_back(
      Case("lvs_LVS", "lvs.LVS", {"lvs"}, "[model]\ntype = \"lvs.LVS\"\nconfidence = \"positive\"\n" + lvs_encoders));
  cases.push_back(Case("lvs_HardPos", "lvs.HardPos", {"lvs"}, "[model]\ntype = \"lvs.HardPos\"\n" + lvs_encoders));
  // ssltie_test.cc TinyModel: the view-2 transform and the appearance draws come from the CPU generator on both
  // devices; the appearance augmentation is off so the step compares the two views' losses and the equivariance.
  cases.push_back(Case("ssltie_SSLTIE", "ssltie.SSLTIE", {"ssltie"},
                       "[model]\ntype = \"ssltie.SSLTIE\"\nappearance = false\n" + lvs_encoders));
  // sslalign_test.cc TinyModel: one step (an empty feature bank); the audio view's masks are drawn on the CPU.
  cases.push_back(Case("sslalign_SSLAlign", "sslalign.SSLAlign", {"sslalign"},
                       "[model]\ntype = \"sslalign.SSLAlign\"\nappearance = false\n" + lvs_encoders));
  // attention10k_test.cc kTinyModel: the ratio loss plus the supervised term (GT on samples 0 and 1), then the
  // contrastive objective with the other native confidence.
  const std::string attention = "[model]\ntype = \"attention10k.Attention10k\"\nhidden_dim = 16\n";
  cases.push_back(Case("attention10k_Attention10k", "attention10k.Attention10k", {"attention10k"},
                       attention + "confidence = \"max_attention\"\n" + Encoders("model", stride1, "")));
  cases.push_back(
      Case("attention10k_Attention10k_contrastive", "attention10k.Attention10k", {"attention10k"},
           attention + "loss = \"contrastive\"\nconfidence = \"neg_distance\"\n" + Encoders("model", stride1, "")));
  // dmc_test.cc kTinyModel, 64x32 spectrograms (a 4x2 audio map).
  cases.push_back(Case("dmc_DMC", "dmc.DMC", {"dmc"},
                       "[model]\ntype = \"dmc.DMC\"\ndim = 16\nconfidence = \"neg_distance\"\n" +
                           Encoders("model", stride1, stride1 + "pool = \"none\"\n"),
                       {32, 32, 64, 32}));
  // coarse2fine_test.cc TinyRecipe: stage two from the first step (the alignment loss included), class ids 0..2.
  cases.push_back(Case("coarse2fine_CoarseToFine", "coarse2fine.CoarseToFine", {"coarse2fine"},
                       "[model]\ntype = \"coarse2fine.CoarseToFine\"\nnum_classes = 3\navc_hidden = 16\n"
                       "proj_hidden = 32\nproj_dim = 16\n" +
                           Encoders("model", stride1, "pool = \"none\"\n"),
                       {32, 32, 64, 32}));
  // dsol_test.cc TinyRecipe: stage one, then the state after the first k-means (the class term added). For the
  // latter the classifiers are not re-initialized at the k-means (that draws from each device's own generator)
  // and k-means runs once: restarts that find the same clusters in another order tie on inertia, and a tie
  // broken differently on the two copies would permute the pseudo-labels.
  const std::string dsol = "[model]\ntype = \"dsol.DSOL\"\ndim = 16\nnum_clusters = 3\n";
  cases.push_back(
      Case("dsol_DSOL", "dsol.DSOL", {"dsol"}, dsol + "kmeans_restarts = 2\n" + Encoders("model", stride1, "")));
  MethodCase kmeans = Case(
      "dsol_DSOL_after_kmeans", "dsol.DSOL", {"dsol"},
      dsol + "kmeans_restarts = 1\ninit_epochs = 1\nreinit_classifiers = false\n" + Encoders("model", stride1, ""));
  kmeans.prepare = [](Method& m, const Batch& b) {
    m.TrainStep(b);  // fills the feature bank
    EndEpoch(m);     // k-means on it (CPU, the same seeded draws on both copies)
  };
  cases.push_back(kmeans);
  // ogl_test.cc: OGL around EZ-VSL (both mixing conventions) and the prior alone, 64x64 images (a 2x2 map).
  const std::string ogl_base = "[model.base]\ntype = \"ezvsl.EZVSL\"\ndim = 16\n" + Encoders("model.base", "", "");
  const std::string weights = std::string("weights = \"") + kPriorPlaceholder + "\"\n";
  cases.push_back(Case("ogl_OGL_slavc", "ogl.OGL", {"ezvsl", "ogl"},
                       "[model]\ntype = \"ogl.OGL\"\nconvention = \"slavc\"\noutput_size = 16\n" + weights + ogl_base,
                       {64, 64, 32, 16}));
  cases.push_back(Case("ogl_OGL_ezvsl", "ogl.OGL", {"ezvsl", "ogl"},
                       "[model]\ntype = \"ogl.OGL\"\nconvention = \"ezvsl\"\noutput_size = 16\n" + weights + ogl_base,
                       {64, 64, 32, 16}));
  cases.push_back(Case("ogl_ObjectPrior", "ogl.ObjectPrior", {"ogl"}, "[model]\ntype = \"ogl.ObjectPrior\"\n" + weights,
                       {64, 64, 32, 16}));
  cases.push_back(Case("center_prior_CenterPrior", "center_prior.CenterPrior", {"center_prior"},
                       "[model]\ntype = \"center_prior.CenterPrior\"\n"));
  return cases;
}

// RandomBatch plus everything a collated batch carries: a GT box on samples 0 and 1, all sounding, class ids
// 0, 1, 2, 0, ... and keys.
Batch MakeBatch(const testkit::BatchShape& shape) {
  using torch::indexing::Slice;
  Batch b = testkit::RandomBatch(kBatchSize, shape, 7);
  b.gt_map = torch::zeros({kBatchSize, shape.image_h, shape.image_w});
  b.gt_map.index_put_({Slice(), Slice(0, shape.image_h / 2), Slice(0, shape.image_w / 2)}, 1.0);
  b.has_gt = torch::zeros({kBatchSize}, torch::kBool);
  b.has_gt.index_put_({Slice(0, 2)}, true);
  b.sounding = torch::ones({kBatchSize}, torch::kBool);
  b.class_id = torch::arange(kBatchSize, torch::kLong).remainder(3);
  for (int64_t i = 0; i < kBatchSize; ++i) b.keys.push_back("s" + std::to_string(i));
  return b;
}

Batch ToDevice(const Batch& b, const torch::Device& device) {
  auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : t; };
  Batch out;
  out.image = move(b.image);
  out.audio = move(b.audio);
  out.gt_map = move(b.gt_map);
  out.has_gt = move(b.has_gt);
  out.sounding = move(b.sounding);
  out.class_id = move(b.class_id);
  out.keys = b.keys;
  return out;
}

// Same parameters and buffers in `to` as in `from` (the two copies are built with the same seed already; this
// makes the comparison independent of how a factory draws its initial weights).
void CopyState(const torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto params = to.named_parameters();
  auto buffers = to.named_buffers();
  ASSERT_EQ(params.size(), from.named_parameters().size());
  ASSERT_EQ(buffers.size(), from.named_buffers().size());
  for (const auto& p : from.named_parameters()) {
    torch::Tensor* dst = params.find(p.key());
    ASSERT_NE(dst, nullptr) << p.key();
    dst->copy_(p.value());
  }
  for (const auto& b : from.named_buffers()) {
    torch::Tensor* dst = buffers.find(b.key());
    ASSERT_NE(dst, nullptr) << b.key();
    dst->copy_(b.value());
  }
}

// Dropout draws differ between CPU and CUDA: the table's recipes must switch every dropout module off.
template <typename Holder>
void ExpectNoDropoutOf(const torch::nn::Module& method, const char* what) {
  for (const auto& child : method.named_modules("", /*include_self=*/false)) {
    if (const auto* d = child.value()->template as<Holder>()) {
      EXPECT_EQ(d->options.p(), 0.0) << what << " '" << child.key()
                                     << "' draws differently on CPU and CUDA: set its probability to 0 in the "
                                        "table's recipe";
    }
  }
}

// What one device computed.
struct Half {
  Localization loc;
  bool trained = false;
  torch::Tensor loss;
  std::vector<std::pair<std::string, double>> logs;
  torch::Tensor step_maps;
  std::map<std::string, torch::Tensor> grads;       ///< parameter name -> gradient (undefined: none)
  std::map<std::string, torch::Tensor> after_step;  ///< parameters and buffers after SGD + AfterOptimizerStep
};

Half RunHalf(Method& method, Loss* extra_loss, const Batch& batch, const MethodCase& c) {
  Half h;
  method.eval();
  {
    torch::NoGradGuard no_grad;
    torch::manual_seed(kStepSeed);
    h.loc = method.Localize(batch);
  }
  if (!method.trainable()) return h;
  h.trained = true;
  method.train();
  if (c.prepare) {
    torch::manual_seed(kStepSeed + 1);
    c.prepare(method, batch);
  }
  torch::manual_seed(kStepSeed + 2);
  StepOutput out = method.TrainStep(batch);
  torch::Tensor loss = out.loss;
  if (extra_loss != nullptr) {
    EXPECT_TRUE(out.maps.defined()) << c.type << " returns no StepOutput::maps for the entry's [[losses]]";
    if (out.maps.defined()) loss = loss + extra_loss->Compute(batch, out.maps);
  }
  loss.backward();
  h.loss = loss.detach();
  h.logs = out.logs;
  if (out.maps.defined()) h.step_maps = out.maps.detach();
  for (const auto& p : method.named_parameters()) {
    const torch::Tensor& g = p.value().grad();
    h.grads[p.key()] = g.defined() ? g.detach().clone() : torch::Tensor();
  }
  torch::optim::SGD sgd(method.parameters(), torch::optim::SGDOptions(kSgdLr));
  sgd.step();
  method.AfterOptimizerStep();
  h.after_step = testkit::Snapshot(method);
  return h;
}

// Tensor comparisons with the table's tolerance; remembers the worst |CPU - CUDA| / max(1, max |CPU|) seen.
class Comparator {
 public:
  ::testing::AssertionResult Check(const std::string& what, const torch::Tensor& cpu, const torch::Tensor& gpu) {
    ++count_;
    if (cpu.defined() != gpu.defined()) {
      return ::testing::AssertionFailure()
             << what << ": defined on CPU: " << cpu.defined() << ", on CUDA: " << gpu.defined();
    }
    if (!cpu.defined()) return ::testing::AssertionSuccess();
    if (cpu.sizes() != gpu.sizes() || cpu.scalar_type() != gpu.scalar_type()) {
      return ::testing::AssertionFailure() << what << ": CPU " << cpu.scalar_type() << " " << cpu.sizes() << ", CUDA "
                                           << gpu.scalar_type() << " " << gpu.sizes();
    }
    const torch::Tensor want = cpu.detach().cpu(), got = gpu.detach().cpu();
    if (!want.is_floating_point()) {
      if (torch::equal(want, got)) return ::testing::AssertionSuccess();
      return ::testing::AssertionFailure() << what << ": CPU " << want << " vs CUDA " << got;
    }
    if (want.numel() == 0) return ::testing::AssertionSuccess();
    const torch::Tensor w = want.to(torch::kDouble), g = got.to(torch::kDouble);
    if (!torch::isfinite(w).all().item<bool>() || !torch::isfinite(g).all().item<bool>()) {
      return ::testing::AssertionFailure()
             << what << ": non-finite values (CPU finite: " << torch::isfinite(w).all().item<bool>()
             << ", CUDA finite: " << torch::isfinite(g).all().item<bool>() << ")";
    }
    const double scale = std::max(1.0, w.abs().max().item<double>());
    const double diff = (w - g).abs().max().item<double>();
    worst_ = std::max(worst_, diff / scale);
    if (diff <= kTolerance * scale) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": max |CPU - CUDA| = " << diff << " > " << kTolerance << " * "
                                         << scale;
  }
  ::testing::AssertionResult CheckValue(const std::string& what, double cpu, double gpu) {
    return Check(what, torch::tensor(cpu, torch::kDouble), torch::tensor(gpu, torch::kDouble));
  }
  double worst() const { return worst_; }
  int count() const { return count_; }

 private:
  double worst_ = 0;
  int count_ = 0;
};

bool SameRangeValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

class MethodCudaParityTest : public ::testing::TestWithParam<MethodCase> {
 protected:
  static void TearDownTestSuite() {
    if (prior_dir_ != nullptr) {
      std::error_code ec;
      std::filesystem::remove_all(*prior_dir_, ec);
      delete prior_dir_;
      prior_dir_ = nullptr;
    }
  }

  // ogl's prior network loads a torchvision-named ResNet18 state_dict, written once per process (as ogl_test does).
  static std::string PriorWeights() {
    if (prior_dir_ == nullptr) {
      prior_dir_ = new std::string(::testing::TempDir() + "avsl_cuda_parity_" + std::to_string(::getpid()));
      std::filesystem::create_directories(*prior_dir_);
      const absl::Status s = testkit::WriteRandomResNet18Weights(*prior_dir_ + "/resnet18.pth");
      EXPECT_TRUE(s.ok()) << s;
    }
    return *prior_dir_ + "/resnet18.pth";
  }

  static std::string* prior_dir_;
};
std::string* MethodCudaParityTest::prior_dir_ = nullptr;

TEST_P(MethodCudaParityTest, ForwardAndBackwardEqualCpu) {
  const MethodCase& c = GetParam();
  // Declared first, destroyed last: the methods' code lives in the plugins it loaded.
  PluginHost host;
  const absl::Status loaded = testkit::LoadPlugins(host, AVSL_BINARY_DIR, c.plugins);
  ASSERT_TRUE(loaded.ok()) << loaded;
  std::string toml = c.model;
  if (toml.find(kPriorPlaceholder) != std::string::npos) {
    toml = absl::StrReplaceAll(toml, {{kPriorPlaceholder, PriorWeights()}});
  }
  auto cpu = testkit::BuildMethod(host.registry(), toml, kBuildSeed);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  auto gpu = testkit::BuildMethod(host.registry(), toml, kBuildSeed);
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  ASSERT_NO_FATAL_FAILURE(CopyState(**cpu, **gpu));
  ExpectNoDropoutOf<torch::nn::Dropout>(**cpu, "torch::nn::Dropout");
  ExpectNoDropoutOf<torch::nn::Dropout2d>(**cpu, "torch::nn::Dropout2d");
  ExpectNoDropoutOf<torch::nn::Dropout3d>(**cpu, "torch::nn::Dropout3d");
  std::shared_ptr<Loss> loss_cpu, loss_gpu;
  if (!c.losses.empty()) {
    auto recipe = testkit::ParseRecipe(host.registry(), c.losses);
    ASSERT_TRUE(recipe.ok()) << recipe.status();
    auto a = host.registry().Build<Loss>(recipe->Root().SubArray("losses").at(0));
    auto b = host.registry().Build<Loss>(recipe->Root().SubArray("losses").at(0));
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    loss_cpu = *a;
    loss_gpu = *b;
  }
  const Batch batch = MakeBatch(c.shape);

  const Half want = RunHalf(**cpu, loss_cpu.get(), batch, c);
  ASSERT_FALSE(::testing::Test::HasFailure()) << "the CPU half of " << c.id << " failed";
  SKIP_WITHOUT_CUDA();

  // cuDNN convolutions default to TF32 on Ampere and later; the comparison is of fp32 arithmetic.
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setAllowTF32CuBLAS(false);
  const torch::Device cuda(torch::kCUDA);
  (*gpu)->to(cuda);
  if (loss_gpu) loss_gpu->to(cuda);
  const Half got = RunHalf(**gpu, loss_gpu.get(), ToDevice(batch, cuda), c);

  Comparator cmp;
  ASSERT_TRUE(got.loc.maps.defined());
  EXPECT_TRUE(got.loc.maps.is_cuda()) << "Localize maps on " << got.loc.maps.device();
  EXPECT_TRUE(cmp.Check("Localize maps", want.loc.maps, got.loc.maps));
  EXPECT_TRUE(cmp.Check("Localize confidence", want.loc.confidence, got.loc.confidence));
  EXPECT_EQ(got.loc.confidence_name, want.loc.confidence_name);
  EXPECT_TRUE(SameRangeValue(got.loc.range_min, want.loc.range_min))
      << got.loc.range_min << " vs " << want.loc.range_min;
  EXPECT_TRUE(SameRangeValue(got.loc.range_max, want.loc.range_max))
      << got.loc.range_max << " vs " << want.loc.range_max;
  ASSERT_EQ(got.trained, want.trained);
  if (want.trained) {
    EXPECT_TRUE(got.loss.is_cuda()) << "TrainStep loss on " << got.loss.device();
    EXPECT_TRUE(cmp.Check("TrainStep loss (with the entry's [[losses]])", want.loss, got.loss));
    EXPECT_TRUE(cmp.Check("TrainStep maps", want.step_maps, got.step_maps));
    ASSERT_EQ(got.logs.size(), want.logs.size());
    for (size_t i = 0; i < want.logs.size(); ++i) {
      EXPECT_EQ(got.logs[i].first, want.logs[i].first);
      EXPECT_TRUE(cmp.CheckValue("TrainStep log " + want.logs[i].first, want.logs[i].second, got.logs[i].second));
    }
    ASSERT_EQ(got.grads.size(), want.grads.size());
    for (const auto& [name, grad] : want.grads) {
      ASSERT_EQ(got.grads.count(name), 1u) << name;
      EXPECT_TRUE(cmp.Check("gradient of " + name, grad, got.grads.at(name)));
    }
    ASSERT_EQ(got.after_step.size(), want.after_step.size());
    for (const auto& [name, value] : want.after_step) {
      ASSERT_EQ(got.after_step.count(name), 1u) << name;
      EXPECT_TRUE(cmp.Check("after one SGD step and AfterOptimizerStep, " + name, value, got.after_step.at(name)));
    }
  }
  int with_grad = 0;
  for (const auto& [name, grad] : want.grads) with_grad += grad.defined();
  std::cout << "[ CUDA == CPU ] " << c.type << " (" << c.id << "): "
            << (want.trained ? absl::StrCat("Localize, TrainStep loss, ", with_grad, " gradients, ",
                                            want.after_step.size(), " tensors after an SGD step")
                             : std::string("Localize only (not trainable)"))
            << "; " << cmp.count() << " comparisons, worst |CPU - CUDA| / max(1, |CPU|) = " << cmp.worst() << std::endl;
  RecordProperty("worst_relative_difference", std::to_string(cmp.worst()));
}

INSTANTIATE_TEST_SUITE_P(InTreeMethods, MethodCudaParityTest, ::testing::ValuesIn(MethodCases()),
                         [](const ::testing::TestParamInfo<MethodCase>& info) { return info.param.id; });

// Runs without a GPU: every method component registered by an in-tree plugin (a folder of plugins/ with a
// CMakeLists.txt) has an entry in the table above.
TEST(CudaParityTable, CoversEveryInTreeMethod) {
  std::vector<std::string> plugins;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(AVSL_SOURCE_DIR) + "/plugins")) {
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "CMakeLists.txt")) {
      plugins.push_back(entry.path().filename().string());
    }
  }
  std::sort(plugins.begin(), plugins.end());
  ASSERT_FALSE(plugins.empty());
  PluginHost host;
  const absl::Status loaded = testkit::LoadPlugins(host, AVSL_BINARY_DIR, plugins);
  ASSERT_TRUE(loaded.ok()) << loaded;
  std::map<std::string, std::vector<std::string>> covered;  // method type -> table entries
  for (const MethodCase& c : MethodCases()) covered[c.type].push_back(c.id);
  const std::set<std::string> in_tree(plugins.begin(), plugins.end());
  std::set<std::string> registered;
  for (const ComponentInfo* info : host.registry().All()) {
    if (info->kind != ComponentKind::kMethod || in_tree.count(info->plugin) == 0) continue;
    registered.insert(info->name);
    EXPECT_EQ(covered.count(info->name), 1u)
        << "plugin '" << info->plugin << "' registers the method " << info->name
        << ", which has no entry in MethodCases() (tests/cuda/method_parity_test.cc): add one with the tiny recipe "
           "of the plugin's own test";
  }
  for (const auto& [type, ids] : covered) {
    EXPECT_EQ(registered.count(type), 1u)
        << "table entries " << absl::StrJoin(ids, ", ") << " name " << type << ", which no in-tree plugin registers";
    std::cout << "[ CUDA table ] " << type << ": " << absl::StrJoin(ids, ", ") << std::endl;
  }
}

}  // namespace
}  // namespace avsl
