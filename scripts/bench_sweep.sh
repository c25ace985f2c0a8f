#!/usr/bin/env bash
# The sweep measurement of docs/results.md: the 100-point LeNet sweep of
# testbench/sweep/lenet100.yaml through the local backend (--jobs = cores) and
# through a single-node Slurm cluster (scripts/slurm_local.sh, as root), with
# wall times, then the two databases compared point for point (timing columns
# aside). Not part of the test suite. usage: scripts/bench_sweep.sh [OUT_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ristsim=${RISTSIM:-$root/build/sim/cli/ristsim}
out=${1:-$(mktemp -d "${TMPDIR:-/tmp}/ristsim-bench-sweep.XXXXXX")}
sweep=$root/testbench/sweep/lenet100.yaml
mkdir -p "$out"
rm -rf "$out/local" "$out/slurm"
export RISTSIM_SLURM_PORT=${RISTSIM_SLURM_PORT:-6917}
trap '"$root/scripts/slurm_local.sh" stop "$out/cluster"' EXIT
eval "$("$root/scripts/slurm_local.sh" start "$out/cluster")"
t0=$(date +%s.%N)
"$ristsim" sweep "$sweep" --out "$out/local" --jobs "$(nproc)" --quiet
t1=$(date +%s.%N)
"$ristsim" sweep "$sweep" --out "$out/slurm" --backend slurm --quiet
t2=$(date +%s.%N)
"$root/testbench/sweep/compare_db.py" "$out/local/results.sqlite" "$out/slurm/results.sqlite" \
  --expect-points 100
awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$(nproc)" 'BEGIN { printf "100 points: local backend (%d processes) %.1f s, single-node slurm (%d CPUs) %.1f s\n", n, b - a, n, c - b }'
"$ristsim" report --sweep "$out/local"
echo "results in $out"
