// `avsl report GRID.toml`: the results tables of a grid's finished cells, one per split and row group, with the
// cells that are not finished listed under them (so a half-run grid never passes for a whole one).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "avsl/eval/results_table.h"
#include "grid_file.h"

namespace avsl::cli {

/// Markdown: "## <title>", then for each split (options.split when `all_splits` is false; else test followed by
/// every [[eval]] name of the grid) and each group of cells a results table of the done cells (labels as rows, seeds
/// averaged), then "Not in the tables:" with every other cell and its state. NotFound when no cell is done.
absl::StatusOr<std::string> RenderGridReport(const Grid& grid, const eval::ResultsTableOptions& options,
                                             bool all_splits);

}  // namespace avsl::cli
