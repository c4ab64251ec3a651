#include "grid_file.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <toml++/toml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "avsl/data/csv.h"

namespace avsl::cli {
namespace fs = std::filesystem;
namespace {

// Every error names the grid file and where in it.
class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  absl::Status Error(const std::string& where, const std::string& message) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", where, ": ", message));
  }

  absl::Status CheckKeys(const toml::table& t, const std::string& where, const std::set<std::string>& known) const {
    for (const auto& [key, value] : t) {
      if (known.count(std::string(key.str())) == 0) {
        return Error(where, absl::StrCat("unknown key '", std::string(key.str()),
                                         "' (expected one of: ", absl::StrJoin(known, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> String(const toml::table& t, const std::string& where, const std::string& key,
                                     const std::string& fallback, bool required = false) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      if (required) return Error(where, absl::StrCat("'", key, "' is required"));
      return fallback;
    }
    if (!n->is_string()) return Error(where, absl::StrCat("'", key, "' must be a string, found ", TypeName(*n)));
    return std::string(*n->value<std::string>());
  }

  absl::StatusOr<std::vector<std::string>> Strings(const toml::table& t, const std::string& where,
                                                   const std::string& key) const {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    if (n == nullptr) return out;
    const toml::array* a = n->as_array();
    if (a == nullptr)
      return Error(where, absl::StrCat("'", key, "' must be an array of strings, found ", TypeName(*n)));
    for (const toml::node& e : *a) {
      if (!e.is_string()) {
        return Error(where,
                     absl::StrCat("'", key, "' must be an array of strings, found an element of type ", TypeName(e)));
      }
      out.push_back(*e.value<std::string>());
    }
    return out;
  }

  absl::StatusOr<std::vector<long long>> Seeds(const toml::table& t, const std::string& where,
                                               std::vector<long long> fallback) const {
    const toml::node* n = t.get("seeds");
    if (n == nullptr) return fallback;
    const toml::array* a = n->as_array();
    if (a == nullptr || a->empty()) return Error(where, "'seeds' must be a non-empty array of integers");
    std::vector<long long> out;
    for (const toml::node& e : *a) {
      if (!e.is_integer() || *e.value<int64_t>() < 0) {
        return Error(where, "'seeds' must be a non-empty array of integers >= 0");
      }
      out.push_back(*e.value<int64_t>());
    }
    return out;
  }

  absl::StatusOr<bool> Bool(const toml::table& t, const std::string& where, const std::string& key,
                            bool fallback) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return fallback;
    if (!n->is_boolean()) return Error(where, absl::StrCat("'", key, "' must be true or false, found ", TypeName(*n)));
    return *n->value<bool>();
  }

  absl::StatusOr<std::vector<GridEval>> Evals(const toml::table& t, const std::string& where) const {
    std::vector<GridEval> out;
    const toml::node* n = t.get("eval");
    if (n == nullptr) return out;
    const toml::array* a = n->as_array();
    if (a == nullptr) return Error(where, "'eval' must be an array of tables ([[eval]] or [[cell.eval]])");
    for (size_t i = 0; i < a->size(); ++i) {
      const std::string at = absl::StrCat(where, "eval[", i, "]");
      const toml::table* e = (*a)[i].as_table();
      if (e == nullptr) return Error(at, "must be a table with 'name' and 'set'");
      if (absl::Status s = CheckKeys(*e, at, {"name", "set"}); !s.ok()) return s;
      GridEval ev;
      absl::StatusOr<std::string> name = String(*e, at, "name", "", true);
      if (!name.ok()) return name.status();
      ev.name = *name;
      const bool valid = !ev.name.empty() &&
                         ev.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
      if (!valid || ev.name == "test" || ev.name == "val") {
        return Error(at, absl::StrCat("name '", ev.name,
                                      "': expected [a-z0-9_]+ other than test and val (it names eval/<name>_<ckpt>/)"));
      }
      absl::StatusOr<std::vector<std::string>> set = Strings(*e, at, "set");
      if (!set.ok()) return set.status();
      ev.overrides = *set;
      out.push_back(std::move(ev));
    }
    return out;
  }

  absl::StatusOr<std::vector<GridPublished>> Published(const toml::table& t, const std::string& where) const {
    std::vector<GridPublished> out;
    const toml::node* n = t.get("published");
    if (n == nullptr) return out;
    const toml::array* a = n->as_array();
    if (a == nullptr) return Error(where, "'published' must be an array of tables ([[cell.published]])");
    for (size_t i = 0; i < a->size(); ++i) {
      const std::string at = absl::StrCat(where, "published[", i, "]");
      const toml::table* p = (*a)[i].as_table();
      if (p == nullptr) return Error(at, "must be a table");
      if (absl::Status s = CheckKeys(*p, at, {"split", "source", "early_stop", "no_early_stop"}); !s.ok()) return s;
      GridPublished pub;
      absl::StatusOr<std::string> split = String(*p, at, "split", "test");
      absl::StatusOr<std::string> source = String(*p, at, "source", "", true);
      if (!split.ok()) return split.status();
      if (!source.ok()) return source.status();
      pub.split = *split;
      pub.source = *source;
      for (const auto& [key, target] :
           {std::pair{"early_stop", &pub.early_stop}, {"no_early_stop", &pub.no_early_stop}}) {
        const toml::node* v = p->get(key);
        if (v == nullptr) continue;
        const toml::table* values = v->as_table();
        if (values == nullptr) return Error(at, absl::StrCat("'", key, "' must be a table of metric = value (%)"));
        for (const auto& [metric, value] : *values) {
          std::optional<double> number = value.value<double>();
          if (!number) {
            return Error(at, absl::StrCat("'", key, ".", std::string(metric.str()), "' must be a number (%)"));
          }
          (*target)[std::string(metric.str())] = *number;
        }
      }
      if (pub.early_stop.empty() && pub.no_early_stop.empty()) {
        return Error(at, "give early_stop and/or no_early_stop numbers");
      }
      out.push_back(std::move(pub));
    }
    return out;
  }

 private:
  static std::string TypeName(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a float";
      case toml::node_type::boolean: return "a boolean";
      case toml::node_type::array: return "an array";
      case toml::node_type::table: return "a table";
      default: return "a date or time";
    }
  }
  std::string path_;
};

absl::StatusOr<toml::table> ParseFile(const std::string& path) {
  absl::StatusOr<std::string> text = data::ReadTextFile(path);
  if (!text.ok()) {
    return absl::NotFoundError(
        absl::StrCat("grid file not found or unreadable: ", path, " (", text.status().message(), ")"));
  }
  try {
    return toml::parse(*text, std::string_view(path));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", e.source().begin.line, ":", e.source().begin.column,
                                                   ": not valid TOML: ", std::string(e.description())));
  }
}

}  // namespace

std::string GridCell::name() const { return absl::StrCat(label, " seed ", seed); }

std::vector<std::string> SelectOverrides(const GridCell& cell, const std::vector<std::string>& recipe_keys,
                                         std::vector<std::string>* skipped) {
  std::vector<std::string> out;
  for (size_t i = 0; i < cell.overrides.size(); ++i) {
    const std::string& o = cell.overrides[i];
    const std::string key = o.substr(0, o.find('='));
    const size_t dot = key.rfind('.');
    bool applies = !cell.shared[i] || dot == std::string::npos;
    const std::string table = dot == std::string::npos ? "" : key.substr(0, dot + 1);
    for (size_t k = 0; !applies && k < recipe_keys.size(); ++k) {
      applies = recipe_keys[k] == key || recipe_keys[k].rfind(table, 0) == 0;
    }
    if (applies) {
      out.push_back(o);
    } else if (skipped != nullptr) {
      skipped->push_back(o);
    }
  }
  return out;
}

std::string LabelSlug(const std::string& label) {
  std::string out;
  bool gap = false;
  for (char c : label) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
    if (!keep) {
      gap = !out.empty();
      continue;
    }
    if (gap) out += '_';
    gap = false;
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

absl::StatusOr<Grid> LoadGrid(const std::string& path, const std::vector<std::string>& overrides,
                              const std::string& output_dir) {
  absl::StatusOr<toml::table> parsed = ParseFile(path);
  if (!parsed.ok()) return parsed.status();
  const toml::table& root = *parsed;
  Reader r(path);
  if (absl::Status s = r.CheckKeys(
          root, "top level",
          {"name", "description", "output_dir", "seeds", "set", "untrained", "eval", "report", "cell"});
      !s.ok()) {
    return s;
  }
  Grid grid;
  grid.path = path;
  absl::StatusOr<std::string> name = r.String(root, "top level", "name", fs::path(path).stem().string());
  if (!name.ok()) return name.status();
  grid.name = *name;
  absl::StatusOr<std::string> out = r.String(root, "top level", "output_dir", "runs/grids/" + grid.name);
  if (!out.ok()) return out.status();
  grid.output_dir = output_dir.empty() ? *out : output_dir;
  absl::StatusOr<std::vector<long long>> seeds = r.Seeds(root, "top level", {0});
  if (!seeds.ok()) return seeds.status();
  absl::StatusOr<std::vector<std::string>> grid_set = r.Strings(root, "top level", "set");
  if (!grid_set.ok()) return grid_set.status();
  absl::StatusOr<bool> untrained = r.Bool(root, "top level", "untrained", true);
  if (!untrained.ok()) return untrained.status();
  absl::StatusOr<std::vector<GridEval>> grid_evals = r.Evals(root, "");
  if (!grid_evals.ok()) return grid_evals.status();
  if (absl::Status s = r.String(root, "top level", "description", "").status(); !s.ok()) return s;

  grid.title = grid.name;
  if (const toml::node* rep = root.get("report")) {
    const toml::table* t = rep->as_table();
    if (t == nullptr) return r.Error("report", "must be a table ([report])");
    if (absl::Status s = r.CheckKeys(*t, "[report]", {"title", "columns", "figures"}); !s.ok()) return s;
    absl::StatusOr<std::vector<std::string>> figures = r.Strings(*t, "[report]", "figures");
    if (!figures.ok()) return figures.status();
    grid.figures = *figures;
    absl::StatusOr<std::string> title = r.String(*t, "[report]", "title", grid.name);
    if (!title.ok()) return title.status();
    grid.title = *title;
    absl::StatusOr<std::vector<std::string>> columns = r.Strings(*t, "[report]", "columns");
    if (!columns.ok()) return columns.status();
    grid.columns = *columns;
  }

  const toml::array* cells = root.get("cell") ? root.get("cell")->as_array() : nullptr;
  if (cells == nullptr || cells->empty()) return r.Error("top level", "no cells: add [[cell]] tables");
  const fs::path folder = fs::path(path).parent_path();
  std::map<std::string, std::string> slugs;  // slug -> label
  for (size_t i = 0; i < cells->size(); ++i) {
    const std::string at = absl::StrCat("cell[", i, "]");
    const toml::table* c = (*cells)[i].as_table();
    if (c == nullptr) return r.Error(at, "must be a table ([[cell]])");
    if (absl::Status s = r.CheckKeys(*c, at,
                                     {"label", "group", "recipe", "set", "seeds", "untrained", "eval", "published"});
        !s.ok()) {
      return s;
    }
    GridCell cell;
    absl::StatusOr<std::string> label = r.String(*c, at, "label", "", true);
    if (!label.ok()) return label.status();
    cell.label = *label;
    const std::string where = absl::StrCat(at, " (", cell.label, ")");
    const std::string slug = LabelSlug(cell.label);
    if (slug.empty()) return r.Error(where, "the label needs at least one letter or digit (it names the directory)");
    auto [it, inserted] = slugs.emplace(slug, cell.label);
    if (!inserted && it->second != cell.label) {
      return r.Error(where, absl::StrCat("labels '", it->second, "' and '", cell.label,
                                         "' map to the same directory name '", slug, "': rename one"));
    }
    absl::StatusOr<std::string> group = r.String(*c, where, "group", "");
    absl::StatusOr<std::string> recipe = r.String(*c, where, "recipe", "", true);
    absl::StatusOr<std::vector<std::string>> set = r.Strings(*c, where, "set");
    absl::StatusOr<std::vector<long long>> cell_seeds = r.Seeds(*c, where, *seeds);
    absl::StatusOr<bool> cell_untrained = r.Bool(*c, where, "untrained", *untrained);
    absl::StatusOr<std::vector<GridEval>> evals = r.Evals(*c, where + " ");
    for (const absl::Status& s : {group.status(), recipe.status(), set.status(), cell_seeds.status(),
                                  cell_untrained.status(), evals.status()}) {
      if (!s.ok()) return s;
    }
    absl::StatusOr<std::vector<GridPublished>> published = r.Published(*c, where + " ");
    if (!published.ok()) return published.status();
    cell.published = *published;
    cell.group = *group;
    cell.recipe = recipe->rfind("@", 0) == 0 || fs::path(*recipe).is_absolute()
                      ? *recipe
                      : (folder / *recipe).lexically_normal().string();
    cell.untrained = *cell_untrained;
    cell.evals = *grid_evals;
    for (GridEval& e : *evals) {
      for (const GridEval& g : cell.evals) {
        if (g.name == e.name) return r.Error(where, absl::StrCat("evaluation '", e.name, "' is named twice"));
      }
      cell.evals.push_back(std::move(e));
    }
    const std::pair<const std::vector<std::string>*, bool> sources[] = {
        {&*grid_set, true}, {&*set, false}, {&overrides, true}};
    for (const auto& [list, shared] : sources) {
      for (const std::string& o : *list) {
        cell.overrides.push_back(o);
        cell.shared.push_back(shared);
      }
    }
    if (std::find(grid.groups.begin(), grid.groups.end(), cell.group) == grid.groups.end()) {
      grid.groups.push_back(cell.group);
    }
    for (long long seed : *cell_seeds) {
      GridCell seeded = cell;
      seeded.seed = seed;
      seeded.dir = (fs::path(grid.output_dir) / slug / absl::StrCat("seed", seed)).string();
      for (const GridCell& other : grid.cells) {
        if (other.dir == seeded.dir) return r.Error(where, absl::StrCat(seeded.name(), " is listed twice"));
      }
      grid.cells.push_back(std::move(seeded));
    }
  }
  for (const std::string& label : grid.figures) {
    if (slugs.count(LabelSlug(label)) == 0 || slugs[LabelSlug(label)] != label) {
      return r.Error("[report]", absl::StrCat("figures: no cell is labelled '", label, "'"));
    }
  }
  // Seed by seed: after the first seed's cells the report already has every row.
  std::stable_sort(grid.cells.begin(), grid.cells.end(),
                   [](const GridCell& a, const GridCell& b) { return a.seed < b.seed; });
  return grid;
}

}  // namespace avsl::cli
