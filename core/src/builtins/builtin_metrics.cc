#include <cmath>
#include <memory>

#include "absl/strings/str_format.h"
#include "avsl/core/metric.h"
#include "builtins/core_components.h"

namespace avsl {
namespace {

// LocAcc at another cIoU threshold (the seed reports 0.5; small-object studies also look at lower ones).
class LocAccAt final : public Metric {
 public:
  explicit LocAccAt(double gamma) : gamma_(gamma) {}
  std::map<std::string, double> Compute(const EvalResult& result) const override {
    long long n = 0, hits = 0;
    for (const SampleRecord& r : result.samples) {
      if (!r.sounding) continue;
      ++n;
      hits += r.ciou >= gamma_ ? 1 : 0;
    }
    return {{absl::StrFormat("loc_acc@%g", gamma_), n == 0 ? NAN : static_cast<double>(hits) / n}};
  }

 private:
  double gamma_;
};

}  // namespace

void RegisterMetrics(Registrar& registrar) {
  Schema s("LocAcc at another cIoU threshold");
  s.Float("gamma", 0.3, "cIoU threshold").Range(0, 1);
  registrar.Register<Metric>(
      "LocAccAt", std::move(s),
      [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<Metric>> {
        return std::make_shared<LocAccAt>(c.GetFloat("gamma"));
      },
      "fraction of sounding samples with cIoU >= gamma, reported as loc_acc@<gamma>");
}

}  // namespace avsl
