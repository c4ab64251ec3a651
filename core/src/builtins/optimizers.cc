#include <torch/torch.h>

#include "avsl/core/optimizer.h"
#include "builtins/core_components.h"

namespace avsl {
namespace {

class AdamFactory final : public OptimizerFactory {
 public:
  AdamFactory(double lr, std::vector<double> betas, double eps, double weight_decay, bool decoupled)
      : lr_(lr), betas_(std::move(betas)), eps_(eps), wd_(weight_decay), decoupled_(decoupled) {}
  std::unique_ptr<torch::optim::Optimizer> Create(std::vector<torch::Tensor> params) const override {
    if (decoupled_) {
      auto o = torch::optim::AdamWOptions(lr_).betas({betas_[0], betas_[1]}).eps(eps_).weight_decay(wd_);
      return std::make_unique<torch::optim::AdamW>(std::move(params), o);
    }
    auto o = torch::optim::AdamOptions(lr_).betas({betas_[0], betas_[1]}).eps(eps_).weight_decay(wd_);
    return std::make_unique<torch::optim::Adam>(std::move(params), o);
  }
  double learning_rate() const override { return lr_; }

 private:
  double lr_;
  std::vector<double> betas_;
  double eps_, wd_;
  bool decoupled_;
};

class SgdFactory final : public OptimizerFactory {
 public:
  SgdFactory(double lr, double momentum, double weight_decay, bool nesterov)
      : lr_(lr), momentum_(momentum), wd_(weight_decay), nesterov_(nesterov) {}
  std::unique_ptr<torch::optim::Optimizer> Create(std::vector<torch::Tensor> params) const override {
    auto o = torch::optim::SGDOptions(lr_).momentum(momentum_).weight_decay(wd_).nesterov(nesterov_);
    return std::make_unique<torch::optim::SGD>(std::move(params), o);
  }
  double learning_rate() const override { return lr_; }

 private:
  double lr_, momentum_, wd_;
  bool nesterov_;
};

Schema AdamSchema(const std::string& doc, double default_wd) {
  Schema s(doc);
  s.Float("lr", 1e-4, "learning rate").Range(0, 10);
  s.FloatArray("betas", {0.9, 0.999}, "Adam betas").Range(0, 1);
  s.Float("eps", 1e-8, "denominator epsilon").Range(0, 1);
  s.Float("weight_decay", default_wd, "weight decay").Range(0, 10);
  return s;
}

absl::StatusOr<std::shared_ptr<OptimizerFactory>> MakeAdam(const ComponentConfig& c, bool decoupled) {
  std::vector<double> betas = c.GetFloatArray("betas");
  if (betas.size() != 2) {
    return absl::InvalidArgumentError("recipe key '" + c.path() + ".betas': expected 2 values, found " +
                                      std::to_string(betas.size()));
  }
  return std::make_shared<AdamFactory>(c.GetFloat("lr"), betas, c.GetFloat("eps"), c.GetFloat("weight_decay"),
                                       decoupled);
}

}  // namespace

void RegisterOptimizers(Registrar& registrar) {
  registrar.Register<OptimizerFactory>(
      "Adam", AdamSchema("Adam (L2 weight decay added to the gradient)", 0.0),
      [](const ComponentConfig& c) { return MakeAdam(c, false); }, "torch::optim::Adam");
  registrar.Register<OptimizerFactory>(
      "AdamW", AdamSchema("AdamW (decoupled weight decay)", 0.01),
      [](const ComponentConfig& c) { return MakeAdam(c, true); }, "torch::optim::AdamW");
  Schema sgd("SGD with momentum");
  sgd.Float("lr", 0.01, "learning rate").Range(0, 10);
  sgd.Float("momentum", 0.9, "momentum").Range(0, 1);
  sgd.Float("weight_decay", 0.0, "weight decay").Range(0, 10);
  sgd.Bool("nesterov", false, "Nesterov momentum");
  registrar.Register<OptimizerFactory>(
      "SGD", std::move(sgd),
      [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<OptimizerFactory>> {
        return std::make_shared<SgdFactory>(c.GetFloat("lr"), c.GetFloat("momentum"), c.GetFloat("weight_decay"),
                                            c.GetBool("nesterov"));
      },
      "torch::optim::SGD");
}

}  // namespace avsl
