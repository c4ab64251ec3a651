#include "avsl/checkpoint/zip_reader.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "avsl/core/status_macros.h"
#include "checkpoint/crc32.h"
#include "checkpoint/legacy_torch_save.h"
#include "io/read_whole_file.h"

namespace avsl::checkpoint {
namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr size_t kEndSize = 22;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kLocalHeaderSize = 30;

uint16_t U16(const std::string& b, uint64_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(b[at]) | static_cast<unsigned char>(b[at + 1]) << 8);
}
uint32_t U32(const std::string& b, uint64_t at) {
  return static_cast<uint32_t>(U16(b, at)) | static_cast<uint32_t>(U16(b, at + 2)) << 16;
}
uint64_t U64(const std::string& b, uint64_t at) {
  return static_cast<uint64_t>(U32(b, at)) | static_cast<uint64_t>(U32(b, at + 4)) << 32;
}

absl::Status Corrupt(const std::string& path, const std::string& what) {
  return absl::DataLossError(absl::StrCat("zip archive ", path, ": ", what));
}

// Explains what a non-zip file most likely is: the legacy torch.save format is a bare pickle stream that
// starts with PROTO 2 and the LONG1 magic number, which users hit when loading old checkpoints.
std::string DescribeNonZip(const std::string& b) {
  if (IsLegacyTorchSave(b)) {
    return "this is the legacy (pre-1.6, _use_new_zipfile_serialization=False) torch.save format: avsl imports "
           "weights from it (avsl eval --weights, an encoder's pretrained_weights), but the checkpoints avsl writes, "
           "resumes and evaluates are zip archives";
  }
  if (!b.empty() && static_cast<unsigned char>(b[0]) == 0x80) {
    return "it looks like a bare pickle stream, not a torch.save zip archive";
  }
  std::string head;
  for (size_t i = 0; i < b.size() && i < 4; ++i)
    absl::StrAppendFormat(&head, "%s%02x", i ? " " : "", static_cast<unsigned char>(b[i]));
  return absl::StrCat("it starts with bytes [", head, "], expected the zip signature [50 4b 03 04]");
}

}  // namespace

absl::StatusOr<ZipReader> ZipReader::Open(const std::string& path) {
  AVSL_ASSIGN_OR_RETURN(std::string bytes, io::internal::ReadWholeFile<std::string>(path, "zip archive"));
  return FromBytes(std::move(bytes), path);
}

absl::StatusOr<ZipReader> ZipReader::FromBytes(std::string bytes, const std::string& name) {
  ZipReader r;
  r.path_ = name;
  r.bytes_ = std::make_shared<const std::string>(std::move(bytes));
  AVSL_RETURN_IF_ERROR(r.Index());
  return r;
}

absl::Status ZipReader::Index() {
  const std::string& b = *bytes_;
  const uint64_t n = b.size();
  if (n < 4 || (U32(b, 0) != kLocalHeaderSig && U32(b, 0) != kEndSig)) {
    return absl::InvalidArgumentError(
        absl::StrCat("zip archive ", path_, ": not a zip archive (", n, " bytes): ", DescribeNonZip(b)));
  }
  // The end record sits in the last 22 + 65535 (max comment) bytes; scan backwards for its signature.
  uint64_t end_pos = UINT64_MAX;
  if (n >= kEndSize) {
    const uint64_t stop = n > kEndSize + 0xFFFF ? n - kEndSize - 0xFFFF : 0;
    for (uint64_t p = n - kEndSize + 1; p-- > stop;) {
      if (U32(b, p) == kEndSig && p + kEndSize + U16(b, p + 20) == n) {
        end_pos = p;
        break;
      }
    }
  }
  if (end_pos == UINT64_MAX) {
    return Corrupt(path_, absl::StrCat("truncated or corrupt: no end-of-central-directory record in its ", n,
                                       " bytes (was the file cut short while copying or saving?)"));
  }
  uint64_t count = U16(b, end_pos + 10);
  uint64_t cd_size = U32(b, end_pos + 12);
  uint64_t cd_offset = U32(b, end_pos + 16);
  uint64_t cd_limit = end_pos;
  // torch.save always writes the zip64 records; other writers add them only when a field overflows.
  if (end_pos >= 20 && U32(b, end_pos - 20) == kZip64LocatorSig) {
    const uint64_t z64 = U64(b, end_pos - 20 + 8);
    // Offsets are the file's own: compared by subtraction, never by an addition that could wrap.
    if (z64 > end_pos - 20 || end_pos - 20 - z64 < 56 || U32(b, z64) != kZip64EndSig) {
      return Corrupt(path_, absl::StrCat("zip64 end record expected at offset ", z64, " is missing"));
    }
    count = U64(b, z64 + 32);
    cd_size = U64(b, z64 + 40);
    cd_offset = U64(b, z64 + 48);
    cd_limit = z64;
  } else if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
    return Corrupt(path_, "end record needs zip64 fields but the zip64 locator is missing");
  }
  if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset) {
    return Corrupt(path_, absl::StrCat("central directory [", cd_offset, ", +", cd_size, ") lies outside the file (", n,
                                       " bytes); the file is truncated"));
  }
  uint64_t p = cd_offset;
  const uint64_t cd_end = cd_offset + cd_size;
  for (uint64_t i = 0; i < count; ++i) {
    if (p + kCentralHeaderSize > cd_end || U32(b, p) != kCentralHeaderSig) {
      return Corrupt(path_,
                     absl::StrCat("central directory entry ", i, " of ", count, " at offset ", p, " is malformed"));
    }
    const uint16_t flags = U16(b, p + 8);
    const uint16_t method = U16(b, p + 10);
    ZipEntry e;
    e.crc32 = U32(b, p + 16);
    uint64_t comp_size = U32(b, p + 20);
    uint64_t size = U32(b, p + 24);
    const uint16_t name_len = U16(b, p + 28);
    const uint16_t extra_len = U16(b, p + 30);
    const uint16_t comment_len = U16(b, p + 32);
    uint64_t local = U32(b, p + 42);
    const uint64_t next = p + kCentralHeaderSize + name_len + extra_len + comment_len;
    if (next > cd_end) return Corrupt(path_, absl::StrCat("central directory entry ", i, " overruns it"));
    e.name = b.substr(p + kCentralHeaderSize, name_len);
    // zip64 extended information: 64-bit values, present only for the fields saturated above, in this order.
    for (uint64_t x = p + kCentralHeaderSize + name_len; x + 4 <= p + kCentralHeaderSize + name_len + extra_len;) {
      const uint16_t id = U16(b, x), len = U16(b, x + 2);
      uint64_t f = x + 4;
      const uint64_t f_end = f + len;
      if (f_end > p + kCentralHeaderSize + name_len + extra_len) {
        return Corrupt(path_, absl::StrCat("entry '", e.name, "': extra field overruns its header"));
      }
      if (id == 0x0001) {
        for (uint64_t* v : {&size, &comp_size, &local}) {
          if (*v != 0xFFFFFFFF) continue;
          if (f + 8 > f_end) return Corrupt(path_, absl::StrCat("entry '", e.name, "': short zip64 field"));
          *v = U64(b, f);
          f += 8;
        }
      }
      x = f_end;
    }
    if (local > n || n - local < kLocalHeaderSize || U32(b, local) != kLocalHeaderSig) {
      return Corrupt(path_, absl::StrCat("entry '", e.name, "': no local header at offset ", local, " (file of ", n,
                                         " bytes is truncated or corrupt)"));
    }
    e.data_offset = local + kLocalHeaderSize + U16(b, local + 26) + U16(b, local + 28);
    e.size = size;
    if (e.data_offset > n || comp_size > n - e.data_offset) {
      return Corrupt(path_, absl::StrCat("entry '", e.name, "': its ", comp_size, " bytes at offset ", e.data_offset,
                                         " run past the end of the file (", n, " bytes); the file is truncated"));
    }
    if (flags & 1) {
      unreadable_[e.name] = "is encrypted";
    } else if (method != 0) {
      unreadable_[e.name] = absl::StrCat("is compressed (method ", method,
                                         "); avsl reads only the uncompressed entries torch.save writes");
    } else if (comp_size != size) {
      return Corrupt(path_,
                     absl::StrCat("stored entry '", e.name, "' has compressed size ", comp_size, " != size ", size));
    }
    if (entries_.emplace(e.name, e).second) names_.push_back(e.name);
    p = next;
  }
  return absl::OkStatus();
}

const ZipEntry* ZipReader::Find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

absl::StatusOr<absl::string_view> ZipReader::Read(const std::string& name, bool verify_crc) const {
  const ZipEntry* e = Find(name);
  if (e == nullptr) return absl::NotFoundError(absl::StrCat("zip archive ", path_, ": no entry '", name, "'"));
  auto bad = unreadable_.find(name);
  if (bad != unreadable_.end()) {
    return absl::UnimplementedError(absl::StrCat("zip archive ", path_, ": entry '", name, "' ", bad->second));
  }
  absl::string_view data(bytes_->data() + e->data_offset, e->size);
  if (verify_crc) {
    const uint32_t crc = internal::Crc32(data);
    if (crc != e->crc32) {
      return Corrupt(path_, absl::StrFormat("entry '%s': CRC-32 is %08x, the directory says %08x (corrupt file)", name,
                                            crc, e->crc32));
    }
  }
  return data;
}

}  // namespace avsl::checkpoint
