#include <torch/torch.h>

#include "avsl/checkpoint/state_dict.h"

#include <cstring>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "avsl/checkpoint/checkpoint_archive.h"
#include "avsl/core/status_macros.h"

namespace avsl::checkpoint {
namespace {

using Kind = Value::Kind;

constexpr const char* kCommonKeys[] = {"state_dict", "model_state_dict", "model",  "net",    "network",
                                       "module",     "model_state",      "params", "weights"};

at::ScalarType ToTorch(DType d) {
  switch (d) {
    case DType::kFloat32: return at::kFloat;
    case DType::kFloat64: return at::kDouble;
    case DType::kFloat16: return at::kHalf;
    case DType::kBFloat16: return at::kBFloat16;
    case DType::kInt64: return at::kLong;
    case DType::kInt32: return at::kInt;
    case DType::kInt16: return at::kShort;
    case DType::kInt8: return at::kChar;
    case DType::kUInt8: return at::kByte;
    case DType::kBool: return at::kBool;
  }
  return at::kFloat;
}

std::optional<DType> FromTorch(at::ScalarType s) {
  for (DType d : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16, DType::kInt64, DType::kInt32,
                  DType::kInt16, DType::kInt8, DType::kUInt8, DType::kBool}) {
    if (ToTorch(d) == s) return d;
  }
  return std::nullopt;
}

bool HasTensorEntries(const Value& d) {
  for (const auto& [k, v] : d.entries)
    if (v->is_tensor()) return true;
  return false;
}

bool ContainsStateDict(const Value& d, int depth) {
  if (!d.is_dict() || depth > 4) return false;
  if (HasTensorEntries(d)) return true;
  for (const auto& [k, v] : d.entries)
    if (ContainsStateDict(*v, depth + 1)) return true;
  return false;
}

std::string DescribeEntries(const Value& d) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : d.entries) {
    parts.push_back(absl::StrCat("'", k->kind == Kind::kString ? k->str : k->Describe(), "' (", v->Describe(), ")"));
    if (parts.size() == 12) {
      parts.push_back(absl::StrCat("... ", d.entries.size() - 12, " more"));
      break;
    }
  }
  return absl::StrJoin(parts, ", ");
}

// Detection, see StateDictOptions::key. `path` accumulates the '/'-joined keys.
const Value* Detect(const Value& d, std::string* path, int depth) {
  if (HasTensorEntries(d)) return &d;
  if (depth > 4) return nullptr;
  auto descend = [&](const std::string& key, const Value& v) -> const Value* {
    std::string sub = path->empty() ? key : absl::StrCat(*path, "/", key);
    const Value* found = Detect(v, &sub, depth + 1);
    if (found != nullptr) *path = sub;
    return found;
  };
  for (const char* key : kCommonKeys) {
    const Value* v = d.Find(key);
    if (v != nullptr && v->is_dict()) {
      if (const Value* found = descend(key, *v)) return found;
    }
  }
  const std::pair<ValuePtr, ValuePtr>* only = nullptr;
  for (const auto& e : d.entries) {
    if (e.first->kind != Kind::kString || !ContainsStateDict(*e.second, depth + 1)) continue;
    if (only != nullptr) return nullptr;  // ambiguous: the caller lists the entries
    only = &e;
  }
  return only != nullptr ? descend(only->first->str, *only->second) : nullptr;
}

absl::StatusOr<const Value*> Locate(const CheckpointArchive& a, const StateDictOptions& o, StateDictInfo* info) {
  const Value& root = *a.root();
  if (!root.is_dict()) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint ", a.path(), ": top level is a ", root.Describe(),
                                                   ", expected a dict of tensors or a dict containing one"));
  }
  if (o.key.empty()) {
    std::string path;
    const Value* d = Detect(root, &path, 0);
    if (d == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("checkpoint ", a.path(),
                       ": found no state dict (a dict of tensors) at the top level, under the usual "
                       "keys, or as the only nested one; top-level entries: ",
                       DescribeEntries(root), ". Name it with StateDictOptions::key (e.g. \"model\")"));
    }
    info->source_key = path;
    info->auto_detected = true;
    return d;
  }
  const Value* d = &root;
  std::string walked;
  for (absl::string_view part : absl::StrSplit(o.key, '/')) {
    const Value* next = d->Find(part);
    if (next == nullptr) {
      return absl::NotFoundError(absl::StrCat("checkpoint ", a.path(), ": no key '", part, "' in ",
                                              walked.empty() ? "the top-level dict" : "'" + walked + "'",
                                              "; it has: ", DescribeEntries(*d)));
    }
    absl::StrAppend(&walked, walked.empty() ? "" : "/", part);
    if (!next->is_dict()) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint ", a.path(), ": '", walked, "' is a ", next->Describe(), ", not a dict"));
    }
    d = next;
  }
  info->source_key = o.key;
  return d;
}

// Turns a TensorRef into a tensor, copying storage records into memory once each.
class Materializer {
 public:
  explicit Materializer(const CheckpointArchive& a) : a_(a) {}

  absl::StatusOr<torch::Tensor> Get(const TensorRef& t, const std::string& name) {
    const StorageRef& s = *t.storage;
    const auto cache_key = std::make_pair(s.key, s.dtype);
    auto it = storages_.find(cache_key);
    if (it == storages_.end()) {
      AVSL_ASSIGN_OR_RETURN(absl::string_view bytes, a_.StorageBytes(s));
      // A fresh (aligned) allocation: zip data need not be aligned for the element type.
      torch::Tensor storage = torch::empty({s.numel}, torch::TensorOptions().dtype(ToTorch(s.dtype)));
      if (!bytes.empty()) std::memcpy(storage.data_ptr(), bytes.data(), bytes.size());
      it = storages_.emplace(cache_key, std::move(storage)).first;
    }
    const std::string bad = t.CheckBounds();
    if (!bad.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint ", a_.path(), ": tensor '", name, "': ", bad));
    }
    torch::Tensor view = it->second.as_strided(t.sizes, t.strides, t.offset);
    // A tensor that is its whole storage, laid out contiguously, is used as is; views are copied out so
    // that they neither keep the rest of the storage alive nor alias each other.
    if (t.offset == 0 && view.is_contiguous() && view.numel() == s.numel) return view;
    return view.clone(at::MemoryFormat::Contiguous);
  }

 private:
  const CheckpointArchive& a_;
  std::map<std::pair<std::string, DType>, torch::Tensor> storages_;
};

std::string StripPrefixes(std::string key, const std::vector<std::string>& prefixes) {
  for (bool changed = true; changed;) {
    changed = false;
    for (const std::string& p : prefixes) {
      if (!p.empty() && absl::StartsWith(key, p)) {
        key.erase(0, p.size());
        changed = true;
      }
    }
  }
  return key;
}

}  // namespace

absl::StatusOr<StateDict> LoadStateDict(const std::string& path) { return LoadStateDict(path, {}, nullptr); }

absl::StatusOr<StateDict> LoadStateDict(const std::string& path, const StateDictOptions& options, StateDictInfo* info) {
  StateDictInfo local;
  if (info == nullptr) info = &local;
  *info = StateDictInfo();
  ReadOptions ro;
  ro.allow_unknown_globals = options.allow_unknown_globals;
  ro.verify_crc = options.verify_crc;
  AVSL_ASSIGN_OR_RETURN(CheckpointArchive archive, CheckpointArchive::Open(path, ro));
  AVSL_ASSIGN_OR_RETURN(const Value* dict, Locate(archive, options, info));
  Materializer m(archive);
  StateDict out;
  std::map<std::string, std::string> seen;  // stripped key -> original key
  for (const auto& [k, v] : dict->entries) {
    const std::string shown = k->kind == Kind::kString ? k->str : k->Describe();
    if (k->kind != Kind::kString || !v->is_tensor()) {
      info->ignored.push_back(absl::StrCat(shown, " (", v->Describe(), ")"));
      continue;
    }
    std::string key = StripPrefixes(k->str, options.strip_prefixes);
    if (key != k->str) ++info->prefixes_stripped;
    auto [it, inserted] = seen.emplace(key, k->str);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint ", path, ": keys '", it->second, "' and '", k->str,
                                                     "' both become '", key, "' after stripping prefixes"));
    }
    AVSL_ASSIGN_OR_RETURN(torch::Tensor t, m.Get(*v->tensor, k->str));
    out.emplace_back(std::move(key), std::move(t));
  }
  if (out.empty()) {
    const std::string where = info->source_key.empty() ? "the top-level dict" : "'" + info->source_key + "'";
    return absl::NotFoundError(
        absl::StrCat("checkpoint ", path, ": ", where, " holds no tensors; its entries: ", DescribeEntries(*dict)));
  }
  return out;
}

absl::Status SaveStateDictForPython(const std::string& path, const StateDict& state_dict) {
  ValuePtr root = Value::Dict(/*ordered=*/false);
  std::vector<torch::Tensor> keep;  // owns the bytes the archive writer reads
  std::vector<std::pair<std::string, absl::string_view>> storages;
  std::map<std::string, int> seen;
  for (const auto& [name, tensor] : state_dict) {
    auto fail = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat("saving ", path, ": tensor '", name, "' ", why));
    };
    if (!seen.emplace(name, 0).second) return fail("appears twice");
    if (!tensor.defined()) return fail("is undefined");
    if (tensor.layout() != torch::kStrided || tensor.is_quantized()) return fail("is not a dense tensor");
    std::optional<DType> dtype = FromTorch(tensor.scalar_type());
    if (!dtype) return fail(absl::StrCat("has unsupported dtype ", c10::toString(tensor.scalar_type())));
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    auto storage = std::make_shared<StorageRef>();
    storage->dtype = *dtype;
    storage->key = std::to_string(storages.size());
    storage->location = "cpu";
    storage->numel = t.numel();
    auto ref = std::make_shared<TensorRef>();
    ref->storage = storage;
    ref->sizes = t.sizes().vec();
    ref->strides = t.strides().vec();
    root->entries.emplace_back(Value::String(name), Value::Tensor(ref));
    storages.emplace_back(storage->key,
                          absl::string_view(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size()));
    keep.push_back(std::move(t));
  }
  return WriteCheckpointArchive(path, *root, storages);
}

StateDict ModuleStateDict(const torch::nn::Module& module) {
  StateDict out;
  auto add_own = [&out](const torch::nn::Module& m, const std::string& prefix) {
    for (const auto& p : m.named_parameters(/*recurse=*/false))
      if (p.value().defined()) out.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : m.named_buffers(/*recurse=*/false))
      if (b.value().defined()) out.emplace_back(prefix + b.key(), b.value());
  };
  add_own(module, "");
  // include_self=false: the root need not be owned by a shared_ptr.
  for (const auto& sub : module.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    add_own(*sub.value(), sub.key() + ".");
  }
  return out;
}

const at::Tensor* FindTensor(const StateDict& state_dict, const std::string& name) {
  for (const auto& [k, t] : state_dict)
    if (k == name) return &t;
  return nullptr;
}

}  // namespace avsl::checkpoint
