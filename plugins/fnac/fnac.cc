// fnac: FNAC (Sun et al., CVPR 2023) as an avsl method. The network is EZ-VSL's (the SDK's two-tower localizer, so
// EZ-VSL and FNAC checkpoints share their layout) with dropout on the image backbone's map, and the objective adds
// FNAC's three false-negative terms to EZ-VSL's InfoNCE (fnac_loss.h). Localization, the map S[n,n] = cos / tau and
// its fixed range, is EZ-VSL's, as the reference's test.py. README.md lists what is taken from the reference code.
#include <memory>
#include <utility>

#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/models/objectives.h"
#include "avsl/models/two_tower.h"
#include "fnac_loss.h"

namespace avsl::plugins::fnac {
namespace {

struct FnacOptions : models::TwoTowerOptions {
  double fns1_weight = 100;
  double tns_weight = 100;
  double fns2_weight = 100;
  double foreground_threshold = 0.6;
  FnacOptions() {
    dropout_img = 0.9;  // train_*.sh --dropout_img 0.9 --dropout_aud 0
    dropout_aud = 0.0;
  }
};

class Fnac final : public models::TwoTowerLocalizer {
 public:
  Fnac(std::shared_ptr<Encoder> image, std::shared_ptr<Encoder> audio, const FnacOptions& o)
      : TwoTowerLocalizer(std::move(image), std::move(audio), o, "fnac.FNAC") {
    loss_.tau = o.tau;
    loss_.fns1_weight = o.fns1_weight;
    loss_.tns_weight = o.tns_weight;
    loss_.fns2_weight = o.fns2_weight;
    loss_.foreground_threshold = o.foreground_threshold;
  }

 protected:
  // The reference computes every term on each process's own batch (no gather), and so does this: it never calls
  // GatherNegatives, so the trainer refuses train.global_negatives for it rather than ignore the option.
  StepOutput Objective(const models::TwoTowerEmbedding& e, const Batch& /*batch*/) override {
    const FnacLossTerms t = FnacLoss(e.image, e.audio, loss_);
    std::vector<std::pair<std::string, double>> logs = models::CosineDiagnostics(t.logits.detach(), loss_.tau);
    logs.emplace_back("loss_infonce", t.infonce.item<double>());
    logs.emplace_back("loss_fns1", t.fns1.item<double>());
    logs.emplace_back("loss_tns", t.tns.item<double>());
    logs.emplace_back("loss_fns2", t.fns2.item<double>());
    return {t.total, std::move(logs), {}};
  }

 private:
  FnacLossOptions loss_;
};

Options<FnacOptions> MakeFnacOptions() {
  Options<FnacOptions> o(
      "FNAC (OpenNLPLab/FNAC_AVL @0a0ca78): EZ-VSL's network and InfoNCE plus the false-negative terms FNS-1, TNS, "
      "FNS-2; defaults are train_vggss.sh's");
  models::AddTwoTowerOptions(o);
  models::AddTwoTowerDropoutOptions(o);
  o.Float("fns1_weight", &FnacOptions::fns1_weight,
          "weight of FNS-1, L1(softmax(audio-audio), softmax(logits)) (--fnac_loss1_weight)")
      .Range(0, 1e6);
  o.Float("tns_weight", &FnacOptions::tns_weight,
          "weight of TNS, L1(softmax(audio-audio), softmax(foreground image-image)) (--fnac_loss2_weight)")
      .Range(0, 1e6);
  o.Float("fns2_weight", &FnacOptions::fns2_weight,
          "weight of FNS-2, L1(softmax(image-image), softmax(logits)) (--fnac_loss3_weight)")
      .Range(0, 1e6);
  o.Float("foreground_threshold", &FnacOptions::foreground_threshold,
          "TNS foreground: locations whose min-max normalized own map exceeds this (high_conf_thresh)")
      .Range(0, 1);
  return o;
}

}  // namespace
}  // namespace avsl::plugins::fnac

AVSL_PLUGIN("fnac", "1.0.0", "FNAC: false-negative aware contrastive localization (CVPR 2023)") {
  const auto options = avsl::plugins::fnac::MakeFnacOptions();
  registrar.Register<avsl::Method>(
      "FNAC", options.schema(),
      [options](const avsl::ComponentConfig& c) {
        return avsl::models::BuildTwoTower<avsl::plugins::fnac::Fnac>(options, c);
      },
      "FNAC: EZ-VSL's network and loss plus false-negative terms FNS-1, TNS, FNS-2");
}
