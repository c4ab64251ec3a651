// Reading and writing NumPy .npy files, so that localization maps written by any tool (a Python model,
// another toolkit) can be scored, and so that avsl can hand maps back to Python.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace avsl::io {

/// A dense array read from a .npy file. Values are widened to double whatever the stored dtype.
struct NpyArray {
  std::vector<int64_t> shape;  ///< Empty for a 0-d array.
  std::vector<double> data;    ///< Row-major (C order), product(shape) elements.
  std::string dtype;           ///< The header's descr as written, e.g. "<f4", "|u1".
};

/// Reads a version 1.0/2.0/3.0 .npy file. Accepted dtypes: little-endian f4, f8, i4, i8 and the one-byte
/// u1, b1 (all converted to double). Fortran order, big-endian data, other dtypes, a truncated payload or a
/// malformed header give an error that names `path`.
absl::StatusOr<NpyArray> ReadNpy(const std::string& path);

/// Writes a C-order little-endian float32 ("<f4") .npy file. The file is written under a temporary name
/// and renamed, so a reader never sees a partial file.
absl::Status WriteNpy(const std::string& path, const float* data, const std::vector<int64_t>& shape);

/// As above, float64 ("<f8").
absl::Status WriteNpy(const std::string& path, const double* data, const std::vector<int64_t>& shape);

}  // namespace avsl::io
