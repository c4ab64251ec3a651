// Subcommands whose engines land with later issues. They parse their documented options (so scripts can be
// written now) and then say plainly that the feature is not available yet, with a non-zero exit.
#include <iostream>

#include "avsl/cli_common.h"

namespace avsl::cli {
namespace {

int NotYet(Args& args, int argc, char** argv, int first, const std::string& command, const std::string& when) {
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  std::cerr << "avsl " << command << ": not available yet: " << when << "\n";
  return kExitError;
}

}  // namespace

int RunTrain(int argc, char** argv, int first) {
  Args args("avsl train RECIPE [--set KEY=VALUE]... | --resume RUN_DIR",
            "Trains the recipe's method into runs/<recipe>/<timestamp>/. NOT AVAILABLE YET: the trainer lands with\n"
            "the trainer issue (#5); 'avsl recipe dump RECIPE' already validates a recipe.");
  args.Positional("RECIPE", "recipe file", false);
  args.Option("resume", "RUN_DIR", "continue a run from its last checkpoint");
  args.Option("init-from", "CKPT", "start from these weights (weights only)");
  AddRecipeOptions(args);
  AddPluginOptions(args);
  return NotYet(args, argc, argv, first, "train", "the trainer lands with issue #5");
}

int RunEval(int argc, char** argv, int first) {
  Args args("avsl eval RUN_DIR|CKPT [--split test]",
            "Evaluates a trained model. NOT AVAILABLE YET: lands with the trainer issue (#5).");
  args.Positional("RUN", "run directory or checkpoint");
  args.Option("split", "NAME", "val or test");
  AddPluginOptions(args);
  return NotYet(args, argc, argv, first, "eval", "evaluation of trained models lands with issue #5");
}

int RunReport(int argc, char** argv, int first) {
  Args args("avsl report RUN_DIR...", "Renders a results table. NOT AVAILABLE YET: lands with issue #6.");
  args.Positional("RUN_DIR", "run directories", false);
  return NotYet(args, argc, argv, first, "report", "results tables land with issue #6");
}

}  // namespace avsl::cli
