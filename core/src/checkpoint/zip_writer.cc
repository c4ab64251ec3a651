#include "avsl/checkpoint/zip_writer.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/io/atomic_file.h"
#include "checkpoint/crc32.h"

namespace avsl::checkpoint {
namespace {

constexpr uint64_t kMaxOffset = 0xFFFFFFFFull;
constexpr uint16_t kVersion = 20;        // 2.0: plain stored files
constexpr uint16_t kUtf8Flag = 1 << 11;  // entry names are UTF-8
// 1980-01-01 00:00: a fixed timestamp keeps exported files byte-identical for identical weights.
constexpr uint16_t kDosTime = 0;
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;

void Put16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v & 0xFF));
  s.push_back(static_cast<char>(v >> 8));
}
void Put32(std::string& s, uint32_t v) {
  Put16(s, static_cast<uint16_t>(v & 0xFFFF));
  Put16(s, static_cast<uint16_t>(v >> 16));
}

}  // namespace

ZipWriter::ZipWriter(std::string path) : path_(std::move(path)), tmp_path_(io::TemporaryPathFor(path_)) {
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  if (file_ == nullptr) {
    status_ = absl::PermissionDeniedError(
        absl::StrCat("zip archive ", path_, ": cannot create ", tmp_path_, ": ", std::strerror(errno)));
  }
}

ZipWriter::~ZipWriter() {
  if (file_ != nullptr) std::fclose(file_);
  if (!finished_) std::remove(tmp_path_.c_str());
}

absl::Status ZipWriter::Fail(const std::string& what) {
  if (status_.ok()) status_ = absl::DataLossError(absl::StrCat("zip archive ", path_, ": ", what));
  return status_;
}

absl::Status ZipWriter::Write(absl::string_view bytes) {
  if (!status_.ok()) return status_;
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    return Fail(absl::StrCat("write to ", tmp_path_, " failed: ", std::strerror(errno)));
  }
  offset_ += bytes.size();
  return absl::OkStatus();
}

absl::Status ZipWriter::Add(const std::string& name, absl::string_view data) {
  AVSL_RETURN_IF_ERROR(status_);
  if (finished_) return Fail("Add() after Finish()");
  for (const Written& w : entries_) {
    if (w.name == name) return Fail(absl::StrCat("duplicate entry '", name, "'"));
  }
  if (name.size() > 0xFFFF) return Fail(absl::StrCat("entry name of ", name.size(), " bytes is too long"));
  // Padding goes into an extra field with PyTorch's id "FB" so the data lands on a kAlignment boundary; a
  // field needs at least its 4-byte header, hence the extra kAlignment when the gap is smaller.
  const uint64_t header_end = offset_ + 30 + name.size();
  uint64_t pad = (kAlignment - (header_end + 4) % kAlignment) % kAlignment;
  const uint64_t data_start = header_end + 4 + pad;
  if (data_start + data.size() > kMaxOffset) {
    return Fail(absl::StrCat("entry '", name, "' would end at byte ", data_start + data.size(),
                             "; archives over 4 GiB need zip64, which this writer does not emit"));
  }
  Written w{name, internal::Crc32(data), static_cast<uint32_t>(data.size()), static_cast<uint32_t>(offset_)};
  std::string h;
  Put32(h, 0x04034b50);
  Put16(h, kVersion);
  Put16(h, kUtf8Flag);
  Put16(h, 0);  // stored
  Put16(h, kDosTime);
  Put16(h, kDosDate);
  Put32(h, w.crc32);
  Put32(h, w.size);
  Put32(h, w.size);
  Put16(h, static_cast<uint16_t>(name.size()));
  Put16(h, static_cast<uint16_t>(4 + pad));
  h += name;
  h += "FB";
  Put16(h, static_cast<uint16_t>(pad));
  h.append(pad, 'Z');
  AVSL_RETURN_IF_ERROR(Write(h));
  AVSL_RETURN_IF_ERROR(Write(data));
  entries_.push_back(std::move(w));
  return absl::OkStatus();
}

absl::Status ZipWriter::Finish() {
  AVSL_RETURN_IF_ERROR(status_);
  if (finished_) return Fail("Finish() called twice");
  const uint64_t cd_offset = offset_;
  std::string cd;
  for (const Written& w : entries_) {
    Put32(cd, 0x02014b50);
    Put16(cd, kVersion);
    Put16(cd, kVersion);
    Put16(cd, kUtf8Flag);
    Put16(cd, 0);
    Put16(cd, kDosTime);
    Put16(cd, kDosDate);
    Put32(cd, w.crc32);
    Put32(cd, w.size);
    Put32(cd, w.size);
    Put16(cd, static_cast<uint16_t>(w.name.size()));
    Put16(cd, 0);  // extra
    Put16(cd, 0);  // comment
    Put16(cd, 0);  // disk
    Put16(cd, 0);  // internal attributes
    Put32(cd, 0);  // external attributes
    Put32(cd, w.header_offset);
    cd += w.name;
  }
  if (entries_.size() > 0xFFFF || cd_offset + cd.size() > kMaxOffset) {
    return Fail("too many entries or too large for a zip archive without zip64");
  }
  const uint32_t dir_size = static_cast<uint32_t>(cd.size());
  Put32(cd, 0x06054b50);
  Put16(cd, 0);  // this disk
  Put16(cd, 0);  // disk with the directory
  Put16(cd, static_cast<uint16_t>(entries_.size()));
  Put16(cd, static_cast<uint16_t>(entries_.size()));
  Put32(cd, dir_size);
  Put32(cd, static_cast<uint32_t>(cd_offset));
  Put16(cd, 0);  // comment length
  AVSL_RETURN_IF_ERROR(Write(cd));
  // Durability (fsync, rename, directory fsync) is io::CommitTemporaryFile's, below.
  if (std::fflush(file_) != 0) return Fail(absl::StrCat("flushing ", tmp_path_, " failed: ", std::strerror(errno)));
  const int close_rc = std::fclose(file_);
  file_ = nullptr;
  if (close_rc != 0) return Fail(absl::StrCat("closing ", tmp_path_, " failed: ", std::strerror(errno)));
  absl::Status committed = io::CommitTemporaryFile(tmp_path_, path_);
  if (!committed.ok()) return Fail(std::string(committed.message()));
  finished_ = true;
  return absl::OkStatus();
}

}  // namespace avsl::checkpoint
