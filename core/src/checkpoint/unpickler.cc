#include "avsl/checkpoint/unpickler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "avsl/core/status_macros.h"

namespace avsl::checkpoint {
namespace {

using Kind = Value::Kind;

// Globals whose call (REDUCE/NEWOBJ) becomes an opaque kObject: safe to represent, never interpreted.
const std::set<std::string>& OpaqueGlobals() {
  static const auto* s = new std::set<std::string>{"argparse.Namespace", "torch.device", "numpy.dtype"};
  return *s;
}

const std::set<std::string>& AllowedGlobals() {
  static const std::set<std::string>* s = [] {
    auto* g = new std::set<std::string>{
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._tensor._rebuild_from_type_v2",
        "torch.Tensor",
        "torch.nn.parameter.Parameter",
        "torch.Size",
        "torch.UntypedStorage",
        "_codecs.encode",
        "builtins.set",
        "builtins.frozenset",
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray.scalar",
    };
    g->insert(OpaqueGlobals().begin(), OpaqueGlobals().end());
    for (DType d : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16, DType::kInt64, DType::kInt32,
                    DType::kInt16, DType::kInt8, DType::kUInt8, DType::kBool}) {
      g->insert(absl::StrCat("torch.", StorageClassName(d)));
    }
    return g;
  }();
  return *s;
}

// IEEE half -> float, for numpy float16 scalars.
double HalfToDouble(uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1;
  const int exp = (h >> 10) & 0x1F;
  const int mant = h & 0x3FF;
  if (exp == 0) return sign * std::ldexp(mant, -24);
  if (exp == 31) return mant ? NAN : sign * INFINITY;
  return sign * std::ldexp(mant + 1024, exp - 25);
}

// Latin-1 code points to bytes: protocol 2 pickles Python `bytes` as _codecs.encode(str, 'latin1'), and the
// str arrives UTF-8 encoded.
bool Latin1ToBytes(const std::string& utf8, std::string* out) {
  out->clear();
  for (size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < utf8.size()) {
      out->push_back(static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3F)));
    } else {
      return false;
    }
  }
  return true;
}

// The children of a node: list and tuple items, dict keys and values, BUILD state.
template <typename Fn>
void ForEachChild(const Value& v, Fn fn) {
  for (const ValuePtr& item : v.items) fn(item);
  for (const auto& [key, value] : v.entries) {
    fn(key);
    fn(value);
  }
  if (v.state) fn(v.state);
}

// Every node reachable from `roots`, each once (iteratively: a nest may be deep).
std::vector<ValuePtr> Reachable(const std::vector<ValuePtr>& roots) {
  std::vector<ValuePtr> out, todo = roots;
  std::unordered_set<const Value*> seen;
  while (!todo.empty()) {
    ValuePtr v = std::move(todo.back());
    todo.pop_back();
    if (v == nullptr || !seen.insert(v.get()).second) continue;
    ForEachChild(*v, [&](const ValuePtr& child) { todo.push_back(child); });
    out.push_back(std::move(v));
  }
  return out;
}

// Torch state dicts are trees a few levels deep; a pickle that is not (a container inside itself, made through
// the memo, which would also never be freed; or a nest deeper than kMaxDepth, which would unwind recursively when
// freed) is refused. "" when the shape is fine.
constexpr size_t kMaxDepth = 1000;
std::string CheckShape(const ValuePtr& root) {
  // Iterative depth-first search: grey nodes are on the current path; reaching one again is a cycle.
  enum Color : char { kGrey, kBlack };
  std::unordered_map<const Value*, Color> color;
  struct Frame {
    const Value* node;
    std::vector<const Value*> children;
    size_t next = 0;
  };
  std::vector<Frame> path;
  auto enter = [&](const Value* v) {
    color[v] = kGrey;
    Frame f{v, {}, 0};
    ForEachChild(*v, [&](const ValuePtr& c) {
      if (c) f.children.push_back(c.get());
    });
    path.push_back(std::move(f));
  };
  if (root == nullptr) return "";
  enter(root.get());
  while (!path.empty()) {
    if (path.size() > kMaxDepth) return absl::StrCat("containers nested deeper than ", kMaxDepth, " levels");
    Frame& top = path.back();
    if (top.next == top.children.size()) {
      color[top.node] = kBlack;
      path.pop_back();
      continue;
    }
    const Value* child = top.children[top.next++];
    auto it = color.find(child);
    if (it == color.end()) {
      enter(child);
    } else if (it->second == kGrey) {
      return "a container holds itself (a reference cycle through the pickle's memo); torch.save writes none";
    }
  }
  return "";
}

class Unpickler {
 public:
  Unpickler(absl::string_view data, const UnpickleOptions& options) : data_(data), opt_(options) {}

  absl::StatusOr<ValuePtr> Run() {
    while (true) {
      if (pos_ >= data_.size()) return Error("ran out of data before STOP (truncated pickle)");
      op_pos_ = pos_;
      const auto op = static_cast<unsigned char>(data_[pos_++]);
      if (op == '.') {
        if (stack_.size() != 1 || !marks_.empty()) {
          return Error(absl::StrCat("STOP with ", stack_.size(), " values on the stack, expected 1"));
        }
        if (opt_.consumed != nullptr) *opt_.consumed = pos_;
        return stack_.back();
      }
      AVSL_RETURN_IF_ERROR(Step(op));
    }
  }

 private:
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrCat(opt_.source, ": pickle offset ", op_pos_, ": ", what));
  }

  absl::Status Need(size_t n) {
    if (data_.size() - pos_ < n) return Error("truncated pickle (an opcode's argument runs past the end)");
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> ReadUInt(int n) {
    AVSL_RETURN_IF_ERROR(Need(n));
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
    pos_ += n;
    return v;
  }
  absl::StatusOr<std::string> ReadBytes(uint64_t n) {
    AVSL_RETURN_IF_ERROR(Need(n));
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  absl::StatusOr<std::string> ReadLine() {
    const size_t nl = data_.find('\n', pos_);
    if (nl == absl::string_view::npos) return Error("truncated pickle (unterminated text argument)");
    std::string s(data_.substr(pos_, nl - pos_));
    pos_ = nl + 1;
    return s;
  }
  // Little-endian two's complement of any length, as LONG1/LONG4 store it.
  absl::StatusOr<ValuePtr> ReadLong(uint64_t n) {
    AVSL_ASSIGN_OR_RETURN(std::string b, ReadBytes(n));
    if (n == 0) return Value::Int(0);
    const bool negative = static_cast<unsigned char>(b.back()) & 0x80;
    // Drop redundant sign bytes, then the value must fit in 8 bytes.
    while (b.size() > 8 && static_cast<unsigned char>(b.back()) == (negative ? 0xFF : 0x00)) b.pop_back();
    if (b.size() > 8 || (b.size() == 8 && negative != bool(static_cast<unsigned char>(b.back()) & 0x80))) {
      return Error(absl::StrCat("integer of ", n, " bytes does not fit in 64 bits"));
    }
    uint64_t v = negative ? ~uint64_t{0} : 0;
    for (size_t i = 0; i < b.size(); ++i) {
      v &= ~(uint64_t{0xFF} << (8 * i));
      v |= static_cast<uint64_t>(static_cast<unsigned char>(b[i])) << (8 * i);
    }
    return Value::Int(static_cast<int64_t>(v));
  }

  absl::StatusOr<ValuePtr> Pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) {
      return Error("stack underflow (malformed pickle)");
    }
    ValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  absl::StatusOr<ValuePtr> Top() {
    if (stack_.empty()) return Error("stack underflow (malformed pickle)");
    return stack_.back();
  }
  absl::StatusOr<std::vector<ValuePtr>> PopMark() {
    if (marks_.empty()) return Error("no MARK on the stack (malformed pickle)");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(std::make_move_iterator(stack_.begin() + m), std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return items;
  }
  absl::Status Push(ValuePtr v) {
    // Every value passes through the stack: each container is recorded once, so that a reference cycle among
    // objects the pickle later dropped (DUP or the memo alias a container into itself, then the memo slot is
    // overwritten) can still be broken (found by fuzzing: tests/fuzz/regressions/unpickle).
    if (v != nullptr &&
        (v->kind == Kind::kList || v->kind == Kind::kTuple || v->kind == Kind::kDict || v->kind == Kind::kObject) &&
        container_set_.insert(v.get()).second) {
      containers_.push_back(v);
    }
    stack_.push_back(std::move(v));
    return absl::OkStatus();
  }
  absl::Status Put(uint64_t index) {
    AVSL_ASSIGN_OR_RETURN(ValuePtr v, Top());
    memo_[index] = std::move(v);
    return absl::OkStatus();
  }
  absl::Status Get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return Error(absl::StrCat("memo key ", index, " was never stored"));
    return Push(it->second);
  }
  absl::Status PushTuple(size_t n) {
    if (stack_.size() < n || (!marks_.empty() && stack_.size() - n < marks_.back())) {
      return Error("stack underflow (malformed pickle)");
    }
    std::vector<ValuePtr> items(std::make_move_iterator(stack_.end() - n), std::make_move_iterator(stack_.end()));
    stack_.resize(stack_.size() - n);
    return Push(Value::Tuple(std::move(items)));
  }
  absl::Status SetItems(std::vector<ValuePtr> kv) {
    AVSL_ASSIGN_OR_RETURN(ValuePtr d, Top());
    if (d->kind != Kind::kDict) return Error(absl::StrCat("SETITEM(S) on a ", KindName(d->kind), ", not a dict"));
    if (kv.size() % 2 != 0) return Error("SETITEMS with an odd number of items");
    for (size_t i = 0; i < kv.size(); i += 2) d->entries.emplace_back(std::move(kv[i]), std::move(kv[i + 1]));
    return absl::OkStatus();
  }
  absl::Status Append(std::vector<ValuePtr> items) {
    AVSL_ASSIGN_OR_RETURN(ValuePtr l, Top());
    if (l->kind != Kind::kList) return Error(absl::StrCat("APPEND(S) on a ", KindName(l->kind), ", not a list"));
    for (auto& v : items) l->items.push_back(std::move(v));
    return absl::OkStatus();
  }

  absl::Status PushGlobal(std::string module, const std::string& name) {
    if (module == "__builtin__") module = "builtins";
    std::string full = absl::StrCat(module, ".", name);
    if (AllowedGlobals().count(full) == 0 && !opt_.allow_unknown_globals) {
      return Error(absl::StrCat("global '", full,
                                "' is not supported: avsl reads tensors, containers, numbers, strings, numpy "
                                "scalars and argparse.Namespace (set allow_unknown_globals to read other "
                                "objects as opaque values)"));
    }
    return Push(Value::Global(std::move(full)));
  }

  absl::Status PersistentLoad(const ValuePtr& pid) {
    const auto& t = pid->items;
    // The legacy format appends view metadata, None for every storage torch >= 0.4 writes.
    const bool legacy = t.size() == 6 && pid->kind == Kind::kTuple;
    if (legacy && t[5]->kind != Kind::kNone) {
      return Error(absl::StrCat("storage persistent id with view metadata ", t[5]->Describe(),
                                " (storage views of PyTorch < 0.4) is not supported"));
    }
    if (pid->kind != Kind::kTuple || (t.size() != 5 && !legacy) ||
        (t[0]->kind != Kind::kString && t[0]->kind != Kind::kBytes) || t[0]->str != "storage") {
      return Error(
          absl::StrCat("persistent id is a ", pid->Describe(), ", expected ('storage', class, key, location, numel)"));
    }
    if (t[1]->kind != Kind::kGlobal || t[2]->kind != Kind::kString || t[3]->kind != Kind::kString ||
        t[4]->kind != Kind::kInt) {
      return Error("malformed storage persistent id");
    }
    const std::string& cls = t[1]->str;
    const size_t dot = cls.rfind('.');
    std::optional<DType> dtype = DTypeFromStorageClass(absl::string_view(cls).substr(dot + 1));
    if (!dtype) return Error(absl::StrCat("storage class '", cls, "' is not supported"));
    auto ref = std::make_shared<StorageRef>();
    ref->dtype = *dtype;
    ref->key = t[2]->str;
    ref->location = t[3]->str;
    ref->numel = t[4]->int_value;
    if (ref->numel < 0) return Error(absl::StrCat("storage data/", ref->key, " has negative size"));
    // Untyped storages count bytes, which is what a uint8 storage is.
    return Push(Value::Storage(std::move(ref)));
  }

  static bool IsIntTuple(const ValuePtr& v) {
    if (v->kind != Kind::kTuple) return false;
    for (const auto& x : v->items)
      if (x->kind != Kind::kInt) return false;
    return true;
  }

  absl::StatusOr<ValuePtr> RebuildTensor(const std::vector<ValuePtr>& a, bool v2) {
    if (a.size() < (v2 ? 5u : 4u) || a[0]->kind != Kind::kStorage || a[1]->kind != Kind::kInt || !IsIntTuple(a[2]) ||
        !IsIntTuple(a[3]) || (v2 && a[4]->kind != Kind::kBool)) {
      return Error("_rebuild_tensor arguments are not (storage, offset, size, stride, requires_grad, ...)");
    }
    auto t = std::make_shared<TensorRef>();
    t->storage = a[0]->storage;
    t->offset = a[1]->int_value;
    for (const auto& x : a[2]->items) t->sizes.push_back(x->int_value);
    for (const auto& x : a[3]->items) t->strides.push_back(x->int_value);
    t->requires_grad = v2 && a[4]->bool_value;
    std::string bad = t->CheckBounds();
    if (!bad.empty()) return Error(absl::StrCat("tensor on storage data/", t->storage->key, ": ", bad));
    return Value::Tensor(std::move(t));
  }

  absl::StatusOr<ValuePtr> AsParameter(const ValuePtr& data, const ValuePtr& requires_grad) {
    if (data->kind != Kind::kTensor) return Error("_rebuild_parameter of a non-tensor");
    auto t = std::make_shared<TensorRef>(*data->tensor);
    t->is_parameter = true;
    t->requires_grad = requires_grad->kind == Kind::kBool && requires_grad->bool_value;
    return Value::Tensor(std::move(t));
  }

  absl::StatusOr<ValuePtr> NumpyScalar(const std::vector<ValuePtr>& a) {
    if (a.size() != 2 || a[0]->kind != Kind::kObject || a[0]->str != "numpy.dtype" || a[0]->items.empty() ||
        a[0]->items[0]->kind != Kind::kString || a[1]->kind != Kind::kBytes) {
      return Error("numpy scalar arguments are not (dtype, bytes)");
    }
    const std::string& code = a[0]->items[0]->str;
    std::string bytes = a[1]->str;
    const ValuePtr& st = a[0]->state;
    if (st && st->kind == Kind::kTuple && st->items.size() > 1 && st->items[1]->kind == Kind::kString &&
        st->items[1]->str == ">") {
      std::reverse(bytes.begin(), bytes.end());
    }
    const size_t width = code.size() == 2 ? static_cast<size_t>(code[1] - '0') : 0;
    if (width == 0 || width > 8 || bytes.size() != width) {
      return Error(absl::StrCat("numpy scalar of dtype '", code, "' with ", bytes.size(), " bytes is not supported"));
    }
    uint64_t raw = 0;
    std::memcpy(&raw, bytes.data(), width);  // little-endian host (checked by the archive reader)
    switch (code[0]) {
      case 'f':
        if (width == 8) {
          double d;
          std::memcpy(&d, &raw, 8);
          return Value::Float(d);
        }
        if (width == 4) {
          float f;
          std::memcpy(&f, &raw, 4);
          return Value::Float(f);
        }
        if (width == 2) return Value::Float(HalfToDouble(static_cast<uint16_t>(raw)));
        break;
      case 'i': {
        const int shift = 64 - 8 * static_cast<int>(width);
        return Value::Int(static_cast<int64_t>(raw << shift) >> shift);
      }
      case 'u':
        if (raw > static_cast<uint64_t>(INT64_MAX)) return Error("numpy uint64 scalar exceeds int64");
        return Value::Int(static_cast<int64_t>(raw));
      case 'b':
        if (width == 1) return Value::Bool(raw != 0);
        break;
    }
    return Error(absl::StrCat("numpy scalar of dtype '", code, "' is not supported"));
  }

  // REDUCE and NEWOBJ: `callable(*args)` for the allow-listed globals.
  absl::StatusOr<ValuePtr> Call(const ValuePtr& fn, const ValuePtr& args_v) {
    if (fn->kind != Kind::kGlobal) return Error(absl::StrCat("call of a ", fn->Describe(), ", not a global"));
    if (args_v->kind != Kind::kTuple) return Error(absl::StrCat("call of ", fn->str, " with non-tuple arguments"));
    const std::string& f = fn->str;
    const std::vector<ValuePtr>& a = args_v->items;
    if (f == "collections.OrderedDict") {
      ValuePtr d = Value::Dict(/*ordered=*/true);
      if (!a.empty() && a[0]->kind == Kind::kList) {  // OrderedDict([(k, v), ...])
        for (const auto& kv : a[0]->items) {
          if (kv->kind != Kind::kTuple && kv->kind != Kind::kList) return Error("OrderedDict item is not a pair");
          if (kv->items.size() != 2) return Error("OrderedDict item is not a pair");
          d->entries.emplace_back(kv->items[0], kv->items[1]);
        }
      }
      return d;
    }
    if (f == "torch._utils._rebuild_tensor_v2") return RebuildTensor(a, true);
    if (f == "torch._utils._rebuild_tensor") return RebuildTensor(a, false);
    if (f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") {
      if (a.size() < 2) return Error(absl::StrCat(f, " with ", a.size(), " arguments"));
      return AsParameter(a[0], a[1]);
    }
    if (f == "torch._tensor._rebuild_from_type_v2") {  // (func, type, args, state): tensor subclasses
      if (a.size() < 3) return Error(absl::StrCat(f, " with ", a.size(), " arguments"));
      AVSL_ASSIGN_OR_RETURN(ValuePtr t, Call(a[0], a[2]));
      if (t->kind == Kind::kTensor && a[1]->kind == Kind::kGlobal && a[1]->str == "torch.nn.parameter.Parameter") {
        return AsParameter(t, Value::Bool(t->tensor->requires_grad));
      }
      return t;
    }
    if (f == "torch.Size") {
      if (a.size() != 1 || !IsIntTuple(a[0])) return Error("torch.Size of a non-integer tuple");
      return Value::Tuple(a[0]->items);
    }
    if (f == "_codecs.encode") {
      if (a.size() != 2 || a[0]->kind != Kind::kString || a[1]->kind != Kind::kString) {
        return Error("_codecs.encode arguments are not (str, encoding)");
      }
      if (a[1]->str == "utf-8" || a[1]->str == "utf8") return Value::Bytes(a[0]->str);
      std::string bytes;
      if (a[1]->str != "latin1" || !Latin1ToBytes(a[0]->str, &bytes)) {
        return Error(absl::StrCat("_codecs.encode with encoding '", a[1]->str, "' is not supported"));
      }
      return Value::Bytes(std::move(bytes));
    }
    if (f == "builtins.set" || f == "builtins.frozenset") {
      if (a.empty()) return Value::List();
      if (a[0]->kind != Kind::kList && a[0]->kind != Kind::kTuple) return Error(absl::StrCat(f, " of a non-list"));
      return Value::List(a[0]->items);
    }
    if (f == "numpy.core.multiarray.scalar" || f == "numpy._core.multiarray.scalar") return NumpyScalar(a);
    if (OpaqueGlobals().count(f) || opt_.allow_unknown_globals) return Value::Object(f, a);
    return Error(absl::StrCat("cannot call global '", f, "'"));
  }

  absl::Status Build() {
    AVSL_ASSIGN_OR_RETURN(ValuePtr state, Pop());
    AVSL_ASSIGN_OR_RETURN(ValuePtr obj, Top());
    switch (obj->kind) {
      case Kind::kObject:
      case Kind::kDict:  // OrderedDict._metadata from Module.state_dict(): kept, not interpreted
        obj->state = std::move(state);
        return absl::OkStatus();
      case Kind::kTensor:  // tensor attributes (a parameter's __dict__); irrelevant to the data
        return absl::OkStatus();
      default: return Error(absl::StrCat("BUILD on a ", obj->Describe()));
    }
  }

  absl::Status Step(unsigned char op) {
    switch (op) {
      case 0x80: {  // PROTO
        AVSL_ASSIGN_OR_RETURN(uint64_t proto, ReadUInt(1));
        if (proto > 5) return Error(absl::StrCat("unsupported pickle protocol ", proto));
        return absl::OkStatus();
      }
      case 0x95: return ReadUInt(8).status();  // FRAME: framing is irrelevant when all data is in memory
      case 'N': return Push(Value::None());
      case 0x88: return Push(Value::Bool(true));
      case 0x89: return Push(Value::Bool(false));
      case 'J': {
        AVSL_ASSIGN_OR_RETURN(uint64_t v, ReadUInt(4));
        return Push(Value::Int(static_cast<int32_t>(static_cast<uint32_t>(v))));
      }
      case 'K': {
        AVSL_ASSIGN_OR_RETURN(uint64_t v, ReadUInt(1));
        return Push(Value::Int(static_cast<int64_t>(v)));
      }
      case 'M': {
        AVSL_ASSIGN_OR_RETURN(uint64_t v, ReadUInt(2));
        return Push(Value::Int(static_cast<int64_t>(v)));
      }
      case 0x8a: {
        AVSL_ASSIGN_OR_RETURN(uint64_t n, ReadUInt(1));
        AVSL_ASSIGN_OR_RETURN(ValuePtr v, ReadLong(n));
        return Push(std::move(v));
      }
      case 0x8b: {
        AVSL_ASSIGN_OR_RETURN(uint64_t n, ReadUInt(4));
        if (static_cast<int32_t>(n) < 0) return Error("LONG4 with negative length");
        AVSL_ASSIGN_OR_RETURN(ValuePtr v, ReadLong(n));
        return Push(std::move(v));
      }
      case 'I':
      case 'L': {  // protocol 0 text integers; "I01"/"I00" are True/False
        AVSL_ASSIGN_OR_RETURN(std::string s, ReadLine());
        if (op == 'I' && s == "01") return Push(Value::Bool(true));
        if (op == 'I' && s == "00") return Push(Value::Bool(false));
        if (!s.empty() && s.back() == 'L') s.pop_back();
        int64_t v;
        if (!absl::SimpleAtoi(s, &v)) return Error(absl::StrCat("bad text integer '", s, "'"));
        return Push(Value::Int(v));
      }
      case 'G': {
        AVSL_ASSIGN_OR_RETURN(std::string b, ReadBytes(8));
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = bits << 8 | static_cast<unsigned char>(b[i]);  // big-endian
        double d;
        std::memcpy(&d, &bits, 8);
        return Push(Value::Float(d));
      }
      case 'F': {
        AVSL_ASSIGN_OR_RETURN(std::string s, ReadLine());
        double d;
        if (!absl::SimpleAtod(s, &d)) return Error(absl::StrCat("bad text float '", s, "'"));
        return Push(Value::Float(d));
      }
      case 'X':
      case 0x8c:
      case 0x8d:
      case 'T':
      case 'U': {  // str (BINSTRING/SHORT_BINSTRING are Python 2 str, read as text like torch.load does)
        const int width = op == 0x8c || op == 'U' ? 1 : op == 0x8d ? 8 : 4;
        AVSL_ASSIGN_OR_RETURN(uint64_t n, ReadUInt(width));
        AVSL_ASSIGN_OR_RETURN(std::string s, ReadBytes(n));
        return Push(Value::String(std::move(s)));
      }
      case 'B':
      case 'C':
      case 0x8e: {
        const int width = op == 'C' ? 1 : op == 0x8e ? 8 : 4;
        AVSL_ASSIGN_OR_RETURN(uint64_t n, ReadUInt(width));
        AVSL_ASSIGN_OR_RETURN(std::string s, ReadBytes(n));
        return Push(Value::Bytes(std::move(s)));
      }
      case ']': return Push(Value::List());
      case 'l': {
        AVSL_ASSIGN_OR_RETURN(auto items, PopMark());
        return Push(Value::List(std::move(items)));
      }
      case 'a': {
        AVSL_ASSIGN_OR_RETURN(ValuePtr v, Pop());
        return Append({std::move(v)});
      }
      case 'e': {
        AVSL_ASSIGN_OR_RETURN(auto items, PopMark());
        return Append(std::move(items));
      }
      case ')': return Push(Value::Tuple());
      case 't': {
        AVSL_ASSIGN_OR_RETURN(auto items, PopMark());
        return Push(Value::Tuple(std::move(items)));
      }
      case 0x85: return PushTuple(1);
      case 0x86: return PushTuple(2);
      case 0x87: return PushTuple(3);
      case '}': return Push(Value::Dict());
      case 'd': {
        AVSL_ASSIGN_OR_RETURN(auto items, PopMark());
        AVSL_RETURN_IF_ERROR(Push(Value::Dict()));
        return SetItems(std::move(items));
      }
      case 's': {
        AVSL_ASSIGN_OR_RETURN(ValuePtr v, Pop());
        AVSL_ASSIGN_OR_RETURN(ValuePtr k, Pop());
        return SetItems({std::move(k), std::move(v)});
      }
      case 'u': {
        AVSL_ASSIGN_OR_RETURN(auto items, PopMark());
        return SetItems(std::move(items));
      }
      case 0x8f: return Push(Value::List());  // EMPTY_SET
      case 0x90: {                            // ADDITEMS
        AVSL_ASSIGN_OR_RETURN(auto items, PopMark());
        return Append(std::move(items));
      }
      case 0x91: {  // FROZENSET
        AVSL_ASSIGN_OR_RETURN(auto items, PopMark());
        return Push(Value::List(std::move(items)));
      }
      case '(': marks_.push_back(stack_.size()); return absl::OkStatus();
      case '0':  // POP; like Python, a MARK on top is popped instead
        if (!marks_.empty() && marks_.back() == stack_.size()) {
          marks_.pop_back();
          return absl::OkStatus();
        }
        return Pop().status();
      case '1': return PopMark().status();
      case '2': {
        AVSL_ASSIGN_OR_RETURN(ValuePtr v, Top());
        return Push(std::move(v));
      }
      case 'c': {
        AVSL_ASSIGN_OR_RETURN(std::string module, ReadLine());
        AVSL_ASSIGN_OR_RETURN(std::string name, ReadLine());
        return PushGlobal(std::move(module), name);
      }
      case 0x93: {  // STACK_GLOBAL
        AVSL_ASSIGN_OR_RETURN(ValuePtr name, Pop());
        AVSL_ASSIGN_OR_RETURN(ValuePtr module, Pop());
        if (name->kind != Kind::kString || module->kind != Kind::kString) return Error("STACK_GLOBAL of non-strings");
        return PushGlobal(module->str, name->str);
      }
      case 'R':
      case 0x81: {  // REDUCE, NEWOBJ
        AVSL_ASSIGN_OR_RETURN(ValuePtr args, Pop());
        AVSL_ASSIGN_OR_RETURN(ValuePtr fn, Pop());
        AVSL_ASSIGN_OR_RETURN(ValuePtr v, Call(fn, args));
        return Push(std::move(v));
      }
      case 0x92: {  // NEWOBJ_EX: keyword arguments are not used by anything avsl interprets
        AVSL_RETURN_IF_ERROR(Pop().status());
        AVSL_ASSIGN_OR_RETURN(ValuePtr args, Pop());
        AVSL_ASSIGN_OR_RETURN(ValuePtr fn, Pop());
        AVSL_ASSIGN_OR_RETURN(ValuePtr v, Call(fn, args));
        return Push(std::move(v));
      }
      case 'b': return Build();
      case 'q': {
        AVSL_ASSIGN_OR_RETURN(uint64_t i, ReadUInt(1));
        return Put(i);
      }
      case 'r': {
        AVSL_ASSIGN_OR_RETURN(uint64_t i, ReadUInt(4));
        return Put(i);
      }
      case 'p': {
        AVSL_ASSIGN_OR_RETURN(std::string s, ReadLine());
        uint64_t i;
        if (!absl::SimpleAtoi(s, &i)) return Error(absl::StrCat("bad PUT index '", s, "'"));
        return Put(i);
      }
      case 0x94: return Put(memo_.size());  // MEMOIZE
      case 'h': {
        AVSL_ASSIGN_OR_RETURN(uint64_t i, ReadUInt(1));
        return Get(i);
      }
      case 'j': {
        AVSL_ASSIGN_OR_RETURN(uint64_t i, ReadUInt(4));
        return Get(i);
      }
      case 'g': {
        AVSL_ASSIGN_OR_RETURN(std::string s, ReadLine());
        uint64_t i;
        if (!absl::SimpleAtoi(s, &i)) return Error(absl::StrCat("bad GET index '", s, "'"));
        return Get(i);
      }
      case 'Q': {
        AVSL_ASSIGN_OR_RETURN(ValuePtr pid, Pop());
        return PersistentLoad(pid);
      }
      default:
        return Error(absl::StrFormat("unsupported pickle opcode 0x%02x ('%c')", op, op >= 32 && op < 127 ? op : '?'));
    }
  }

 public:
  /// Empties every container reachable from the stack and the memo, so that nothing the refused pickle built
  /// (a reference cycle made through the memo, a deep nest) outlives the call or unwinds recursively.
  void Release() {
    for (const ValuePtr& v : containers_) Empty(*v);
    stack_.clear();
    memo_.clear();
  }
  /// After a pickle was accepted: empties the containers its result does not reach (what it dropped), which
  /// no one else holds, so a cycle among them cannot keep them alive.
  void ReleaseUnreachable(const ValuePtr& root) {
    std::unordered_set<const Value*> kept;
    for (const ValuePtr& v : Reachable({root})) kept.insert(v.get());
    for (const ValuePtr& v : containers_) {
      if (kept.count(v.get()) == 0) Empty(*v);
    }
  }

 private:
  static void Empty(Value& v) {
    v.items.clear();
    v.entries.clear();
    v.state.reset();
  }

  std::vector<ValuePtr> containers_;  ///< every list, tuple, dict and object pushed, once each
  std::unordered_set<const Value*> container_set_;
  absl::string_view data_;
  const UnpickleOptions& opt_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, ValuePtr> memo_;
};

}  // namespace

absl::StatusOr<ValuePtr> Unpickle(absl::string_view data, const UnpickleOptions& options) {
  Unpickler unpickler(data, options);
  absl::StatusOr<ValuePtr> result = unpickler.Run();
  if (result.ok()) {
    if (std::string why = CheckShape(*result); !why.empty()) {
      result = absl::InvalidArgumentError(absl::StrCat(options.source, ": ", why));
    }
  }
  if (result.ok()) {
    unpickler.ReleaseUnreachable(*result);
  } else {
    unpickler.Release();
  }
  return result;
}

const std::vector<std::string>& SupportedGlobals() {
  static const auto* v = new std::vector<std::string>(AllowedGlobals().begin(), AllowedGlobals().end());
  return *v;
}

}  // namespace avsl::checkpoint
