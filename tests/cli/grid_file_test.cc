#include "grid_file.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grid_cell.h"
#include "grid_html.h"

namespace avsl::cli {
namespace {
namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class GridFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("grid_file_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "grids");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& text) {
    const std::string path = (dir_ / "grids" / "g.toml").string();
    std::ofstream(path) << text;
    return path;
  }
  fs::path dir_;
};

TEST(LabelSlugTest, KeepsLettersAndDigitsLowerCasedAndJoinsTheRestWithOneUnderscore) {
  EXPECT_EQ(LabelSlug("EZ-VSL"), "ez_vsl");
  EXPECT_EQ(LabelSlug("SLAVC + Eq. 9"), "slavc_eq_9");
  EXPECT_EQ(LabelSlug("  (x) "), "x");
  EXPECT_EQ(LabelSlug("+++"), "");
}

TEST_F(GridFileTest, ExpandsCellsBySeedWithOverridesInOrderAndRecipesBesideTheFile) {
  const std::string path = Write(R"(
name = "t"
seeds = [0, 1]
set = ["threads=1"]
[[eval]]
name = "unheard"
set = ["a=1"]
[[cell]]
label = "A"
recipe = "../r/a.toml"
set = ["b=2"]
[[cell]]
label = "B b"
group = "semi"
recipe = "@avsl/x/y.toml"
seeds = [1]
untrained = false
)");
  absl::StatusOr<Grid> grid = LoadGrid(path, {"c=3"});
  ASSERT_TRUE(grid.ok()) << grid.status();
  EXPECT_EQ(grid->output_dir, "runs/grids/t");
  EXPECT_THAT(grid->groups, ElementsAre("", "semi"));
  ASSERT_EQ(grid->cells.size(), 3u);
  EXPECT_EQ(grid->cells[0].name(), "A seed 0");
  EXPECT_EQ(grid->cells[1].name(), "A seed 1");
  EXPECT_EQ(grid->cells[2].name(), "B b seed 1");
  EXPECT_EQ(grid->cells[0].recipe, (dir_ / "r" / "a.toml").string());
  EXPECT_EQ(grid->cells[2].recipe, "@avsl/x/y.toml");
  EXPECT_THAT(grid->cells[0].overrides, ElementsAre("threads=1", "b=2", "c=3"));
  EXPECT_THAT(grid->cells[0].shared, ElementsAre(true, false, true));
  EXPECT_EQ(grid->cells[1].dir, "runs/grids/t/a/seed1");
  EXPECT_EQ(grid->cells[2].dir, "runs/grids/t/b_b/seed1");
  EXPECT_TRUE(grid->cells[0].untrained);
  EXPECT_FALSE(grid->cells[2].untrained);
  ASSERT_EQ(grid->cells[2].evals.size(), 1u);
  EXPECT_EQ(grid->cells[2].evals[0].name, "unheard");
  EXPECT_EQ(LoadGrid(path, {}, "elsewhere")->cells[0].dir, "elsewhere/a/seed0");
}

TEST(SelectOverridesTest, SharedOverridesNeedTheKeysTableOwnOnesAlwaysApply) {
  GridCell cell;
  cell.overrides = {"threads=1", "data.val.root=\"v\"", "data.train.root=\"t\"", "data.val.size=3", "x.y=1"};
  cell.shared = {true, true, true, false, true};
  std::vector<std::string> skipped;
  EXPECT_THAT(SelectOverrides(cell, {"data.train.list", "data.train.type", "x.y", "seed"}, &skipped),
              ElementsAre("threads=1", "data.train.root=\"t\"", "data.val.size=3", "x.y=1"));
  EXPECT_THAT(skipped, ElementsAre("data.val.root=\"v\""));
}

TEST_F(GridFileTest, ErrorsNameTheFileAndTheKey) {
  absl::StatusOr<Grid> g = LoadGrid(Write("[[cell]]\nlabel = 3\nrecipe = \"x\"\n"), {});
  EXPECT_THAT(g.status().message(), HasSubstr("g.toml: cell[0]: 'label' must be a string, found an integer"));
  g = LoadGrid(Write("seeds = []\n[[cell]]\nlabel = \"a\"\nrecipe = \"x\"\n"), {});
  EXPECT_THAT(g.status().message(), HasSubstr("'seeds' must be a non-empty array of integers"));
  g = LoadGrid(Write("[[cell]]\nlabel = \"a\"\nrecipe = \"x\"\n[[cell]]\nlabel = \"a\"\nrecipe = \"y\"\n"), {});
  EXPECT_THAT(g.status().message(), HasSubstr("a seed 0 is listed twice"));
  g = LoadGrid(Write("name = \"x\"\n"), {});
  EXPECT_THAT(g.status().message(), HasSubstr("no cells: add [[cell]] tables"));
  g = LoadGrid(Write("[[cell]\n"), {});
  EXPECT_THAT(g.status().message(), HasSubstr("not valid TOML"));
}

TEST_F(GridFileTest, CellStatusFollowsTheLockTheCheckpointAndTheRecord) {
  const std::string cell = (dir_ / "cell").string();
  EXPECT_EQ(ReadCellStatus(cell).state, CellState::kPending);
  {
    absl::StatusOr<CellLock> lock = CellLock::TryAcquire(cell);
    ASSERT_TRUE(lock.ok()) << lock.status();
    const CellStatus held = ReadCellStatus(cell);
    EXPECT_EQ(held.state, CellState::kRunning);
    EXPECT_EQ(held.detail, "pid " + std::to_string(::getpid()));
    EXPECT_EQ(ReadCellStatus(cell, /*check_lock=*/false).state, CellState::kPending);
    absl::StatusOr<CellLock> second = CellLock::TryAcquire(cell);
    EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  }
  EXPECT_EQ(ReadCellStatus(cell).state, CellState::kPending);  // released with its descriptor
  fs::create_directories(fs::path(cell) / "checkpoints");
  std::ofstream(fs::path(cell) / "checkpoints" / "last.pt") << "x";
  std::ofstream(fs::path(cell) / "train_state.json") << R"({"epoch": 3})";
  std::ofstream(fs::path(cell) / "recipe.toml") << "[train]\nepochs = 20\n";
  CellStatus s = ReadCellStatus(cell);
  EXPECT_EQ(s.state, CellState::kResumable);
  EXPECT_EQ(s.detail, "stopped after epoch 3 of 20");
  ASSERT_TRUE(WriteCellRecord(cell, {CellState::kFailed, 1, "avsl train: error: boom", 2}).ok());
  s = ReadCellStatus(cell);
  EXPECT_EQ(s.state, CellState::kFailed);
  EXPECT_EQ(s.detail, "exit 1: avsl train: error: boom (stopped after epoch 3 of 20; the next run resumes)");
  ASSERT_TRUE(WriteCellRecord(cell, {CellState::kDone, 0, "", 61.4}).ok());
  s = ReadCellStatus(cell);
  EXPECT_EQ(s.state, CellState::kDone);
  EXPECT_EQ(s.detail, "61 s");
  ClearCellRecord(cell);
  EXPECT_EQ(ReadCellStatus(cell).state, CellState::kResumable);
}

TEST(MarkdownToHtmlTest, HeadingsTablesListsAndEscaping) {
  const std::string html = MarkdownToHtml(
      "## Table <1>\n\n| Method | AP |\n|---|---:|\n| a \\| b | 1.0 |\n\n- x & y\n- `z`\n#\nplain \"text\"\n");
  EXPECT_THAT(html, HasSubstr("<h2>Table &lt;1&gt;</h2>"));
  EXPECT_THAT(html, HasSubstr("<tr><th>Method</th><th>AP</th></tr>"));
  EXPECT_THAT(html, HasSubstr("<tr><td>a | b</td><td class=\"num\">1.0</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<ul>\n<li>x &amp; y</li>\n<li><code>z</code></li>\n</ul>"));
  EXPECT_THAT(html, HasSubstr("<h1></h1>"));  // a lone '#' (a title with a line break) is an empty heading
  EXPECT_THAT(html, HasSubstr("<p>plain &quot;text&quot;</p>"));
  EXPECT_EQ(HtmlEscape("<script>\"&"), "&lt;script&gt;&quot;&amp;");
}

}  // namespace
}  // namespace avsl::cli
