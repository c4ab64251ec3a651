// ezvsl: EZ-VSL (Mo & Morgado, ECCV 2022) as an avsl method. EZ-VSL is the SDK's two-tower localizer with its
// default objective (avsl/models/two_tower.h): a 1x1 conv image projection and a linear audio projection into a
// shared L2-normalized space, the multiple-instance contrastive loss (max over locations, cross-entropy in both
// directions) and the map S[n,n] = cos / tau. README.md lists what is taken from the reference code.
#include <memory>

#include "avsl/core/options.h"
#include "avsl/core/plugin_abi.h"
#include "avsl/models/two_tower.h"

namespace avsl::plugins::ezvsl {
namespace {

class Ezvsl final : public models::TwoTowerLocalizer {
 public:
  Ezvsl(std::shared_ptr<Encoder> image, std::shared_ptr<Encoder> audio, const models::TwoTowerOptions& o)
      : TwoTowerLocalizer(std::move(image), std::move(audio), o, "ezvsl.EZVSL") {}
};

Options<models::TwoTowerOptions> MakeEzvslOptions() {
  Options<models::TwoTowerOptions> o("EZ-VSL: projected, L2-normalized image map and audio vector; map = cos / tau");
  models::AddTwoTowerOptions(o);
  return o;
}

}  // namespace
}  // namespace avsl::plugins::ezvsl

AVSL_PLUGIN("ezvsl", "1.0.0", "EZ-VSL: multiple-instance contrastive audio-visual localization (ECCV 2022)") {
  const auto options = avsl::plugins::ezvsl::MakeEzvslOptions();
  registrar.Register<avsl::Method>(
      "EZVSL", options.schema(),
      [options](const avsl::ComponentConfig& c) {
        return avsl::models::BuildTwoTower<avsl::plugins::ezvsl::Ezvsl>(options, c);
      },
      "EZ-VSL: max-over-locations contrastive loss, map S[n,n]");
}
