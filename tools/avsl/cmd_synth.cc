// avsl synth: writes the synthetic audio-visual benchmark in the Flickr-style and VGG-SS-style layouts.
#include <chrono>
#include <iostream>

#include "absl/strings/numbers.h"
#include "avsl/synth/dataset_writer.h"
#include "cli_common.h"

namespace avsl::cli {

int RunSynth(int argc, char** argv, int first) {
  Args args("avsl synth --out DIR [--preset quick|standard|bench] [--seed N]",
            "Writes procedural scenes (frames/, audio/, Annotations/, metadata/) that the Flickr and VGG-SS\n"
            "loaders read like the real datasets. The same seed gives byte-identical files. See docs/synthetic.md.");
  args.Option("out", "DIR", "output directory (created; existing files are overwritten)");
  args.Option("preset", "NAME",
              "quick (default: 2000 train / 250 val / 250 test / 250 negatives), standard, or\n"
              "bench (640 train at the size of real Flickr files: 480x360 JPEG, 10 s clips)");
  args.Option("seed", "N", "generator seed (default 0)");
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  if (!args.Has("out")) {
    std::cerr << "avsl synth: --out is required\n\n" << args.Usage();
    return kExitUsage;
  }
  absl::StatusOr<synth::SynthOptions> options = synth::PresetByName(args.Get("preset", "quick"));
  if (!options.ok()) {
    std::cerr << "avsl synth: " << options.status().message() << "\n\n" << args.Usage();
    return kExitUsage;
  }
  if (args.Has("seed") && !absl::SimpleAtoi(args.Get("seed"), &options->seed)) {
    std::cerr << "avsl synth: --seed: expected a non-negative integer, found '" << args.Get("seed") << "'\n";
    return kExitUsage;
  }
  const auto start = std::chrono::steady_clock::now();
  absl::Status status = synth::WriteSyntheticDataset(*options, args.Get("out"));
  if (!status.ok()) return ReportError("synth", status);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "wrote " << options->num_train << " train, " << options->num_val << " val, " << options->num_test
            << " test scenes and " << options->num_negatives << " extended negatives to " << args.Get("out") << " in "
            << seconds << " s\n";
  return kExitOk;
}

}  // namespace avsl::cli
