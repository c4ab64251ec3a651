// .npy maps (avsl/io/npy.h), which `avsl score` reads from other people's runs; a header that claims a huge array
// must be refused before allocation.
#include "avsl/io/npy.h"
#include "fuzz_file.h"
#include "fuzz_target.h"

AVSL_FUZZ_TARGET(npy) {
  (void)avsl::io::ReadNpy(avsl::fuzz::WriteInput(data, size, ".npy"));
  return 0;
}
