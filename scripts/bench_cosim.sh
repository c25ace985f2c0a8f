#!/usr/bin/env bash
# Simulated cycles per second of a K = 16, 8-bit PE (configs/dynfixed8.yaml):
# the SystemC cycle model and the Verilated RTL, each on its own, on one core.
# Targets: SystemC >= 1e6 cycles/s, Verilated RTL >= 1e7 cycles/s.
# CPU time is the figure to quote on a shared machine; wall time is printed too.
#
#   scripts/bench_cosim.sh [BUILD_DIR] [CYCLES] [ARCH]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
cycles="${2:-2000000}"
arch="${3:-$root/configs/dynfixed8.yaml}"
cmake -S "$root" -B "$build" > /dev/null
cmake --build "$build" --target cosim_bench -j2 > /dev/null
export RISTSIM_CACHE="${RISTSIM_CACHE:-$build/cosim-cache}"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
out="$("$build/testbench/cosim/cosim_bench" "$arch" "$cycles")"
echo "$out"
rtl=$(echo "$out" | sed -n 's/^Verilated RTL: .*CPU (\([0-9.e+]*\) cycles\/s).*/\1/p')
sc=$(echo "$out" | sed -n 's/^SystemC model: .*CPU (\([0-9.e+]*\) cycles\/s).*/\1/p')
awk -v sc="$sc" -v rtl="$rtl" 'BEGIN {
  printf "SystemC model: %.3g cycles/s (target 1e6: %s)\n", sc, ((sc >= 1e6) ? "met" : "MISSED");
  printf "Verilated RTL: %.3g cycles/s (target 1e7: %s)\n", rtl, ((rtl >= 1e7) ? "met" : "MISSED");
}'

# Every convolution and inner-product layer of the trained LeNet on one
# Fashion-MNIST test image, co-simulated as real layers (each its own RTL: the
# first pass Verilates what is not cached yet, the second is timed).
# Target: all four under 10 s.
cmake --build "$build" --target ristsim -j2 > /dev/null
model="$root/models/lenet_fmnist.onnx"
layers=$("$build/sim/cli/ristsim" cosim --arch "$arch" --model "$model" --layer '?' 2>&1 |
         sed -n "s/.*(it has: \(.*\))$/\1/p" | tr -d ',' || true)
for l in $layers; do
  "$build/sim/cli/ristsim" cosim --arch "$arch" --model "$model" --layer "$l" --json > /dev/null
done
start=$(date +%s.%N)
for l in $layers; do
  "$build/sim/cli/ristsim" cosim --arch "$arch" --model "$model" --layer "$l" --json |
    sed 's/^{"arch": "\([^"]*\)".*"cycles": \([0-9]*\), "layer": "\([^"]*\)", "vectors": \([0-9]*\).*"mismatches": \([0-9]*\).*/layer \3: \4 outputs, \2 cycles, mismatches \5/'
done
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$(echo $layers | wc -w)" 'BEGIN {
  t = e - s;
  printf "LeNet, %d real layers on one image (each run loads the model and data, ranges, simulates): %.2f s wall (target 10 s: %s)\n", n, t, ((t < 10) ? "met" : "MISSED");
}'
