#!/usr/bin/env bash
# GPU throughput (issue 16): caffenet, squeezenet, googlenet at batch 256 with random weights,
# and the trained LeNet, in float32 (the engine's cuda mode) and on the exact datapath of
# configs/dynfixed8.yaml (int8 IMMA where the accumulator bound admits a layer: the layers alone
# on random codes, "exact", and the whole quantized net as eval runs it, "engine-exact"), in images/s;
# then PyTorch fake quantization of the same networks on the same GPU
# (scripts/bench_cuda_torch.py; skipped with a note when python3 has no torch).
#
#   scripts/bench_cuda.sh [BUILD_DIR] [RESULTS_FILE]
#
# BUILD_DIR (default build/) holds testbench/cuda/bench_cuda (a build with CUDA). Every run
# prints one JSON line; RESULTS_FILE (default: stdout) collects them. Needs a GPU: without
# one bench_cuda exits with the driver's reason.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
results=${2:-}
bench=$build/testbench/cuda/bench_cuda
[[ -x $bench ]] || { echo "bench_cuda.sh: $bench not found (configure with CUDA and build bench_cuda)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
iters=${RISTSIM_BENCH_ITERS:-10}

keep() { if [[ -n $results ]]; then tee -a "$results"; else cat; fi; }
run() { "$bench" "$@" --iters "$iters" | keep; }
for m in caffenet squeezenet googlenet; do
  run --model models/$m.yaml --batch 256 --mode fp32
  run --model models/$m.yaml --batch 256 --mode exact --arch configs/dynfixed8.yaml
  run --model models/$m.yaml --batch 256 --mode engine-exact --arch configs/dynfixed8.yaml
  "$bench" --dump-net models/$m.yaml >"$tmp/$m.json"
  if python3 -c 'import torch' 2>/dev/null; then
    python3 scripts/bench_cuda_torch.py "$tmp/$m.json" --batch 256 --iters "$iters" | keep
  else
    echo "bench_cuda.sh: python3 has no torch; the PyTorch peer of $m is skipped" >&2
  fi
done
run --model models/lenet_fmnist.rstw --batch 256 --mode fp32
run --model models/lenet_fmnist.rstw --batch 256 --mode exact --arch configs/dynfixed8.yaml
run --model models/lenet_fmnist.rstw --batch 256 --mode engine-exact --arch configs/dynfixed8.yaml
