// The zip container of torch.save files (avsl/checkpoint/zip_reader.h): index, then read every entry with its
// CRC-32 checked, as a checkpoint load does.
#include <string>

#include "avsl/checkpoint/zip_reader.h"
#include "fuzz_target.h"

AVSL_FUZZ_TARGET(zip) {
  auto zip = avsl::checkpoint::ZipReader::FromBytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz.pt");
  if (!zip.ok()) return 0;
  for (const std::string& name : zip->names()) {
    auto bytes = zip->Read(name);
    if (bytes.ok() && !bytes->empty()) {
      volatile char first = (*bytes)[0], last = (*bytes)[bytes->size() - 1];
      (void)first;
      (void)last;
    }
  }
  return 0;
}
