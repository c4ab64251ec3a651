#include "avsl/eval/results_table.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace avsl::eval {
namespace {

namespace fs = std::filesystem;

void WriteText(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << s;
}

// A run directory as the trainer leaves it; `best_ap` < 0 means no early-stop evaluation.
fs::path MakeRun(const std::string& name, const std::string& recipe_name, long long epochs, double last_ap,
                 double best_ap) {
  const fs::path dir = fs::path(::testing::TempDir()) / "results_table" / name;
  fs::remove_all(dir);
  WriteText(dir / "recipe.toml", "name = \"" + recipe_name + "\"\n[model]\ntype = \"x.Y\"\n");
  WriteText(dir / "train_state.json", "{\"epoch\": " + std::to_string(epochs) +
                                          ", \"best_epoch\": 3, \"monitor\": \"val.ap\", \"finished\": true}");
  WriteText(dir / "eval/test_last/metrics.json",
            "{\"ap\": " + std::to_string(last_ap) + ", \"max_f1\": 0.5, \"loc_acc\": 0.25, \"confidence\": \"slavc\"}");
  if (best_ap >= 0) {
    WriteText(dir / "eval/test_best_ap/metrics.json",
              "{\"ap\": " + std::to_string(best_ap) + ", \"max_f1\": 0.6, \"loc_acc\": 0.125}");
  }
  return dir;
}

TEST(ResultsTable, ReadsLastAndEarlyStopEvaluations) {
  absl::StatusOr<RunResult> r = ReadRunResult(MakeRun("a", "slavc_synthetic", 20, 0.3, 0.4).string());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->label, "slavc_synthetic");
  EXPECT_EQ(r->method_type, "x.Y");
  EXPECT_EQ(r->epochs_trained, 20);
  EXPECT_EQ(r->early_stop_checkpoint, "best_ap");
  ASSERT_TRUE(r->last && r->early_stop);
  EXPECT_DOUBLE_EQ(r->last->at("ap"), 0.3);
  EXPECT_DOUBLE_EQ(r->early_stop->at("ap"), 0.4);
  EXPECT_EQ(r->confidence, "slavc");
}

TEST(ResultsTable, SeedsAreAveragedWithSampleStandardDeviation) {
  std::vector<RunResult> runs;
  for (auto [name, last_ap, best_ap] : {std::tuple{"s0", 0.30, 0.40}, {"s1", 0.34, 0.44}}) {
    runs.push_back(*ReadRunResult(MakeRun(name, "m", 20, last_ap, best_ap).string()));
  }
  absl::StatusOr<std::string> md = RenderResultsTable(runs, {});
  ASSERT_TRUE(md.ok()) << md.status();
  // Early Stop AP: mean(0.40, 0.44) = 42.0 %, sample sd = sqrt(2 * 0.02^2 / 1) = 0.0283 -> 2.8 %.
  // max-F1 0.6 and LocAcc 0.125 in both -> 60.0 ± 0.0 and 12.5 ± 0.0. No Early Stop AP: 32.0 ± 2.8.
  EXPECT_NE(md->find("| m | 2 | 42.0 ± 2.8 | 60.0 ± 0.0 | 12.5 ± 0.0 | 32.0 ± 2.8 | 50.0 ± 0.0 | 25.0 ± 0.0 |"),
            std::string::npos)
      << *md;
  EXPECT_NE(
      md->find("| Method | Runs | AP (Early Stop) | max-F1 (Early Stop) | LocAcc (Early Stop) | AP (No Early Stop)"),
      std::string::npos)
      << *md;
}

TEST(ResultsTable, ASingleRunShowsItsBootstrapIntervalWhenAskedSeedsKeepTheirSpread) {
  const fs::path one = MakeRun("ci_one", "one", 20, 0.3, 0.4);
  WriteText(one / "eval/test_best_ap/metrics.json",
            "{\"ap\": 0.4, \"max_f1\": 0.6, \"loc_acc\": 0.125, \"ci95\": {\"ap\": [0.35, 0.452], \"max_f1\": null}}");
  std::vector<RunResult> runs = {*ReadRunResult(one.string())};
  ResultsTableOptions options;
  absl::StatusOr<std::string> plain = RenderResultsTable(runs, options);
  options.intervals = true;
  absl::StatusOr<std::string> with = RenderResultsTable(runs, options);
  ASSERT_TRUE(plain.ok() && with.ok());
  EXPECT_NE(plain->find("| one | 1 | 40.0 | 60.0 | 12.5 | 30.0 |"), std::string::npos) << *plain;
  // An interval where metrics.json has one; none where it is null or absent (the last checkpoint's file).
  EXPECT_NE(with->find("| one | 1 | 40.0 [35.0, 45.2] | 60.0 | 12.5 | 30.0 |"), std::string::npos) << *with;
  EXPECT_NE(with->find("[lo, hi]: a single run's bootstrap 95 % interval"), std::string::npos) << *with;
  runs.push_back(*ReadRunResult(MakeRun("ci_two", "one", 20, 0.34, 0.44).string()));
  absl::StatusOr<std::string> seeds = RenderResultsTable(runs, options);
  ASSERT_TRUE(seeds.ok());
  EXPECT_NE(seeds->find("| one | 2 | 42.0 ± 2.8 |"), std::string::npos) << *seeds;
}

TEST(ResultsTable, UntrainedReferenceRepeatsItsOnlyModelAndTrainedRunWithoutEarlyStopShowsDash) {
  std::vector<RunResult> runs = {*ReadRunResult(MakeRun("prior", "center_prior", 0, 0.09, -1).string()),
                                 *ReadRunResult(MakeRun("nostop", "trained", 5, 0.2, -1).string())};
  absl::StatusOr<std::string> md = RenderResultsTable(runs, {{"ap"}, "test"});
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_NE(md->find("| center_prior | 1 | 9.0 | 9.0 | slavc |"), std::string::npos) << *md;
  EXPECT_NE(md->find("| trained | 1 | – | 20.0 | slavc |"), std::string::npos) << *md;
}

TEST(ResultsTable, PipesInLabelsAndConfidenceNamesAreEscaped) {
  const fs::path dir = MakeRun("pipe", "dmc", 0, 0.1, -1);
  WriteText(dir / "eval/test_last/metrics.json", "{\"ap\": 0.1, \"confidence\": \"dmc -min_k ||o_v,k - o_a||\"}");
  std::vector<RunResult> runs = {*ReadRunResult(dir.string())};
  runs[0].label = "a|b";
  std::string md = *RenderResultsTable(runs, {{"ap"}, "test"});
  EXPECT_NE(md.find("| a\\|b | 1 | 10.0 | 10.0 | dmc -min_k \\|\\|o_v,k - o_a\\|\\| |"), std::string::npos) << md;
}

TEST(ResultsTable, RowsKeepFirstAppearanceOrder) {
  std::vector<RunResult> runs = {*ReadRunResult(MakeRun("z", "zeta", 1, 0.1, 0.1).string()),
                                 *ReadRunResult(MakeRun("a2", "alpha", 1, 0.2, 0.2).string())};
  std::string md = *RenderResultsTable(runs, {{"ap"}, "test"});
  EXPECT_LT(md.find("| zeta |"), md.find("| alpha |"));
}

TEST(ResultsTable, UntrainedControlGroupAndAudioDependenceColumn) {
  const fs::path s0 = MakeRun("ctl0", "dmc", 20, 0.3, 0.4);
  const fs::path s1 = MakeRun("ctl1", "dmc", 20, 0.3, 0.4);
  WriteText(s0 / "eval/test_untrained/metrics.json", "{\"ap\": 0.10, \"audio_dependence\": 0.0}");
  WriteText(s1 / "eval/test_untrained/metrics.json", "{\"ap\": 0.14, \"audio_dependence\": 0.02}");
  WriteText(s0 / "eval/test_last/metrics.json", "{\"ap\": 0.3, \"audio_dependence\": 0.5}");
  WriteText(s1 / "eval/test_last/metrics.json", "{\"ap\": 0.3, \"audio_dependence\": null}");  // no pairs
  const fs::path other = MakeRun("ctl2", "ezvsl", 20, 0.2, 0.25);  // no untrained evaluation
  std::vector<RunResult> runs = {*ReadRunResult(s0.string()), *ReadRunResult(s1.string()),
                                 *ReadRunResult(other.string())};
  ASSERT_TRUE(runs[0].untrained.has_value());
  EXPECT_FALSE(runs[2].untrained.has_value());
  absl::StatusOr<std::string> md = RenderResultsTable(runs, {{"ap", "audio_dependence"}, "test"});
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_NE(md->find("| AP (Untrained) | Audio-dep. (Untrained) |"), std::string::npos) << *md;
  // Untrained AP: mean(0.10, 0.14) = 12.0 %, sd 2.8; audio-dependence 1.0 ± 1.4. The last epoch's
  // audio-dependence is missing in one seed, so that cell is "–" rather than a one-seed mean.
  EXPECT_NE(md->find("| dmc | 2 | 40.0 ± 0.0 | – | 30.0 ± 0.0 | – | 12.0 ± 2.8 | 1.0 ± 1.4 |"), std::string::npos)
      << *md;
  EXPECT_NE(md->find("| ezvsl | 1 | 25.0 | – | 20.0 | – | – | – |"), std::string::npos) << *md;
  EXPECT_NE(md->find("Untrained: the same recipe at step 0"), std::string::npos) << *md;

  ResultsTableOptions without;
  without.columns = {"ap"};
  without.untrained_columns = false;
  md = RenderResultsTable(runs, without);
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_EQ(md->find("Untrained"), std::string::npos) << *md;
}

TEST(ResultsTable, ErrorsNameTheDirectoryOrColumn) {
  const fs::path empty = fs::path(::testing::TempDir()) / "results_table" / "empty";
  fs::create_directories(empty);
  absl::StatusOr<RunResult> r = ReadRunResult(empty.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("not a run directory: " + empty.string()), std::string::npos);

  r = ReadRunResult(MakeRun("v", "m", 1, 0.1, 0.1).string(), "val");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("no evaluation on the 'val' split"), std::string::npos);

  const fs::path bad = MakeRun("bad", "m", 1, 0.1, 0.1);
  WriteText(bad / "recipe.toml", "name = [unclosed\n");
  r = ReadRunResult(bad.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find((bad / "recipe.toml").string()), std::string::npos);

  std::vector<RunResult> runs = {*ReadRunResult(MakeRun("c", "m", 1, 0.1, 0.1).string())};
  absl::StatusOr<std::string> md = RenderResultsTable(runs, {{"ap", "pointng"}, "test"});
  ASSERT_FALSE(md.ok());
  EXPECT_NE(std::string(md.status().message()).find("unknown results column 'pointng'"), std::string::npos);
  EXPECT_FALSE(RenderResultsTable({}, {}).ok());
}

}  // namespace
}  // namespace avsl::eval
