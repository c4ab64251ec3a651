#include "checkpoint/legacy_torch_save.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "avsl/checkpoint/unpickler.h"
#include "avsl/core/status_macros.h"

namespace avsl::checkpoint {
namespace {

// torch.serialization.MAGIC_NUMBER = 0x1950a86a20f9469cfc6c, as LONG1 stores it (10 bytes, little-endian).
constexpr unsigned char kMagic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr int64_t kLegacyProtocolVersion = 1001;

unsigned char Byte(absl::string_view b, size_t i) { return static_cast<unsigned char>(b[i]); }

// The length of the magic-number pickle at the start of `b`, 0 when it is not there: PROTO n (n >= 2), a FRAME
// header from protocol 4 on, LONG1 of 10 bytes, STOP.
size_t MagicPickleLength(absl::string_view b) {
  if (b.size() < 2 || Byte(b, 0) != 0x80 || Byte(b, 1) < 2) return 0;
  size_t i = 2;
  if (b.size() > i && Byte(b, i) == 0x95) i += 9;
  if (b.size() < i + 13 || Byte(b, i) != 0x8a || Byte(b, i + 1) != 10 ||
      std::memcmp(b.data() + i + 2, kMagic, sizeof(kMagic)) != 0 || b[i + 12] != '.') {
    return 0;
  }
  return i + 13;
}

// Every storage the object refers to, by key; a key used with two different types or sizes is refused.
absl::Status CollectStorages(const ValuePtr& v, std::unordered_set<const Value*>& seen,
                             std::map<std::string, std::shared_ptr<const StorageRef>>& out, const std::string& source) {
  if (v == nullptr || !seen.insert(v.get()).second) return absl::OkStatus();
  std::shared_ptr<const StorageRef> ref;
  if (v->kind == Value::Kind::kStorage) ref = v->storage;
  if (v->kind == Value::Kind::kTensor && v->tensor != nullptr) ref = v->tensor->storage;
  if (ref != nullptr) {
    auto [it, inserted] = out.emplace(ref->key, ref);
    if (!inserted && (it->second->dtype != ref->dtype || it->second->numel != ref->numel)) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": storage '", ref->key, "' is declared twice, as ",
                                                     it->second->numel, " x ", DTypeName(it->second->dtype), " and as ",
                                                     ref->numel, " x ", DTypeName(ref->dtype)));
    }
  }
  for (const ValuePtr& item : v->items) AVSL_RETURN_IF_ERROR(CollectStorages(item, seen, out, source));
  for (const auto& [key, value] : v->entries) {
    AVSL_RETURN_IF_ERROR(CollectStorages(key, seen, out, source));
    AVSL_RETURN_IF_ERROR(CollectStorages(value, seen, out, source));
  }
  return CollectStorages(v->state, seen, out, source);
}

}  // namespace

bool IsLegacyTorchSave(absl::string_view bytes) { return MagicPickleLength(bytes) > 0; }

absl::StatusOr<LegacyTorchSave> ParseLegacyTorchSave(absl::string_view bytes, const std::string& source,
                                                     bool allow_unknown_globals) {
  size_t pos = MagicPickleLength(bytes);
  if (pos == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not a legacy torch.save file (no magic-number pickle at its start)"));
  }
  // The next pickle of the stream, named in errors by what torch.save writes there.
  auto next = [&](const char* what) -> absl::StatusOr<ValuePtr> {
    size_t consumed = 0;
    UnpickleOptions o;
    o.source = absl::StrCat(source, " (legacy torch.save format, ", what, " at byte ", pos, ")");
    o.allow_unknown_globals = allow_unknown_globals;
    o.consumed = &consumed;
    AVSL_ASSIGN_OR_RETURN(ValuePtr v, Unpickle(bytes.substr(pos), o));
    pos += consumed;
    return v;
  };
  AVSL_ASSIGN_OR_RETURN(ValuePtr version, next("protocol version"));
  if (version->kind != Value::Kind::kInt || version->int_value != kLegacyProtocolVersion) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": legacy torch.save protocol version is ",
                                                   version->Describe(), ", expected int ", kLegacyProtocolVersion));
  }
  AVSL_ASSIGN_OR_RETURN(ValuePtr sys_info, next("sys_info"));
  if (const Value* little = sys_info->Find("little_endian");
      little != nullptr && (little->kind != Value::Kind::kBool || !little->bool_value)) {
    return absl::UnimplementedError(
        absl::StrCat(source, ": saved on a big-endian machine; avsl reads only little-endian checkpoints"));
  }
  LegacyTorchSave out;
  AVSL_ASSIGN_OR_RETURN(out.root, next("the saved object"));
  AVSL_ASSIGN_OR_RETURN(ValuePtr keys, next("the storage keys"));
  if (keys->kind != Value::Kind::kList) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": the legacy format's storage keys are a ", keys->Describe(), ", expected a list"));
  }
  std::map<std::string, std::shared_ptr<const StorageRef>> declared;
  std::unordered_set<const Value*> seen;
  AVSL_RETURN_IF_ERROR(CollectStorages(out.root, seen, declared, source));
  for (const ValuePtr& key : keys->items) {
    if (key->kind != Value::Kind::kString) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": a storage key of the legacy format is a ", key->Describe(), ", expected a str"));
    }
    auto it = declared.find(key->str);
    if (it == declared.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": storage '", key->str, "' is listed but no tensor of the saved object uses it"));
    }
    if (out.storages.count(key->str) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": storage '", key->str, "' is listed twice"));
    }
    const StorageRef& ref = *it->second;
    if (bytes.size() - pos < 8) {
      return absl::DataLossError(absl::StrCat(source, ": truncated: storage '", key->str, "' should start at byte ",
                                              pos, " of ", bytes.size()));
    }
    uint64_t count = 0;
    for (int i = 0; i < 8; ++i) count |= static_cast<uint64_t>(Byte(bytes, pos + i)) << (8 * i);
    pos += 8;
    if (count != static_cast<uint64_t>(ref.numel)) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": storage '", key->str, "' holds ", count,
                                                     " elements, its tensors declare ", ref.numel));
    }
    const uint64_t elem = static_cast<uint64_t>(DTypeSize(ref.dtype));
    // Compared by division first: a corrupt count could overflow the product.
    if (count > (bytes.size() - pos) / elem) {
      return absl::DataLossError(absl::StrCat(source, ": truncated: storage '", key->str, "' needs ", count, " x ",
                                              elem, " bytes at byte ", pos, ", the file has ", bytes.size() - pos,
                                              " left"));
    }
    out.storages.emplace(key->str, bytes.substr(pos, count * elem));
    pos += count * elem;
  }
  for (const auto& [key, ref] : declared) {
    if (out.storages.count(key) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": storage '", key, "' (", ref->numel, " x ", DTypeName(ref->dtype),
                       ") is used by the saved object but not in the file's storage list"));
    }
  }
  return out;
}

}  // namespace avsl::checkpoint
