// VGG-SS's vggss.json (avsl/data/vggss_annotation.h): the index, its class names and every entry's GT map.
#include "avsl/data/vggss_annotation.h"
#include "fuzz_file.h"
#include "fuzz_target.h"

AVSL_FUZZ_TARGET(vggss_json) {
  auto index = avsl::data::VggssIndex::Read(avsl::fuzz::WriteInput(data, size, ".json"));
  if (!index.ok()) return 0;
  (void)index->ClassNames();
  for (const auto& entry : index->entries()) (void)index->GtMap(entry);
  return 0;
}
