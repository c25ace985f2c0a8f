#!/usr/bin/env bash
# Simulated cycles per second of a K = 16, 8-bit PE (configs/dynfixed8.yaml):
# the SystemC cycle model and the Verilated RTL, each on its own, on one core,
# in the same run, and their ratio (robust to the load of a shared machine,
# which slows both alike). Targets: SystemC >= 1e6 cycles/s, Verilated RTL
# >= 1e7 cycles/s. CPU time is the figure to quote; wall time is printed too.
#
#   scripts/bench_cosim.sh [BUILD_DIR] [CYCLES] [ARCH]
#
# BUILD_DIR must already hold a build (cosim_bench and ristsim): the script
# measures the tree it is given and never reconfigures or rebuilds it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
cycles="${2:-2000000}"
arch="${3:-$root/configs/dynfixed8.yaml}"
bench="$build/testbench/cosim/cosim_bench"
ristsim="$build/sim/cli/ristsim"
for exe in "$bench" "$ristsim"; do
  if [[ ! -x $exe ]]; then
    echo "bench_cosim.sh: $exe is missing: build it first (cmake --build $build --target" \
         "cosim_bench ristsim)" >&2
    exit 2
  fi
done
export RISTSIM_CACHE="${RISTSIM_CACHE:-$build/cosim-cache}"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
out="$("$bench" "$arch" "$cycles")"
echo "$out"
rtl=$(echo "$out" | sed -n 's/^Verilated RTL: .*CPU (\([0-9.e+]*\) cycles\/s).*/\1/p')
sc=$(echo "$out" | sed -n 's/^SystemC model: .*CPU (\([0-9.e+]*\) cycles\/s).*/\1/p')
awk -v sc="$sc" -v rtl="$rtl" 'BEGIN {
  printf "SystemC model: %.3g cycles/s (target 1e6: %s)\n", sc, ((sc >= 1e6) ? "met" : "MISSED");
  printf "Verilated RTL: %.3g cycles/s (target 1e7: %s)\n", rtl, ((rtl >= 1e7) ? "met" : "MISSED");
  printf "Verilated RTL / SystemC model: %.2f (same run, same load)\n", rtl / sc;
}'

# Every convolution and inner-product layer of the trained LeNet on one
# Fashion-MNIST test image, co-simulated as real layers (each its own RTL: the
# first pass Verilates what is not cached yet, the second is timed).
# Target: all four under 10 s.
model="$root/models/lenet_fmnist.onnx"
layers=$("$ristsim" cosim --arch "$arch" --model "$model" --layer '?' 2>&1 |
         sed -n "s/.*(it has: \(.*\))$/\1/p" | tr -d ',' || true)
for l in $layers; do
  "$ristsim" cosim --arch "$arch" --model "$model" --layer "$l" --json > /dev/null
done
start=$(date +%s.%N)
for l in $layers; do
  "$ristsim" cosim --arch "$arch" --model "$model" --layer "$l" --json |
    sed 's/^{"arch": "\([^"]*\)".*"cycles": \([0-9]*\), "layer": "\([^"]*\)", "vectors": \([0-9]*\).*"mismatches": \([0-9]*\).*/layer \3: \4 outputs, \2 cycles, mismatches \5/'
done
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$(echo $layers | wc -w)" 'BEGIN {
  t = e - s;
  printf "LeNet, %d real layers on one image (each run loads the model and data, ranges, simulates): %.2f s wall (target 10 s: %s)\n", n, t, ((t < 10) ? "met" : "MISSED");
}'
