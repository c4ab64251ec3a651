#include "avsl/checkpoint/pickler.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"

namespace avsl::checkpoint {
namespace {

using Kind = Value::Kind;

class Pickler {
 public:
  absl::StatusOr<std::string> Run(const Value& root) {
    out_ = "\x80\x02";
    AVSL_RETURN_IF_ERROR(Write(root));
    out_.push_back('.');
    return std::move(out_);
  }

 private:
  void Op(char op) { out_.push_back(op); }
  void Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }

  void Int(int64_t v) {
    if (v >= 0 && v < 256) {
      Op('K');
      Le(static_cast<uint64_t>(v), 1);
    } else if (v >= 0 && v < 65536) {
      Op('M');
      Le(static_cast<uint64_t>(v), 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      Op('J');
      Le(static_cast<uint32_t>(static_cast<int32_t>(v)), 4);
    } else {
      Op('\x8a');  // LONG1: 8-byte two's complement always fits
      Le(8, 1);
      Le(static_cast<uint64_t>(v), 8);
    }
  }
  void Float(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, 8);
    Op('G');
    for (int i = 7; i >= 0; --i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
  }
  void Str(const std::string& s) {
    Op('X');
    Le(s.size(), 4);
    out_ += s;
  }
  absl::Status Global(const std::string& full) {
    const size_t dot = full.rfind('.');
    if (dot == std::string::npos || dot == 0) {
      return absl::InvalidArgumentError(absl::StrCat("pickle: global '", full, "' has no module part"));
    }
    Op('c');
    out_ += full.substr(0, dot) + "\n" + full.substr(dot + 1) + "\n";
    return absl::OkStatus();
  }
  void EmptyOrderedDict() {
    Global("collections.OrderedDict").IgnoreError();
    Op(')');
    Op('R');
  }
  void Storage(const StorageRef& s) {
    Op('(');
    Str("storage");
    Global(absl::StrCat("torch.", StorageClassName(s.dtype))).IgnoreError();
    Str(s.key);
    Str(s.location.empty() ? "cpu" : s.location);
    Int(s.numel);
    Op('t');
    Op('Q');  // BINPERSID
  }
  void IntTuple(const std::vector<int64_t>& v) {
    if (v.empty()) {
      Op(')');
      return;
    }
    Op('(');
    for (int64_t x : v) Int(x);
    Op('t');
  }
  void Tensor(const TensorRef& t) {
    if (t.is_parameter) Global("torch._utils._rebuild_parameter").IgnoreError();
    Global("torch._utils._rebuild_tensor_v2").IgnoreError();
    Op('(');
    Storage(*t.storage);
    Int(t.offset);
    IntTuple(t.sizes);
    IntTuple(t.strides);
    Op(t.requires_grad ? '\x88' : '\x89');
    EmptyOrderedDict();  // backward hooks
    Op('t');
    Op('R');
    if (t.is_parameter) {
      Op(t.requires_grad ? '\x88' : '\x89');
      EmptyOrderedDict();
      Op('\x87');  // TUPLE3
      Op('R');
    }
  }

  absl::Status Items(const std::vector<ValuePtr>& items) {
    for (const auto& v : items) AVSL_RETURN_IF_ERROR(Write(*v));
    return absl::OkStatus();
  }

  absl::Status Write(const Value& v) {
    switch (v.kind) {
      case Kind::kNone: Op('N'); return absl::OkStatus();
      case Kind::kBool: Op(v.bool_value ? '\x88' : '\x89'); return absl::OkStatus();
      case Kind::kInt: Int(v.int_value); return absl::OkStatus();
      case Kind::kFloat: Float(v.float_value); return absl::OkStatus();
      case Kind::kString: Str(v.str); return absl::OkStatus();
      case Kind::kBytes: {
        // Protocol 2 has no bytes opcode for Python 3; Python itself writes _codecs.encode(latin1 str).
        std::string latin1;
        for (char c : v.str) {
          const auto u = static_cast<unsigned char>(c);
          if (u < 0x80) {
            latin1.push_back(c);
          } else {
            latin1.push_back(static_cast<char>(0xC0 | (u >> 6)));
            latin1.push_back(static_cast<char>(0x80 | (u & 0x3F)));
          }
        }
        AVSL_RETURN_IF_ERROR(Global("_codecs.encode"));
        Str(latin1);
        Str("latin1");
        Op('\x86');
        Op('R');
        return absl::OkStatus();
      }
      case Kind::kList:
        Op(']');
        if (!v.items.empty()) {
          Op('(');
          AVSL_RETURN_IF_ERROR(Items(v.items));
          Op('e');
        }
        return absl::OkStatus();
      case Kind::kTuple:
        if (v.items.empty()) {
          Op(')');
        } else if (v.items.size() <= 3) {
          AVSL_RETURN_IF_ERROR(Items(v.items));
          Op(static_cast<char>(0x84 + v.items.size()));  // TUPLE1..TUPLE3
        } else {
          Op('(');
          AVSL_RETURN_IF_ERROR(Items(v.items));
          Op('t');
        }
        return absl::OkStatus();
      case Kind::kDict:
        if (v.ordered) {
          EmptyOrderedDict();
        } else {
          Op('}');
        }
        if (!v.entries.empty()) {
          Op('(');
          for (const auto& [k, x] : v.entries) {
            AVSL_RETURN_IF_ERROR(Write(*k));
            AVSL_RETURN_IF_ERROR(Write(*x));
          }
          Op('u');
        }
        if (v.ordered && v.state) {
          AVSL_RETURN_IF_ERROR(Write(*v.state));
          Op('b');
        }
        return absl::OkStatus();
      case Kind::kGlobal: return Global(v.str);
      case Kind::kObject:
        AVSL_RETURN_IF_ERROR(Global(v.str));
        AVSL_RETURN_IF_ERROR(Write(*Value::Tuple(v.items)));
        Op('R');
        if (v.state) {
          AVSL_RETURN_IF_ERROR(Write(*v.state));
          Op('b');
        }
        return absl::OkStatus();
      case Kind::kStorage: Storage(*v.storage); return absl::OkStatus();
      case Kind::kTensor: Tensor(*v.tensor); return absl::OkStatus();
    }
    return absl::InternalError("pickle: unknown value kind");
  }

  std::string out_;
};

}  // namespace

absl::StatusOr<std::string> Pickle(const Value& root) { return Pickler().Run(root); }

}  // namespace avsl::checkpoint
