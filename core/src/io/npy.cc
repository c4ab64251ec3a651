#include "avsl/io/npy.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "avsl/io/atomic_file.h"

namespace avsl::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

// The .npy header is a Python dict literal. We only need three keys; locating `'key':` and reading the value
// that follows is enough because numpy always writes the same simple form and keys cannot nest.
absl::StatusOr<std::string> HeaderValue(const std::string& header, const std::string& key, const std::string& path) {
  std::string pattern = absl::StrCat("'", key, "'");
  size_t pos = header.find(pattern);
  if (pos == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": header has no '", key, "' entry: ", header));
  }
  pos = header.find(':', pos + pattern.size());
  if (pos == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": malformed header: ", header));
  }
  ++pos;
  while (pos < header.size() && header[pos] == ' ') ++pos;
  if (pos >= header.size()) {
    return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": malformed header: ", header));
  }
  char open = header[pos];
  if (open == '\'' || open == '"') {
    size_t end = header.find(open, pos + 1);
    if (end == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": malformed header: ", header));
    }
    return header.substr(pos + 1, end - pos - 1);
  }
  if (open == '(') {
    size_t end = header.find(')', pos);
    if (end == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": malformed header: ", header));
    }
    return header.substr(pos, end - pos + 1);
  }
  size_t end = header.find_first_of(",}", pos);
  return std::string(absl::StripAsciiWhitespace(header.substr(pos, end - pos)));
}

absl::StatusOr<std::vector<int64_t>> ParseShape(const std::string& tuple, const std::string& path) {
  // tuple is "(a, b, )" or "(a,)" or "()".
  if (tuple.size() < 2 || tuple.front() != '(' || tuple.back() != ')') {
    return absl::InvalidArgumentError(
        absl::StrCat("npy file ", path, ": shape '", tuple, "' is not a tuple such as (3, 4)"));
  }
  std::string inner = tuple.substr(1, tuple.size() - 2);
  std::vector<int64_t> shape;
  for (absl::string_view part : absl::StrSplit(inner, ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (part.empty()) continue;
    // numpy on some platforms writes "3L".
    if (!part.empty() && (part.back() == 'L' || part.back() == 'l')) part.remove_suffix(1);
    int64_t dim = 0;
    if (!absl::SimpleAtoi(part, &dim) || dim < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("npy file ", path, ": bad dimension '", std::string(part), "' in shape ", tuple));
    }
    shape.push_back(dim);
  }
  return shape;
}

template <typename T>
void Widen(const char* bytes, size_t n, std::vector<double>* out) {
  out->resize(n);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, bytes + i * sizeof(T), sizeof(T));
    (*out)[i] = static_cast<double>(v);
  }
}

template <typename T>
absl::Status WriteImpl(const std::string& path, const T* data, const std::vector<int64_t>& shape, const char* descr) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": negative dimension"));
    count *= d;
  }
  std::string shape_str = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    absl::StrAppend(&shape_str, shape[i], shape.size() == 1 ? "," : (i + 1 < shape.size() ? ", " : ""));
  shape_str += ")";
  std::string dict = absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': ", shape_str, ", }");
  // Version 1.0: 10-byte preamble, header padded with spaces and ended by '\n' to a multiple of 64 bytes.
  size_t total = kMagicLen + 4 + dict.size() + 1;
  size_t padded = (total + 63) / 64 * 64;
  if (padded - kMagicLen - 4 > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": shape too long for a v1.0 header"));
  }
  dict.append(padded - total, ' ');
  dict.push_back('\n');
  uint16_t header_len = static_cast<uint16_t>(dict.size());

  // The host is little-endian (x86-64/aarch64), as the descr says.
  std::string bytes;
  bytes.reserve(kMagicLen + 4 + dict.size() + count * sizeof(T));
  bytes.append(kMagic, kMagicLen);
  bytes.push_back(1);
  bytes.push_back(0);
  bytes.push_back(static_cast<char>(header_len & 0xff));
  bytes.push_back(static_cast<char>(header_len >> 8));
  bytes.append(dict);
  bytes.append(reinterpret_cast<const char*>(data), count * sizeof(T));
  absl::Status written = WriteFileAtomically(path, bytes);
  if (!written.ok()) return absl::Status(written.code(), absl::StrCat("npy file ", path, ": ", written.message()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<NpyArray> ReadNpy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat("npy file ", path, ": cannot open"));
  char preamble[10];
  f.read(preamble, 8);
  if (f.gcount() != 8 || std::memcmp(preamble, kMagic, kMagicLen) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": not a .npy file (bad magic)"));
  }
  int major = static_cast<unsigned char>(preamble[6]);
  uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    f.read(reinterpret_cast<char*>(b), 2);
    if (f.gcount() != 2) return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": truncated header"));
    header_len = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    f.read(reinterpret_cast<char*>(b), 4);
    if (f.gcount() != 4) return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": truncated header"));
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("npy file ", path, ": unsupported format version ", major, ", expected 1, 2 or 3"));
  }
  if (header_len > (1u << 24)) {
    return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": implausible header length ", header_len));
  }
  std::string header(header_len, '\0');
  f.read(header.data(), header_len);
  if (static_cast<uint32_t>(f.gcount()) != header_len) {
    return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": truncated header"));
  }

  NpyArray out;
  auto descr = HeaderValue(header, "descr", path);
  if (!descr.ok()) return descr.status();
  auto fortran = HeaderValue(header, "fortran_order", path);
  if (!fortran.ok()) return fortran.status();
  auto shape_str = HeaderValue(header, "shape", path);
  if (!shape_str.ok()) return shape_str.status();
  if (*fortran != "False") {
    return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": fortran_order is ", *fortran,
                                                   ", expected False (save a C-contiguous array, "
                                                   "e.g. np.ascontiguousarray)"));
  }
  auto shape = ParseShape(*shape_str, path);
  if (!shape.ok()) return shape.status();
  out.shape = *shape;
  out.dtype = *descr;

  // The payload the header claims is checked against the bytes the file holds before anything is allocated, so a
  // hostile or damaged header (a shape of 1e15 elements) is an error, not an out-of-memory abort or an overflow.
  const std::streamoff payload_at = f.tellg();
  std::error_code size_error;
  const uintmax_t file_size = std::filesystem::file_size(path, size_error);
  const uintmax_t available = size_error || payload_at < 0 || file_size < static_cast<uintmax_t>(payload_at)
                                  ? 0
                                  : file_size - payload_at;
  uintmax_t count = 1;
  bool overflow = false;  // the element or byte count does not fit in 64 bits
  for (int64_t d : out.shape) {
    const uintmax_t dim = static_cast<uintmax_t>(d);
    if (dim != 0 && count > UINTMAX_MAX / dim) overflow = true;
    if (!overflow) count *= dim;
  }

  const std::string& d = out.dtype;
  size_t item = 0;
  if (d == "<f4" || d == "<i4") item = 4;
  else if (d == "<f8" || d == "<i8") item = 8;
  else if (d == "|u1" || d == "|b1" || d == "<u1" || d == "<b1") item = 1;
  else if (!d.empty() && d[0] == '>') {
    return absl::InvalidArgumentError(
        absl::StrCat("npy file ", path, ": dtype ", d, " is big-endian, expected little-endian (<f4 or <f8)"));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("npy file ", path, ": unsupported dtype ", d, ", expected <f4, <f8, <i4, <i8, |u1 or |b1"));
  }
  if (!overflow && count > UINTMAX_MAX / item) overflow = true;
  if (overflow || count * item > available) {
    return absl::InvalidArgumentError(
        absl::StrCat("npy file ", path, ": payload has ", available, " bytes, expected ",
                     overflow ? std::string("more than 2^64") : absl::StrCat(count * item), " for shape ", *shape_str,
                     " of ", d, " (truncated file or corrupt header; nothing was allocated)"));
  }
  std::vector<char> bytes(static_cast<size_t>(count) * item);
  f.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<size_t>(f.gcount()) != bytes.size()) {
    return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": payload has ", f.gcount(), " bytes, expected ",
                                                   bytes.size(), " for shape ", *shape_str, " of ", d));
  }
  if (d == "<f4") Widen<float>(bytes.data(), count, &out.data);
  else if (d == "<f8") Widen<double>(bytes.data(), count, &out.data);
  else if (d == "<i4") Widen<int32_t>(bytes.data(), count, &out.data);
  else if (d == "<i8") Widen<int64_t>(bytes.data(), count, &out.data);
  else if (d[1] == 'u') Widen<uint8_t>(bytes.data(), count, &out.data);
  else Widen<uint8_t>(bytes.data(), count, &out.data);  // bool: 0/1 bytes
  return out;
}

absl::Status WriteNpy(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  return WriteImpl(path, data, shape, "<f4");
}

absl::Status WriteNpy(const std::string& path, const double* data, const std::vector<int64_t>& shape) {
  return WriteImpl(path, data, shape, "<f8");
}

}  // namespace avsl::io
