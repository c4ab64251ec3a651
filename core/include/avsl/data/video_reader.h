// Video files through FFmpeg's libraries (libavformat demuxes, libavcodec decodes): the frames as RGB with their
// presentation times, and the audio track with the reference's sample semantics (EZ-VSL/SLAVC read a video's sound
// with PyAV as mono int16 through libswresample, see wav_reader.h), so a frame and the audio around it go through the
// same pipeline as an image file and a WAV. Optional at build time (AVSL_WITH_FFMPEG): without FFmpeg every entry
// point returns FailedPrecondition saying so, and VideoSupported() is false.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avsl/data/image_transform.h"
#include "avsl/data/wav_reader.h"

namespace avsl::data {

/// True when this build was configured with FFmpeg's libraries (video reading and writing work).
bool VideoSupported();

/// What the container says about its best video stream and its best audio stream.
struct VideoInfo {
  std::string path;
  int width = 0;
  int height = 0;
  double frame_rate = 0;        ///< average frames per second (the stream's, else its r_frame_rate)
  double duration_seconds = 0;  ///< the container's duration; 0 when it does not say
  std::string video_codec;
  bool has_audio = false;
  int audio_sample_rate = 0;
  int audio_channels = 0;
  std::string audio_codec;
};

/// One decoded picture. Times are seconds from the file's start (the container's start_time), the origin the audio
/// track's start_seconds uses too.
struct VideoFrame {
  int64_t index = 0;  ///< position in presentation order, from 0
  double time_seconds = 0;
  RgbImage image;
};

/// The decoded audio track.
struct AudioTrack {
  double start_seconds = 0;  ///< time of the first sample, same origin as the frames'
  /// Mono with the reference's semantics: each sample frame downmixed to int16 as libswresample does
  /// (DownmixInt16 / DownmixFloat / DownmixDouble by the stream's sample format), then q / 32767 clipped to [-1, 1].
  MonoAudio mono;
  int channels = 0;                ///< of the stream
  std::vector<float> interleaved;  ///< every channel, full scale +-1, for re-encoding the track as it was
};

/// Sequential reader of one file. Not thread-safe; open one per thread.
class VideoReader {
 public:
  /// Opens `path` and its best video stream. NotFound when the file is missing; InvalidArgument (naming the file)
  /// when it is not a media file, has no video stream, or its codec has no decoder in this FFmpeg.
  static absl::StatusOr<std::unique_ptr<VideoReader>> Open(const std::string& path);
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  const VideoInfo& info() const;

  /// The next frame in presentation order, converted to RGB at the stream's size; nullopt after the last one.
  /// A packet the decoder rejects is a DataLoss naming the file and the time reached.
  absl::StatusOr<std::optional<VideoFrame>> NextFrame();

  /// Presentation times of every video frame, read from the packets without decoding (sorted). Independent of
  /// NextFrame's position (it reads through a demuxer of its own).
  absl::StatusOr<std::vector<double>> FrameTimes() const;

  /// The whole audio track decoded (a demuxer of its own). FailedPrecondition naming the file when it has none.
  absl::StatusOr<AudioTrack> ReadAudio() const;

  struct Impl;

 private:
  explicit VideoReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Which frame stands for each output time when a video is sampled at `fps` frames per second: output k is at
/// t_k = first + k / fps for every t_k up to the last frame's time plus one source frame period (`frame_times` sorted),
/// and shows the last frame whose time is <= t_k (+1 µs for rounding), the frame on screen at t_k. `fps` <= 0 keeps
/// every frame at its own time.
struct FrameSample {
  double time_seconds = 0;  ///< t_k
  int64_t frame = 0;        ///< index into frame_times
};
std::vector<FrameSample> SampleFrames(const std::vector<double>& frame_times, double fps);

/// The `window_seconds` of mono audio centred on `time_seconds`, ClipLength(rate, window) samples long: shifted to
/// lie inside the track when the track is at least that long (every window is real sound, as in training), the whole
/// track when it is shorter (CentreClip then tiles it, as for a short WAV).
std::vector<double> AudioWindowAt(const AudioTrack& track, double time_seconds, double window_seconds);

}  // namespace avsl::data
