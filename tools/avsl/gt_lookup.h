// Ground-truth lookups for the commands that compare maps with a benchmark's annotations (`avsl score`,
// `avsl report grid`): Flickr-SoundNet XML files or a VGG-SS JSON, looked up by video id.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "avsl/cli_args.h"
#include "avsl/data/vggss_annotation.h"
#include "avsl/eval/score.h"

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

}  // namespace avsl::cli
