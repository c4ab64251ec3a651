// Start-up costs every avsl command pays: plugin discovery/handshake and recipe load + validation.
#include <benchmark/benchmark.h>

#include "avsl/builtins/core_components.h"
#include "avsl/core/plugin_host.h"
#include "avsl/core/recipe.h"

namespace {

void BM_PluginHostLoadDefaultPath(benchmark::State& state) {
  for (auto _ : state) {
    avsl::PluginHost host;
    avsl::AddCoreComponents(host);
    host.LoadDirectories(avsl::PluginHost::SearchPath({}));
    benchmark::DoNotOptimize(host.records().size());
  }
}
BENCHMARK(BM_PluginHostLoadDefaultPath)->Unit(benchmark::kMillisecond);

void BM_RecipeLoadAndValidate(benchmark::State& state) {
  avsl::PluginHost host;
  avsl::AddCoreComponents(host);
  host.LoadDirectories(avsl::PluginHost::SearchPath({}));
  const std::string path = std::string(AVSL_SOURCE_DIR) + "/recipes/quickstart.toml";
  for (auto _ : state) {
    auto recipe = avsl::Recipe::Load(path, {"optim.lr=3e-4"});
    if (!recipe.ok() || !recipe->Validate(host.registry()).ok()) state.SkipWithError("recipe failed");
    benchmark::DoNotOptimize(recipe);
  }
}
BENCHMARK(BM_RecipeLoadAndValidate)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
