// avsl inspect: writes exactly what the model sees for one audio or image file, as .npy, so the
// preprocessing can be compared with any other implementation in Python.
#include <iostream>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "avsl/data/audio_clip.h"
#include "avsl/data/image_transform.h"
#include "avsl/data/spectrogram.h"
#include "avsl/io/npy.h"
#include "cli_common.h"

namespace avsl::cli {
namespace {

// The options a dataset applies at test time, with the reference defaults.
struct InspectOptions {
  std::map<std::string, double> values = {
      {"clip_seconds", 3.0}, {"sample_rate", 0}, {"nperseg", 512}, {"noverlap", 274}, {"input_size", 224}};
};

absl::Status ApplySets(const std::vector<std::string>& sets, InspectOptions& options) {
  for (const std::string& set : sets) {
    const size_t eq = set.find('=');
    const std::string key = set.substr(0, eq);
    auto it = options.values.find(key);
    if (eq == std::string::npos || it == options.values.end()) {
      std::vector<std::string> names;
      for (const auto& [k, v] : options.values) names.push_back(k);
      std::vector<std::string> close = ClosestNames(key, names);
      return absl::InvalidArgumentError(absl::StrCat("--set ", set, ": unknown key '", key, "'",
                                                     close.empty() ? "" : "; did you mean '" + close[0] + "'?",
                                                     " Keys: ", absl::StrJoin(names, ", ")));
    }
    if (!absl::SimpleAtod(set.substr(eq + 1), &it->second)) {
      return absl::InvalidArgumentError(absl::StrCat("--set ", set, ": expected a number"));
    }
  }
  return absl::OkStatus();
}

absl::Status InspectAudio(const std::string& path, const InspectOptions& o, const std::string& out) {
  data::ClipOptions clip;
  clip.clip_seconds = o.values.at("clip_seconds");
  clip.target_sample_rate = static_cast<int>(o.values.at("sample_rate"));
  absl::StatusOr<data::MonoAudio> audio = data::LoadAudioClip(path, clip);
  if (!audio.ok()) return audio.status();
  data::SpectrogramOptions spec;
  spec.nperseg = static_cast<int>(o.values.at("nperseg"));
  spec.noverlap = static_cast<int>(o.values.at("noverlap"));
  absl::StatusOr<data::Spectrogram> s = data::ComputeSpectrogram(audio->samples, audio->sample_rate, spec);
  if (!s.ok()) return s.status();
  std::cout << "audio " << path << ": " << audio->sample_rate << " Hz, spectrogram [1, " << s->freq_bins << ", "
            << s->frames << "] -> " << out << "\n";
  return io::WriteNpy(out, s->values.data(), {1, s->freq_bins, s->frames});
}

absl::Status InspectImage(const std::string& path, const InspectOptions& o, const std::string& out) {
  absl::StatusOr<data::RgbImage> image = data::DecodeImageFile(path);
  if (!image.ok()) return image.status();
  data::TestTransformOptions t;
  t.width = t.height = static_cast<int>(o.values.at("input_size"));
  absl::StatusOr<data::ImageTensor> tensor = data::TestTransform(*image, t);
  if (!tensor.ok()) return tensor.status();
  std::cout << "image " << path << ": " << image->width << "x" << image->height << ", test transform [3, "
            << tensor->height << ", " << tensor->width << "] -> " << out << "\n";
  return io::WriteNpy(out, tensor->values.data(), {tensor->channels, tensor->height, tensor->width});
}

}  // namespace

int RunInspect(int argc, char** argv, int first) {
  Args args("avsl inspect audio|image FILE --out FILE.npy [--set KEY=VALUE]...",
            "Writes exactly what the model sees at test time as float32 .npy: for audio the log spectrogram\n"
            "[1, 257, T] (centre 3 s window, scipy-exact spectrogram, log(P + 1e-7) / 12); for an image the\n"
            "normalized CHW tensor of the test transform (squash to input_size, bicubic, ImageNet mean/std).\n"
            "Keys for --set: clip_seconds, sample_rate (0 = native), nperseg, noverlap, input_size.");
  args.Positional("WHAT", "audio or image").Positional("FILE", "input file");
  args.Option("out", "FILE", ".npy output");
  AddRecipeOptions(args);
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  const std::string what = args.Positional(0);
  if ((what != "audio" && what != "image") || !args.Has("out")) {
    std::cerr << "avsl inspect: "
              << (args.Has("out") ? "expected 'audio' or 'image', found '" + what + "'"
                                  : std::string("--out is required"))
              << "\n\n"
              << args.Usage();
    return kExitUsage;
  }
  InspectOptions options;
  absl::Status status = ApplySets(args.GetAll("set"), options);
  if (!status.ok()) return ReportError("inspect", status);
  status = what == "audio" ? InspectAudio(args.Positional(1), options, args.Get("out"))
                           : InspectImage(args.Positional(1), options, args.Get("out"));
  if (!status.ok()) return ReportError("inspect", status);
  return kExitOk;
}

}  // namespace avsl::cli
