// avsl infer --video's outputs: the heatmap video (each sampled frame with its map blended over it and a caption,
// the input's audio track re-encoded alongside) and one JSON line per sampled frame. Maps arrive in any order (the
// evaluation's threads); frames are written in time order as soon as the next one is there.
#pragma once

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/core/map2d.h"
#include "avsl/data/video_reader.h"
#include "avsl/metrics/eval_protocol.h"
#include "avsl/viz/video_writer.h"

namespace avsl::cli {

/// The map's highest cell on its grid and the matching pixel of a width x height source frame (the test transform
/// squashes the whole frame onto the grid, so a cell's centre scales to source pixels).
struct MapPeak {
  int x = 0, y = 0;                // grid cell
  int source_x = 0, source_y = 0;  // source pixel
};
MapPeak FindMapPeak(const Map2D& map, int source_width, int source_height);

/// RMS level of `samples` in dB relative to full scale (1.0), floored at -200 (digital silence).
double RmsDbfs(const std::vector<double>& samples);

/// Whether a visible source sounds: false when the sound is silent (its level below the silence floor: nothing can
/// make a sound that is not there, whatever the model says of an input it never saw in training), else
/// confidence >= threshold, unknown without a threshold.
std::optional<bool> Sounding(double confidence, const std::optional<double>& threshold, bool silent);

struct VideoHeatmapOptions {
  std::string video;    ///< the input file
  std::string out_dir;  ///< writes <stem>.heatmap.mp4 and <stem>.jsonl there
  std::string stem;
  double fps = 0;                          ///< output frame rate (the sampling rate)
  std::vector<data::FrameSample> samples;  ///< what datasets.VideoFrames sampled, in key order
  metrics::EvalProtocol protocol;          ///< its binarization is drawn as the prediction contour
  std::optional<double> threshold;         ///< see Sounding()
  double window_seconds = 3;               ///< the sound each frame was localized with (for its level)
  double silence_dbfs = -60;               ///< a window below this level is silent
  int min_side = 320;                      ///< the output's longer side: at least (a small video is enlarged)
  int max_side = 640;                      ///< and at most
};

class VideoHeatmapOutput {
 public:
  /// `reader` is options.video opened and not yet read from (its frames are decoded for the output pictures).
  static absl::StatusOr<std::unique_ptr<VideoHeatmapOutput>> Open(const VideoHeatmapOptions& options,
                                                                  std::unique_ptr<data::VideoReader> reader);

  /// The map and confidence of sample `index` (any order).
  absl::Status Add(size_t index, const Map2D& map, double confidence);
  /// Checks every sample came, closes both files (renamed from their partial names).
  absl::Status Finish();

  std::string video_path() const;
  std::string jsonl_path() const;
  std::string video_codec() const { return writer_->video_codec(); }
  size_t sounding_frames() const { return sounding_; }
  size_t decided_frames() const { return decided_; }
  size_t silent_frames() const { return silent_; }

 private:
  VideoHeatmapOutput() = default;
  absl::Status Emit(size_t index, const Map2D& map, double confidence);
  void Progress(bool last);

  VideoHeatmapOptions options_;
  std::unique_ptr<data::VideoReader> reader_;
  std::optional<data::VideoFrame> frame_;  ///< the source frame last decoded
  std::unique_ptr<viz::VideoWriter> writer_;
  data::AudioTrack track_;  ///< mono only, for the level of each window
  std::ofstream jsonl_;
  int width_ = 0, height_ = 0;  ///< the output's picture area (a caption strip goes below)
  size_t next_ = 0;
  std::map<size_t, std::pair<Map2D, double>> waiting_;
  size_t sounding_ = 0, decided_ = 0, silent_ = 0;
  bool tty_ = false;
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace avsl::cli
