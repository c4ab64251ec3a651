// amp = "auto": bf16 autocast + channels_last exactly where the hardware has native bf16, fp32 elsewhere, and a
// description that says which and why (the run log and `avsl bench` print it).
#include "avsl/train/precision.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "avsl/models/objectives.h"

namespace avsl::train {
namespace {

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(PrecisionTest, ParsesTheThreeSettingsAndNamesThemOnError) {
  EXPECT_EQ(*ParseAmp("none"), Amp::kNone);
  EXPECT_EQ(*ParseAmp("bf16"), Amp::kBf16);
  EXPECT_EQ(*ParseAmp("auto"), Amp::kAuto);
  const absl::StatusOr<Amp> bad = ParseAmp("fp16");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(std::string(bad.status().message()), "expected none, bf16 or auto, found 'fp16'"));
}

TEST(PrecisionTest, ExplicitSettingsAreKeptAsTheyAre) {
  const torch::Device cpu(torch::kCPU);
  const Precision none = ResolvePrecision(Amp::kNone, false, cpu);
  EXPECT_EQ(none.amp, Amp::kNone);
  EXPECT_FALSE(none.channels_last);
  EXPECT_EQ(none.description, "fp32, contiguous");
  const Precision bf16 = ResolvePrecision(Amp::kBf16, true, cpu);
  EXPECT_EQ(bf16.amp, Amp::kBf16);
  EXPECT_TRUE(bf16.channels_last);
  EXPECT_EQ(bf16.description, "bf16 autocast, channels_last");
}

TEST(PrecisionTest, AutoFollowsTheCpusNativeBf16) {
  const torch::Device cpu(torch::kCPU);
  const std::string reason = NativeBf16Reason(cpu);
  EXPECT_TRUE(reason.empty() || reason == "the CPU has AMX-BF16" || reason == "the CPU has AVX512-BF16") << reason;
  // The kernel's view of the same CPU: its flags name the features it has enabled.
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  bool amx = false, avx512_bf16 = false, seen_flags = false;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    seen_flags = true;
    amx = Contains(line + " ", " amx_bf16 ") && Contains(line + " ", " amx_tile ");
    avx512_bf16 = Contains(line + " ", " avx512_bf16 ");
    break;
  }
  if (seen_flags) {
    EXPECT_EQ(reason, amx ? "the CPU has AMX-BF16" : avx512_bf16 ? "the CPU has AVX512-BF16" : "");
  }
  const Precision p = ResolvePrecision(Amp::kAuto, false, cpu);
  if (reason.empty()) {
    EXPECT_EQ(p.amp, Amp::kNone);
    EXPECT_FALSE(p.channels_last);
    EXPECT_EQ(p.description, "fp32, contiguous (amp = \"auto\": no native bf16 on cpu, so fp32)");
  } else {
    EXPECT_EQ(p.amp, Amp::kBf16);
    EXPECT_TRUE(p.channels_last);
    EXPECT_EQ(p.description, "bf16 autocast, channels_last (amp = \"auto\": " + reason + ")");
  }
}

TEST(PrecisionTest, AutoOnCudaIsBf16) {
  // Only the device type matters to the decision, so no GPU is needed to check it.
  const torch::Device cuda(torch::kCUDA, 0);
  EXPECT_EQ(NativeBf16Reason(cuda), "CUDA");
  const Precision p = ResolvePrecision(Amp::kAuto, false, cuda);
  EXPECT_EQ(p.amp, Amp::kBf16);
  EXPECT_TRUE(p.channels_last);
  EXPECT_EQ(p.description, "bf16 autocast, channels_last (amp = \"auto\": CUDA)");
}

TEST(PrecisionTest, ContrastiveLogitsStayFp32UnderBf16Autocast) {
  const torch::Device cpu(torch::kCPU);
  torch::manual_seed(0);
  const torch::Tensor v = torch::randn({2, 8, 3, 3}), a = torch::randn({2, 8});
  const torch::Tensor fp32 = models::AllPairSimilarity(v, a, 0.03);
  {
    AutocastScope autocast(Amp::kBf16, cpu);
    EXPECT_EQ(torch::matmul(a, a.t()).scalar_type(), torch::kBFloat16);  // autocast is on here
    const torch::Tensor logits = models::AllPairSimilarity(v, a, 0.03);
    EXPECT_EQ(logits.scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::equal(logits, fp32));  // fp32 inputs: exactly the fp32 result
    // The scope restored autocast for what follows.
    EXPECT_EQ(torch::matmul(a, a.t()).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(torch::matmul(a, a.t()).scalar_type(), torch::kFloat);
}

}  // namespace
}  // namespace avsl::train
