#!/usr/bin/env bash
# Runs ristsim after making sure it is set up and built:
#   scripts/run.sh --arch configs/dynfixed8.yaml
#   scripts/run.sh format --type e4m3 464
# Arguments go to ristsim unchanged; paths are relative to the current folder.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
exec "$root/${RISTSIM_BUILD_DIR:-build}/sim/cli/ristsim" "$@"
