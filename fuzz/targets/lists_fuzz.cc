// The text lists a run reads: CSV (avsl/data/csv.h), id lists and the test / extended-test CSVs
// (avsl/data/split_lists.h), the same bytes through each.
#include <string>

#include "avsl/data/csv.h"
#include "avsl/data/split_lists.h"
#include "fuzz_file.h"
#include "fuzz_target.h"

AVSL_FUZZ_TARGET(lists) {
  (void)avsl::data::ParseCsv(std::string(reinterpret_cast<const char*>(data), size), "fuzz.csv");
  const std::string path = avsl::fuzz::WriteInput(data, size, ".csv");
  (void)avsl::data::ReadIdList(path);
  (void)avsl::data::ReadTestCsv(path);
  (void)avsl::data::ReadExtendedTestCsv(path);
  return 0;
}
