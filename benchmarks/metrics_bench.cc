// End-to-end scoring throughput: 10,316 maps (the Extended VGG-SS size: 5,158 sounding + 5,158 silent)
// read from .npy files, scored with the reference rules, metrics.json and per-sample CSV written.
// The maps are generated once in a mkdtemp directory (≈2.1 GB for 224×224 float32) and deleted at exit.
// Peak memory: run under /usr/bin/time -v; the evaluator keeps one map plus a few numbers per sample.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "avsl/eval/score.h"
#include "avsl/io/npy.h"
#include "avsl/metrics/bootstrap.h"
#include "avsl/metrics/evaluator.h"
#include "avsl/metrics/upsample.h"

namespace {

constexpr int kNumSamples = 10316;

struct Dataset {
  std::string dir;
  std::string index;
};

// Deterministic smooth-plus-noise map: a Gaussian bump whose centre depends on the sample, plus hash noise,
// so that thresholds, ties and confidences vary like real model output.
void MakeMap(int i, int size, std::vector<float>* v) {
  v->resize(static_cast<size_t>(size) * size);
  const double cy = (i * 37 % 97) / 97.0 * size, cx = (i * 61 % 89) / 89.0 * size, s = size / 6.0;
  uint32_t h = 2166136261u ^ static_cast<uint32_t>(i);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      h = h * 1664525u + 1013904223u;
      const double noise = (h >> 8) / static_cast<double>(1 << 24) * 0.05;
      (*v)[static_cast<size_t>(y) * size + x] = static_cast<float>(
          0.4 + 0.5 * std::exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (2 * s * s)) + noise);
    }
  }
}

const Dataset& GetDataset(int size) {
  static Dataset* ds[2] = {nullptr, nullptr};
  Dataset*& d = ds[size == 224 ? 0 : 1];
  if (d != nullptr) return *d;
  d = new Dataset;
  char tmpl[] = "/tmp/avsl_metrics_bench_XXXXXX";
  d->dir = mkdtemp(tmpl);
  d->index = d->dir + "/index.csv";
  std::filesystem::create_directory(d->dir + "/maps");
  std::ofstream idx(d->index);
  idx << "key,video,audio,sounding\n";
  std::vector<float> v;
  for (int i = 0; i < kNumSamples; ++i) {
    const std::string key = "s" + std::to_string(i);
    MakeMap(i, size, &v);
    if (!avsl::io::WriteNpy(d->dir + "/maps/" + key + ".npy", v.data(), {size, size}).ok()) std::abort();
    idx << key << ",vid" << i << ",aud" << i << "," << (i % 2 == 0 ? 1 : 0) << "\n";
  }
  std::atexit([] {
    for (Dataset* p : ds) {
      if (p != nullptr) std::filesystem::remove_all(p->dir);
    }
  });
  return *d;
}

// A box whose side cycles through all four size buckets.
absl::StatusOr<avsl::Map2D> BoxGt(const std::string& video) {
  const int i = std::stoi(video.substr(3));
  const int side = 16 + (i * 37) % 200;
  const int y0 = (i * 13) % (224 - side + 1), x0 = (i * 29) % (224 - side + 1);
  avsl::Map2D gt(224, 224);
  for (int y = y0; y < y0 + side; ++y)
    for (int x = x0; x < x0 + side; ++x) gt.at(y, x) = 1.0;
  return gt;
}

void RunOnce(benchmark::State& state, int size, const std::string& upsample, int threads = 0) {
  const Dataset& d = GetDataset(size);
  avsl::eval::ScoreOptions o;
  o.maps_dir = d.dir + "/maps";
  o.index_csv = d.index;
  if (!upsample.empty()) o.protocol.upsample = *avsl::metrics::ParseUpsampleMode(upsample);
  o.out_json = d.dir + "/metrics.json";
  o.per_sample_csv = d.dir + "/per_sample.csv";
  o.threads = threads;
  for (auto _ : state) {
    auto r = avsl::eval::RunScore(o, BoxGt);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(r->all.ap);
  }
  state.SetItemsProcessed(state.iterations() * kNumSamples);
}

void BM_Score224Float32(benchmark::State& state) { RunOnce(state, 224, ""); }
// The same on one thread: what the parallel scorer scales from.
void BM_Score224Float32OneThread(benchmark::State& state) { RunOnce(state, 224, "", 1); }
void BM_Score7x7Bicubic(benchmark::State& state) { RunOnce(state, 7, "bicubic"); }

// One sounding sample's scoring (relative binarization, cIoU, area, confidence, pointing) on a map already in
// memory: the per-sample work that the scoring threads share, without the file reads.
void BM_ScoreSample224(benchmark::State& state) {
  std::vector<float> v;
  MakeMap(12345, 224, &v);
  avsl::Map2D map(224, 224);
  for (size_t i = 0; i < v.size(); ++i) map.values[i] = v[i];
  const avsl::Map2D gt = *BoxGt("vid12345");
  const avsl::metrics::EvalProtocol protocol;
  for (auto _ : state) {
    auto r = avsl::metrics::ScoreSample("k", map, gt, std::nullopt, true, protocol);
    benchmark::DoNotOptimize(r->ciou);
  }
}

// The bootstrap behind metrics.json's "ci95" (eval.bootstrap_resamples = 1000, the default) on records of the
// same size: what the intervals add to a scoring pass (RunScore above includes it).
void BM_Bootstrap1000Resamples(benchmark::State& state) {
  std::vector<avsl::metrics::SampleRecord> records(kNumSamples);
  for (int i = 0; i < kNumSamples; ++i) {
    avsl::metrics::SampleRecord& r = records[i];
    r.key = "s" + std::to_string(i);
    r.sounding = i % 2 == 0;
    r.ciou = r.sounding ? ((i * 37) % 101) / 100.0 : 0.0;
    r.conf = ((i * 53) % 997) / 997.0;
    r.pointing_hit = r.sounding && i % 3 == 0;
  }
  for (auto _ : state) {
    auto ci = avsl::metrics::BootstrapIntervals(records, 0.5, {});
    benchmark::DoNotOptimize(ci.data());
  }
}

BENCHMARK(BM_Score224Float32)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK(BM_ScoreSample224)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Score224Float32OneThread)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK(BM_Bootstrap1000Resamples)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK(BM_Score7x7Bicubic)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
