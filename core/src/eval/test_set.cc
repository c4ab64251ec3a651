#include "avsl/eval/test_set.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "avsl/io/sha256.h"

namespace avsl::eval {

const std::vector<PublishedTestSet>& PublishedTestSets() {
  // Computed from the lists as published (the repositories at the commits of ../shared/docs/baselines_spec.md) with
  // the datasets' key rule; tests/eval/test_set_test.cc recomputes every row from the files when they are present.
  static const auto* sets = new std::vector<PublishedTestSet>{
      {"flickr_test_250",
       {"flickr_test.csv"},
       "SLAVC, SSLalignment",
       250,
       "dd900da777b64c9a5fb5f7e9e54613f7cd5b62d1b95391c1155c3dcc1d264907"},
      {"flickr_test_249",
       {"flickr_test.csv", "flickr_test_249.csv"},
       "EZ-VSL, LVS, SSLalignment",
       249,
       "746ef61061cf4528896af5d069b9e35c26bd525d7a47046b059995f357b51a93"},
      {"flickr_test_plus_silent_500",
       {"flickr_test.csv", "flickr_test_plus_silent.csv"},
       "SLAVC, SSLalignment",
       500,
       "8c4bd73c52466d41a2bd5dfd9b7a6d5104d59417d7102a3822c933fc89453b6c"},
      {"vggss_test_5158",
       {"vggss_test.csv"},
       "SLAVC, EZ-VSL, LVS, SSLalignment",
       5158,
       "fae99c683bea608e7ada1f38fb27c79a50936c96c18631daaea512b7d94e62de"},
      {"vggss_test_plus_silent_10316",
       {"vggss_test.csv", "vggss_test_plus_silent.csv"},
       "SLAVC, SSLalignment",
       10316,
       "0d20f471d549c327335cb53adc92be2772c4fe10670834251c6f67b62a0f7f98"},
      {"vggss_heard_test_2564",
       {"vggss_heard_test.csv"},
       "SLAVC, EZ-VSL, SSLalignment",
       2564,
       "3776229d11d1c5b66ec49e56b7251f30620a976a12dd4552264f2581db7b74d2"},
      {"vggss_unheard_test_2575",
       {"vggss_unheard_test.csv"},
       "SLAVC, EZ-VSL, SSLalignment",
       2575,
       "abddc3ae921c61ef9b54cf08af4a12a7cdfeee17692f219043ce2d39b899c62c"},
  };
  return *sets;
}

std::string TestSetSha256(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  std::string text;
  for (const std::string& k : keys) absl::StrAppend(&text, k, "\n");
  return io::Sha256Hex(text);
}

TestSetIdentity IdentifyTestSet(const std::vector<std::string>& keys, const std::vector<std::string>& list_files) {
  TestSetIdentity id;
  id.lists = list_files;
  id.n = static_cast<long long>(keys.size());
  id.sha256 = TestSetSha256(keys);
  for (const PublishedTestSet& p : PublishedTestSets()) {
    if (p.count == id.n && p.sha256 == id.sha256) {
      id.manifest = p.name;
      return id;
    }
  }
  // The sets the lists were meant to be: published under one of the evaluation's file names.
  std::vector<std::string> names;
  for (const std::string& f : list_files) names.push_back(std::filesystem::path(f).filename().string());
  for (const PublishedTestSet& p : PublishedTestSets()) {
    const bool named = std::any_of(p.files.begin(), p.files.end(), [&](const std::string& f) {
      return std::find(names.begin(), names.end(), f) != names.end();
    });
    // The plain set of an extended list's positives is not what an extended evaluation was meant to be.
    const bool extended_run = std::any_of(
        names.begin(), names.end(), [](const std::string& n) { return n.find("plus_silent") != std::string::npos; });
    const bool extended_set = std::any_of(p.files.begin(), p.files.end(), [](const std::string& f) {
      return f.find("plus_silent") != std::string::npos;
    });
    if (named && extended_run == extended_set) id.differs_from.push_back(p.name);
  }
  return id;
}

TestSetIdentity IdentifyTestSet(const EvalResult& result, const std::vector<std::string>& list_files) {
  std::vector<std::string> keys;
  keys.reserve(result.samples.size());
  for (const SampleRecord& r : result.samples) keys.push_back(r.key);
  return IdentifyTestSet(keys, list_files);
}

std::string DescribeTestSet(const TestSetIdentity& identity) {
  if (!identity.manifest.empty()) return absl::StrCat(identity.manifest, " (N=", identity.n, ")");
  if (identity.differs_from.empty()) return absl::StrCat("N=", identity.n);
  std::vector<std::string> published;
  for (const std::string& name : identity.differs_from) {
    for (const PublishedTestSet& p : PublishedTestSets()) {
      if (p.name == name) published.push_back(absl::StrCat(p.name, " (", p.count, ")"));
    }
  }
  return absl::StrCat("N=", identity.n, ", not ", absl::StrJoin(published, " or "));
}

}  // namespace avsl::eval
