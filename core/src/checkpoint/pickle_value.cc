#include "avsl/checkpoint/pickle_value.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace avsl::checkpoint {
namespace {

struct DTypeInfo {
  DType dtype;
  int64_t size;
  const char* name;
  const char* storage_class;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::kFloat32, 4, "float32", "FloatStorage"}, {DType::kFloat64, 8, "float64", "DoubleStorage"},
    {DType::kFloat16, 2, "float16", "HalfStorage"},  {DType::kBFloat16, 2, "bfloat16", "BFloat16Storage"},
    {DType::kInt64, 8, "int64", "LongStorage"},      {DType::kInt32, 4, "int32", "IntStorage"},
    {DType::kInt16, 2, "int16", "ShortStorage"},     {DType::kInt8, 1, "int8", "CharStorage"},
    {DType::kUInt8, 1, "uint8", "ByteStorage"},      {DType::kBool, 1, "bool", "BoolStorage"},
};

const DTypeInfo& Info(DType d) {
  for (const DTypeInfo& i : kDTypes) {
    if (i.dtype == d) return i;
  }
  return kDTypes[0];
}

ValuePtr Make(Value::Kind kind) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  return v;
}

}  // namespace

int64_t DTypeSize(DType dtype) { return Info(dtype).size; }
const char* DTypeName(DType dtype) { return Info(dtype).name; }
const char* StorageClassName(DType dtype) { return Info(dtype).storage_class; }

std::optional<DType> DTypeFromStorageClass(absl::string_view class_name) {
  for (const DTypeInfo& i : kDTypes) {
    if (class_name == i.storage_class) return i.dtype;
  }
  // Untyped storages count bytes.
  if (class_name == "UntypedStorage") return DType::kUInt8;
  return std::nullopt;
}

int64_t TensorRef::numel() const {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  return n;
}

std::string TensorRef::CheckBounds() const {
  if (sizes.size() != strides.size()) {
    return absl::StrCat("size has ", sizes.size(), " dims but stride has ", strides.size());
  }
  if (offset < 0) return absl::StrCat("negative storage offset ", offset);
  int64_t last = offset;  // index of the furthest element the view touches
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 0) return absl::StrCat("negative size ", sizes[i]);
    if (strides[i] < 0) return absl::StrCat("negative stride ", strides[i]);
    if (sizes[i] == 0) return "";  // an empty view touches nothing
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    int64_t span;
    if (__builtin_mul_overflow(sizes[i] - 1, strides[i], &span) || __builtin_add_overflow(last, span, &last)) {
      return "view extent overflows 64 bits";
    }
  }
  const int64_t have = storage ? storage->numel : 0;
  if (last >= have) {
    return absl::StrCat("view [offset ", offset, ", size (", absl::StrJoin(sizes, ", "), "), stride (",
                        absl::StrJoin(strides, ", "), ")] reaches element ", last, " of a storage of ", have);
  }
  return "";
}

ValuePtr Value::None() { return Make(Kind::kNone); }
ValuePtr Value::Bool(bool v) {
  auto p = Make(Kind::kBool);
  p->bool_value = v;
  return p;
}
ValuePtr Value::Int(int64_t v) {
  auto p = Make(Kind::kInt);
  p->int_value = v;
  return p;
}
ValuePtr Value::Float(double v) {
  auto p = Make(Kind::kFloat);
  p->float_value = v;
  return p;
}
ValuePtr Value::String(std::string v) {
  auto p = Make(Kind::kString);
  p->str = std::move(v);
  return p;
}
ValuePtr Value::Bytes(std::string v) {
  auto p = Make(Kind::kBytes);
  p->str = std::move(v);
  return p;
}
ValuePtr Value::List(std::vector<ValuePtr> items) {
  auto p = Make(Kind::kList);
  p->items = std::move(items);
  return p;
}
ValuePtr Value::Tuple(std::vector<ValuePtr> items) {
  auto p = Make(Kind::kTuple);
  p->items = std::move(items);
  return p;
}
ValuePtr Value::Dict(bool ordered) {
  auto p = Make(Kind::kDict);
  p->ordered = ordered;
  return p;
}
ValuePtr Value::Global(std::string name) {
  auto p = Make(Kind::kGlobal);
  p->str = std::move(name);
  return p;
}
ValuePtr Value::Object(std::string class_name, std::vector<ValuePtr> args) {
  auto p = Make(Kind::kObject);
  p->str = std::move(class_name);
  p->items = std::move(args);
  return p;
}
ValuePtr Value::Storage(std::shared_ptr<const StorageRef> ref) {
  auto p = Make(Kind::kStorage);
  p->storage = std::move(ref);
  return p;
}
ValuePtr Value::Tensor(std::shared_ptr<const TensorRef> ref) {
  auto p = Make(Kind::kTensor);
  p->tensor = std::move(ref);
  return p;
}

const Value* Value::Find(absl::string_view key) const {
  if (kind != Kind::kDict) return nullptr;
  for (const auto& [k, v] : entries) {
    if (k && k->kind == Kind::kString && k->str == key) return v.get();
  }
  return nullptr;
}

std::string Value::Describe() const {
  switch (kind) {
    case Kind::kNone: return "None";
    case Kind::kBool: return bool_value ? "bool True" : "bool False";
    case Kind::kInt: return absl::StrCat("int ", int_value);
    case Kind::kFloat: return absl::StrCat("float ", float_value);
    case Kind::kString: return absl::StrCat("str '", str.size() > 40 ? str.substr(0, 40) + "..." : str, "'");
    case Kind::kBytes: return absl::StrCat("bytes (", str.size(), ")");
    case Kind::kList: return absl::StrCat("list (", items.size(), " items)");
    case Kind::kTuple: return absl::StrCat("tuple (", items.size(), " items)");
    case Kind::kDict: return absl::StrCat(ordered ? "OrderedDict" : "dict", " (", entries.size(), " entries)");
    case Kind::kGlobal: return absl::StrCat("global ", str);
    case Kind::kObject: return absl::StrCat("object ", str);
    case Kind::kStorage:
      return absl::StrCat("storage ", DTypeName(storage->dtype), " data/", storage->key, " (", storage->numel, ")");
    case Kind::kTensor:
      return absl::StrCat("tensor ", DTypeName(tensor->storage->dtype), " [", absl::StrJoin(tensor->sizes, ", "), "]");
  }
  return "?";
}

const char* KindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNone: return "None";
    case Value::Kind::kBool: return "bool";
    case Value::Kind::kInt: return "int";
    case Value::Kind::kFloat: return "float";
    case Value::Kind::kString: return "str";
    case Value::Kind::kBytes: return "bytes";
    case Value::Kind::kList: return "list";
    case Value::Kind::kTuple: return "tuple";
    case Value::Kind::kDict: return "dict";
    case Value::Kind::kGlobal: return "global";
    case Value::Kind::kObject: return "object";
    case Value::Kind::kStorage: return "storage";
    case Value::Kind::kTensor: return "tensor";
  }
  return "?";
}

}  // namespace avsl::checkpoint
