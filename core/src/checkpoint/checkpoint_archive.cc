#include "avsl/checkpoint/checkpoint_archive.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "avsl/checkpoint/pickler.h"
#include "avsl/checkpoint/unpickler.h"
#include "avsl/checkpoint/zip_writer.h"
#include "avsl/core/status_macros.h"
#include "checkpoint/legacy_torch_save.h"
#include "io/read_whole_file.h"

namespace avsl::checkpoint {
namespace {

constexpr char kArchiveName[] = "archive";
// The format version torch 1.13's torch.save writes; its reader accepts 1 through 10.
constexpr char kWrittenVersion[] = "3\n";

bool HostIsLittleEndian() {
  const uint16_t probe = 1;
  return *reinterpret_cast<const unsigned char*>(&probe) == 1;
}

}  // namespace

absl::StatusOr<CheckpointArchive> CheckpointArchive::Open(const std::string& path, const ReadOptions& options) {
  if (!HostIsLittleEndian()) {
    return absl::UnimplementedError(absl::StrCat("checkpoint ", path,
                                                 ": avsl reads checkpoints only on "
                                                 "little-endian machines"));
  }
  CheckpointArchive a;
  a.path_ = path;
  a.verify_crc_ = options.verify_crc;
  AVSL_ASSIGN_OR_RETURN(std::string bytes, io::internal::ReadWholeFile<std::string>(path, "checkpoint"));
  if (IsLegacyTorchSave(bytes)) {
    a.legacy_bytes_ = std::make_shared<const std::string>(std::move(bytes));
    AVSL_ASSIGN_OR_RETURN(
        LegacyTorchSave legacy,
        ParseLegacyTorchSave(*a.legacy_bytes_, absl::StrCat("checkpoint ", path), options.allow_unknown_globals));
    a.root_ = std::move(legacy.root);
    a.legacy_storages_ = std::move(legacy.storages);
    a.version_ = 1001;
    return a;
  }
  AVSL_ASSIGN_OR_RETURN(a.zip_, ZipReader::FromBytes(std::move(bytes), path));
  if (a.zip_.names().empty()) return absl::InvalidArgumentError(absl::StrCat("checkpoint ", path, ": empty zip"));
  // Like PyTorch's reader: every record lives in the folder named by the first entry.
  const std::string& first = a.zip_.names().front();
  const size_t slash = first.find('/');
  if (slash == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint ", path, ": first entry '", first, "' is not in a folder; not a torch.save archive"));
  }
  a.prefix_ = first.substr(0, slash);
  const std::string pre = a.prefix_ + "/";
  bool has_code = false;
  for (const std::string& n : a.zip_.names()) has_code = has_code || absl::StartsWith(n, pre + "code/");
  if (a.zip_.Has(pre + "constants.pkl") || has_code) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint ", path,
                     ": this is a TorchScript archive (torch.jit.save), not a torch.save file; in Python "
                     "run torch.save(torch.jit.load(f).state_dict(), 'weights.pt') and import that"));
  }
  if (!a.zip_.Has(pre + "data.pkl")) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint ", path, ": no ", pre, "data.pkl record; not a torch.save archive"));
  }
  const std::string version_name = a.zip_.Has(pre + ".data/version") ? pre + ".data/version" : pre + "version";
  if (a.zip_.Has(version_name)) {
    AVSL_ASSIGN_OR_RETURN(absl::string_view v, a.zip_.Read(version_name, options.verify_crc));
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(v), &a.version_)) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint ", path, ": unreadable ", version_name, " record '", v, "'"));
    }
  }
  if (a.zip_.Has(pre + "byteorder")) {
    AVSL_ASSIGN_OR_RETURN(absl::string_view order, a.zip_.Read(pre + "byteorder", options.verify_crc));
    if (absl::StripAsciiWhitespace(order) != "little") {
      return absl::UnimplementedError(absl::StrCat("checkpoint ", path, ": storages are '", order,
                                                   "'-endian; avsl reads only little-endian checkpoints"));
    }
  }
  AVSL_ASSIGN_OR_RETURN(absl::string_view pkl, a.zip_.Read(pre + "data.pkl", options.verify_crc));
  UnpickleOptions uo;
  uo.source = absl::StrCat("checkpoint ", path, " (", pre, "data.pkl)");
  uo.allow_unknown_globals = options.allow_unknown_globals;
  AVSL_ASSIGN_OR_RETURN(a.root_, Unpickle(pkl, uo));
  return a;
}

absl::StatusOr<absl::string_view> CheckpointArchive::StorageBytes(const StorageRef& storage) const {
  if (legacy()) {
    // The parser checked every listed storage's size against its declaration; a storage the object refers to
    // but the key list left out has no bytes.
    auto it = legacy_storages_.find(storage.key);
    if (it == legacy_storages_.end()) {
      return absl::NotFoundError(
          absl::StrCat("checkpoint ", path(), ": storage '", storage.key, "' is not among the file's storages"));
    }
    return it->second;
  }
  const std::string name = absl::StrCat(prefix_, "/data/", storage.key);
  if (!zip_.Has(name)) {
    return absl::NotFoundError(absl::StrCat("checkpoint ", path(), ": storage record ", name, " is missing"));
  }
  AVSL_ASSIGN_OR_RETURN(absl::string_view bytes, zip_.Read(name, verify_crc_));
  const uint64_t elem = static_cast<uint64_t>(DTypeSize(storage.dtype));
  // Compared by division first: a corrupt numel could overflow the product.
  const bool too_short = static_cast<uint64_t>(storage.numel) > bytes.size() / elem;
  const uint64_t need = static_cast<uint64_t>(storage.numel) * elem;
  if (too_short) {
    return absl::DataLossError(absl::StrCat("checkpoint ", path(), ": storage record ", name, " has ", bytes.size(),
                                            " bytes, expected ", need, " (", storage.numel, " x ",
                                            DTypeName(storage.dtype), ")"));
  }
  return bytes.substr(0, need);
}

absl::StatusOr<ValuePtr> LoadCheckpointValues(const std::string& path, const ReadOptions& options) {
  AVSL_ASSIGN_OR_RETURN(CheckpointArchive a, CheckpointArchive::Open(path, options));
  return a.root();
}

absl::Status WriteCheckpointArchive(const std::string& path, const Value& root,
                                    const std::vector<std::pair<std::string, absl::string_view>>& storages) {
  AVSL_ASSIGN_OR_RETURN(std::string pkl, Pickle(root));
  const std::string pre = absl::StrCat(kArchiveName, "/");
  ZipWriter w(path);
  AVSL_RETURN_IF_ERROR(w.Add(pre + "data.pkl", pkl));
  AVSL_RETURN_IF_ERROR(w.Add(pre + "byteorder", "little"));
  for (const auto& [key, bytes] : storages) AVSL_RETURN_IF_ERROR(w.Add(pre + "data/" + key, bytes));
  AVSL_RETURN_IF_ERROR(w.Add(pre + "version", kWrittenVersion));
  return w.Finish();
}

}  // namespace avsl::checkpoint
