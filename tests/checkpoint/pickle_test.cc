#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "avsl/checkpoint/pickle_value.h"
#include "avsl/checkpoint/pickler.h"
#include "avsl/checkpoint/unpickler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace avsl::checkpoint {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using Kind = Value::Kind;

// Pickle bytes from a string literal, embedded NULs included.
#define PKL(lit) std::string(lit, sizeof(lit) - 1)

ValuePtr MustUnpickle(const std::string& data, bool allow_unknown = false) {
  UnpickleOptions o;
  o.source = "test.pkl";
  o.allow_unknown_globals = allow_unknown;
  auto v = Unpickle(data, o);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : Value::None();
}

absl::Status UnpickleError(const std::string& data) {
  UnpickleOptions o;
  o.source = "bad.pkl";
  return Unpickle(data, o).status();
}

TEST(UnpickleTest, OrderedDictWithMetadataAsTorchWritesIt) {
  // OrderedDict() via REDUCE, SETITEMS {a: 5, b: LONG1 0xff = -1}, then BUILD {'_metadata': OrderedDict()}.
  const std::string p = PKL("\x80\x02"
                            "ccollections\nOrderedDict\nq\x00)Rq\x01("
                            "X\x01\x00\x00\x00"
                            "aK\x05"
                            "X\x01\x00\x00\x00"
                            "b\x8a\x01\xff"
                            "u}X\x09\x00\x00\x00_metadatah\x00)Rsb.");
  ValuePtr v = MustUnpickle(p);
  ASSERT_EQ(v->kind, Kind::kDict);
  EXPECT_TRUE(v->ordered);
  ASSERT_EQ(v->entries.size(), 2u);
  EXPECT_EQ(v->entries[0].first->str, "a");
  EXPECT_EQ(v->Find("a")->int_value, 5);
  EXPECT_EQ(v->Find("b")->int_value, -1);
  ASSERT_NE(v->state, nullptr);
  ASSERT_NE(v->state->Find("_metadata"), nullptr);
  EXPECT_TRUE(v->state->Find("_metadata")->ordered);
}

TEST(UnpickleTest, NumbersAndContainers) {
  // [BININT -5, BININT2 0x1234 = 4660, LONG1 2^40, BINFLOAT 0.1 (big-endian), None, True, (1, 2, 3)]
  const std::string p = PKL("\x80\x02]q\x00("
                            "J\xfb\xff\xff\xff"
                            "M\x34\x12"
                            "\x8a\x06\x00\x00\x00\x00\x00\x01"
                            "G\x3f\xb9\x99\x99\x99\x99\x99\x9a"
                            "N\x88"
                            "K\x01K\x02K\x03\x87"
                            "e.");
  ValuePtr v = MustUnpickle(p);
  ASSERT_EQ(v->kind, Kind::kList);
  ASSERT_EQ(v->items.size(), 7u);
  EXPECT_EQ(v->items[0]->int_value, -5);
  EXPECT_EQ(v->items[1]->int_value, 4660);
  EXPECT_EQ(v->items[2]->int_value, int64_t{1} << 40);
  EXPECT_EQ(v->items[3]->float_value, 0.1);
  EXPECT_EQ(v->items[4]->kind, Kind::kNone);
  EXPECT_TRUE(v->items[5]->bool_value);
  ASSERT_EQ(v->items[6]->kind, Kind::kTuple);
  EXPECT_EQ(v->items[6]->items[2]->int_value, 3);
}

TEST(UnpickleTest, TensorFromPersistentStorageId) {
  // _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', 6), 1, (2, 2), (1, 2), False, OrderedDict())
  const std::string p = PKL("\x80\x02"
                            "ctorch._utils\n_rebuild_tensor_v2\n"
                            "((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00"
                            "0X\x03\x00\x00\x00"
                            "cpuK\x06tQ"
                            "K\x01K\x02K\x02\x86K\x01K\x02\x86\x89"
                            "ccollections\nOrderedDict\n)RtR.");
  ValuePtr v = MustUnpickle(p);
  ASSERT_EQ(v->kind, Kind::kTensor) << v->Describe();
  const TensorRef& t = *v->tensor;
  EXPECT_EQ(t.storage->dtype, DType::kFloat32);
  EXPECT_EQ(t.storage->key, "0");
  EXPECT_EQ(t.storage->numel, 6);
  EXPECT_EQ(t.offset, 1);
  EXPECT_EQ(t.sizes, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(t.strides, (std::vector<int64_t>{1, 2}));
  // Furthest element: 1 + (2-1)*1 + (2-1)*2 = 4 < 6.
  EXPECT_EQ(t.CheckBounds(), "");
  EXPECT_EQ(v->Describe(), "tensor float32 [2, 2]");
}

TEST(UnpickleTest, OutOfBoundsViewIsAnError) {
  // Same as above but offset 3: the view reaches element 3 + 1 + 2 = 6 of a 6-element storage.
  const std::string p = PKL("\x80\x02"
                            "ctorch._utils\n_rebuild_tensor_v2\n"
                            "((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00"
                            "0X\x03\x00\x00\x00"
                            "cpuK\x06tQ"
                            "K\x03K\x02K\x02\x86K\x01K\x02\x86\x89"
                            "ccollections\nOrderedDict\n)RtR.");
  auto s = UnpickleError(p);
  EXPECT_THAT(s.message(), HasSubstr("bad.pkl"));
  EXPECT_THAT(s.message(), HasSubstr("reaches element 6 of a storage of 6"));
}

TEST(UnpickleTest, UnknownGlobalIsNamed) {
  const std::string p = PKL("\x80\x02"
                            "cfractions\nFraction\nK\x01K\x03\x86R.");
  auto s = UnpickleError(p);
  EXPECT_THAT(s.message(), HasSubstr("bad.pkl"));
  EXPECT_THAT(s.message(), HasSubstr("global 'fractions.Fraction' is not supported"));
  // Allowed: an opaque object that keeps the class name and arguments.
  ValuePtr v = MustUnpickle(p, /*allow_unknown=*/true);
  ASSERT_EQ(v->kind, Kind::kObject);
  EXPECT_EQ(v->str, "fractions.Fraction");
  ASSERT_EQ(v->items.size(), 2u);
  EXPECT_EQ(v->items[1]->int_value, 3);
}

TEST(UnpickleTest, MalformedInputs) {
  EXPECT_THAT(UnpickleError(PKL("\x80\x02K\x01")).message(), HasSubstr("before STOP"));
  EXPECT_THAT(UnpickleError(PKL("\x80\x02h\x07.")).message(), HasSubstr("memo key 7"));
  EXPECT_THAT(UnpickleError(PKL("\x80\x02X\xff\x00\x00\x00"
                                "ab."))
                  .message(),
              HasSubstr("truncated"));
  EXPECT_THAT(UnpickleError(PKL("\x80\x02"
                                "i."))
                  .message(),
              HasSubstr("unsupported pickle opcode 0x69"));
  // LONG1 of 9 bytes = 2^64: does not fit.
  EXPECT_THAT(UnpickleError(PKL("\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01.")).message(),
              HasSubstr("does not fit in 64 bits"));
  EXPECT_THAT(UnpickleError(PKL("\x80\x02K\x01K\x02.")).message(), HasSubstr("2 values on the stack"));
  EXPECT_THAT(UnpickleError(PKL("\x80\x02"
                                "e."))
                  .message(),
              HasSubstr("no MARK"));
}

TEST(UnpickleTest, CyclesAndDeepNestsAreRefused) {
  // Found by fuzzing (tests/fuzz/regressions/unpickle): a list appended into itself through the memo was returned (and
  // never freed); a deep nest would be freed recursively. EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP:
  EXPECT_THAT(UnpickleError(PKL("\x80\x02]q\x00h\x00"
                                "a."))
                  .message(),
              AllOf(HasSubstr("bad.pkl"), HasSubstr("a container holds itself")));
  // 1002 nested lists: 1002 EMPTY_LISTs, then 1001 APPENDs.
  EXPECT_THAT(UnpickleError("\x80\x02" + std::string(1002, ']') + std::string(1001, 'a') + ".").message(),
              HasSubstr("nested deeper than 1000 levels"));
  // 1000 levels are fine.
  MustUnpickle("\x80\x02" + std::string(1000, ']') + std::string(999, 'a') + ".");
}

// A tree with every kind the pickler writes, including integer encodings at their size boundaries.
ValuePtr SampleTree(bool with_tensors) {
  ValuePtr root = Value::Dict(/*ordered=*/true);
  auto add = [&](const std::string& k, ValuePtr v) { root->entries.emplace_back(Value::String(k), std::move(v)); };
  std::vector<ValuePtr> ints;
  for (int64_t i :
       {int64_t{0}, int64_t{255}, int64_t{256}, int64_t{65535}, int64_t{65536}, int64_t{-1}, int64_t{INT32_MIN},
        int64_t{INT32_MAX} + 1, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    ints.push_back(Value::Int(i));
  }
  add("ints", Value::List(ints));
  add("float", Value::Float(-2.75));
  add("str", Value::String("h\xc3\xa9llo"));  // "héllo"
  add("bytes", Value::Bytes(std::string("\x00\xff\x80z", 4)));
  add("t0", Value::Tuple());
  add("t1", Value::Tuple({Value::None()}));
  add("t3", Value::Tuple({Value::Bool(true), Value::Bool(false), Value::Int(7)}));
  add("t4", Value::Tuple({Value::Int(1), Value::Int(2), Value::Int(3), Value::Int(4)}));
  ValuePtr inner = Value::Dict();
  inner->entries.emplace_back(Value::Int(1), Value::String("int key"));
  add("inner", inner);
  if (with_tensors) {
    auto s = std::make_shared<StorageRef>();
    s->dtype = DType::kFloat16;
    s->key = "3";
    s->location = "cpu";
    s->numel = 8;
    auto t = std::make_shared<TensorRef>();
    t->storage = s;
    t->offset = 2;
    t->sizes = {3};
    t->strides = {2};
    add("tensor", Value::Tensor(t));
    auto p = std::make_shared<TensorRef>(*t);
    p->is_parameter = true;
    p->requires_grad = true;
    add("param", Value::Tensor(p));
  }
  return root;
}

TEST(PicklerTest, RoundTrip) {
  ValuePtr tree = SampleTree(/*with_tensors=*/true);
  auto bytes = Pickle(*tree);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ValuePtr back = MustUnpickle(*bytes);
  ASSERT_EQ(back->kind, Kind::kDict);
  EXPECT_TRUE(back->ordered);
  ASSERT_EQ(back->entries.size(), tree->entries.size());
  for (size_t i = 0; i < tree->entries.size(); ++i) {
    EXPECT_EQ(back->entries[i].first->str, tree->entries[i].first->str);
    EXPECT_EQ(back->entries[i].second->Describe(), tree->entries[i].second->Describe()) << i;
  }
  const Value* ints = back->Find("ints");
  for (size_t i = 0; i < ints->items.size(); ++i) {
    EXPECT_EQ(ints->items[i]->int_value, tree->Find("ints")->items[i]->int_value) << i;
  }
  EXPECT_EQ(back->Find("bytes")->str, std::string("\x00\xff\x80z", 4));
  EXPECT_EQ(back->Find("inner")->entries[0].first->int_value, 1);
  const TensorRef& t = *back->Find("tensor")->tensor;
  EXPECT_EQ(t.storage->dtype, DType::kFloat16);
  EXPECT_EQ(t.offset, 2);
  EXPECT_EQ(t.strides, std::vector<int64_t>{2});
  EXPECT_FALSE(t.is_parameter);
  EXPECT_TRUE(back->Find("param")->tensor->is_parameter);
  EXPECT_TRUE(back->Find("param")->tensor->requires_grad);
}

// Python's own pickle reads what avsl writes, and avsl reads what Python writes (protocols 2 and 4).
TEST(PicklerTest, InteroperatesWithPythonPickle) {
  const std::string dir = testing::MakeTempDir();
  auto bytes = Pickle(*SampleTree(/*with_tensors=*/false));
  ASSERT_TRUE(bytes.ok());
  testing::WriteFile(dir + "/ours.pkl", *bytes);
  const std::string script = R"(
import collections, pickle, sys
d = sys.argv[1]
ours = pickle.load(open(d + '/ours.pkl', 'rb'))
print(type(ours).__name__, repr(list(ours.items())))
obj = {'ints': [0, 255, 256, 65535, 65536, -1, -2**31, 2**31, -2**63, 2**63 - 1], 'float': -2.75,
       'str': 'h\u00e9llo', 'bytes': b'\x00\xff\x80z', 't0': (), 't1': (None,), 't3': (True, False, 7),
       't4': (1, 2, 3, 4), 'inner': {1: 'int key'}, 'set': {9}}
for proto in (2, 4):
    open('%s/py%d.pkl' % (d, proto), 'wb').write(pickle.dumps(collections.OrderedDict(obj), protocol=proto))
)";
  std::string out;
  const int rc = testing::RunPythonScript(dir, "interop.py", script, dir, &out);
  if (rc != 0 && out.find("No such file") != std::string::npos) GTEST_SKIP() << "no /usr/bin/python3: " << out;
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out,
            "OrderedDict [('ints', [0, 255, 256, 65535, 65536, -1, -2147483648, 2147483648, -9223372036854775808, "
            "9223372036854775807]), ('float', -2.75), ('str', 'héllo'), ('bytes', b'\\x00\\xff\\x80z'), ('t0', ()), "
            "('t1', (None,)), ('t3', (True, False, 7)), ('t4', (1, 2, 3, 4)), ('inner', {1: 'int key'})]\n");
  for (int proto : {2, 4}) {
    SCOPED_TRACE(proto);
    ValuePtr v = MustUnpickle(testing::ReadFile(dir + "/py" + std::to_string(proto) + ".pkl"));
    ASSERT_EQ(v->kind, Kind::kDict);
    EXPECT_TRUE(v->ordered);
    EXPECT_EQ(v->Find("ints")->items[8]->int_value, std::numeric_limits<int64_t>::min());
    EXPECT_EQ(v->Find("ints")->items[7]->int_value, int64_t{1} << 31);
    EXPECT_EQ(v->Find("float")->float_value, -2.75);
    EXPECT_EQ(v->Find("str")->str, "h\xc3\xa9llo");
    EXPECT_EQ(v->Find("bytes")->str, std::string("\x00\xff\x80z", 4));
    EXPECT_EQ(v->Find("t4")->items.size(), 4u);
    EXPECT_EQ(v->Find("inner")->entries[0].second->str, "int key");
    ASSERT_EQ(v->Find("set")->kind, Kind::kList);  // sets read as lists
    EXPECT_EQ(v->Find("set")->items[0]->int_value, 9);
  }
}

}  // namespace
}  // namespace avsl::checkpoint
