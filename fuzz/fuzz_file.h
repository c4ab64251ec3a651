// For parsers that take a path (as the datasets and the CLI call them): the input written to a file of this
// process, in /dev/shm when it exists (a tmpfs: no disk traffic per execution).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace avsl::fuzz {

inline std::string WriteInput(const uint8_t* data, size_t size, const std::string& extension) {
  const std::string dir = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
  const std::string path = dir + "/avsl_fuzz_" + std::to_string(getpid()) + extension;
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    if (size > 0) std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  return path;
}

}  // namespace avsl::fuzz
