// Throughput of a whole sample (JPEG decode + train transform to 224, WAV + 3 s window + spectrogram, GT) from
// a file-backed synthetic dataset, and of the batch loader with 0, 1 and 2 workers over the same dataset.
// Needs the datasets plugin built (ninja avsl_datasets); the dataset is written to a temporary directory.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "absl/strings/str_cat.h"
#include "avsl/builtins/core_components.h"
#include "avsl/core/dataset.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"
#include "avsl/data/loader.h"
#include "avsl/synth/dataset_writer.h"

namespace avsl {
namespace {

constexpr int kScenes = 64;

std::string& BenchRoot() {
  static std::string root;
  return root;
}

// 256x256 frames (close to the 246-px train resize, so the transform costs what real frames of that size
// cost after decoding) and 1 s clips, tiled to the reference's 3 s window: spectrograms are [1, 257, 200].
std::shared_ptr<Dataset> MakeDataset() {
  static std::shared_ptr<Dataset> dataset = [] {
    char tmpl[] = "/tmp/avsl_loader_bench_XXXXXX";
    if (mkdtemp(tmpl) == nullptr) std::abort();
    const std::string root = tmpl;
    BenchRoot() = root;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(BenchRoot(), ec);
    });
    synth::SynthOptions o;
    o.num_train = kScenes;
    o.num_val = 0;
    o.num_test = 1;
    o.num_negatives = 0;
    o.scene.image_width = o.scene.image_height = 256;
    o.scene.audio.clip_seconds = 1.0;
    absl::Status written = synth::WriteSyntheticDataset(o, root);
    if (!written.ok()) {
      std::fprintf(stderr, "loader_bench: %s\n", std::string(written.message()).c_str());
      std::exit(1);
    }
    static PluginHost host;
    AddCoreComponents(host);
    host.LoadDirectories(PluginHost::SearchPath({}));
    auto recipe = Recipe::Parse(
        absl::StrCat("[data.train]\ntype = \"datasets.Flickr\"\nroot = \"", root,
                     "\"\nlist = \"metadata/flickr_train.txt\"\nannotated_list = \"metadata/flickr_sup_train.txt\"\n"),
        "loader_bench.toml", ".", {});
    absl::Status valid = recipe.ok() ? recipe->Validate(host.registry()) : recipe.status();
    if (!valid.ok()) {
      std::fprintf(stderr, "loader_bench: %s (is the datasets plugin built?)\n", std::string(valid.message()).c_str());
      std::exit(1);
    }
    auto built = host.registry().Build<Dataset>(recipe->Root().Sub("data").Sub("train"));
    if (!built.ok()) {
      std::fprintf(stderr, "loader_bench: %s\n", std::string(built.status().message()).c_str());
      std::exit(1);
    }
    return *built;
  }();
  return dataset;
}

void BM_WholeSample(benchmark::State& state) {
  std::shared_ptr<Dataset> ds = MakeDataset();
  size_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<Sample> s = ds->Get(i % ds->size(), SampleContext{0, i / ds->size(), true});
    if (!s.ok()) state.SkipWithError(std::string(s.status().message()).c_str());
    benchmark::DoNotOptimize(s);
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_WholeSample)->Unit(benchmark::kMillisecond);

// One epoch of 64 samples in batches of 16 per iteration.
void BM_Loader(benchmark::State& state) {
  std::shared_ptr<Dataset> ds = MakeDataset();
  data::LoaderOptions o;
  o.batch_size = 16;
  o.workers = static_cast<size_t>(state.range(0));
  o.prefetch = 4;
  o.train = true;
  auto loader = data::Loader::Create(ds, o);
  uint64_t epoch = 0;
  for (auto _ : state) {
    if (!(*loader)->StartEpoch(epoch++).ok()) state.SkipWithError("StartEpoch failed");
    while (true) {
      auto b = (*loader)->Next();
      if (!b.ok()) {
        state.SkipWithError(std::string(b.status().message()).c_str());
        break;
      }
      if (!b->has_value()) break;
      benchmark::DoNotOptimize(*b);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(ds->size()));
}
BENCHMARK(BM_Loader)->ArgName("workers")->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace avsl

BENCHMARK_MAIN();
