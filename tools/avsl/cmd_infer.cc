// avsl infer: localization on a user's own image + WAV pairs or video, no dataset layout. Pairs: the map as `avsl eval
// --maps-dir` writes it, an overlay, and a JSON with the confidence, the peak and whether a visible source sounds.
// Video: a heatmap video with the sound kept and a JSON line per sampled frame (video_heatmap.h).
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "avsl/checkpoint/training_checkpoint.h"
#include "avsl/core/method.h"
#include "avsl/data/audio_clip.h"
#include "avsl/data/image_transform.h"
#include "avsl/data/video_reader.h"
#include "avsl/io/atomic_file.h"
#include "avsl/io/npy.h"
#include "avsl/train/evaluate_checkpoint.h"
#include "avsl/train/map_evaluation.h"
#include "avsl/train/recipe_builders.h"
#include "avsl/train/released_weights.h"
#include "avsl/viz/overlay.h"
#include "avsl/viz/png_writer.h"
#include "cli_common.h"
#include "infer_inputs.h"
#include "nlohmann/json.hpp"
#include "run_plugins.h"
#include "video_heatmap.h"

namespace avsl::cli {
namespace fs = std::filesystem;
namespace {

// Output names, one per pair: the image's stem, made unique in order (stem, stem_1, ... skipping taken names).
std::vector<std::string> PairKeys(const std::vector<std::string>& images) {
  std::vector<std::string> keys;
  std::set<std::string> used;
  for (const std::string& image : images) {
    const std::string stem = fs::path(image).stem().string();
    std::string key = stem;
    for (int n = 1; used.count(key) != 0; ++n) key = absl::StrCat(stem, "_", n);
    used.insert(key);
    keys.push_back(key);
  }
  return keys;
}

struct Threshold {
  std::optional<double> value;
  std::string source;  ///< where it came from, or why there is none
};

// The max-F1 threshold the run's validation chose at the epoch of `checkpoint_name` (metrics.jsonl).
Threshold RunThreshold(const std::string& run_dir, const std::string& checkpoint_name) {
  long long epoch = -1;  // -1: the last validation (checkpoint "last")
  if (checkpoint_name != "last") {
    std::ifstream in(fs::path(run_dir) / "train_state.json");
    const nlohmann::json state = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (state.is_object() && state.contains("best_epoch") && state["best_epoch"].is_number_integer()) {
      epoch = state["best_epoch"].get<long long>();
    }
  }
  std::ifstream in(fs::path(run_dir) / "metrics.jsonl");
  std::optional<double> found;
  long long found_epoch = -1, found_silent = -1;
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || j.value("split", "") != "val" || !j.contains("max_f1_threshold") ||
        !j["max_f1_threshold"].is_number()) {
      continue;
    }
    const long long e = j.value("epoch", -1LL);
    if (epoch < 0 || e == epoch) {
      found = j["max_f1_threshold"].get<double>();
      found_epoch = e;
      found_silent = j.value("n_silent", -1LL);
    }
  }
  if (!found) {
    return {std::nullopt, absl::StrCat("none: ", run_dir,
                                       "/metrics.jsonl has no validation max_f1_threshold for this checkpoint (a run "
                                       "without validation, or from before avsl recorded it); pass --threshold")};
  }
  std::string source = absl::StrCat("the run's validation max-F1 threshold at epoch ", found_epoch);
  // Without silent samples, max-F1's positives are the sounding samples localized with cIoU >= the protocol's
  // threshold: the value then separates confident from failed localizations, not sounding from silent.
  if (found_silent == 0) {
    absl::StrAppend(&source, "; that validation had no silent samples, so it separates confident localizations "
                             "from failed ones, not sounding from silent");
  }
  return {found, source};
}

struct PairResult {
  Map2D map;
  double confidence = 0;
};

// --video: the loader holds datasets.VideoFrames of the file; its samples are the same SampleFrames of the same frame
// times, so sample k (key <stem>_<k>) is output frame k.
int InferVideo(const std::string& video, const std::string& stem, double fps, double window_seconds,
               double silence_dbfs, const std::string& out_dir, const Threshold& threshold, Method& method,
               data::Loader& loader, const train::Runtime& runtime, train::MapEvaluationOptions options, bool verbose) {
  absl::StatusOr<std::unique_ptr<data::VideoReader>> reader = data::VideoReader::Open(video);
  if (!reader.ok()) return ReportError("infer", reader.status(), verbose);
  absl::StatusOr<std::vector<double>> times = (*reader)->FrameTimes();
  if (!times.ok()) return ReportError("infer", times.status(), verbose);
  const data::VideoInfo& info = (*reader)->info();
  VideoHeatmapOptions o;
  o.video = video;
  o.out_dir = out_dir;
  o.stem = stem;
  o.samples = data::SampleFrames(*times, fps);
  o.fps = fps > 0 ? fps : (info.frame_rate > 0 ? info.frame_rate : 25.0);
  o.protocol = options.protocol;
  o.threshold = threshold.value;
  o.window_seconds = window_seconds;
  o.silence_dbfs = silence_dbfs;
  if (o.samples.size() != loader.dataset_size()) {
    return ReportError("infer",
                       absl::InternalError(absl::StrCat(video, ": ", o.samples.size(), " frames to write but ",
                                                        loader.dataset_size(), " samples")),
                       verbose);
  }
  std::cout << video << ": " << info.width << "x" << info.height << " " << info.video_codec << " at "
            << absl::StrFormat("%.3f", info.frame_rate) << " fps, " << info.audio_codec << " " << info.audio_sample_rate
            << " Hz x" << info.audio_channels << "; localizing " << o.samples.size() << " frames at "
            << absl::StrFormat("%.3f", o.fps) << " fps\n";
  absl::StatusOr<std::unique_ptr<VideoHeatmapOutput>> output = VideoHeatmapOutput::Open(o, *std::move(reader));
  if (!output.ok()) return ReportError("infer", output.status(), verbose);
  const std::string prefix = stem + "_";
  options.on_sample = [&](const Sample& s, const Map2D& map, double conf) -> absl::Status {
    size_t k = 0;
    if (s.key.rfind(prefix, 0) != 0 || !absl::SimpleAtoi(s.key.substr(prefix.size()), &k)) {
      return absl::InternalError(absl::StrCat("unexpected video sample key '", s.key, "'"));
    }
    return (*output)->Add(k, map, conf);
  };
  absl::StatusOr<train::MethodEvaluation> evaluated = train::EvaluateMethod(method, loader, 0, runtime.device, options);
  if (!evaluated.ok()) return ReportError("infer", evaluated.status(), verbose);
  if (absl::Status s = (*output)->Finish(); !s.ok()) return ReportError("infer", s, verbose);
  std::cout << stem << ": " << o.samples.size() << " frames, " << (*output)->silent_frames() << " silent (below "
            << silence_dbfs << " dBFS), sounding "
            << (threshold.value ? absl::StrCat((*output)->sounding_frames(), " of ", o.samples.size())
                                : absl::StrCat("unknown for ", o.samples.size() - (*output)->silent_frames()))
            << " -> " << (*output)->video_path() << " (" << (*output)->video_codec() << "), " << (*output)->jsonl_path()
            << "\n";
  std::cout << "threshold: "
            << (threshold.value ? absl::StrFormat("%.6g (%s)", *threshold.value, threshold.source) : threshold.source)
            << "\n";
  return kExitOk;
}

}  // namespace

int RunInfer(int argc, char** argv, int first) {
  Args args("avsl infer (--run RUN_DIR [--checkpoint NAME] | --recipe RECIPE --weights FILE) (--image IMG --audio WAV "
            "[--image IMG --audio WAV]... | --video FILE [--fps F] [--window S]) --out DIR [--threshold T] "
            "[--set KEY=VALUE]...",
            "Localizes the sound of each WAV in its image, no dataset layout needed. The pair goes through the test\n"
            "pipeline of the recipe's evaluation set (input size, audio window, spectrogram), so the map is the one\n"
            "`avsl eval --maps-dir` writes for the same files. For each pair, named by the image's stem:\n"
            "  DIR/<stem>.npy   the map on the evaluation grid (224x224 float32)\n"
            "  DIR/<stem>.png   the map over the frame\n"
            "  DIR/<stem>.json  confidence, the map's peak (grid and source pixels), sounding and its threshold\n"
            "`sounding` is confidence >= the threshold: --threshold, or with --run the max-F1 threshold of the run's\n"
            "validation at the checkpoint's epoch (null when neither exists). Images: JPEG or PNG; WAV: any rate\n"
            "and channel count.\n"
            "--video (any file FFmpeg demuxes, with a sound track): frames sampled at --fps, each with --window\n"
            "seconds of the sound centred on it, through the same pipeline; writes\n"
            "  DIR/<stem>.heatmap.mp4  the frames with their maps, the sound kept\n"
            "  DIR/<stem>.jsonl        a line per frame: time, confidence, sounding, peak");
  args.Option("run", "RUN_DIR", "a run directory written by avsl train");
  args.Option("checkpoint", "NAME",
              "with --run: last or best_<metric> (default: the one the run selected, as avsl eval)");
  args.Option("recipe", "RECIPE", "a recipe whose model loads --weights (e.g. recipes/slavc/released_vggss.toml)");
  args.Option("weights", "FILE", "with --recipe: weights as the method's authors released them (docs/model_zoo.md)");
  args.Option("image", "IMG", "an image (repeat with --audio for more pairs)", /*repeatable=*/true);
  args.Option("audio", "WAV", "the audio of the image given at the same position", /*repeatable=*/true);
  args.Option("video", "FILE", "a video with sound (mp4, mkv, webm, ...) instead of --image/--audio pairs");
  args.Option("fps", "F", "with --video: frames per second to localize (default: every frame of the video)");
  args.Option("window", "S",
              "with --video: seconds of sound centred on each frame (default: the recipe's clip_seconds)");
  args.Option("silence-db", "D",
              "a sound whose RMS level is below D dBFS is silent, hence not sounding whatever the confidence (-60)");
  args.Option("out", "DIR", "output folder (created)");
  args.Option("threshold", "T", "confidence threshold of `sounding` (overrides the run's)");
  args.Flag("verbose", "print full C++ stack traces of errors");
  AddRecipeOptions(args);
  AddPluginOptions(args);
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  const bool verbose = args.Has("verbose");
  auto usage = [&](const std::string& why) {
    std::cerr << "avsl infer: " << why << "\n\n" << args.Usage();
    return kExitUsage;
  };
  if (args.Has("run") == args.Has("recipe"))
    return usage("give either --run RUN_DIR or --recipe RECIPE --weights FILE");
  if (args.Has("recipe") != args.Has("weights")) return usage("--recipe and --weights go together");
  if (args.Has("checkpoint") && !args.Has("run")) return usage("--checkpoint names a checkpoint of --run");
  const std::vector<std::string> images = args.GetAll("image");
  const std::vector<std::string> audios = args.GetAll("audio");
  const std::string video = args.Get("video");
  const bool video_mode = args.Has("video");
  if (video_mode && (!images.empty() || !audios.empty()))
    return usage("give --video or --image/--audio pairs, not both");
  if (!video_mode && (args.Has("fps") || args.Has("window"))) return usage("--fps and --window go with --video");
  double fps = 0;
  std::optional<double> window;
  if (args.Has("fps") && (!absl::SimpleAtod(args.Get("fps"), &fps) || !(fps > 0) || fps > 1000)) {
    return usage(absl::StrCat("--fps: expected a number in (0, 1000], found '", args.Get("fps"), "'"));
  }
  if (args.Has("window")) {
    double w = 0;
    if (!absl::SimpleAtod(args.Get("window"), &w) || !(w >= 0.01) || w > 3600) {
      return usage(absl::StrCat("--window: expected seconds in [0.01, 3600], found '", args.Get("window"), "'"));
    }
    window = w;
  }
  double silence_dbfs = -60;
  if (args.Has("silence-db") &&
      (!absl::SimpleAtod(args.Get("silence-db"), &silence_dbfs) || !std::isfinite(silence_dbfs) || silence_dbfs > 0)) {
    return usage(absl::StrCat("--silence-db: expected a level <= 0 (dBFS), found '", args.Get("silence-db"), "'"));
  }
  if (video_mode && !data::VideoSupported()) {
    return ReportError(
        "infer",
        absl::FailedPreconditionError("--video: this avsl was built without FFmpeg's libraries (AVSL_WITH_FFMPEG; "
                                      "Debian: libavformat-dev libavcodec-dev libavutil-dev libswscale-dev)"),
        verbose);
  }
  if (!video_mode && (images.empty() || images.size() != audios.size())) {
    return usage(absl::StrCat("give --image and --audio in pairs (found ", images.size(), " images and ", audios.size(),
                              " audio files)"));
  }
  if (!args.Has("out")) return usage("--out is required");
  std::optional<double> forced_threshold;
  if (args.Has("threshold")) {
    double t = 0;
    if (!absl::SimpleAtod(args.Get("threshold"), &t) || !std::isfinite(t)) {
      return usage(absl::StrCat("--threshold: expected a number, found '", args.Get("threshold"), "'"));
    }
    forced_threshold = t;
  }
  const std::string run_dir = args.Get("run");
  std::error_code ec;
  if (!run_dir.empty() && !fs::exists(fs::path(run_dir) / "recipe.toml", ec)) {
    return ReportError("infer", absl::NotFoundError(run_dir + " is not a run directory (no recipe.toml)"), verbose);
  }

  std::unique_ptr<PluginHost> host = LoadPlugins(args);
  if (!run_dir.empty()) {
    for (const std::string& line : LoadRecordedPlugins(run_dir, *host)) std::cerr << "avsl infer: " << line << "\n";
  }
  const std::string recipe_path = run_dir.empty() ? args.Get("recipe") : (fs::path(run_dir) / "recipe.toml").string();
  // First the recipe as given, for its test pipeline; then again with data.test replaced by the user's pairs.
  absl::StatusOr<Recipe> recipe = LoadRecipe(recipe_path, args, *host);
  if (!recipe.ok()) return ReportError("infer", recipe.status(), verbose);
  const std::vector<std::string> keys = PairKeys(images);
  const std::string video_stem = fs::path(video).stem().string();
  std::vector<std::string> sets = args.GetAll("set");
  sets.push_back(video_mode ? VideoFramesOverride(recipe->Root(), video, fps, window, video_stem)
                            : PairsOverride(recipe->Root(), images, audios, keys));
  recipe = LoadRecipe(recipe_path, sets, *host);
  if (!recipe.ok()) return ReportError("infer", recipe.status(), verbose);
  const ComponentConfig root = recipe->Root();

  absl::StatusOr<train::Runtime> runtime = train::ApplyRuntime(root);
  if (!runtime.ok()) return ReportError("infer", runtime.status(), verbose);
  absl::StatusOr<std::shared_ptr<Method>> method = train::BuildSeededMethod(root, runtime->seed, runtime->device,
                                                                            host->registry());
  if (!method.ok()) return ReportError("infer", WithPluginHint(method.status(), *host), verbose);
  std::string weights_note;
  std::string checkpoint_name;
  if (!run_dir.empty()) {
    checkpoint_name = args.Has("checkpoint")
                          ? args.Get("checkpoint")
                          : train::SelectedCheckpointName(run_dir, root.Sub("train").GetString("select"),
                                                          root.Sub("train").GetString("monitor"));
    weights_note = (fs::path(run_dir) / "checkpoints" / (checkpoint_name + ".pt")).string();
    if (absl::Status s = checkpoint::LoadMethodWeights(weights_note, **method); !s.ok()) {
      return ReportError("infer", s, verbose);
    }
  } else {
    absl::StatusOr<train::WeightsLayout> layout = train::WeightsLayoutFromRecipe(root);
    if (!layout.ok()) return ReportError("infer", layout.status(), verbose);
    absl::StatusOr<train::ReleasedWeightsLoad> loaded = train::LoadReleasedWeights(args.Get("weights"), *layout,
                                                                                   **method);
    if (!loaded.ok()) return ReportError("infer", loaded.status(), verbose);
    weights_note = args.Get("weights");
    std::cout << "weights: " << train::DescribeReleasedWeightsLoad(args.Get("weights"), *loaded) << "\n";
  }
  const Threshold threshold = forced_threshold ? Threshold{forced_threshold, "--threshold"}
                              : !run_dir.empty()
                                  ? RunThreshold(run_dir, checkpoint_name)
                                  : Threshold{std::nullopt,
                                              "none: --recipe/--weights has no validation; pass --threshold"};

  absl::StatusOr<std::unique_ptr<data::Loader>> loader = train::BuildLoader(root, "test", /*train=*/false,
                                                                            runtime->seed, host->registry());
  if (!loader.ok()) return ReportError("infer", WithPluginHint(loader.status(), *host), verbose);
  train::MapEvaluationOptions options;
  absl::StatusOr<metrics::EvalProtocol> protocol = train::EvalProtocolFromRecipe(root);
  if (!protocol.ok()) return ReportError("infer", protocol.status(), verbose);
  options.protocol = *protocol;
  options.method_name = root.Sub("model").type();
  const std::string out_dir = args.Get("out");
  fs::create_directories(out_dir, ec);
  if (ec)
    return ReportError("infer", absl::UnavailableError("cannot create " + out_dir + ": " + ec.message()), verbose);
  if (video_mode) {
    return InferVideo(video, video_stem, fps, window ? *window : RecipeClipSeconds(root).value_or(3.0), silence_dbfs,
                      out_dir, threshold, **method, **loader, *runtime, options, verbose);
  }
  std::map<std::string, PairResult> results;
  options.on_sample = [&](const Sample& s, const Map2D& map, double conf) -> absl::Status {
    results[s.key] = PairResult{map, conf};
    return absl::OkStatus();
  };
  absl::StatusOr<train::MethodEvaluation> evaluated = train::EvaluateMethod(**method, **loader, 0, runtime->device,
                                                                            options);
  if (!evaluated.ok()) return ReportError("infer", evaluated.status(), verbose);

  viz::OverlayOptions overlay;
  overlay.protocol = *protocol;
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string& key = keys[i];  // the names PairsOverride gave the dataset
    const auto it = results.find(key);
    if (it == results.end()) {
      return ReportError("infer", absl::InternalError(absl::StrCat("no map came back for ", images[i])), verbose);
    }
    const Map2D& map = it->second.map;
    const double conf = it->second.confidence;
    const fs::path stem = fs::path(out_dir) / key;
    absl::Status s = io::WriteNpy(stem.string() + ".npy", map.values.data(), {map.height, map.width});
    absl::StatusOr<data::RgbImage> frame = data::DecodeImageFile(images[i]);
    if (!frame.ok()) s = frame.status();
    // The level of the window the model heard (the pairs' clip options, as datasets.Pairs reads it).
    data::ClipOptions clip;
    clip.clip_seconds = root.Sub("data").Sub("test").GetFloat("clip_seconds");
    clip.target_sample_rate = static_cast<int>(root.Sub("data").Sub("test").GetInt("sample_rate"));
    absl::StatusOr<data::MonoAudio> heard = data::LoadAudioClip(audios[i], clip);
    if (!heard.ok()) s = heard.status();
    const double level = heard.ok() ? RmsDbfs(heard->samples) : 0.0;
    const bool silent = level < silence_dbfs;
    const std::optional<bool> sounding = Sounding(conf, threshold.value, silent);
    MapPeak peak;
    if (s.ok()) {
      peak = FindMapPeak(map, frame->width, frame->height);
      viz::OverlayInput in;
      in.key = key;
      in.frame = *frame;
      in.map = map;
      in.caption = {key, absl::StrFormat("conf %.3f  %s", conf,
                                         silent      ? "silent"
                                         : !sounding ? "sounding ?"
                                         : *sounding ? "sounding"
                                                     : "not sounding")};
      absl::StatusOr<data::RgbImage> picture = viz::RenderOverlay(in, overlay);
      s = picture.ok() ? viz::WritePng(stem.string() + ".png", *picture) : picture.status();
    }
    if (s.ok()) {
      nlohmann::json j;
      j["image"] = images[i];
      j["audio"] = audios[i];
      j["weights"] = weights_note;
      j["map"] = key + ".npy";
      j["overlay"] = key + ".png";
      j["confidence"] = conf;
      j["confidence_rule"] = evaluated->confidence;
      j["peak"] = {{"x", peak.x}, {"y", peak.y}, {"grid", map.width}};
      j["peak_source_pixel"] = {{"x", peak.source_x}, {"y", peak.source_y}};
      j["sounding"] = sounding ? nlohmann::json(*sounding) : nlohmann::json(nullptr);
      j["audio_rms_dbfs"] = std::round(level * 100) / 100;
      j["silent"] = silent;
      j["threshold"] = threshold.value ? nlohmann::json(*threshold.value) : nlohmann::json(nullptr);
      j["threshold_source"] = threshold.source;
      s = io::WriteFileAtomically(stem.string() + ".json", j.dump(2) + "\n");
    }
    if (!s.ok()) return ReportError("infer", s, verbose);
    std::cout << key << ": confidence " << absl::StrFormat("%.4f", conf) << ", peak (" << peak.x << ", " << peak.y
              << ") of " << map.width << "x" << map.height << ", sounding "
              << (silent      ? "no (silent)"
                  : !sounding ? "unknown"
                  : *sounding ? "yes"
                              : "no")
              << " -> " << stem.string() << ".{npy,png,json}\n";
  }
  std::cout << "threshold: "
            << (threshold.value ? absl::StrFormat("%.6g (%s)", *threshold.value, threshold.source) : threshold.source)
            << "\n";
  return kExitOk;
}

}  // namespace avsl::cli
