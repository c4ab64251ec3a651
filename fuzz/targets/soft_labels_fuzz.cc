// CoarsetoFine's soft-label file (plugins/coarse2fine/soft_label_file.h), read from a path the recipe names.
#include <string>

#include "fuzz_target.h"
#include "soft_label_file.h"

AVSL_FUZZ_TARGET(soft_labels) {
  (void)avsl::plugins::coarse2fine::SoftLabelTable::Parse(std::string(reinterpret_cast<const char*>(data), size),
                                                          "fuzz.txt", 2);
  return 0;
}
