#!/usr/bin/env bash
# The main job on a fresh machine: set-up, then the quickstart recipe.
# Today the furthest real step available is: load the plugins, resolve and validate the quickstart recipe.
# Training and evaluation on the synthetic benchmark join here as the trainer lands (issues #5 and #6).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
AVSL=${AVSL_BUILD_DIR:-build}/bin/avsl
echo "== plugins"
"$AVSL" plugins list
echo
echo "== resolved quickstart recipe (recipes/quickstart.toml)"
"$AVSL" recipe dump recipes/quickstart.toml "$@"
