// Recipes (avsl/core/recipe.h): TOML parse, `base` resolution, then validation against a registry of
// schema-only components with every kind of field (ints with ranges, enums, arrays, nested tables, nested
// components), then the resolved TOML written back. Bases resolve in an empty directory, so an input's `base`
// entries exercise the loader's errors (missing files, cycles through `@avsl/...` names) without reading the tree.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "avsl/core/component_registry.h"
#include "avsl/core/recipe.h"
#include "fuzz_target.h"

namespace {

using avsl::ComponentKind;
using avsl::Schema;

const avsl::ComponentRegistry& Registry() {
  static const avsl::ComponentRegistry* registry = [] {
    auto* r = new avsl::ComponentRegistry;
    std::vector<avsl::ComponentEntry> entries;
    auto add = [&](ComponentKind kind, const std::string& name, Schema schema) {
      entries.push_back({{name, kind, "fuzz", "", std::make_shared<const Schema>(std::move(schema))}, nullptr});
    };
    Schema encoder("encoder");
    encoder.Int("width", 4, "channels").Range(1, 4096);
    encoder.IntArray("blocks", {1, 1, 1, 1}, "stages");
    encoder.String("init", "torchvision", "init").OneOf({"torchvision", "reference"});
    add(ComponentKind::kEncoder, "fuzz.Encoder", std::move(encoder));
    Schema head("head");
    head.Float("dropout", 0.0, "p").Range(0, 1);
    head.FloatArray("scales", {1.0}, "scales");
    Schema method("method");
    method.Int("dim", 8, "size").Range(1, 65536);
    method.Float("tau", 0.03, "temperature").Range(1e-4, 10);
    method.Bool("flag", false, "a switch");
    method.OptionalString("note", "free text");
    method.StringArray("names", {}, "names");
    method.Component("image_encoder", ComponentKind::kEncoder, "fuzz.Encoder", "image tower");
    method.Component("audio_encoder", ComponentKind::kEncoder, "", "optional audio tower");
    method.Table("head", std::move(head), "nested table");
    add(ComponentKind::kMethod, "fuzz.Method", std::move(method));
    Schema data("dataset");
    data.String("root", "", "folder");
    data.Int("size", 8, "samples").Min(1);
    add(ComponentKind::kDataset, "fuzz.Data", std::move(data));
    Schema adam("optimizer");
    adam.Float("lr", 1e-4, "learning rate").Range(0, 10);
    adam.FloatArray("betas", {0.9, 0.999}, "betas");
    add(ComponentKind::kOptimizer, "core.Adam", std::move(adam));
    add(ComponentKind::kScheduler, "core.Constant", Schema("constant"));
    add(ComponentKind::kLoss, "fuzz.Loss", Schema("loss"));
    add(ComponentKind::kHook, "fuzz.Hook", Schema("hook"));
    add(ComponentKind::kMetric, "fuzz.Metric", Schema("metric"));
    add(ComponentKind::kTransform, "fuzz.Transform", Schema("transform"));
    if (!r->Commit(entries).ok()) std::abort();
    return r;
  }();
  return *registry;
}

std::string EmptyDirectory() {
  static const std::string dir = [] {
    const std::filesystem::path d = std::filesystem::temp_directory_path() / "avsl_fuzz_recipe_bases";
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir;
}

}  // namespace

AVSL_FUZZ_TARGET(recipe) {
  auto recipe = avsl::Recipe::Parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz.toml",
                                    EmptyDirectory(), {});
  if (!recipe.ok()) return 0;
  if (!recipe->Validate(Registry()).ok()) return 0;
  (void)recipe->ToToml();
  (void)recipe->Root();
  return 0;
}
