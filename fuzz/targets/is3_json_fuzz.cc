// IS3's synthetic3240_bbox.json (avsl/data/is3_annotation.h): the entries, then every entry's GT map.
#include "avsl/data/is3_annotation.h"
#include "fuzz_file.h"
#include "fuzz_target.h"

AVSL_FUZZ_TARGET(is3_json) {
  auto entries = avsl::data::ReadIs3Annotation(avsl::fuzz::WriteInput(data, size, ".json"));
  if (!entries.ok()) return 0;
  for (const auto& e : *entries) (void)avsl::data::Is3GtMap(e.box, 56);
  return 0;
}
