#!/usr/bin/env bash
# PE array simulation speed (issue 12): LeNet's conv2 geometry (20x12x12 -> 50x8x8, 5x5;
# random codes) through the 16 x 16 arrays of configs/systolic16x16_ws.yaml (weight
# stationary) and configs/os16x16.yaml (output stationary) with `ristsim cosim --conv`: the
# SystemC array model and the Verilated array RTL in lockstep, each timed on its own
# (cycles/s of the whole 16 x 16 array, one clock cycle per step), every column's south edge
# compared every cycle. One JSON line per arch (array_json: cycles, folds, the mapper's
# count, systemc_cycles_per_s, rtl_cycles_per_s).
#
#   scripts/bench_array.sh [BUILD_DIR] [RESULTS_FILE]
#
# BUILD_DIR (default build/) holds sim/cli/ristsim. The first run of each arch generates and
# Verilates its array RTL (minutes on a loaded 2-core machine; cached in $RISTSIM_CACHE);
# run the script twice to time a warm run.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
results=${2:-}
ristsim=$build/sim/cli/ristsim
[[ -x $ristsim ]] || { echo "bench_array.sh: $ristsim not found (build the ristsim target)" >&2; exit 2; }
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
keep() { if [[ -n $results ]]; then tee -a "$results"; else cat; fi; }
for arch in systolic16x16_ws os16x16; do
  "$ristsim" cosim --arch configs/$arch.yaml --conv 20,12,12,50,5,5,1,0 --json | keep
done
