#include "grid_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "grid_cell.h"

namespace avsl::cli {
namespace {

// A Markdown table cell: '|' would end it.
std::string CellText(const std::string& text) { return absl::StrReplaceAll(text, {{"|", "\\|"}}); }

// "published / measured (Δ)" per label that has published numbers for `split`; "" when none has.
std::string PublishedTable(const std::vector<const GridCell*>& cells, const std::vector<eval::RunResult>& results,
                           const std::string& split, const std::vector<std::string>& columns) {
  struct Row {
    const GridPublished* published;
    std::vector<const eval::RunResult*> runs;
  };
  std::vector<std::pair<std::string, Row>> rows;
  for (size_t i = 0; i < cells.size(); ++i) {
    for (const GridPublished& p : cells[i]->published) {
      if (p.split != split) continue;
      auto it = std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.first == cells[i]->label; });
      if (it == rows.end()) it = rows.insert(rows.end(), {cells[i]->label, Row{&p, {}}});
      it->second.runs.push_back(&results[i]);
    }
  }
  if (rows.empty()) return "";
  // The columns of the table above, then any other key a paper published.
  std::vector<std::pair<std::string, bool>> keys;  // (metric, early stop?)
  for (bool early : {true, false}) {
    std::vector<std::string> order = columns;
    for (const auto& [label, row] : rows) {
      for (const auto& [k, v] : early ? row.published->early_stop : row.published->no_early_stop) {
        if (std::find(order.begin(), order.end(), k) == order.end()) order.push_back(k);
      }
    }
    for (const std::string& k : order) {
      const bool any = std::any_of(rows.begin(), rows.end(), [&](const auto& r) {
        return (early ? r.second.published->early_stop : r.second.published->no_early_stop).count(k) != 0;
      });
      if (any) keys.push_back({k, early});
    }
  }
  const auto& titles = eval::ResultsTableColumns();
  std::string out = "| Method | Source |";
  std::string align = "|---|---|";
  for (const auto& [k, early] : keys) {
    const auto t = titles.find(k);
    absl::StrAppend(&out, " ", t == titles.end() ? k : t->second, early ? " (Early Stop)" : " (No Early Stop)",
                    ": published / measured (Δ) |");
    align += "---:|";
  }
  absl::StrAppend(&out, "\n", align, "\n");
  for (const auto& [label, row] : rows) {
    absl::StrAppend(&out, "| ", CellText(label), " | ", CellText(row.published->source), " |");
    for (const auto& [k, early] : keys) {
      const auto& pub = early ? row.published->early_stop : row.published->no_early_stop;
      const auto p = pub.find(k);
      double sum = 0;
      int n = 0;
      for (const eval::RunResult* r : row.runs) {
        const auto& m = early ? r->early_stop : r->last;
        if (m && m->count(k) != 0 && std::isfinite(m->at(k))) {
          sum += 100.0 * m->at(k);
          ++n;
        }
      }
      if (p == pub.end()) {
        out += " – |";
      } else if (n == 0) {
        absl::StrAppend(&out, " ", absl::StrFormat("%.1f", p->second), " / – |");
      } else {
        const double measured = sum / n;
        absl::StrAppend(&out, " ", absl::StrFormat("%.1f / %.1f (%+.1f)", p->second, measured, measured - p->second),
                        " |");
      }
    }
    out += "\n";
  }
  absl::StrAppend(&out, "\nPublished: as the source gives them; measured: the mean over this grid's done seeds; "
                        "Δ = measured − published.\n");
  return out;
}

}  // namespace

absl::StatusOr<std::string> RenderGridReport(const Grid& grid, const eval::ResultsTableOptions& options,
                                             bool all_splits) {
  std::vector<std::string> splits = {options.split};
  if (all_splits) {
    for (const GridCell& cell : grid.cells) {
      for (const GridEval& e : cell.evals) {
        if (std::find(splits.begin(), splits.end(), e.name) == splits.end()) splits.push_back(e.name);
      }
    }
  }
  std::vector<const GridCell*> done;
  std::string missing;
  for (const GridCell& cell : grid.cells) {
    const CellStatus status = ReadCellStatus(cell.dir);
    if (status.state == CellState::kDone) {
      done.push_back(&cell);
      continue;
    }
    absl::StrAppend(&missing, "- ", cell.name(), ": ", CellStateName(status.state),
                    status.detail.empty() ? "" : " (" + status.detail + ")", "\n");
  }
  if (done.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no cell of ", grid.path, " is done yet (avsl grid ", grid.path, " --status)"));
  }
  std::string out = absl::StrCat("## ", grid.title, "\n\n");
  for (const std::string& split : splits) {
    for (const std::string& group : grid.groups) {
      std::vector<eval::RunResult> results;
      std::vector<const GridCell*> cells;
      for (const GridCell* cell : done) {
        if (cell->group != group) continue;
        // Every cell has the recipe's test; another split only where the cell has that evaluation.
        const bool has_split = split == "test" ||
                               std::any_of(cell->evals.begin(), cell->evals.end(),
                                           [&](const GridEval& e) { return e.name == split; }) ||
                               std::filesystem::exists(std::filesystem::path(cell->dir) / "eval" / (split + "_last"));
        if (!has_split) continue;
        absl::StatusOr<eval::RunResult> r = eval::ReadRunResult(cell->dir, split);
        if (!r.ok()) return r.status();
        r->label = cell->label;
        results.push_back(*std::move(r));
        cells.push_back(cell);
      }
      if (results.empty()) continue;
      eval::ResultsTableOptions o = options;
      o.split = split;
      absl::StatusOr<std::string> table = eval::RenderResultsTable(results, o);
      if (!table.ok()) return table.status();
      std::string heading = group.empty() ? "" : group;
      if (splits.size() > 1) heading = heading.empty() ? "split " + split : heading + ", split " + split;
      if (!heading.empty()) absl::StrAppend(&out, "### ", heading, "\n\n");
      absl::StrAppend(&out, *table, "\n");
      const std::string published = PublishedTable(cells, results, split, o.columns);
      if (!published.empty()) absl::StrAppend(&out, published, "\n");
    }
  }
  if (!missing.empty()) absl::StrAppend(&out, "Not in the tables (not done):\n\n", missing);
  return out;
}

}  // namespace avsl::cli
