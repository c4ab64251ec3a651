#include "pipeline.h"

#include <filesystem>
#include <random>
#include <utility>

#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "avsl/core/counter_rng.h"
#include "avsl/core/status_macros.h"

namespace avsl::plugins::datasets {

int PipelineOptions::train_resize() const {
  // Python's int(224 * 1.1) = 246, as in the reference; computed the same way for other sizes.
  return resize > 0 ? resize : static_cast<int>(input_size * 1.1);
}

void AddPipelineFields(Schema& s, int default_input_size) {
  s.Int("input_size", default_input_size, "side of the square model input: train crop and test squash size")
      .Range(8, 4096);
  s.Int("resize", 0, "train: short side before the random crop; 0 = int(1.1 * input_size), i.e. 246 for 224")
      .Range(0, 8192);
  s.Float("flip", 0.5, "train: probability of a horizontal flip").Range(0, 1);
  s.Int("gt_size", 224, "side of the ground-truth map (the evaluation frame; the reference uses 224)").Range(8, 4096);
  s.Int("nperseg", 512, "spectrogram segment length (scipy nperseg; FFT size)").Range(8, 65536);
  s.Int("noverlap", 274, "spectrogram segment overlap (scipy noverlap; hop = nperseg - noverlap)").Range(0, 65535);
}

absl::StatusOr<PipelineOptions> ReadPipelineOptions(const ComponentConfig& c) {
  PipelineOptions o;
  o.input_size = static_cast<int>(c.GetInt("input_size"));
  o.resize = static_cast<int>(c.GetInt("resize"));
  o.flip = c.GetFloat("flip");
  o.gt_size = static_cast<int>(c.GetInt("gt_size"));
  o.nperseg = static_cast<int>(c.GetInt("nperseg"));
  o.noverlap = static_cast<int>(c.GetInt("noverlap"));
  if (o.nperseg % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("recipe key '", c.path(), ".nperseg' = ", o.nperseg, ": expected an even length"));
  }
  if (o.noverlap >= o.nperseg) {
    return absl::InvalidArgumentError(
        absl::StrCat("recipe key '", c.path(), ".noverlap' = ", o.noverlap, ": expected < nperseg (", o.nperseg, ")"));
  }
  if (o.train_resize() < o.input_size) {
    return absl::InvalidArgumentError(absl::StrCat("recipe key '", c.path(), ".resize' = ", o.resize,
                                                   ": expected 0 or >= input_size (", o.input_size, ")"));
  }
  return o;
}

uint64_t AugmentationSeed(const SampleContext& ctx, size_t index) {
  // "split" slot 0x61756720 ("aug ") keeps this stream apart from the synthetic generator's keys.
  return CounterRng::KeyFor(ctx.seed, 0x61756720ULL, ctx.epoch, static_cast<uint64_t>(index), 0);
}

absl::StatusOr<TransformedImage> TransformImage(const data::RgbImage& image, const PipelineOptions& o, bool augment,
                                                const SampleContext& ctx, size_t index, const std::string& name) {
  TransformedImage out;
  if (augment) {
    data::TrainTransformOptions train;
    train.resize_short_side = o.train_resize();
    train.crop_size = o.input_size;
    train.flip_probability = o.flip;
    // mt19937_64 is fully specified by the standard, so the crop/flip draws are the same everywhere.
    std::mt19937_64 rng(AugmentationSeed(ctx, index));
    absl::StatusOr<data::ImageGeometry> g = data::SampleTrainGeometry(image.width, image.height, train, rng);
    if (!g.ok()) return Prefixed(g.status(), absl::StrCat(name, ": "));
    out.geometry = *g;
  } else {
    data::TestTransformOptions test;
    test.width = o.input_size;
    test.height = o.input_size;
    out.geometry = data::TestGeometry(image.width, image.height, test);
  }
  absl::StatusOr<data::ImageTensor> t = data::ApplyGeometry(image, out.geometry, data::Normalization{});
  if (!t.ok()) return Prefixed(t.status(), absl::StrCat(name, ": "));
  out.tensor = *std::move(t);
  return out;
}

void AddAudioFileFields(Schema& s) {
  s.Float("clip_seconds", 3.0, "audio window centred on the clip (tiled when shorter); the reference uses 3")
      .Range(0.01, 3600);
  s.Int("sample_rate", 0, "resample to this rate first; 0 keeps the file's native rate (the reference)")
      .Range(0, 384000);
}

data::ClipOptions ReadAudioFileOptions(const ComponentConfig& c) {
  data::ClipOptions clip;
  clip.clip_seconds = c.GetFloat("clip_seconds");
  clip.target_sample_rate = static_cast<int>(c.GetInt("sample_rate"));
  return clip;
}

absl::StatusOr<TransformedImage> LoadImageFile(const std::string& path, const PipelineOptions& options, bool augment,
                                               const SampleContext& context, size_t index) {
  absl::StatusOr<data::RgbImage> rgb = data::DecodeImageFile(path);
  if (!rgb.ok()) return rgb.status();
  return TransformImage(*rgb, options, augment, context, index, path);
}

absl::StatusOr<data::Spectrogram> LoadAudioFileFeatures(const std::string& path, const data::ClipOptions& clip,
                                                        const PipelineOptions& options) {
  absl::StatusOr<data::MonoAudio> audio = data::LoadAudioClip(path, clip);
  if (!audio.ok()) return audio.status();
  return AudioFeatures(audio->samples, audio->sample_rate, options, path);
}

namespace {

Map2D ResizeNearest(const Map2D& map, int size) {
  if (map.height == size && map.width == size) return map;
  Map2D out(size, size);
  cv::Mat src(map.height, map.width, CV_64F, const_cast<double*>(map.values.data()));
  cv::Mat dst(size, size, CV_64F, out.values.data());
  cv::resize(src, dst, cv::Size(size, size), 0, 0, cv::INTER_NEAREST);
  return out;
}

}  // namespace

Map2D GtInInputView(const Map2D& gt, const data::ImageGeometry& g, bool augmented, int gt_size) {
  if (!augmented) return ResizeNearest(gt, gt_size);
  return ResizeNearest(data::TransformMap(gt, g, /*nearest=*/true), gt_size);
}

absl::StatusOr<data::Spectrogram> AudioFeatures(const std::vector<double>& samples, int sample_rate,
                                                const PipelineOptions& o, const std::string& name) {
  data::SpectrogramOptions so;
  so.nperseg = o.nperseg;
  so.noverlap = o.noverlap;
  absl::StatusOr<data::Spectrogram> s = data::ComputeSpectrogram(samples, sample_rate, so);
  if (!s.ok()) return Prefixed(s.status(), absl::StrCat(name, ": "));
  return s;
}

data::RgbImage RgbFromBgr(const cv::Mat& bgr) {
  data::RgbImage out;
  out.height = bgr.rows;
  out.width = bgr.cols;
  out.pixels.resize(static_cast<size_t>(bgr.rows) * bgr.cols * 3);
  cv::Mat rgb(bgr.rows, bgr.cols, CV_8UC3, out.pixels.data());
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return out;
}

std::string ResolvePath(const std::string& root, const std::string& path) {
  const std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(root) / p).string();
}

absl::Status Prefixed(const absl::Status& status, const std::string& prefix) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

}  // namespace avsl::plugins::datasets
