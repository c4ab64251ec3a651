// The single-process halves of train.global_negatives and train.sync_bn: SyncableBatchNorm2d is torch's
// BatchNorm2d outside a data-parallel step and computes the same statistics through a RankGroup inside one; the
// row-sharded contrastive losses average over row blocks to the single-process loss; the step scope installs and
// restores the groups and counts the gathers. The multi-process side (2 ranks x B/2 = 1 x B) is in
// tests/dist/distributed_test.cc.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include "avsl/core/rank_group.h"
#include "avsl/models/batch_norm.h"
#include "avsl/models/objectives.h"
#include "avsl/testing/method_test_kit.h"

namespace avsl::models {
namespace {

// One rank alone whose collectives are identities (counting the gathers): the synchronized path must reproduce
// torch's kernel.
class SingleRankGroup final : public RankGroup {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  GatheredRows AllGather(const at::Tensor& local) override {
    ++gathers;
    return group.AllGather(local);
  }
  at::Tensor AllReduceSum(const at::Tensor& local) override { return group.AllReduceSum(local); }
  testkit::OneRankGroup group;
  int gathers = 0;
};

struct BnRun {
  torch::Tensor out, input_grad, weight_grad, bias_grad, running_mean, running_var, tracked;
};

template <typename Module>
BnRun RunBatchNorm(Module& bn, const torch::Tensor& x, const torch::Tensor& upstream) {
  torch::Tensor input = x.clone().requires_grad_(true);
  torch::Tensor out = bn->forward(input);
  (out * upstream).sum().backward();
  return {out.detach(),
          input.grad(),
          bn->weight.grad(),
          bn->bias.grad(),
          bn->running_mean.clone(),
          bn->running_var.clone(),
          bn->num_batches_tracked.clone()};
}

void ExpectClose(const BnRun& a, const BnRun& b, double tol) {
  EXPECT_TRUE(torch::allclose(a.out, b.out, 0, tol)) << (a.out - b.out).abs().max();
  EXPECT_TRUE(torch::allclose(a.input_grad, b.input_grad, 0, tol)) << (a.input_grad - b.input_grad).abs().max();
  EXPECT_TRUE(torch::allclose(a.weight_grad, b.weight_grad, 0, tol));
  EXPECT_TRUE(torch::allclose(a.bias_grad, b.bias_grad, 0, tol));
  EXPECT_TRUE(torch::allclose(a.running_mean, b.running_mean, 0, tol));
  EXPECT_TRUE(torch::allclose(a.running_var, b.running_var, 0, tol));
  EXPECT_TRUE(torch::equal(a.tracked, b.tracked));
}

class BatchNormTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(3);
    x_ = torch::randn({6, 5, 3, 4}) * 2 + 0.5;
    upstream_ = torch::randn({6, 5, 3, 4});
    torch::NoGradGuard no_grad;
    for (torch::nn::BatchNorm2dImpl* bn : {torch_bn_.get()}) {
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.uniform_(-0.5, 0.5);
    }
    ours_->weight.copy_(torch_bn_->weight);
    ours_->bias.copy_(torch_bn_->bias);
  }
  torch::Tensor x_, upstream_;
  torch::nn::BatchNorm2d torch_bn_{5};
  SyncableBatchNorm2d ours_{5};
};

TEST_F(BatchNormTest, SameStateDictNamesAsTorch) {
  std::vector<std::string> theirs, mine;
  for (const auto& p : torch_bn_->named_parameters()) theirs.push_back(p.key());
  for (const auto& b : torch_bn_->named_buffers()) theirs.push_back(b.key());
  for (const auto& p : ours_->named_parameters()) mine.push_back(p.key());
  for (const auto& b : ours_->named_buffers()) mine.push_back(b.key());
  EXPECT_EQ(mine, theirs);
}

TEST_F(BatchNormTest, OutsideAStepScopeIsTorchsBatchNormBitForBit) {
  for (int step = 0; step < 2; ++step) {
    const BnRun a = RunBatchNorm(torch_bn_, x_, upstream_), b = RunBatchNorm(ours_, x_, upstream_);
    ExpectClose(a, b, 0.0);
    EXPECT_TRUE(torch::equal(a.out, b.out));
  }
  torch_bn_->eval();
  ours_->eval();
  EXPECT_TRUE(torch::equal(torch_bn_->forward(x_), ours_->forward(x_)));
}

TEST_F(BatchNormTest, SynchronizedStatisticsOfOneRankAreTorchsBatchNorm) {
  SingleRankGroup group;
  BnRun mine;
  {
    DataParallelStepScope scope(nullptr, &group);
    mine = RunBatchNorm(ours_, x_, upstream_);
  }
  ExpectClose(RunBatchNorm(torch_bn_, x_, upstream_), mine, 1e-5);
  // Eval mode normalizes with the running statistics, scope or not.
  torch_bn_->eval();
  ours_->eval();
  DataParallelStepScope scope(nullptr, &group);
  EXPECT_TRUE(torch::allclose(torch_bn_->forward(x_), ours_->forward(x_), 0, 1e-5));
}

TEST_F(BatchNormTest, SynchronizedStatisticsNeedTwoValuesPerChannel) {
  SingleRankGroup group;
  DataParallelStepScope scope(nullptr, &group);
  try {
    ours_->forward(torch::randn({1, 5, 1, 1}));
    FAIL() << "no error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected more than 1 value per channel"), std::string::npos) << e.what();
  }
}

TEST(StepScope, InstallsRestoresAndCountsGathers) {
  const torch::Tensor t = torch::randn({3, 2});
  GatheredRows plain = GatherNegatives(t);
  EXPECT_FALSE(plain.gathered);
  EXPECT_TRUE(plain.all.is_same(t));
  EXPECT_EQ(BatchNormRankGroup(), nullptr);
  SingleRankGroup negatives, bn;
  {
    DataParallelStepScope outer(&negatives, &bn);
    EXPECT_EQ(BatchNormRankGroup(), &bn);
    EXPECT_TRUE(GatherNegatives(t).gathered);
    {
      DataParallelStepScope inner(nullptr, nullptr);  // e.g. a step with an empty batch on some rank
      EXPECT_FALSE(GatherNegatives(t).gathered);
      EXPECT_EQ(inner.negatives_gathered(), 0);
    }
    EXPECT_EQ(BatchNormRankGroup(), &bn);
    GatherNegatives(t);
    EXPECT_EQ(outer.negatives_gathered(), 2);
    EXPECT_EQ(negatives.gathers, 2);
  }
  EXPECT_EQ(BatchNormRankGroup(), nullptr);
  EXPECT_FALSE(GatherNegatives(t).gathered);
}

TEST(ShardedObjectives, RowBlocksAverageToTheWholeBatchLoss) {
  torch::manual_seed(1);
  const int64_t n = 6;
  const torch::Tensor v = torch::nn::functional::normalize(torch::randn({n, 4, 2, 3}),
                                                           torch::nn::functional::NormalizeFuncOptions().dim(1));
  const torch::Tensor a = torch::nn::functional::normalize(torch::randn({n, 4}),
                                                           torch::nn::functional::NormalizeFuncOptions().dim(1));
  const double tau = 0.1;
  const torch::Tensor whole = MilContrastiveLoss(v, a, tau);
  // One block holding every row is the single-process loss exactly.
  const torch::Tensor logits = MaxMilLogits(v, a, tau);
  EXPECT_TRUE(torch::equal(ShardedSymmetricInfoNce(logits, logits.t(), 0), SymmetricInfoNce(logits)));
  // Two ranks of 3 rows: each its images against all audios and its audios against all images.
  torch::Tensor sum = torch::zeros({});
  for (int64_t offset : {0, 3}) {
    const torch::Tensor image_logits = MaxMilLogits(v.narrow(0, offset, 3), a, tau);
    const torch::Tensor audio_logits = MaxMilLogits(v, a.narrow(0, offset, 3), tau).t();
    sum = sum + ShardedSymmetricInfoNce(image_logits, audio_logits, offset);
  }
  EXPECT_NEAR((sum / 2).item<double>(), whole.item<double>(), 1e-6);
  // The diagnostics of row blocks average to the whole batch's.
  const auto all = CosineDiagnostics(logits, tau);
  const auto top = CosineDiagnostics(logits.narrow(0, 0, 3), tau, 0);
  const auto bottom = CosineDiagnostics(logits.narrow(0, 3, 3), tau, 3);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(all[k].first, top[k].first);
    EXPECT_NEAR(all[k].second, (top[k].second + bottom[k].second) / 2, 1e-12);
  }
  EXPECT_THROW(ShardedSymmetricInfoNce(logits.narrow(0, 0, 3), logits.narrow(0, 0, 3), 4), c10::Error);
}

TEST(ShardedObjectives, AsymmetricLossOfImageBlocksAveragesToTheWholeBatchLoss) {
  torch::manual_seed(2);
  const int64_t n = 4;
  auto unit = [](torch::Tensor t) {
    return torch::nn::functional::normalize(t, torch::nn::functional::NormalizeFuncOptions().dim(1));
  };
  auto features = [&] {
    TwoHeadFeatures f;
    f.img1 = unit(torch::randn({n, 3, 2, 2}));
    f.img2 = unit(torch::randn({n, 3, 2, 2}));
    f.aud1 = unit(torch::randn({n, 3}));
    f.aud2 = unit(torch::randn({n, 3}));
    return f;
  };
  const TwoHeadFeatures online = features(), target = features();
  const double whole = AsymmetricContrastiveLoss(online, target, 0.07).total.item<double>();
  double sum = 0;
  for (int64_t offset : {0, 2}) {
    TwoHeadFeatures o = online, t = target;
    for (TwoHeadFeatures* f : {&o, &t}) {
      f->img1 = f->img1.narrow(0, offset, 2);
      f->img2 = f->img2.narrow(0, offset, 2);
    }
    sum += AsymmetricContrastiveLoss(o, t, 0.07, offset).total.item<double>();
  }
  EXPECT_NEAR(sum / 2, whole, 1e-6);
}

}  // namespace
}  // namespace avsl::models
