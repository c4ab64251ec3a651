// Small video files made with the same FFmpeg libraries avsl reads them with (viz::VideoWriter), for tests of the
// video path: frame i is a flat grey of level FrameLevel(i) (so order and timing can be checked after lossy coding)
// unless pictures are given, and the sound is a tone for tone_seconds, then silence.
// Header-only and framework-neutral like method_test_kit.h.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "avsl/data/image_transform.h"
#include "avsl/viz/video_writer.h"

namespace avsl::testing {

struct TestVideoSpec {
  int width = 64;
  int height = 48;
  double fps = 10;
  int frames = 20;
  /// Used in turn instead of the grey levels when not empty (each must be width x height).
  std::vector<data::RgbImage> pictures;
  int audio_rate = 16000;  ///< 0: no audio track
  int channels = 1;
  double audio_seconds = 2.0;
  double tone_seconds = 1.0;  ///< the tone (amplitude 0.5 on channel 0, 0.25 on the others), silence after
  double tone_hz = 440;
  /// Used instead of the tone when not empty: mono samples at audio_rate, copied to every channel.
  std::vector<float> audio;
};

/// The grey level of frame i: far enough apart to survive H.264 at crf 20.
inline int FrameLevel(int i) { return 16 + (i * 24) % 224; }

inline absl::Status WriteTestVideo(const std::string& path, const TestVideoSpec& spec) {
  viz::VideoWriterOptions o;
  o.width = spec.width;
  o.height = spec.height;
  o.fps = spec.fps;
  o.audio_sample_rate = spec.audio_rate;
  o.audio_channels = spec.audio_rate > 0 ? spec.channels : 0;
  absl::StatusOr<std::unique_ptr<viz::VideoWriter>> writer = viz::VideoWriter::Open(path, o);
  if (!writer.ok()) return writer.status();
  if (spec.audio_rate > 0) {
    std::vector<float> mono = spec.audio;
    if (mono.empty()) {
      const size_t n = static_cast<size_t>(std::lround(spec.audio_seconds * spec.audio_rate));
      const size_t tone = static_cast<size_t>(std::lround(spec.tone_seconds * spec.audio_rate));
      mono.resize(n, 0.f);
      for (size_t i = 0; i < std::min(n, tone); ++i) {
        mono[i] = static_cast<float>(0.5 *
                                     std::sin(2 * M_PI * spec.tone_hz * static_cast<double>(i) / spec.audio_rate));
      }
    }
    std::vector<float> interleaved;
    interleaved.reserve(mono.size() * static_cast<size_t>(spec.channels));
    for (float v : mono) {
      for (int c = 0; c < spec.channels; ++c) interleaved.push_back(c == 0 || !spec.audio.empty() ? v : 0.5f * v);
    }
    if (absl::Status s = (*writer)->WriteAudio(interleaved.data(), mono.size()); !s.ok()) return s;
  }
  for (int i = 0; i < spec.frames; ++i) {
    data::RgbImage picture;
    if (!spec.pictures.empty()) {
      picture = spec.pictures[static_cast<size_t>(i) % spec.pictures.size()];
    } else {
      picture.width = spec.width;
      picture.height = spec.height;
      picture.pixels.assign(static_cast<size_t>(spec.width) * spec.height * 3, static_cast<uint8_t>(FrameLevel(i)));
    }
    if (absl::Status s = (*writer)->WriteFrame(picture); !s.ok()) return s;
  }
  return (*writer)->Finish();
}

/// Mean of all channels of an RGB image.
inline double MeanLevel(const data::RgbImage& image) {
  double sum = 0;
  for (uint8_t v : image.pixels) sum += v;
  return image.pixels.empty() ? 0.0 : sum / static_cast<double>(image.pixels.size());
}

}  // namespace avsl::testing
