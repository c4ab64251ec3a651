// The generic value tree that the unpickler produces and the pickler consumes: Python's None, bool, int,
// float, str, bytes, list, tuple, dict/OrderedDict, plus references to torch storages and tensors (shape,
// strides and which storage record holds the data; no tensor library needed). Torch-free.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace avsl::checkpoint {

/// Element types of torch storages that avsl reads and writes.
enum class DType { kFloat32, kFloat64, kFloat16, kBFloat16, kInt64, kInt32, kInt16, kInt8, kUInt8, kBool };

/// Bytes per element.
int64_t DTypeSize(DType dtype);
/// "float32", "float64", "float16", "bfloat16", "int64", ... (torch's names without the "torch." prefix).
const char* DTypeName(DType dtype);
/// The legacy storage class that torch.save names in its persistent ids, e.g. "FloatStorage".
const char* StorageClassName(DType dtype);
/// Inverse of StorageClassName; nullopt for an unknown class name.
std::optional<DType> DTypeFromStorageClass(absl::string_view class_name);

/// A storage record of a torch.save archive: `data/<key>` holds `numel` elements of `dtype`.
struct StorageRef {
  DType dtype = DType::kFloat32;
  std::string key;
  std::string location;  ///< Device the tensor was saved from ("cpu", "cuda:0"); avsl loads to CPU.
  int64_t numel = 0;
};

/// What torch._utils._rebuild_tensor_v2 receives: a strided view into a storage.
struct TensorRef {
  std::shared_ptr<const StorageRef> storage;
  int64_t offset = 0;  ///< In elements.
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
  bool requires_grad = false;
  bool is_parameter = false;  ///< Saved as torch.nn.Parameter.

  int64_t numel() const;
  /// Checks that every element of the view lies inside the storage; "" when fine, else the reason.
  std::string CheckBounds() const;
};

struct Value;
using ValuePtr = std::shared_ptr<Value>;

/// One node of the tree. Containers hold shared pointers because pickles share objects through the memo
/// and mutate them after they were memoized (an empty dict is created, memoized, then filled).
struct Value {
  enum class Kind {
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kBytes,
    kList,
    kTuple,
    kDict,
    kGlobal,  ///< A class or function reference `module.name`, e.g. the storage class in a persistent id.
    kObject,  ///< An instance of a class avsl does not interpret: name, constructor args and BUILD state.
    kStorage,
    kTensor,
  };

  Kind kind = Kind::kNone;
  bool bool_value = false;
  int64_t int_value = 0;
  double float_value = 0;
  std::string str;              ///< kString (UTF-8), kBytes (raw), kGlobal and kObject ("module.name").
  std::vector<ValuePtr> items;  ///< kList, kTuple; kObject: constructor arguments.
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;  ///< kDict, in insertion order.
  bool ordered = false;                                ///< kDict: was a collections.OrderedDict.
  ValuePtr state;  ///< kObject/kDict: the BUILD state (an OrderedDict's `_metadata` ends up here).
  std::shared_ptr<const StorageRef> storage;  ///< kStorage.
  std::shared_ptr<const TensorRef> tensor;    ///< kTensor.

  static ValuePtr None();
  static ValuePtr Bool(bool v);
  static ValuePtr Int(int64_t v);
  static ValuePtr Float(double v);
  static ValuePtr String(std::string v);
  static ValuePtr Bytes(std::string v);
  static ValuePtr List(std::vector<ValuePtr> items = {});
  static ValuePtr Tuple(std::vector<ValuePtr> items = {});
  static ValuePtr Dict(bool ordered = false);
  static ValuePtr Global(std::string name);
  static ValuePtr Object(std::string class_name, std::vector<ValuePtr> args);
  static ValuePtr Storage(std::shared_ptr<const StorageRef> ref);
  static ValuePtr Tensor(std::shared_ptr<const TensorRef> ref);

  bool is_dict() const { return kind == Kind::kDict; }
  bool is_tensor() const { return kind == Kind::kTensor; }
  /// For kDict: the value stored under string key `key`, or nullptr (also for non-dicts).
  const Value* Find(absl::string_view key) const;
  /// A short description for messages: "int 3", "dict (4 entries)", "tensor float32 [64, 3, 7, 7]".
  std::string Describe() const;
};

/// "None", "bool", "int", ... as used in messages.
const char* KindName(Value::Kind kind);

}  // namespace avsl::checkpoint
