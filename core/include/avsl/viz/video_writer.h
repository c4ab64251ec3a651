// Video output through FFmpeg's libraries: RGB pictures encoded as H.264 (libx264, else MPEG-4 Part 2 when this
// FFmpeg has no H.264 encoder) and optionally an AAC audio track, muxed into the container the file name says (.mp4,
// .mkv, ...). Written under `<path>.partial` and renamed by Finish(), so a crash or an error never leaves a file that
// looks complete; an unfinished writer removes its partial file. Needs a build with FFmpeg (data::VideoSupported()).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/data/image_transform.h"

namespace avsl::viz {

struct VideoWriterOptions {
  int width = 0;   ///< even (4:2:0 chroma)
  int height = 0;  ///< even
  double fps = 25;
  int audio_sample_rate = 0;  ///< 0: no audio track
  int audio_channels = 0;     ///< 1..8 when there is audio
  int crf = 20;               ///< H.264 quality (lower = better; MPEG-4 gets an equivalent fixed quantizer)
};

class VideoWriter {
 public:
  /// Opens the encoders and writes the container header. InvalidArgument for odd or non-positive sizes, a
  /// non-positive fps, or a name whose container FFmpeg does not know; errors name `path`.
  static absl::StatusOr<std::unique_ptr<VideoWriter>> Open(const std::string& path, const VideoWriterOptions& options);
  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  /// Appends a picture of exactly width x height; its time is (pictures so far) / fps.
  absl::Status WriteFrame(const data::RgbImage& image);
  /// Appends `frames` sample frames of audio_channels interleaved floats (full scale +-1), from time 0 on.
  absl::Status WriteAudio(const float* interleaved, size_t frames);
  /// Flushes the encoders, writes the trailer and renames the partial file to `path`.
  absl::Status Finish();

  /// The video encoder chosen ("libx264" or "mpeg4").
  std::string video_codec() const;

  struct Impl;

 private:
  explicit VideoWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace avsl::viz
