// Ground-truth lookups for the commands that compare maps with a benchmark's annotations (`avsl score`,
// `avsl report grid`): Flickr-SoundNet XML files or a VGG-SS JSON, looked up by video id; and the scoring
// options those commands share.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "avsl/data/vggss_annotation.h"
#include "avsl/eval/score.h"
#include "avsl/metrics/eval_protocol.h"
#include "cli_args.h"

namespace avsl::cli {

/// Flickr: <dir>/<video>.xml, read when first needed (a test set touches each file once).
eval::GtLookup FlickrLookup(const std::string& dir);

/// VGG-SS: the entry whose `file` is the video; errors name `path`.
eval::GtLookup VggssLookup(std::shared_ptr<const data::VggssIndex> index, const std::string& path);

/// Adds --flickr-annotations and --vggss-json to `args`.
void AddGtOptions(Args& args);

/// The lookup chosen by --flickr-annotations DIR or --vggss-json FILE (the caller checks that exactly one is
/// given). Reading the VGG-SS JSON can fail; the error names the file.
absl::StatusOr<eval::GtLookup> GtLookupFromArgs(const Args& args);

/// Declares the evaluation-protocol flags, one per knob and named as the recipe's `eval.<key>`: --upsample,
/// --align-corners, --pred-mode, --topk-percent, --pred-threshold, --ciou-threshold.
void AddProtocolOptions(Args& args);

/// Reads the flags of AddProtocolOptions into `protocol`; a flag not given keeps its value. InvalidArgument, with a
/// message for the usage text, names the flag and the value, e.g. "--topk-percent: expected a number, found 'x'".
absl::Status ReadProtocolArgs(const Args& args, metrics::EvalProtocol& protocol);

}  // namespace avsl::cli
