// The datasets plugin: file-backed Flickr-SoundNet and VGG-Sound/VGG-SS datasets, the procedural synthetic
// benchmark, and the open-set split. Torch-free: it needs only the SDK headers and libavsl_core.
#include "avsl/core/plugin_abi.h"
#include "components.h"

AVSL_PLUGIN("datasets", "1.0.0",
            "Flickr-SoundNet, VGG-Sound/VGG-SS, procedural synthetic AV data, open-set split, file pairs, IS3") {
  avsl::plugins::datasets::RegisterFlickr(registrar);
  avsl::plugins::datasets::RegisterVggSound(registrar);
  avsl::plugins::datasets::RegisterSyntheticAv(registrar);
  avsl::plugins::datasets::RegisterOpenSet(registrar);
  avsl::plugins::datasets::RegisterPairs(registrar);
  avsl::plugins::datasets::RegisterVideoFrames(registrar);
  avsl::plugins::datasets::RegisterIs3(registrar);
}
