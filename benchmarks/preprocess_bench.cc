// Samples/s of the preprocessing stages: JPEG decode + test/train transform, WAV decode + spectrogram.
// Inputs are written once to a temp dir: a 640×427 JPEG (q90, a typical Flickr frame) and a 10 s 16 kHz
// PCM16 WAV (the window is its centre 3 s).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "avsl/data/audio_clip.h"
#include "avsl/data/image_transform.h"
#include "avsl/data/spectrogram.h"
#include "avsl/data/wav_reader.h"

namespace {

const std::string& Dir() {
  static const std::string* dir = [] {
    std::string tmpl = "/tmp/avsl_preprocess_bench_XXXXXX";
    char* d = mkdtemp(tmpl.data());
    return new std::string(d != nullptr ? d : "/tmp");
  }();
  return *dir;
}

const std::string& JpegPath() {
  static const std::string* path = [] {
    cv::Mat img(427, 640, CV_8UC3);
    cv::RNG rng(7);
    rng.fill(img, cv::RNG::UNIFORM, 0, 255);
    cv::GaussianBlur(img, img, cv::Size(9, 9), 3.0);  // photo-like smoothness so JPEG size is realistic
    auto* p = new std::string(Dir() + "/frame.jpg");
    avsl::data::RgbImage rgb;  // the channel order does not matter to the timing
    rgb.width = img.cols;
    rgb.height = img.rows;
    rgb.pixels.assign(img.data, img.data + img.total() * 3);
    const std::vector<uint8_t> bytes = avsl::data::EncodeJpeg(rgb, 90, *p).value();
    std::ofstream(*p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return p;
  }();
  return *path;
}

const std::string& WavPath() {
  static const std::string* path = [] {
    std::vector<float> x(16000 * 10);
    std::mt19937 rng(3);
    std::normal_distribution<float> noise(0.f, 0.05f);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.3f * std::sin(0.07f * i) + noise(rng);
    auto* p = new std::string(Dir() + "/clip.wav");
    if (!avsl::data::WriteWavPcm16(*p, x, 16000).ok()) std::abort();
    return p;
  }();
  return *path;
}

void BM_JpegDecodeTestTransform(benchmark::State& state) {
  const std::string& path = JpegPath();
  for (auto _ : state) {
    auto im = avsl::data::DecodeImageFile(path);
    auto t = avsl::data::TestTransform(*im);
    benchmark::DoNotOptimize(t->values.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JpegDecodeTestTransform)->Unit(benchmark::kMillisecond);

void BM_JpegDecodeTrainTransform(benchmark::State& state) {
  const std::string& path = JpegPath();
  std::mt19937_64 rng(1);
  avsl::data::TrainTransformOptions o;
  for (auto _ : state) {
    auto im = avsl::data::DecodeImageFile(path);
    auto t = avsl::data::TrainTransform(*im, o, rng);
    benchmark::DoNotOptimize(t->values.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JpegDecodeTrainTransform)->Unit(benchmark::kMillisecond);

void BM_WavDecodeSpectrogram(benchmark::State& state) {
  const std::string& path = WavPath();
  for (auto _ : state) {
    auto clip = avsl::data::LoadAudioClip(path);
    auto s = avsl::data::ComputeSpectrogram(clip->samples, clip->sample_rate);
    benchmark::DoNotOptimize(s->values.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WavDecodeSpectrogram)->Unit(benchmark::kMillisecond);

void BM_SpectrogramOnly(benchmark::State& state) {
  std::vector<double> x(48000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.01 * i);
  for (auto _ : state) {
    auto s = avsl::data::ComputeSpectrogram(x, 16000.0);
    benchmark::DoNotOptimize(s->values.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpectrogramOnly)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
