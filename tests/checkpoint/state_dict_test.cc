#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "avsl/checkpoint/checkpoint_archive.h"
#include "avsl/checkpoint/load_into_module.h"
#include "avsl/checkpoint/state_dict.h"
#include "avsl/checkpoint/zip_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_util.h"

namespace avsl::checkpoint {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Keys(const StateDict& sd) {
  std::vector<std::string> k;
  for (const auto& e : sd) k.push_back(e.first);
  return k;
}

const torch::Tensor& Get(const StateDict& sd, const std::string& name) {
  const torch::Tensor* t = FindTensor(sd, name);
  EXPECT_NE(t, nullptr) << name;
  static const torch::Tensor kEmpty;
  return t != nullptr ? *t : kEmpty;
}

void ExpectTensor(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  EXPECT_EQ(got.scalar_type(), want.scalar_type()) << what;
  EXPECT_EQ(got.sizes(), want.sizes()) << what;
  EXPECT_TRUE(torch::equal(got, want)) << what << "\ngot " << got << "\nwant " << want;
}

// ---------------------------------------------------------------------------------------------------------
// The C++-generated fixture: avsl's writer read back by avsl's reader (no Python involved).

StateDict SampleStateDict() {
  StateDict sd;
  // a[i][j] = i*3 + j - 2.5 (float32)
  sd.emplace_back("a", torch::arange(6, torch::kFloat).view({2, 3}) - 2.5);
  sd.emplace_back("b", torch::tensor({int64_t{1} << 40, int64_t{-3}}, torch::kLong));
  sd.emplace_back("c", torch::tensor({true, false, true}, torch::kBool));
  sd.emplace_back("d", torch::tensor({0.5, -1.25, 65504.0}, torch::kHalf));  // exact in half
  sd.emplace_back("e", torch::tensor({1.0, -2.0, 0.5}, torch::kBFloat16));   // exact in bfloat16
  sd.emplace_back("s", torch::tensor(0.1, torch::kDouble));                  // 0-dim
  // A transposed (non-contiguous) input: nc[j][i] = a[i][j].
  sd.emplace_back("nc", (torch::arange(6, torch::kFloat).view({2, 3}) - 2.5).t());
  sd.emplace_back("empty", torch::zeros({0, 3}));
  sd.emplace_back("i8", torch::tensor({-128, 127}, torch::kChar));
  sd.emplace_back("u8", torch::tensor({0, 255}, torch::kByte));
  sd.emplace_back("i16", torch::tensor({300}, torch::kShort));
  sd.emplace_back("i32", torch::tensor({-7}, torch::kInt));
  return sd;
}

TEST(StateDictTest, OwnExportReadsBack) {
  const std::string dir = testing::MakeTempDir();
  const std::string path = dir + "/own.pt";
  const StateDict sd = SampleStateDict();
  ASSERT_TRUE(SaveStateDictForPython(path, sd).ok());
  StateDictInfo info;
  auto back = LoadStateDict(path, {}, &info);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Keys(*back), Keys(sd));
  for (const auto& [k, t] : sd) ExpectTensor(Get(*back, k), t, k);
  EXPECT_TRUE(Get(*back, "nc").is_contiguous());
  EXPECT_EQ(Get(*back, "nc")[2][1].item<float>(), 1 * 3 + 2 - 2.5f);
  EXPECT_EQ(info.source_key, "");
  EXPECT_TRUE(info.ignored.empty());

  // The archive as torch lays it out: archive/{data.pkl, byteorder, data/0..11, version}, 64-byte aligned.
  auto zip = ZipReader::Open(path);
  ASSERT_TRUE(zip.ok());
  EXPECT_EQ(zip->names().front(), "archive/data.pkl");
  EXPECT_EQ(zip->names().size(), sd.size() + 3);
  EXPECT_EQ(*zip->Read("archive/version"), "3\n");
  for (const std::string& n : zip->names()) EXPECT_EQ(zip->Find(n)->data_offset % 64, 0u) << n;
  auto values = LoadCheckpointValues(path);
  ASSERT_TRUE(values.ok());
  EXPECT_FALSE((*values)->ordered);  // a plain dict
  EXPECT_EQ((*values)->Find("d")->Describe(), "tensor float16 [3]");
}

TEST(StateDictTest, SaveErrorsNameTheKey) {
  const std::string dir = testing::MakeTempDir();
  StateDict dup = {{"w", torch::ones(1)}, {"w", torch::ones(1)}};
  EXPECT_THAT(SaveStateDictForPython(dir + "/d.pt", dup).message(), HasSubstr("tensor 'w' appears twice"));
  StateDict undefined = {{"u", torch::Tensor()}};
  EXPECT_THAT(SaveStateDictForPython(dir + "/u.pt", undefined).message(), HasSubstr("tensor 'u' is undefined"));
  StateDict complex = {{"z", torch::ones(2, torch::kComplexFloat)}};
  EXPECT_THAT(SaveStateDictForPython(dir + "/z.pt", complex).message(), HasSubstr("'z' has unsupported dtype"));
  StateDict ok = {{"w", torch::ones(1)}};
  auto s = SaveStateDictForPython(dir + "/missing/dir/w.pt", ok);
  EXPECT_THAT(s.message(), HasSubstr(dir + "/missing/dir/w.pt"));
}

TEST(StateDictTest, SaveReplacesAtomically) {
  const std::string dir = testing::MakeTempDir();
  const std::string path = dir + "/w.pt";
  ASSERT_TRUE(SaveStateDictForPython(path, {{"w", torch::ones(2)}}).ok());
  ASSERT_TRUE(SaveStateDictForPython(path, {{"w", torch::full({3}, 2.0)}}).ok());
  auto back = LoadStateDict(path);
  ASSERT_TRUE(back.ok());
  ExpectTensor(Get(*back, "w"), torch::full({3}, 2.0), "w");
}

TEST(StateDictTest, ErrorsNameTheFile) {
  const std::string dir = testing::MakeTempDir();
  const std::string path = dir + "/w.pt";
  ASSERT_TRUE(SaveStateDictForPython(path, SampleStateDict()).ok());
  const std::string whole = testing::ReadFile(path);
  testing::WriteFile(dir + "/cut.pt", whole.substr(0, whole.size() * 2 / 3));
  auto cut = LoadStateDict(dir + "/cut.pt");
  EXPECT_THAT(cut.status().message(), HasSubstr(dir + "/cut.pt"));
  EXPECT_THAT(cut.status().message(), HasSubstr("truncated"));

  testing::WriteFile(dir + "/text.pt", "{\"not\": \"a checkpoint\"}");
  auto text = LoadStateDict(dir + "/text.pt");
  EXPECT_THAT(text.status().message(), HasSubstr(dir + "/text.pt"));
  EXPECT_THAT(text.status().message(), HasSubstr("not a zip archive"));

  EXPECT_THAT(LoadStateDict(dir + "/absent.pt").status().message(), HasSubstr(dir + "/absent.pt"));
}

// ---------------------------------------------------------------------------------------------------------
// Files written by Debian's python3-torch during the test.

constexpr char kMakeFixtures[] = R"PY(
import argparse, collections, fractions, sys, zipfile
import numpy as np
import torch
d = sys.argv[1]

def seq():
    m = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    with torch.no_grad():
        m[0].weight.copy_(torch.arange(6.).view(3, 2) / 10)   # w[i][j] = (2i + j) / 10
        m[0].bias.copy_(torch.tensor([-1., 0., 1.]))
        m[1].weight.fill_(2.)
        m[1].bias.fill_(0.25)
        m[1].running_mean.copy_(torch.tensor([1., 2., 3.]))
        m[1].running_var.fill_(4.)
        m[1].num_batches_tracked.fill_(5)
    return m

sd = seq().state_dict()
torch.save({'w': torch.arange(12.).view(3, 4) * 0.5 - 1, 'b': torch.arange(4)}, d + '/plain.pt')
torch.save(sd, d + '/ordered.pt')
torch.save(sd, d + '/proto4.pt', pickle_protocol=4)
torch.save(collections.OrderedDict(('module.' + k, v) for k, v in sd.items()), d + '/ddp.pt')
opt = torch.optim.SGD(seq().parameters(), lr=0.1, momentum=0.9)
torch.save({'model': sd, 'epoch': 3, 'optimizer': opt.state_dict(), 'best': np.float64(0.25),
            'args': argparse.Namespace(lr=0.1)}, d + '/nested.pt')
torch.save({'encoder': {'x': torch.ones(2)}, 'decoder': {'y': torch.zeros(3)}}, d + '/two.pt')
base = torch.arange(24.)
torch.save({'t': base[2:14].view(3, 4).t(), 's': base[5:9], 'step': base[1::3], 'full': base}, d + '/views.pt')
torch.save({'f64': torch.tensor([0.1, -2.5], dtype=torch.float64),
            'i64': torch.tensor([2**40, -3]),
            'bool': torch.tensor([True, False, True]),
            'half': torch.tensor([0.5, -1.25, 65504.], dtype=torch.half),
            'bf16': torch.tensor([1., -2., 0.5], dtype=torch.bfloat16),
            'i8': torch.tensor([-128, 127], dtype=torch.int8),
            'u8': torch.tensor([0, 255], dtype=torch.uint8),
            'i16': torch.tensor([300], dtype=torch.int16),
            'i32': torch.tensor([-7], dtype=torch.int32),
            'scalar': torch.tensor(3.5),
            'empty': torch.zeros(0, 3)}, d + '/dtypes.pt')
torch.save({'p': torch.nn.Parameter(torch.full((2,), 2.))}, d + '/param.pt')
torch.save({'w': torch.ones(2), 'f': fractions.Fraction(1, 3)}, d + '/unknown.pt')
# The legacy (pre-1.6) format, as the official LVS, DSOL and Coarse-to-Fine code wrote it.
legacy = dict(_use_new_zipfile_serialization=False)
torch.save({'w': torch.ones(2)}, d + '/legacy.pt', **legacy)
torch.save(sd, d + '/legacy_proto4.pt', pickle_protocol=4, **legacy)
torch.save({'model_state_dict': collections.OrderedDict(('module.' + k, v) for k, v in sd.items()), 'epoch': 7,
            'best': np.float64(0.25)}, d + '/legacy_nested.pt', **legacy)
for name in ['views', 'dtypes']:
    torch.save(torch.load(d + '/' + name + '.pt'), d + '/legacy_' + name + '.pt', **legacy)
torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), d + '/scripted.pt')
src = zipfile.ZipFile(d + '/plain.pt')
with zipfile.ZipFile(d + '/nostorage.pt', 'w') as dst:
    for info in src.infolist():
        if not info.filename.endswith('/data/0'):
            dst.writestr(info, src.read(info.filename))
print('ok')
)PY";

class PythonFilesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::PythonHasTorch()) return;
    dir_ = new std::string(testing::MakeTempDir());
    std::string out;
    const int rc = testing::RunPythonScript(*dir_, "make_fixtures.py", kMakeFixtures, *dir_, &out);
    ASSERT_EQ(rc, 0) << out;
  }
  void SetUp() override {
    if (!testing::PythonHasTorch()) {
      GTEST_SKIP() << "/usr/bin/python3 cannot import torch and numpy (install python3-torch); skipping the "
                      "tests on files written by PyTorch";
    }
  }
  static std::string Path(const std::string& name) { return *dir_ + "/" + name; }
  static StateDict MustLoad(const std::string& name, const StateDictOptions& o = {}, StateDictInfo* info = nullptr) {
    auto sd = LoadStateDict(Path(name), o, info);
    EXPECT_TRUE(sd.ok()) << sd.status();
    return sd.ok() ? *sd : StateDict();
  }
  // The Sequential(Linear(2, 3), BatchNorm1d(3)) state dict the fixture script saves.
  static void ExpectSeqStateDict(const StateDict& sd, const std::string& prefix = "") {
    EXPECT_EQ(Keys(sd), (std::vector<std::string>{prefix + "0.weight", prefix + "0.bias", prefix + "1.weight",
                                                  prefix + "1.bias", prefix + "1.running_mean",
                                                  prefix + "1.running_var", prefix + "1.num_batches_tracked"}));
    ExpectTensor(Get(sd, prefix + "0.weight"), torch::arange(6, torch::kFloat).view({3, 2}) / 10, "0.weight");
    ExpectTensor(Get(sd, prefix + "0.bias"), torch::tensor({-1.f, 0.f, 1.f}), "0.bias");
    ExpectTensor(Get(sd, prefix + "1.running_mean"), torch::tensor({1.f, 2.f, 3.f}), "running_mean");
    ExpectTensor(Get(sd, prefix + "1.num_batches_tracked"), torch::tensor(int64_t{5}), "num_batches_tracked");
  }
  static void ExpectViews(const StateDict& sd);
  static void ExpectDtypes(const StateDict& sd);
  static std::string* dir_;
};
std::string* PythonFilesTest::dir_ = nullptr;

TEST_F(PythonFilesTest, PlainDict) {
  StateDict sd = MustLoad("plain.pt");
  EXPECT_THAT(Keys(sd), ElementsAre("w", "b"));
  // w[i][j] = (4i + j) * 0.5 - 1, so w[2][3] = 11 * 0.5 - 1 = 4.5.
  ExpectTensor(Get(sd, "w"), torch::arange(12, torch::kFloat).view({3, 4}) * 0.5 - 1, "w");
  EXPECT_EQ(Get(sd, "w")[2][3].item<float>(), 4.5f);
  ExpectTensor(Get(sd, "b"), torch::arange(4, torch::kLong), "b");
}

TEST_F(PythonFilesTest, ModuleStateDictOrderedDictWithMetadata) {
  StateDictInfo info;
  ExpectSeqStateDict(MustLoad("ordered.pt", {}, &info));
  EXPECT_EQ(info.source_key, "");
  EXPECT_TRUE(info.ignored.empty());
  auto root = LoadCheckpointValues(Path("ordered.pt"));
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_TRUE((*root)->ordered);
  ASSERT_NE((*root)->state, nullptr);
  const Value* meta = (*root)->state->Find("_metadata");
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta->Find("1")->Find("version")->int_value, 2);  // BatchNorm's _version
}

TEST_F(PythonFilesTest, Protocol4) { ExpectSeqStateDict(MustLoad("proto4.pt")); }

TEST_F(PythonFilesTest, LoadsIntoTheSameCppModule) {
  torch::nn::Sequential seq(torch::nn::Linear(2, 3), torch::nn::BatchNorm1d(3));
  auto report = LoadIntoModule(*seq, MustLoad("ordered.pt"));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->loaded.size(), 7u);
  // y = bn(x W^T + b) in eval mode: for x = (1, 1), row 0 of W is (0, 0.1) so z0 = 0.1 - 1 = -0.9;
  // bn: (z - mean) / sqrt(var + eps) * 2 + 0.25 = (-0.9 - 1) / sqrt(4 + 1e-5) * 2 + 0.25 = -1.6499953...
  seq->eval();
  const float y0 = seq->forward(torch::ones({1, 2}))[0][0].item<float>();
  EXPECT_NEAR(y0, (-0.9 - 1) / std::sqrt(4 + 1e-5) * 2 + 0.25, 1e-5);
}

TEST_F(PythonFilesTest, DdpPrefixIsStripped) {
  StateDictInfo info;
  ExpectSeqStateDict(MustLoad("ddp.pt", {}, &info));
  EXPECT_EQ(info.prefixes_stripped, 7);
  StateDictOptions keep;
  keep.strip_prefixes.clear();
  ExpectSeqStateDict(MustLoad("ddp.pt", keep), "module.");
}

TEST_F(PythonFilesTest, NestedCheckpoint) {
  StateDictInfo info;
  ExpectSeqStateDict(MustLoad("nested.pt", {}, &info));
  EXPECT_EQ(info.source_key, "model");
  EXPECT_TRUE(info.auto_detected);
  StateDictOptions explicit_key;
  explicit_key.key = "model";
  ExpectSeqStateDict(MustLoad("nested.pt", explicit_key));

  auto root = LoadCheckpointValues(Path("nested.pt"));
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ((*root)->Find("epoch")->int_value, 3);
  EXPECT_EQ((*root)->Find("best")->float_value, 0.25);  // numpy.float64 scalar
  const Value* args = (*root)->Find("args");
  ASSERT_EQ(args->kind, Value::Kind::kObject);
  EXPECT_EQ(args->str, "argparse.Namespace");
  EXPECT_EQ(args->state->Find("lr")->float_value, 0.1);
  EXPECT_EQ((*root)->Find("optimizer")->Find("param_groups")->items[0]->Find("momentum")->float_value, 0.9);

  StateDictOptions wrong;
  wrong.key = "model/nope";
  auto s = LoadStateDict(Path("nested.pt"), wrong).status();
  EXPECT_THAT(s.message(), HasSubstr("no key 'nope' in 'model'"));
  EXPECT_THAT(s.message(), HasSubstr("'0.weight' (tensor float32 [3, 2])"));
  wrong.key = "optimizer";  // SGD before its first step: empty state
  EXPECT_THAT(LoadStateDict(Path("nested.pt"), wrong).status().message(),
              HasSubstr("'optimizer' holds no tensors; its entries: 'state' (dict (0 entries)), "
                        "'param_groups' (list (1 items))"));
  wrong.key = "epoch";
  EXPECT_THAT(LoadStateDict(Path("nested.pt"), wrong).status().message(), HasSubstr("'epoch' is a int 3, not a dict"));
}

TEST_F(PythonFilesTest, AmbiguousNestingListsTheEntries) {
  auto s = LoadStateDict(Path("two.pt")).status();
  EXPECT_THAT(s.message(), HasSubstr(Path("two.pt")));
  EXPECT_THAT(s.message(), HasSubstr("found no state dict"));
  EXPECT_THAT(s.message(), HasSubstr("'encoder' (dict (1 entries)), 'decoder' (dict (1 entries))"));
  StateDictOptions o;
  o.key = "decoder";
  StateDict sd = MustLoad("two.pt", o);
  EXPECT_THAT(Keys(sd), ElementsAre("y"));
}

TEST_F(PythonFilesTest, ViewsIntoOneStorage) {
  for (const char* file : {"views.pt", "legacy_views.pt"}) {
    SCOPED_TRACE(file);
    ExpectViews(MustLoad(file));
  }
}

void PythonFilesTest::ExpectViews(const StateDict& sd) {
  // t = base[2:14].view(3, 4).t(): t[i][j] = 2 + 4j + i, shape [4, 3], offset 2, strides (1, 4).
  torch::Tensor want_t = torch::empty({4, 3});
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) want_t[i][j] = 2 + 4 * j + i;
  ExpectTensor(Get(sd, "t"), want_t, "t");
  ExpectTensor(Get(sd, "s"), torch::tensor({5.f, 6.f, 7.f, 8.f}), "s");
  // step = base[1::3] = 1, 4, ..., 22.
  ExpectTensor(Get(sd, "step"), torch::arange(1, 24, 3, torch::kFloat), "step");
  ExpectTensor(Get(sd, "full"), torch::arange(24, torch::kFloat), "full");
}

TEST_F(PythonFilesTest, Dtypes) {
  for (const char* file : {"dtypes.pt", "legacy_dtypes.pt"}) {
    SCOPED_TRACE(file);
    ExpectDtypes(MustLoad(file));
  }
}

void PythonFilesTest::ExpectDtypes(const StateDict& sd) {
  ExpectTensor(Get(sd, "f64"), torch::tensor({0.1, -2.5}, torch::kDouble), "f64");
  ExpectTensor(Get(sd, "i64"), torch::tensor({int64_t{1} << 40, int64_t{-3}}), "i64");
  ExpectTensor(Get(sd, "bool"), torch::tensor({true, false, true}), "bool");
  ExpectTensor(Get(sd, "half"), torch::tensor({0.5, -1.25, 65504.0}, torch::kHalf), "half");
  ExpectTensor(Get(sd, "bf16"), torch::tensor({1.0, -2.0, 0.5}, torch::kBFloat16), "bf16");
  ExpectTensor(Get(sd, "i8"), torch::tensor({-128, 127}, torch::kChar), "i8");
  ExpectTensor(Get(sd, "u8"), torch::tensor({0, 255}, torch::kByte), "u8");
  ExpectTensor(Get(sd, "i16"), torch::tensor({300}, torch::kShort), "i16");
  ExpectTensor(Get(sd, "i32"), torch::tensor({-7}, torch::kInt), "i32");
  ExpectTensor(Get(sd, "scalar"), torch::tensor(3.5f), "scalar");
  ExpectTensor(Get(sd, "empty"), torch::zeros({0, 3}), "empty");
}

TEST_F(PythonFilesTest, Parameter) {
  StateDict sd = MustLoad("param.pt");
  ExpectTensor(Get(sd, "p"), torch::full({2}, 2.0), "p");
  EXPECT_FALSE(Get(sd, "p").requires_grad());
}

TEST_F(PythonFilesTest, UnknownGlobal) {
  auto s = LoadStateDict(Path("unknown.pt")).status();
  EXPECT_THAT(s.message(), HasSubstr(Path("unknown.pt")));
  EXPECT_THAT(s.message(), HasSubstr("global 'fractions.Fraction' is not supported"));
  StateDictOptions o;
  o.allow_unknown_globals = true;
  StateDictInfo info;
  StateDict sd = MustLoad("unknown.pt", o, &info);
  EXPECT_THAT(Keys(sd), ElementsAre("w"));
  EXPECT_THAT(info.ignored, ElementsAre("f (object fractions.Fraction)"));
}

TEST_F(PythonFilesTest, LegacyFormat) {
  StateDict plain = MustLoad("legacy.pt");
  EXPECT_THAT(Keys(plain), ElementsAre("w"));
  ExpectTensor(Get(plain, "w"), torch::ones({2}), "w");
  ExpectSeqStateDict(MustLoad("legacy_proto4.pt"));
  // LVS's layout: {'model_state_dict': DataParallel keys, ...}: found, unwrapped and stripped as in a zip file.
  StateDictInfo info;
  ExpectSeqStateDict(MustLoad("legacy_nested.pt", {}, &info));
  EXPECT_EQ(info.source_key, "model_state_dict");
  EXPECT_EQ(info.prefixes_stripped, 7);
  auto archive = CheckpointArchive::Open(Path("legacy_nested.pt"));
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_TRUE(archive->legacy());
  EXPECT_EQ(archive->format_version(), 1001);
  EXPECT_EQ(archive->root()->Find("epoch")->int_value, 7);
}

TEST_F(PythonFilesTest, TruncatedLegacyFileNamesTheStorage) {
  const std::string whole = testing::ReadFile(Path("legacy_nested.pt"));
  for (size_t cut_bytes : {size_t{5}, whole.size() / 2}) {
    const std::string cut = Path("legacy_cut.pt");
    testing::WriteFile(cut, whole.substr(0, whole.size() - cut_bytes));
    auto s = LoadStateDict(cut).status();
    EXPECT_THAT(s.message(), HasSubstr(cut)) << cut_bytes;
    EXPECT_THAT(s.message(), HasSubstr("truncated")) << cut_bytes;
  }
}

TEST_F(PythonFilesTest, TorchScriptIsExplained) {
  auto scripted = LoadStateDict(Path("scripted.pt")).status();
  EXPECT_THAT(scripted.message(), HasSubstr(Path("scripted.pt")));
  EXPECT_THAT(scripted.message(), HasSubstr("TorchScript"));
}

TEST_F(PythonFilesTest, MissingStorageRecord) {
  auto s = LoadStateDict(Path("nostorage.pt")).status();
  EXPECT_THAT(s.message(), HasSubstr(Path("nostorage.pt")));
  EXPECT_THAT(s.message(), HasSubstr("storage record plain/data/0 is missing"));
}

TEST_F(PythonFilesTest, TruncatedTorchFile) {
  const std::string whole = testing::ReadFile(Path("ordered.pt"));
  const std::string cut = Path("ordered_cut.pt");
  testing::WriteFile(cut, whole.substr(0, whole.size() - 100));
  auto s = LoadStateDict(cut).status();
  EXPECT_THAT(s.message(), HasSubstr(cut));
  EXPECT_THAT(s.message(), HasSubstr("truncated"));
}

// avsl's export, read by Python's torch.load (also with weights_only=True, the restricted unpickler) and
// compared value by value.
TEST_F(PythonFilesTest, PythonReadsOurExport) {
  const std::string path = Path("ours.pt");
  const StateDict sd = SampleStateDict();
  ASSERT_TRUE(SaveStateDictForPython(path, sd).ok());
  const std::string script = R"PY(
import json, sys, torch
sd = torch.load(sys.argv[1], weights_only=True)
sd2 = torch.load(sys.argv[1])
assert type(sd) is dict, type(sd)
out = {'type': type(sd).__name__, 'keys': list(sd.keys()), 'tensors': {}}
for k, v in sd.items():
    assert torch.equal(v, sd2[k])
    out['tensors'][k] = {'dtype': str(v.dtype), 'shape': list(v.shape), 'contiguous': v.is_contiguous(),
                         'values': v.flatten().tolist()}
print(json.dumps(out))
)PY";
  std::string out;
  ASSERT_EQ(testing::RunPythonScript(*dir_, "read_ours.py", script, path, &out), 0) << out;
  const nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["type"], "dict");
  EXPECT_EQ(j["keys"].get<std::vector<std::string>>(), Keys(sd));
  const std::map<torch::ScalarType, std::string> names = {
      {torch::kFloat, "torch.float32"}, {torch::kLong, "torch.int64"},        {torch::kBool, "torch.bool"},
      {torch::kHalf, "torch.float16"},  {torch::kBFloat16, "torch.bfloat16"}, {torch::kDouble, "torch.float64"},
      {torch::kChar, "torch.int8"},     {torch::kByte, "torch.uint8"},        {torch::kShort, "torch.int16"},
      {torch::kInt, "torch.int32"}};
  for (const auto& [k, t] : sd) {
    SCOPED_TRACE(k);
    const auto& e = j["tensors"][k];
    EXPECT_EQ(e["dtype"], names.at(t.scalar_type()));
    EXPECT_EQ(e["shape"].get<std::vector<int64_t>>(), t.sizes().vec());
    EXPECT_TRUE(e["contiguous"].get<bool>());
    torch::Tensor flat = t.contiguous().flatten();
    ASSERT_EQ(e["values"].size(), static_cast<size_t>(flat.numel()));
    for (int64_t i = 0; i < flat.numel(); ++i) {
      if (t.scalar_type() == torch::kBool) {
        EXPECT_EQ(e["values"][i].get<bool>(), flat[i].item<bool>()) << i;
      } else if (t.is_floating_point()) {
        // Exact: every value is representable in its dtype and JSON carries the double Python printed.
        EXPECT_EQ(e["values"][i].get<double>(), flat[i].item<double>()) << i;
      } else {
        EXPECT_EQ(e["values"][i].get<int64_t>(), flat[i].item<int64_t>()) << i;
      }
    }
  }
}

}  // namespace
}  // namespace avsl::checkpoint
