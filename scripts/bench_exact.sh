#!/usr/bin/env bash
# The exact datapath (kernels/cpu, codes in and codes out) against float GEMM
# convolution (im2col + OpenBLAS sgemm) and against the float datapath (the
# same plus quantize() of every output), on LeNet's layers, for every shipped
# arch. Prints the times and the ratios.
#
#   scripts/bench_exact.sh [batch] [repeats]
#
# First with one thread (times are the thread's CPU time, which a busy shared
# machine does not distort), then with all cores (wall time, best of N).
# Environment: BUILD (build folder, default build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
batch=${1:-64}
repeats=${2:-15}
build=${BUILD:-build-bench}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_exact >/dev/null
bench=$(find "$build" -name bench_exact -type f -perm -u+x | head -n 1)
"$bench" 1 "$batch" "$repeats"
echo
"$bench" "$(nproc)" "$batch" "$repeats"
