// datasets.VideoFrames: one video file as samples. Frames are taken at `fps` (the frame on screen at each time,
// data::SampleFrames) and each gets the `clip_seconds` of the file's sound centred on it (data::AudioWindowAt), both
// through the same test pipeline as datasets.Pairs, so a video frame and the same picture + sound as files give the
// same sample. `avsl infer --video` builds one from the recipe's test-set options.
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/status_macros.h"
#include "avsl/data/audio_clip.h"
#include "avsl/data/video_reader.h"
#include "components.h"
#include "pipeline.h"

namespace avsl::plugins::datasets {
namespace {

constexpr const char* kComponent = "datasets.VideoFrames";

class VideoFramesDataset final : public Dataset {
 public:
  /// `reader`: `path` opened and not yet read from (FrameTimes and ReadAudio read through demuxers of their own).
  VideoFramesDataset(std::string path, std::string stem, std::vector<data::FrameSample> samples, data::AudioTrack track,
                     PipelineOptions pipeline, double window_seconds, std::unique_ptr<data::VideoReader> reader)
      : path_(std::move(path)),
        stem_(std::move(stem)),
        samples_(std::move(samples)),
        track_(std::move(track)),
        pipeline_(pipeline),
        window_seconds_(window_seconds),
        reader_(std::move(reader)) {
    for (const data::FrameSample& s : samples_) ++uses_[s.frame];
    uses_left_ = samples_.size();
  }

  size_t size() const override { return samples_.size(); }

  absl::StatusOr<Sample> Get(size_t index, const SampleContext& context) const override {
    if (index >= samples_.size()) {
      return absl::OutOfRangeError(absl::StrCat(kComponent, ": index ", index, " >= size ", samples_.size()));
    }
    const data::FrameSample& at = samples_[index];
    Sample s;
    s.key = s.video_id = s.audio_id = SampleKey(index);
    s.sounding = false;  // unknown: no ground truth
    data::RgbImage frame;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      AVSL_ASSIGN_OR_RETURN(frame, TakeFrameLocked(at.frame));
    }
    const std::string name = Describe(index);
    AVSL_ASSIGN_OR_RETURN(TransformedImage image,
                          TransformImage(frame, pipeline_, /*augment=*/false, context, index, name));
    s.image = std::move(image.tensor);
    // As a WAV of exactly this window would be read: the window, then the reference's clip (a no-op at full length,
    // the tiling of a track shorter than the window).
    absl::StatusOr<std::vector<double>> clip = data::CentreClip(
        data::AudioWindowAt(track_, at.time_seconds, window_seconds_), track_.mono.sample_rate, window_seconds_);
    if (!clip.ok()) return Prefixed(clip.status(), name + ": ");
    AVSL_ASSIGN_OR_RETURN(s.audio, AudioFeatures(*clip, track_.mono.sample_rate, pipeline_, name));
    return s;
  }

  std::string Describe(size_t index) const override {
    if (index >= samples_.size()) return absl::StrCat(kComponent, " index ", index);
    return absl::StrFormat("%s at %.3f s (frame %d)", path_, samples_[index].time_seconds, samples_[index].frame);
  }

  /// Output k's key: the video's stem and k, zero-padded so that keys sort in time order.
  std::string SampleKey(size_t index) const { return absl::StrFormat("%s_%06d", stem_, index); }

 private:
  // Frames decode in order only. A frame some sample still needs is kept when the decoder passes it (the loader asks
  // for a batch's samples from several threads, in any order) and dropped when its last sample took it; a frame asked
  // for again after that restarts the decoder.
  absl::StatusOr<data::RgbImage> TakeFrameLocked(int64_t frame) const {
    auto cached = cache_.find(frame);
    if (cached == cache_.end()) {
      if (!reader_ || frame < next_frame_) {
        AVSL_ASSIGN_OR_RETURN(reader_, data::VideoReader::Open(path_));
        next_frame_ = 0;
        cache_.clear();
      }
      while (next_frame_ <= frame) {
        AVSL_ASSIGN_OR_RETURN(std::optional<data::VideoFrame> decoded, reader_->NextFrame());
        if (!decoded) {
          return absl::DataLossError(absl::StrCat(path_, ": frame ", frame, " is missing: the file decodes to only ",
                                                  next_frame_, " frames (truncated?)"));
        }
        const auto it = uses_.find(next_frame_);
        if (next_frame_ == frame || (it != uses_.end() && it->second > 0)) {
          cache_[next_frame_] = std::move(decoded->image);
        }
        ++next_frame_;
      }
      cached = cache_.find(frame);
      if (cached == cache_.end()) return absl::InternalError(absl::StrCat(path_, ": frame ", frame, " not kept"));
    }
    int& left = uses_[frame];
    if (left > 0) {
      --left;
      --uses_left_;
    }
    data::RgbImage out;
    if (left > 0) {
      out = cached->second;
    } else {
      out = std::move(cached->second);
      cache_.erase(cached);
    }
    // Every sample took its frame: a second pass over the set (another epoch) finds every use back.
    if (uses_left_ == 0) {
      for (const data::FrameSample& s : samples_) ++uses_[s.frame];
      uses_left_ = samples_.size();
    }
    return out;
  }

  std::string path_, stem_;
  std::vector<data::FrameSample> samples_;
  data::AudioTrack track_;
  PipelineOptions pipeline_;
  double window_seconds_;
  mutable std::mutex mutex_;
  mutable std::unique_ptr<data::VideoReader> reader_;
  mutable int64_t next_frame_ = 0;
  mutable std::map<int64_t, data::RgbImage> cache_;
  mutable std::map<int64_t, int> uses_;
  mutable size_t uses_left_ = 0;
};

absl::StatusOr<std::shared_ptr<Dataset>> MakeVideoFrames(const ComponentConfig& c) {
  AVSL_ASSIGN_OR_RETURN(PipelineOptions pipeline, ReadPipelineOptions(c));
  const std::string path = c.GetString("path");
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kComponent, " ", c.path(), ": 'path' (the video file) is required"));
  }
  const data::ClipOptions clip = ReadAudioFileOptions(c);
  const std::string where = absl::StrCat(kComponent, " ", c.path(), ": ");
  absl::StatusOr<std::unique_ptr<data::VideoReader>> reader = data::VideoReader::Open(path);
  if (!reader.ok()) return Prefixed(reader.status(), where);
  absl::StatusOr<std::vector<double>> times = (*reader)->FrameTimes();
  if (!times.ok()) return Prefixed(times.status(), where);
  if (times->empty()) return absl::InvalidArgumentError(absl::StrCat(where, path, ": the video stream has no frames"));
  absl::StatusOr<data::AudioTrack> track = (*reader)->ReadAudio();
  if (!track.ok()) return Prefixed(track.status(), where);
  if (clip.target_sample_rate > 0 && clip.target_sample_rate != track->mono.sample_rate) {
    // The whole track, as LoadAudioClip resamples a whole WAV before cutting the window.
    track->mono.samples = data::ResamplePoly(track->mono.samples, clip.target_sample_rate, track->mono.sample_rate);
    track->mono.sample_rate = clip.target_sample_rate;
  }
  std::vector<float>().swap(track->interleaved);  // only the mono track feeds the model: its memory goes
  std::vector<data::FrameSample> samples = data::SampleFrames(*times, c.GetFloat("fps"));
  return std::shared_ptr<Dataset>(std::make_shared<VideoFramesDataset>(
      path, c.GetString("key_prefix").empty() ? std::filesystem::path(path).stem().string() : c.GetString("key_prefix"),
      std::move(samples), *std::move(track), pipeline, clip.clip_seconds, *std::move(reader)));
}

}  // namespace

void RegisterVideoFrames(Registrar& registrar) {
  Schema s("A video file as samples: frames at fps, each with the sound centred on it (avsl infer --video's input)");
  s.String("path", "", "the video file (anything FFmpeg's libavformat demuxes: mp4, mkv, webm, avi, ...)");
  s.Float("fps", 0, "frames per second to sample; 0 = every frame of the video at its own time").Range(0, 1000);
  s.String("key_prefix", "", "sample keys are <key_prefix>_<k, 6 digits>; default: the file's stem");
  AddAudioFileFields(s);
  AddPipelineFields(s, 224);
  registrar.Register<Dataset>("VideoFrames", std::move(s), MakeVideoFrames,
                              "a video's frames at fps with the audio window centred on each, test pipeline (no GT)");
}

}  // namespace avsl::plugins::datasets
