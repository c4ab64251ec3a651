// Test fixture for `avsl infer --video`: an mp4 made with the FFmpeg libraries avsl reads it with. The picture is
// IMAGE for the whole video (its size rounded down to even); the sound is WAV repeated for SOUND seconds, then
// SILENT seconds of digital silence.
//   make_test_video OUT.mp4 IMAGE WAV SOUND SILENT FPS
// and reads one back (what a player would find in it):
//   make_test_video --probe FILE   ->  "frames N first T last T audio_channels C audio_seconds S"
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "avsl/data/image_transform.h"
#include "avsl/data/video_reader.h"
#include "avsl/data/wav_reader.h"
#include "avsl/testing/test_video.h"

namespace {

int Probe(const std::string& path) {
  absl::StatusOr<std::unique_ptr<avsl::data::VideoReader>> reader = avsl::data::VideoReader::Open(path);
  if (!reader.ok()) {
    std::cerr << "make_test_video: " << reader.status() << "\n";
    return 1;
  }
  int frames = 0;
  double first = -1, last = -1;
  for (;;) {
    absl::StatusOr<std::optional<avsl::data::VideoFrame>> f = (*reader)->NextFrame();
    if (!f.ok()) {
      std::cerr << "make_test_video: " << f.status() << "\n";
      return 1;
    }
    if (!f->has_value()) break;
    if (frames++ == 0) first = (*f)->time_seconds;
    last = (*f)->time_seconds;
  }
  absl::StatusOr<avsl::data::AudioTrack> audio = (*reader)->ReadAudio();
  std::cout << absl::StrFormat(
      "frames %d first %.3f last %.3f audio_channels %d audio_seconds %.3f\n", frames, first, last,
      audio.ok() ? audio->channels : 0,
      audio.ok() ? static_cast<double>(audio->mono.samples.size()) / audio->mono.sample_rate : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--probe") return Probe(argv[2]);
  double sound = 0, silent = 0, fps = 0;
  if (argc != 7 || !absl::SimpleAtod(argv[4], &sound) || !absl::SimpleAtod(argv[5], &silent) ||
      !absl::SimpleAtod(argv[6], &fps) || !(fps > 0) || sound < 0 || silent < 0) {
    std::cerr << "usage: make_test_video OUT.mp4 IMAGE WAV SOUND_SECONDS SILENT_SECONDS FPS\n";
    return 2;
  }
  absl::StatusOr<avsl::data::RgbImage> image = avsl::data::DecodeImageFile(argv[2]);
  absl::StatusOr<avsl::data::MonoAudio> wav = avsl::data::ReadMonoAudio(argv[3]);
  if (!image.ok() || !wav.ok() || wav->samples.empty()) {
    std::cerr << "make_test_video: " << (image.ok() ? wav.status() : image.status()) << "\n";
    return 1;
  }
  avsl::testing::TestVideoSpec spec;
  // Even sizes for 4:2:0: drop a last odd row / column.
  const int w = image->width / 2 * 2, h = image->height / 2 * 2;
  avsl::data::RgbImage even;
  even.width = w;
  even.height = h;
  for (int y = 0; y < h; ++y) {
    const auto row = image->pixels.begin() + static_cast<long>(y) * image->width * 3;
    even.pixels.insert(even.pixels.end(), row, row + w * 3);
  }
  spec.width = w;
  spec.height = h;
  spec.fps = fps;
  spec.frames = static_cast<int>((sound + silent) * fps + 0.5);
  spec.pictures = {even};
  spec.audio_rate = wav->sample_rate;
  const size_t loud = static_cast<size_t>(sound * wav->sample_rate + 0.5);
  const size_t quiet = static_cast<size_t>(silent * wav->sample_rate + 0.5);
  for (size_t i = 0; i < loud; ++i) spec.audio.push_back(static_cast<float>(wav->samples[i % wav->samples.size()]));
  spec.audio.resize(loud + quiet, 0.f);
  if (absl::Status s = avsl::testing::WriteTestVideo(argv[1], spec); !s.ok()) {
    std::cerr << "make_test_video: " << s << "\n";
    return 1;
  }
  std::cout << argv[1] << ": " << spec.frames << " frames " << w << "x" << h << " at " << fps << " fps, "
            << (loud + quiet) << " samples at " << wav->sample_rate << " Hz\n";
  return 0;
}
