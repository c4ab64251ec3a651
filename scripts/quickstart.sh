#!/usr/bin/env bash
# The main job on a fresh machine: set-up (packages, configure, build), then the quickstart recipe.
# Today the recipe evaluates the centred-Gaussian reference method on the synthetic benchmark's extended
# test split (no training yet: the SLAVC quickstart lands with issue #6) and prints the results table.
#   scripts/quickstart.sh [--set KEY=VALUE]...
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
AVSL=${AVSL_BUILD_DIR:-build}/bin/avsl
"$AVSL" train recipes/quickstart.toml "$@"
