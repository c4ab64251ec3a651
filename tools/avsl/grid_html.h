// `avsl report GRID.toml --html OUT.html`: the grid's report as one self-contained page (styles and images inline,
// no server, no network): the results tables, the published numbers beside the measured ones, every done cell's
// training curve, and qualitative rows by object size (the seed paper's Figures 2–5) for the chosen cells.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "grid_file.h"

namespace avsl::cli {

struct GridHtmlOptions {
  std::string split = "test";  ///< the evaluation the qualitative rows show (eval/<split>_<checkpoint>/overlays)
  int per_bucket = 3;          ///< qualitative rows per object-size bucket (and for the silent pairs)
};

/// The page. `markdown` is RenderGridReport's output (its headings, tables, lists and paragraphs become HTML).
/// Qualitative rows: the grid's [report] figures (labels; default: every trained label), seed = the first seed,
/// each cell's early-stop evaluation overlays (its last when there is none), the same samples in every column,
/// the first `per_bucket` of each size bucket in per_sample.csv order. Every <img> reports whether it decoded: the
/// page's body gets data-images-loaded="L/T" once loaded (how the headless-Chromium test checks it).
absl::StatusOr<std::string> RenderGridHtml(const Grid& grid, const std::string& markdown,
                                           const GridHtmlOptions& options);

/// `text` with &, <, >, " escaped.
std::string HtmlEscape(const std::string& text);
/// A Markdown subset as HTML: "#".."###" headings, pipe tables (the second line the alignment row), "- " lists,
/// other lines as paragraphs; inline text escaped.
std::string MarkdownToHtml(const std::string& markdown);

}  // namespace avsl::cli
