#include "video_heatmap.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>

#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "avsl/core/status_macros.h"
#include "avsl/data/audio_clip.h"
#include "avsl/viz/overlay.h"
#include "nlohmann/json.hpp"

namespace avsl::cli {
namespace fs = std::filesystem;
namespace {

int EvenAtLeast2(double v) { return std::max(2, 2 * static_cast<int>(std::lround(v / 2.0))); }

std::string Clock(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  return s >= 3600 ? absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                   : absl::StrFormat("%d:%02d", s / 60, s % 60);
}

// An RGB image resized with OpenCV (the output picture from the square overlay).
data::RgbImage Resized(const data::RgbImage& in, int x0, int y0, int w, int h, int out_w, int out_h) {
  cv::Mat src(in.height, in.width, CV_8UC3, const_cast<uint8_t*>(in.pixels.data()));
  data::RgbImage out;
  out.width = out_w;
  out.height = out_h;
  out.pixels.resize(static_cast<size_t>(out_w) * out_h * 3);
  cv::Mat dst(out_h, out_w, CV_8UC3, out.pixels.data());
  cv::resize(src(cv::Rect(x0, y0, w, h)), dst, cv::Size(out_w, out_h), 0, 0, cv::INTER_AREA);
  return out;
}

}  // namespace

MapPeak FindMapPeak(const Map2D& map, int source_width, int source_height) {
  MapPeak p;
  if (map.values.empty() || map.width <= 0) return p;
  const size_t peak = static_cast<size_t>(std::max_element(map.values.begin(), map.values.end()) - map.values.begin());
  p.x = static_cast<int>(peak % static_cast<size_t>(map.width));
  p.y = static_cast<int>(peak / static_cast<size_t>(map.width));
  p.source_x = std::min(source_width - 1, static_cast<int>((p.x + 0.5) * source_width / map.width));
  p.source_y = std::min(source_height - 1, static_cast<int>((p.y + 0.5) * source_height / map.height));
  return p;
}

double RmsDbfs(const std::vector<double>& samples) {
  double sum = 0;
  for (double v : samples) sum += v * v;
  const double rms = samples.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(samples.size()));
  return rms > 1e-10 ? std::max(-200.0, 20.0 * std::log10(rms)) : -200.0;
}

std::optional<bool> Sounding(double confidence, const std::optional<double>& threshold, bool silent) {
  if (silent) return false;
  if (!threshold) return std::nullopt;
  return confidence >= *threshold;
}

absl::StatusOr<std::unique_ptr<VideoHeatmapOutput>> VideoHeatmapOutput::Open(
    const VideoHeatmapOptions& o, std::unique_ptr<data::VideoReader> reader) {
  std::unique_ptr<VideoHeatmapOutput> out(new VideoHeatmapOutput());
  out->options_ = o;
  out->reader_ = std::move(reader);
  AVSL_ASSIGN_OR_RETURN(data::AudioTrack audio, out->reader_->ReadAudio());
  const data::VideoInfo& info = out->reader_->info();
  // The longer side between min_side and max_side: a small video is enlarged so that the caption is readable.
  const int longer = std::max(info.width, info.height);
  const double scale = static_cast<double>(std::clamp(longer, o.min_side, o.max_side)) / longer;
  out->width_ = EvenAtLeast2(info.width * scale);
  out->height_ = EvenAtLeast2(info.height * scale);
  viz::VideoWriterOptions w;
  w.width = out->width_;
  w.height = out->height_ + viz::CaptionHeight(1);
  w.fps = o.fps;
  w.audio_sample_rate = audio.mono.sample_rate;
  // AAC in mp4 takes up to 8 channels; a wider track is kept as its mono downmix.
  const bool keep_channels = audio.channels >= 1 && audio.channels <= 8;
  w.audio_channels = keep_channels ? audio.channels : 1;
  AVSL_ASSIGN_OR_RETURN(out->writer_, viz::VideoWriter::Open(out->video_path(), w));
  if (keep_channels) {
    AVSL_RETURN_IF_ERROR(out->writer_->WriteAudio(audio.interleaved.data(),
                                                  audio.interleaved.size() / static_cast<size_t>(audio.channels)));
  } else {
    const std::vector<float> mono(audio.mono.samples.begin(), audio.mono.samples.end());
    AVSL_RETURN_IF_ERROR(out->writer_->WriteAudio(mono.data(), mono.size()));
  }
  std::vector<float>().swap(audio.interleaved);  // encoded above; the level check needs the mono track only
  out->track_ = std::move(audio);
  out->jsonl_.open(out->jsonl_path() + ".partial", std::ios::trunc);
  if (!out->jsonl_) return absl::UnavailableError(absl::StrCat("cannot write ", out->jsonl_path(), ".partial"));
  out->tty_ = isatty(fileno(stderr)) != 0;
  out->start_ = std::chrono::steady_clock::now();
  return out;
}

std::string VideoHeatmapOutput::video_path() const {
  return (fs::path(options_.out_dir) / (options_.stem + ".heatmap.mp4")).string();
}
std::string VideoHeatmapOutput::jsonl_path() const {
  return (fs::path(options_.out_dir) / (options_.stem + ".jsonl")).string();
}

absl::Status VideoHeatmapOutput::Add(size_t index, const Map2D& map, double confidence) {
  if (index >= options_.samples.size() || index < next_ || waiting_.count(index) != 0) {
    return absl::InternalError(absl::StrCat("video frame sample ", index, " came twice or is out of range"));
  }
  waiting_.emplace(index, std::make_pair(map, confidence));
  while (!waiting_.empty() && waiting_.begin()->first == next_) {
    auto node = waiting_.extract(waiting_.begin());
    AVSL_RETURN_IF_ERROR(Emit(next_, node.mapped().first, node.mapped().second));
    ++next_;
    Progress(/*last=*/false);
  }
  return absl::OkStatus();
}

absl::Status VideoHeatmapOutput::Emit(size_t index, const Map2D& map, double confidence) {
  const data::FrameSample& at = options_.samples[index];
  while (!frame_ || frame_->index < at.frame) {
    AVSL_ASSIGN_OR_RETURN(std::optional<data::VideoFrame> next, reader_->NextFrame());
    if (!next) {
      return absl::DataLossError(absl::StrCat(options_.video, ": frame ", at.frame, " is missing (the file decodes to ",
                                              frame_ ? frame_->index + 1 : 0, " frames)"));
    }
    frame_ = std::move(next);
  }
  const double level = RmsDbfs(data::AudioWindowAt(track_, at.time_seconds, options_.window_seconds));
  const bool silent = level < options_.silence_dbfs;
  const std::optional<bool> sounding = Sounding(confidence, options_.threshold, silent);
  if (silent) ++silent_;
  if (sounding) {
    ++decided_;
    if (*sounding) ++sounding_;
  }
  viz::OverlayOptions overlay;
  overlay.protocol = options_.protocol;
  overlay.size = std::max(width_, height_);
  overlay.caption_lines = 1;
  viz::OverlayInput in;
  in.key = absl::StrCat(options_.stem, " frame ", at.frame);
  in.frame = frame_->image;
  in.map = map;
  in.caption = {absl::StrFormat("%.2f s  conf %.3f  %s", at.time_seconds, confidence,
                                silent      ? "silent"
                                : !sounding ? ""
                                : *sounding ? "sounding"
                                            : "not sounding")};
  AVSL_ASSIGN_OR_RETURN(data::RgbImage square, viz::RenderOverlay(in, overlay));
  // The overlay squashes the frame to a square: the picture part goes back to the video's aspect, the caption
  // strip below keeps its height.
  const int side = overlay.size;
  const int caption = viz::CaptionHeight(1);
  data::RgbImage picture = Resized(square, 0, 0, side, side, width_, height_);
  const data::RgbImage strip = Resized(square, 0, side, side, caption, width_, caption);
  picture.pixels.insert(picture.pixels.end(), strip.pixels.begin(), strip.pixels.end());
  picture.height += caption;
  AVSL_RETURN_IF_ERROR(writer_->WriteFrame(picture));

  const MapPeak peak = FindMapPeak(map, frame_->image.width, frame_->image.height);
  nlohmann::json j;
  j["index"] = index;
  j["time"] = at.time_seconds;
  j["frame"] = at.frame;
  j["frame_time"] = frame_->time_seconds;
  j["confidence"] = confidence;
  j["sounding"] = sounding ? nlohmann::json(*sounding) : nlohmann::json(nullptr);
  j["audio_rms_dbfs"] = std::round(level * 100) / 100;
  j["silent"] = silent;
  j["peak"] = {{"x", peak.x}, {"y", peak.y}, {"grid", map.width}};
  j["peak_source_pixel"] = {{"x", peak.source_x}, {"y", peak.source_y}};
  jsonl_ << j.dump() << "\n";
  if (!jsonl_) return absl::UnavailableError(absl::StrCat("writing ", jsonl_path(), ".partial failed"));
  return absl::OkStatus();
}

void VideoHeatmapOutput::Progress(bool last) {
  const size_t total = options_.samples.size();
  const int percent = total == 0 ? 100 : static_cast<int>(100 * next_ / total);
  // A terminal gets a bar redrawn in place; a log file a line every 10%.
  if (!tty_ && !last && percent / 10 == last_percent_ / 10) return;
  if (tty_ && !last && percent == last_percent_ && next_ != total) return;
  last_percent_ = percent;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(next_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total - next_) / rate : -1.0;
  const int width = 30;
  const int filled = total == 0 ? width : static_cast<int>(width * next_ / total);
  std::fprintf(stderr, "%sframes [%s%s] %zu/%zu %.1f frames/s eta %s%s", tty_ ? "\r" : "",
               std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), next_, total, rate,
               Clock(eta).c_str(), tty_ && !last ? "   " : "\n");
}

absl::Status VideoHeatmapOutput::Finish() {
  if (next_ != options_.samples.size()) {
    return absl::InternalError(absl::StrCat("only ", next_, " of ", options_.samples.size(),
                                            " video frame samples came back from the evaluation"));
  }
  if (tty_) Progress(/*last=*/true);
  AVSL_RETURN_IF_ERROR(writer_->Finish());
  jsonl_.close();
  if (!jsonl_) return absl::UnavailableError(absl::StrCat("closing ", jsonl_path(), ".partial failed"));
  std::error_code ec;
  fs::rename(jsonl_path() + ".partial", jsonl_path(), ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot rename ", jsonl_path(), ".partial: ", ec.message()));
  return absl::OkStatus();
}

}  // namespace avsl::cli
