#!/usr/bin/env bash
# Simulated cycles per second of the Verilated 16 x 16 PE array
# (rtl/ristsim_pe_array.sv through the generated ristsim_array): LeNet's conv2
# shape (20 x 12 x 12 in, 50 x 5 x 5 weights, random codes) mapped by the cost
# report's mapper and run once in lockstep with the SystemC array (which checks
# it), then the recorded inputs replayed through the Verilated array alone for
# 3 s of CPU. CPU time is the figure to quote; wall time is printed too.
#
#   scripts/bench_array_rtl.sh [BUILD_DIR] [os|ws|is]...   (default: ws os)
#
# BUILD_DIR must already hold a build (array_cosim): the script measures the
# tree it is given and never reconfigures or rebuilds it. The first run of a
# design Verilates it (minutes for 16 x 16; cached in $RISTSIM_CACHE).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
shift || true
flows=("$@")
[[ ${#flows[@]} -gt 0 ]] || flows=(ws os)
exe="$build/testbench/cosim/array_cosim"
if [[ ! -x $exe ]]; then
  echo "bench_array_rtl.sh: $exe is missing: build it first (cmake --build $build --target" \
       "array_cosim)" >&2
  exit 2
fi
export RISTSIM_CACHE="${RISTSIM_CACHE:-$build/cosim-cache}"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for df in "${flows[@]}"; do
  case $df in
    os) arch=os16x16 ;;
    ws | is) arch=systolic16x16_ws ;;
    *) echo "bench_array_rtl.sh: dataflow os, ws or is, not '$df'" >&2; exit 2 ;;
  esac
  echo "== $df ($arch, 16x16, K = 1)"
  "$exe" "$root/configs/$arch.yaml" 20,12,12,50,5,5,1,0 16x16 "$df" 1 bench |
    grep -E '^(array|rtl vs|speed|bench|ARRAY)'
done
