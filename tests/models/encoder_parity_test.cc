// Parity with PyTorch/torchvision: tests/models/make_resnet_parity.py (run here with /usr/bin/python3) saves
// torchvision ResNet18 weights, inputs and outputs; our ResNet loads the weights by name and must agree.
// Skipped with a message when Debian's python3-torch / python3-torchvision are absent.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "avsl/core/encoder.h"
#include "avsl/models/resnet.h"
#include "avsl/testing/python_fixture.h"
#include "encoder_recipe.h"

namespace avsl::models {
namespace {

constexpr double kTolerance = 1e-4;

struct PythonSide {
  std::string skip_reason;  // non-empty: skip every test
  std::string error;        // non-empty: the script failed for another reason
  std::string dir;
  std::map<std::string, torch::Tensor> tensors;  // parity.pt, key -> tensor
  std::vector<std::string> torchvision_keys;     // keys.txt
};

PythonSide* side = nullptr;

void RunPythonOnce() {
  if (side != nullptr) return;
  side = new PythonSide;
  side->dir = ::testing::TempDir() + "avsl_resnet_parity_" + std::to_string(::getpid());
  std::error_code ec;
  std::filesystem::create_directories(side->dir, ec);
  const absl::StatusOr<std::string> skip = testkit::RunPythonScript(
      std::string(AVSL_SOURCE_DIR) + "/tests/models/make_resnet_parity.py", side->dir);
  if (!skip.ok() || !skip->empty()) std::filesystem::remove_all(side->dir, ec);
  if (!skip.ok()) {
    side->error = std::string(skip.status().message());
    return;
  }
  if (!skip->empty()) {
    side->skip_reason = *skip;
    return;
  }
  {
    std::ifstream in(side->dir + "/parity.pt", std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& item : torch::pickle_load(bytes).toGenericDict())
      side->tensors[item.key().toStringRef()] = item.value().toTensor();
    std::ifstream keys(side->dir + "/keys.txt");
    for (std::string line; std::getline(keys, line);)
      if (!line.empty()) side->torchvision_keys.push_back(line);
  }
  std::filesystem::remove(side->dir + "/parity.pt", ec);  // ~90 MB, now in memory
}

// resnet18_state_dict.pth is read by the component tests; the directory goes when the run ends.
class RemoveParityDir : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    if (side != nullptr && !side->dir.empty()) std::filesystem::remove_all(side->dir, ec);
  }
};
::testing::Environment* const remove_parity_dir = ::testing::AddGlobalTestEnvironment(new RemoveParityDir);

torch::Tensor Get(const std::string& key) {
  auto it = side->tensors.find(key);
  TORCH_CHECK(it != side->tensors.end(), "parity.pt has no key ", key);
  return it->second;
}

// Copies `<prefix><name>` into every parameter and buffer of `net` and returns the dict keys under `prefix`
// that the module does not have (so a test can say which leftovers are expected).
std::vector<std::string> LoadByName(torch::nn::Module& net, const std::string& prefix) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  auto copy = [&](const std::string& name, torch::Tensor& dst) {
    auto it = side->tensors.find(prefix + name);
    ASSERT_NE(it, side->tensors.end()) << "PyTorch state_dict has no key " << prefix << name;
    const torch::Tensor& src = it->second;
    ASSERT_EQ(src.sizes(), dst.sizes()) << name;
    dst.copy_(src);
    used.insert(prefix + name);
  };
  for (auto& p : net.named_parameters()) copy(p.key(), p.value());
  for (auto& b : net.named_buffers()) copy(b.key(), b.value());
  std::vector<std::string> unused;
  for (const auto& [k, unused_value] : side->tensors) {
    if (k.rfind(prefix, 0) == 0 && used.count(k) == 0) unused.push_back(k.substr(prefix.size()));
  }
  return unused;
}

double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

class ResNetParityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunPythonOnce();
    if (!side->skip_reason.empty()) GTEST_SKIP() << side->skip_reason;
    ASSERT_TRUE(side->error.empty()) << side->error;
  }
};

TEST_F(ResNetParityTest, KeysEqualTorchvisionStateDict) {
  const std::vector<std::string>& expected = side->torchvision_keys;
  ASSERT_EQ(expected.size(), 122u);
  ResNetOptions o;
  o.num_classes = 1000;
  auto net = std::make_shared<ResNet>(o);  // named_modules() including the root needs a shared_ptr
  std::vector<std::string> ours;
  for (const auto& item : net->named_modules()) {  // state_dict order: per module, parameters then buffers
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& p : item.value()->named_parameters(false)) ours.push_back(prefix + p.key());
    for (const auto& b : item.value()->named_buffers(false)) ours.push_back(prefix + b.key());
  }
  EXPECT_EQ(ours, expected);
}

TEST_F(ResNetParityTest, ImageLogitsAndSevenBySevenMap) {
  ResNetOptions o;
  o.num_classes = 1000;
  ResNet net(o);
  EXPECT_TRUE(LoadByName(net, "img.").empty());
  net.eval();
  torch::NoGradGuard no_grad;
  torch::Tensor x = Get("img_input");
  torch::Tensor map = net.Forward(x);
  ASSERT_EQ(map.sizes(), Get("img_map7").sizes());
  const double d_map = MaxAbsDiff(map, Get("img_map7"));
  const double d_logits = MaxAbsDiff(net.ForwardLogits(x), Get("img_logits"));
  std::cout << "[parity] 7x7 map max|diff| = " << d_map << " (max|ref| = " << Get("img_map7").abs().max().item<double>()
            << "), logits max|diff| = " << d_logits << "\n";
  EXPECT_LT(d_map, kTolerance);
  EXPECT_LT(d_logits, kTolerance);
}

TEST_F(ResNetParityTest, FourteenByFourteenVariantWithTorchvisionWeights) {
  ResNetOptions o;
  o.layer4_stride = 1;
  ResNet net(o);  // no fc: the torchvision fc.* keys are the only leftovers
  EXPECT_EQ(LoadByName(net, "img."), (std::vector<std::string>{"fc.bias", "fc.weight"}));  // sorted
  net.eval();
  torch::NoGradGuard no_grad;
  torch::Tensor map = net.Forward(Get("img_input"));
  ASSERT_EQ(map.sizes(), torch::IntArrayRef({2, 512, 14, 14}));
  const double d = MaxAbsDiff(map, Get("img_map14"));
  std::cout << "[parity] 14x14 map max|diff| = " << d << "\n";
  EXPECT_LT(d, kTolerance);
}

TEST_F(ResNetParityTest, AudioEncoderMatchesEzvslAudioNet) {
  ResNetOptions o;
  o.in_channels = 1;
  o.pool = ResNetPool::kMax;
  o.init = ResNetInit::kReference;
  ResNet net(o);
  EXPECT_TRUE(LoadByName(net, "aud.").empty());
  net.eval();
  torch::NoGradGuard no_grad;
  torch::Tensor vec = net.Forward(Get("aud_input"));
  ASSERT_EQ(vec.sizes(), torch::IntArrayRef({2, 512, 1, 1}));
  const double d = MaxAbsDiff(vec.flatten(1), Get("aud_vec"));
  std::cout << "[parity] audio vector max|diff| = " << d << "\n";
  EXPECT_LT(d, kTolerance);
}

TEST_F(ResNetParityTest, DetectsAWrongWeight) {
  // The comparison can fail: perturbing one BN running mean moves the output past the tolerance.
  ResNetOptions o;
  o.num_classes = 1000;
  ResNet net(o);
  LoadByName(net, "img.");
  net.eval();
  torch::NoGradGuard no_grad;
  net.named_buffers()["layer4.1.bn2.running_mean"].add_(0.5);
  EXPECT_GT(MaxAbsDiff(net.Forward(Get("img_input")), Get("img_map7")), 100 * kTolerance);
}

// The acceptance path: an OrderedDict state_dict written by torch.save(model.state_dict()), read by
// avsl's checkpoint importer via the recipe key `pretrained_weights`, gives PyTorch's outputs.
TEST_F(ResNetParityTest, PretrainedWeightsThroughTheComponent) {
  const std::string pth = side->dir + "/resnet18_state_dict.pth";
  for (const auto& [stride, ref] : {std::pair<int, const char*>{2, "img_map7"}, {1, "img_map14"}}) {
    auto enc = testing::BuildEncoder("image", "type = \"core.ResNet18Image\"\nlayer4_stride = " +
                                                  std::to_string(stride) + "\npretrained_weights = \"" + pth + "\"\n");
    ASSERT_TRUE(enc.ok()) << enc.status();
    (*enc)->eval();
    torch::NoGradGuard no_grad;
    const double d = MaxAbsDiff((*enc)->Forward(Get("img_input")), Get(ref));
    std::cout << "[parity] core.ResNet18Image layer4_stride=" << stride << " from .pth: max|diff| = " << d << "\n";
    EXPECT_LT(d, kTolerance);
    EXPECT_EQ((*enc)->named_buffers()["bn1.num_batches_tracked"].item<int64_t>(), 7);  // buffers loaded too
  }
}

TEST_F(ResNetParityTest, PretrainedWeightsWithWrongWidthAreRefused) {
  const std::string pth = side->dir + "/resnet18_state_dict.pth";
  auto enc = testing::BuildEncoder("image",
                                   "type = \"core.ResNet18Image\"\nwidth = 32\npretrained_weights = \"" + pth + "\"\n");
  ASSERT_FALSE(enc.ok());
  std::cout << "[message] " << enc.status() << "\n";
  EXPECT_NE(enc.status().message().find("model.image.pretrained_weights"), std::string::npos) << enc.status();
  EXPECT_NE(enc.status().message().find("conv1.weight"), std::string::npos) << enc.status();  // a shape conflict
}

}  // namespace
}  // namespace avsl::models
