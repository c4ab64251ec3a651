// A grid file (`avsl grid GRID.toml`): the cells of an experiment table — method recipe × setting × seed — each
// run as an ordinary run directory under the grid's output directory. docs/reproducing.md documents the format.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace avsl::cli {

/// An evaluation every cell gets beyond the recipe's own test (e.g. the unheard classes of an open-set table):
/// `avsl eval RUN --checkpoint C --set ...` for each checkpoint C of the run, into eval/<name>_<C>/.
struct GridEval {
  std::string name;                    ///< a split label for `avsl report --split NAME`: [a-z0-9_]+, not "test"
  std::vector<std::string> overrides;  ///< --set KEY=VALUE applied to the run's recipe for this evaluation
};

/// Numbers a paper published for a cell's row (percent, as in the paper), shown beside the measured ones.
struct GridPublished {
  std::string split = "test";                   ///< which evaluation they compare with
  std::string source;                           ///< where they were read, e.g. "SLAVC paper, Table 1" (required)
  std::map<std::string, double> early_stop;     ///< metrics.json key -> value in %
  std::map<std::string, double> no_early_stop;  ///< metrics.json key -> value in %
};

struct GridCell {
  std::string label;   ///< the report's row label; cells sharing it are seeds of one row
  std::string group;   ///< the table section the row belongs to ("" when the grid has one)
  std::string recipe;  ///< recipe path (resolved against the grid file's folder) or @avsl/<shipped recipe>
  /// --set KEY=VALUE for this cell: the grid's `set`, then the cell's, then the command line's.
  std::vector<std::string> overrides;
  /// Per override: true for the grid's and the command line's, which a grid shares among recipes of different
  /// shapes, so they apply only to a cell whose recipe has the key's table (data.val.root skips a recipe without
  /// [data.val]); the cell's own always apply. SelectOverrides decides.
  std::vector<bool> shared;
  long long seed = 0;
  bool untrained = true;  ///< also evaluate the step-0 model (`avsl eval RUN --untrained`), the report's control
  std::vector<GridEval> evals;
  std::vector<GridPublished> published;  ///< [[cell.published]]
  std::string dir;                       ///< <output_dir>/<slug of label>/seed<seed>
  /// "SLAVC seed 0": how messages and the status lines name the cell.
  std::string name() const;
};

struct Grid {
  std::string path;                  ///< the grid file
  std::string name;                  ///< `name`, default the file's stem
  std::string title;                 ///< [report] title, default the name
  std::string output_dir;            ///< `output_dir` (relative to the working directory), default runs/grids/<name>
  std::vector<std::string> columns;  ///< [report] columns (metrics.json keys); empty: avsl report's default
  /// [report] figures: the labels whose maps the HTML report's qualitative rows show; empty: every trained label.
  std::vector<std::string> figures;
  std::vector<std::string> groups;  ///< the cells' groups in order of first appearance
  std::vector<GridCell> cells;      ///< by seed, then in file order
};

/// Reads `path`. `overrides` (the command line's --set) go after every cell's own; a non-empty `output_dir`
/// replaces the file's. Errors name the file and the key: unknown keys, wrong types, a cell without label or
/// recipe, two labels with the same directory name, an evaluation named "test" or with characters outside
/// [a-z0-9_], no cells.
absl::StatusOr<Grid> LoadGrid(const std::string& path, const std::vector<std::string>& overrides,
                              const std::string& output_dir = "");

/// The overrides of `cell` that apply to a recipe whose flattened keys (Recipe::Flatten of the recipe with the cell's
/// own overrides) are `recipe_keys`: every own override, and every shared one whose key exists or whose parent table
/// does (a top-level key always applies). `skipped` (optional) receives the shared ones left out.
std::vector<std::string> SelectOverrides(const GridCell& cell, const std::vector<std::string>& recipe_keys,
                                         std::vector<std::string>* skipped = nullptr);

/// A label as a directory name: lower case, [a-z0-9] kept, every other run of characters one '_'.
std::string LabelSlug(const std::string& label);

}  // namespace avsl::cli
