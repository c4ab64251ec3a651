#include "grid_html.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "avsl/core/version.h"
#include "avsl/data/csv.h"
#include "avsl/eval/results_table.h"
#include "grid_cell.h"

namespace avsl::cli {
namespace fs = std::filesystem;
namespace {

constexpr char kStyle[] = R"(
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { display: inline-block; margin: 0.5em; text-align: center; }
figure img { max-width: 420px; border: 1px solid #ddd; }
table.qualitative img { width: 150px; height: 150px; display: block; }
img.broken { outline: 3px solid red; }
.meta { color: #666; font-size: 0.85em; }
code { background: #f4f4f4; padding: 0 0.2em; }
)";

// Every image reports whether it decoded, so a reader (and the headless test) sees a broken one.
constexpr char kImageCheck[] = R"(
window.addEventListener('load', function () {
  var images = document.images, loaded = 0;
  for (var i = 0; i < images.length; ++i) {
    if (images[i].complete && images[i].naturalWidth > 0) ++loaded; else images[i].classList.add('broken');
  }
  document.body.setAttribute('data-images-loaded', loaded + '/' + images.length);
});
)";

// Inline Markdown: `code` spans; everything else escaped.
std::string Inline(const std::string& text) {
  std::string out;
  bool code = false;
  for (char c : text) {
    if (c == '`') {
      out += code ? "</code>" : "<code>";
      code = !code;
      continue;
    }
    out += HtmlEscape(std::string(1, c));
  }
  if (code) out += "</code>";
  return out;
}

// A pipe-table row's cells ("\|" is a literal bar inside a cell).
std::vector<std::string> TableCells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (line[i] == '|') {
      cells.push_back(std::string(absl::StripAsciiWhitespace(cell)));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return cells;
}

std::string ImageTag(const fs::path& png, const std::string& alt) {
  return absl::StrCat("<img alt=\"", HtmlEscape(alt), "\" src=\"data:image/png;base64,",
                      absl::Base64Escape(data::ReadTextFile(png.string()).value_or("")), "\">");
}

struct FigureColumn {
  std::string label;
  fs::path overlays;  // eval/<split>_<checkpoint>/overlays
  std::string checkpoint;
};

// The seed's Figures 2–5: the same samples, bucket by bucket, one column per chosen row label.
std::string QualitativeSection(const Grid& grid, const GridHtmlOptions& options) {
  std::vector<std::string> labels = grid.figures;
  if (labels.empty()) {
    for (const GridCell& c : grid.cells) {
      if (std::find(labels.begin(), labels.end(), c.label) == labels.end()) labels.push_back(c.label);
    }
  }
  std::vector<FigureColumn> columns;
  for (const std::string& label : labels) {
    for (const GridCell& c : grid.cells) {  // the first done seed of the label
      if (c.label != label || ReadCellStatus(c.dir).state != CellState::kDone) continue;
      absl::StatusOr<eval::RunResult> r = eval::ReadRunResult(c.dir, options.split);
      if (!r.ok()) break;
      const std::string checkpoint = r->early_stop ? r->early_stop_checkpoint : "last";
      const fs::path overlays = fs::path(c.dir) / "eval" / (options.split + "_" + checkpoint) / "overlays";
      if (fs::is_directory(overlays))
        columns.push_back({absl::StrCat(label, " (seed ", c.seed, ")"), overlays, checkpoint});
      break;
    }
  }
  std::string out = "<h2>Qualitative results by object size</h2>\n";
  if (columns.empty()) {
    return out + "<p>No done cell has overlays of split " + HtmlEscape(options.split) + " (eval.visualize = 0?).</p>\n";
  }
  // Buckets from the first column's per_sample.csv; samples that every column drew.
  absl::StatusOr<std::vector<data::CsvRow>> samples = data::ReadCsvFile(
      (columns[0].overlays.parent_path() / "per_sample.csv").string());
  std::map<std::string, std::vector<std::string>> by_bucket;
  if (samples.ok() && !samples->empty()) {
    const std::vector<std::string>& header = samples->front().fields;
    const auto key_col = std::find(header.begin(), header.end(), "key") - header.begin();
    const auto bucket_col = std::find(header.begin(), header.end(), "bucket") - header.begin();
    for (size_t i = 1; i < samples->size(); ++i) {
      const std::vector<std::string>& row = (*samples)[i].fields;
      if (key_col >= static_cast<long>(row.size()) || bucket_col >= static_cast<long>(row.size())) continue;
      const std::string& key = row[key_col];
      // A key names a file inside overlays/: nothing that could reach outside it is embedded.
      if (key.empty() || key.find('/') != std::string::npos || key.find("..") != std::string::npos) continue;
      const std::string bucket = row[bucket_col] == "none" ? "silent" : row[bucket_col];
      if (static_cast<int>(by_bucket[bucket].size()) >= options.per_bucket) continue;
      const bool everywhere = std::all_of(columns.begin(), columns.end(), [&](const FigureColumn& c) {
        return fs::exists(c.overlays / (key + ".png"));
      });
      if (everywhere) by_bucket[bucket].push_back(key);
    }
  }
  absl::StrAppend(&out, "<p>Split <code>", HtmlEscape(options.split),
                  "</code>: each column is a row label's first done seed at its early-stopped checkpoint (its last "
                  "when it has none); the map over the frame as the evaluation drew it. Samples: the first ",
                  options.per_bucket, " per GT size bucket that every column drew (eval.visualize).</p>\n");
  absl::StrAppend(&out, "<table class=\"qualitative\"><tr><th>Bucket</th><th>Sample</th>");
  for (const FigureColumn& c : columns) {
    absl::StrAppend(&out, "<th>", HtmlEscape(c.label), "<br><span class=\"meta\">", HtmlEscape(c.checkpoint),
                    "</span></th>");
  }
  out += "</tr>\n";
  for (const char* bucket : {"small", "medium", "large", "huge", "silent"}) {
    const auto it = by_bucket.find(bucket);
    if (it == by_bucket.end()) {
      absl::StrAppend(&out, "<tr><td>", bucket, "</td><td colspan=\"", columns.size() + 1,
                      "\" class=\"meta\">no sample of this bucket among the drawn ones</td></tr>\n");
      continue;
    }
    for (const std::string& key : it->second) {
      absl::StrAppend(&out, "<tr><td>", bucket, "</td><td><code>", HtmlEscape(key), "</code></td>");
      for (const FigureColumn& c : columns) {
        absl::StrAppend(&out, "<td>", ImageTag(c.overlays / (key + ".png"), c.label + " " + key), "</td>");
      }
      out += "</tr>\n";
    }
  }
  return out + "</table>\n";
}

std::string CurvesSection(const Grid& grid) {
  std::string out =
      "<h2>Training curves</h2>\n<p>Every done cell's curve.png (validation metrics and training loss per "
      "epoch), the seed paper's Figure 1 for each row.</p>\n";
  int shown = 0;
  for (const GridCell& c : grid.cells) {
    const fs::path curve = fs::path(c.dir) / "curve.png";
    if (ReadCellStatus(c.dir).state != CellState::kDone || !fs::exists(curve)) continue;
    absl::StrAppend(&out, "<figure>", ImageTag(curve, c.name() + " training curve"), "<figcaption>",
                    HtmlEscape(c.name()), "</figcaption></figure>\n");
    ++shown;
  }
  if (shown == 0) out += "<p>No done cell has a training curve (untrained reference rows have none).</p>\n";
  return out;
}

}  // namespace

std::string HtmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string MarkdownToHtml(const std::string& markdown) {
  std::string out;
  std::vector<std::string> lines = absl::StrSplit(markdown, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.empty()) continue;
    if (line[0] == '#') {
      size_t hashes = line.find_first_not_of('#');
      if (hashes == std::string::npos) hashes = line.size();
      const size_t level = std::min<size_t>(hashes, 6);
      absl::StrAppend(&out, "<h", level, ">",
                      Inline(std::string(absl::StripLeadingAsciiWhitespace(line.substr(level)))), "</h", level, ">\n");
    } else if (line[0] == '|') {
      const std::vector<std::string> header = TableCells(line);
      std::vector<bool> right(header.size(), false);
      size_t j = i + 1;
      if (j < lines.size() && lines[j].rfind("|-", 0) == 0) {
        const std::vector<std::string> align = TableCells(lines[j]);
        for (size_t k = 0; k < align.size() && k < right.size(); ++k) right[k] = absl::EndsWith(align[k], ":");
        ++j;
      }
      out += "<table><tr>";
      for (const std::string& h : header) absl::StrAppend(&out, "<th>", Inline(h), "</th>");
      out += "</tr>\n";
      for (; j < lines.size() && !lines[j].empty() && lines[j][0] == '|'; ++j) {
        out += "<tr>";
        const std::vector<std::string> cells = TableCells(lines[j]);
        for (size_t k = 0; k < cells.size(); ++k) {
          absl::StrAppend(&out, k < right.size() && right[k] ? "<td class=\"num\">" : "<td>", Inline(cells[k]),
                          "</td>");
        }
        out += "</tr>\n";
      }
      out += "</table>\n";
      i = j - 1;
    } else if (line.rfind("- ", 0) == 0) {
      out += "<ul>\n";
      for (; i < lines.size() && lines[i].rfind("- ", 0) == 0; ++i) {
        absl::StrAppend(&out, "<li>", Inline(lines[i].substr(2)), "</li>\n");
      }
      out += "</ul>\n";
      --i;
    } else {
      absl::StrAppend(&out, "<p>", Inline(line), "</p>\n");
    }
  }
  return out;
}

absl::StatusOr<std::string> RenderGridHtml(const Grid& grid, const std::string& markdown,
                                           const GridHtmlOptions& options) {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  std::string out = absl::StrCat("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>",
                                 HtmlEscape(grid.title), "</title>\n<style>", kStyle, "</style>\n<script>", kImageCheck,
                                 "</script></head>\n<body>\n");
  absl::StrAppend(&out, "<p class=\"meta\">avsl ", AVSL_VERSION, " · grid <code>", HtmlEscape(grid.path),
                  "</code> · cells in <code>", HtmlEscape(grid.output_dir), "</code> · rendered ", stamp, "</p>\n");
  out += MarkdownToHtml(markdown);
  out += CurvesSection(grid);
  out += QualitativeSection(grid, options);
  out += "</body></html>\n";
  return out;
}

}  // namespace avsl::cli
