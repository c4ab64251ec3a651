// avsl: the command-line entry point. Each subcommand lives in its own cmd_*.cc.
#include <cstring>
#include <iostream>

#include "avsl/core/version.h"
#include "avsl/train/memory_allocator.h"
#include "cli_common.h"

namespace {

constexpr avsl::cli::Command kCommands[] = {
    {"train", "train a method from a recipe (run directory, resume, early stop)", avsl::cli::RunTrain},
    {"eval", "evaluate a trained run or checkpoint on a split", avsl::cli::RunEval},
    {"infer", "localize the sound of your own image + WAV pairs (map, overlay, JSON)", avsl::cli::RunInfer},
    {"score", "score localization maps (.npy) written by any tool", avsl::cli::RunScore},
    {"data", "check that every file of a recipe's splits is there and decodes", avsl::cli::RunData},
    {"synth", "write the synthetic audio-visual benchmark to disk", avsl::cli::RunSynth},
    {"inspect", "write exactly what the model sees for an audio or image file", avsl::cli::RunInspect},
    {"plugins", "list loaded and failed plugins and their components", avsl::cli::RunPlugins},
    {"recipe", "dump, diff or describe recipes", avsl::cli::RunRecipe},
    {"grid", "run the cells of an experiment grid (recipes x settings x seeds), resumably", avsl::cli::RunGrid},
    {"report", "render results tables from run directories or a grid", avsl::cli::RunReport},
    {"bench", "time a recipe's data loading (samples/s)", avsl::cli::RunBench},
    {"new-plugin", "write a buildable method plugin folder to start from", avsl::cli::RunNewPlugin},
};

void PrintUsage(std::ostream& os) {
  os << "usage: avsl <command> [options]\n\n"
        "avsl: weakly-supervised audio-visual sound source localization.\n\ncommands:\n";
  for (const auto& c : kCommands)
    os << "  " << c.name << std::string(12 - std::strlen(c.name), ' ') << c.summary << "\n";
  os << "\nRun 'avsl <command> --help' for a command's options.\n";
}

}  // namespace

int main(int argc, char** argv) {
  // Without tcmalloc (linked when installed, tools/CMakeLists.txt), keep glibc from unmapping each step's buffers.
  avsl::train::TuneGlibcMalloc();
  if (argc < 2) {
    PrintUsage(std::cerr);
    return avsl::cli::kExitUsage;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    PrintUsage(std::cout);
    return avsl::cli::kExitOk;
  }
  if (command == "--version") {
    std::cout << "avsl " << AVSL_VERSION << " (SDK " << AVSL_SDK_VERSION << ")\n";
    return avsl::cli::kExitOk;
  }
  for (const auto& c : kCommands)
    if (command == c.name) return c.run(argc, argv, 2);
  std::cerr << "avsl: unknown command '" << command << "'\n\n";
  PrintUsage(std::cerr);
  return avsl::cli::kExitUsage;
}
