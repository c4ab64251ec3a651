// avsl recipe dump | diff | describe.
#include <iostream>
#include <set>

#include "absl/strings/str_format.h"
#include "cli_common.h"

namespace avsl::cli {
namespace {

void PrintSchema(const Schema& schema, const std::string& prefix) {
  for (const Field& f : schema.fields()) {
    std::string type = FieldTypeName(f.type);
    if (f.type == FieldType::kComponent || f.type == FieldType::kComponentArray)
      type += std::string(" (") + ComponentKindName(f.component_kind) + ")";
    std::string constraint;
    if (f.min || f.max) {
      constraint = absl::StrFormat(" range [%s, %s]", f.min ? absl::StrFormat("%g", *f.min) : "-inf",
                                   f.max ? absl::StrFormat("%g", *f.max) : "inf");
    }
    if (!f.choices.empty()) {
      constraint = " one of:";
      for (const auto& c : f.choices) constraint += " " + c;
    }
    std::cout << absl::StrFormat("  %-28s %-26s %-14s %s%s\n", prefix + f.name, type, f.DefaultForDisplay(), f.doc,
                                 constraint);
    if (f.type == FieldType::kTable) PrintSchema(*f.table, prefix + f.name + ".");
  }
}

int Dump(const Args& args, const PluginHost& host) {
  absl::StatusOr<Recipe> recipe = LoadRecipe(args.Positional(1), args, host);
  if (!recipe.ok()) return ReportError("recipe dump", recipe.status());
  std::cout << "# resolved from " << args.Positional(1) << " (bases merged, --set applied, defaults filled)\n"
            << recipe->ToToml();
  return kExitOk;
}

int Diff(const Args& args, const PluginHost& host) {
  absl::StatusOr<Recipe> a = LoadRecipe(args.Positional(1), args, host);
  if (!a.ok()) return ReportError("recipe diff", a.status());
  absl::StatusOr<Recipe> b = LoadRecipe(args.Positional(2), args, host);
  if (!b.ok()) return ReportError("recipe diff", b.status());
  auto fa = a->Flatten(), fb = b->Flatten();
  std::set<std::string> keys;
  for (const auto& [k, v] : fa) keys.insert(k);
  for (const auto& [k, v] : fb) keys.insert(k);
  int differences = 0;
  for (const std::string& k : keys) {
    auto ia = fa.find(k), ib = fb.find(k);
    if (ia != fa.end() && ib != fb.end() && ia->second == ib->second) continue;
    ++differences;
    if (ia != fa.end()) std::cout << "- " << k << " = " << ia->second << "\n";
    if (ib != fb.end()) std::cout << "+ " << k << " = " << ib->second << "\n";
  }
  if (differences == 0) std::cout << "(no differences)\n";
  return kExitOk;
}

int Describe(const Args& args, const PluginHost& host) {
  const std::string type = args.Positional(1);
  if (type.empty() || type == "recipe") {
    std::cout << "recipe (top level): " << RecipeSchema().doc() << "\n";
    PrintSchema(RecipeSchema(), "");
    std::cout << "\nregistered components (describe each with 'avsl recipe describe <type>'):\n";
    for (const ComponentInfo* info : host.registry().All())
      std::cout << absl::StrFormat("  %-10s %s\n", ComponentKindName(info->kind), info->name);
    return kExitOk;
  }
  const ComponentInfo* info = host.registry().FindAnyKind(type);
  if (info == nullptr) {
    std::vector<std::string> names;
    for (const ComponentInfo* i : host.registry().All()) names.push_back(i->name);
    std::vector<std::string> close = ClosestNames(type, names);
    return ReportError("recipe describe",
                       absl::NotFoundError("unknown component type '" + type + "'" +
                                           (close.empty() ? "" : "; did you mean '" + close.front() + "'?") +
                                           " (see 'avsl recipe describe' for the list)"));
  }
  std::cout << info->name << " (" << ComponentKindName(info->kind) << ", plugin " << info->plugin << "): " << info->doc
            << "\n";
  if (info->schema->fields().empty()) std::cout << "  (no options)\n";
  PrintSchema(*info->schema, "");
  return kExitOk;
}

}  // namespace

int RunRecipe(int argc, char** argv, int first) {
  Args args("avsl recipe dump RECIPE | diff A B | describe [TYPE] [--set KEY=VALUE]... [--plugin-path DIR]...",
            "dump: the fully resolved recipe (bases merged, --set applied, defaults filled).\n"
            "diff: keys whose resolved values differ between two recipes.\n"
            "describe: the schema of a component type (or of the recipe's top level), with defaults and docs.\n"
            "A recipe is a file or a shipped recipe by name, e.g. @avsl/ezvsl/synthetic.toml (searched in\n"
            "$AVSL_RECIPE_PATH, then in the recipes installed with avsl).");
  args.Positional("ACTION", "dump, diff or describe")
      .Positional("ARG1", "recipe or type", false)
      .Positional("ARG2", "second recipe for diff", false);
  AddRecipeOptions(args);
  AddPluginOptions(args);
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  const std::string action = args.Positional(0);
  const size_t needed = action == "dump" ? 2 : action == "diff" ? 3 : action == "describe" ? 1 : 0;
  const size_t allowed = action == "describe" ? 2 : needed;
  if (needed != 0 && args.positional_count() > allowed) {
    std::cerr << "avsl recipe " << action << ": unexpected argument '" << args.Positional(allowed) << "'\n\n"
              << args.Usage();
    return kExitUsage;
  }
  if (needed == 0 || args.positional_count() < needed) {
    std::cerr << "avsl recipe: " << (needed == 0 ? "unknown action '" + action + "'" : "missing argument") << "\n\n"
              << args.Usage();
    return kExitUsage;
  }
  std::unique_ptr<PluginHost> host = LoadPlugins(args);
  if (action == "dump") return Dump(args, *host);
  if (action == "diff") return Diff(args, *host);
  return Describe(args, *host);
}

}  // namespace avsl::cli
