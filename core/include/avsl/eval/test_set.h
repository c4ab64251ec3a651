// Which test set an evaluation was computed on. The published test lists differ between the method repositories
// (Flickr-SoundNet: 250 ids in SLAVC's flickr_test.csv, 249 in EZ-VSL's and LVS's), so a number means little
// without the items behind it. An evaluation's set is pinned by its size and the SHA-256 of its sorted sample keys;
// the published sets are pinned the same way, so metrics.json can name the one it matches, or say that it matches
// none of those its list files are named after.
#pragma once

#include <string>
#include <vector>

#include "avsl/core/eval_result.h"
#include "avsl/core/export.h"

namespace avsl::eval {

/// A published test list as the datasets read it: the sample keys are the ids (video ids; for the non-sounding pairs
/// of an extended set "<video>__<audio>", as datasets.Flickr/VggSound key them).
struct PublishedTestSet {
  std::string name;                ///< e.g. "flickr_test_250"
  std::vector<std::string> files;  ///< the list file names it is published as, e.g. {"flickr_test.csv"}
  std::string repositories;        ///< where it is published, e.g. "SLAVC, SSLalignment"
  long long count = 0;             ///< sample keys
  std::string sha256;              ///< TestSetSha256 of the keys
};

/// The published test sets avsl knows (docs/evaluation.md lists them with their sources).
AVSL_EXPORT const std::vector<PublishedTestSet>& PublishedTestSets();

/// SHA-256 (hex) of the keys sorted bytewise, each followed by '\n'. Order-independent; duplicates count.
AVSL_EXPORT std::string TestSetSha256(std::vector<std::string> keys);

struct TestSetIdentity {
  long long n = 0;       ///< samples evaluated (the effective N)
  std::string sha256;    ///< TestSetSha256 of their keys
  std::string manifest;  ///< the published set with this count and hash; "" when none
  /// When no published set matches: those named like one of the evaluation's list files (the set it was meant to
  /// be), e.g. {"flickr_test_250", "flickr_test_249"} for a flickr_test.csv with 247 usable items. Empty when the
  /// lists are not named after a published one (the synthetic benchmark, your own lists).
  std::vector<std::string> differs_from;
  std::vector<std::string> lists;  ///< the list files the split was read from, as given
};

/// Identifies the set of `keys`; `list_files` are the paths of the lists the split was read from (their file names
/// are compared with the published ones').
AVSL_EXPORT TestSetIdentity IdentifyTestSet(const std::vector<std::string>& keys,
                                            const std::vector<std::string>& list_files);
/// The same for the samples an evaluation scored (their SampleRecord::key).
AVSL_EXPORT TestSetIdentity IdentifyTestSet(const EvalResult& result, const std::vector<std::string>& list_files);

/// One line for tables and logs: "flickr_test_250 (N=250)", "N=500", or "N=247, not flickr_test_250 (250) or
/// flickr_test_249 (249)".
AVSL_EXPORT std::string DescribeTestSet(const TestSetIdentity& identity);

}  // namespace avsl::eval
