#!/usr/bin/env bash
# e2e test of `ristsim sweep --backend slurm` on a real single-node Slurm cluster
# (ctest sweep.slurm): installs slurm-wlm and munge when missing (as
# scripts/setup.sh does), starts munged, slurmctld and slurmd with a generated
# slurm.conf in a temporary folder (scripts/slurm_local.sh), runs the 12-point
# LeNet sweep of testbench/sweep/lenet12.yaml (500 images a point) through the
# local backend and through Slurm (MaxArraySize 8: two arrays, the second with
# an offset), cancels one array task while it runs to check
# that it is retried, compares the two databases point for point (compare_db.py,
# timing columns aside; its _bad twin must catch one changed cell), re-runs the
# Slurm sweep to check that nothing is redone, and stops the daemons by their
# pid files. Exit 77 (ctest: skipped) with the reason when Slurm cannot be had.
#
# usage: slurm_sweep_test.sh RISTSIM SOURCE_DIR
set -euo pipefail
ristsim=$1
src=$2
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  [[ $(id -u) -eq 0 ]] || skip "slurm-wlm and munge are not installed and this is not root"
  echo "installing slurm-wlm and munge"
  (apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null 2>&1 ||
    (apt-get update -qq >/dev/null 2>&1 &&
      apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null 2>&1)) ||
    skip "cannot install slurm-wlm and munge (no package source?)"
fi
[[ $(id -u) -eq 0 ]] || skip "the single-node cluster's daemons need root"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ristsim-sweep-slurm.XXXXXX")
cluster=$tmp/cluster
# A port of its own, so that a developer's cluster (6817) is left alone.
export RISTSIM_SLURM_PORT=$((20000 + $$ % 20000))
# Array indices 0..7 only: the 12 tasks go as two arrays (tasks 0-7, and 8-11 at offset 8).
export RISTSIM_SLURM_MAX_ARRAY=8
cleanup() {
  [[ -n ${sweep_pid:-} ]] && kill "$sweep_pid" 2>/dev/null || true
  "$src/scripts/slurm_local.sh" stop "$cluster" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
eval "$("$src/scripts/slurm_local.sh" start "$cluster")" || fail "the cluster did not start"
[[ -n ${SLURM_CONF:-} ]] || fail "slurm_local.sh printed no SLURM_CONF"
sinfo

sweep=$src/testbench/sweep/lenet12.yaml
t0=$(date +%s.%N)
"$ristsim" sweep "$sweep" --out "$tmp/local" --jobs 2 --quiet || fail "the local sweep failed"
t1=$(date +%s.%N)

# The Slurm run, in the background: cancel one array task while it runs.
"$ristsim" sweep "$sweep" --out "$tmp/slurm" --backend slurm --quiet >"$tmp/slurm.out" 2>&1 &
sweep_pid=$!
cancelled=
for _ in $(seq 600); do
  # A running task of the first array (offset 0) whose point has no row yet
  # (its row is written at the end).
  first=$(squeue -h -o '%F' 2>/dev/null | sort -n | head -n1 || true)
  while read -r id state; do
    [[ $state == RUNNING && ${id%_*} == "$first" ]] || continue
    task=${id#*_}
    [[ $task =~ ^[0-9]+$ ]] || continue
    ids=$(sed -n "$((task + 2))p" "$tmp"/slurm/tasks/*.tasks)
    [[ -e $tmp/slurm/rows/$ids.row ]] && continue
    scancel "$id" && cancelled=$id && break
  done < <(squeue -h -r -o '%i %T' 2>/dev/null)
  [[ -n $cancelled ]] && break
  kill -0 "$sweep_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n $cancelled ]] || fail "no running task to cancel"
echo "cancelled array task $cancelled while it ran"
rc=0
wait "$sweep_pid" || rc=$?
sweep_pid=
t2=$(date +%s.%N)
cat "$tmp/slurm.out"
[[ $rc -eq 0 ]] || fail "the slurm sweep failed (exit $rc)"
grep -Eq "12 points, 0 done before, 12 run now: 12 ok, 0 failed, 0 missing \(([1-9]) task restart" \
  "$tmp/slurm.out" || fail "the cancelled task was not restarted"
ls "$tmp"/slurm/slurm/*-attempt1-offset8.sh >/dev/null || fail "no second array at offset 8"
python3 - "$tmp/slurm/results.sqlite" <<'EOF' || fail "no row of a second attempt"
import sqlite3, sys
n = sqlite3.connect(sys.argv[1]).execute(
    "SELECT count(*) FROM points WHERE attempt >= 2 AND backend = 'slurm'").fetchone()[0]
assert n >= 1, n
EOF

# Local and Slurm: the same results, point for point.
"$src/testbench/sweep/compare_db.py" "$tmp/local/results.sqlite" "$tmp/slurm/results.sqlite" \
  --expect-points 12 || fail "the local and slurm databases differ"
# compare_db_bad: the checker catches one changed cell.
cp "$tmp/slurm/results.sqlite" "$tmp/tampered.sqlite"
python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute('UPDATE points SET top1=top1+0.002 WHERE idx=5'); d.commit()" \
  "$tmp/tampered.sqlite"
if "$src/testbench/sweep/compare_db.py" "$tmp/local/results.sqlite" "$tmp/tampered.sqlite" \
  --expect-points 12; then
  fail "compare_db_bad: a changed top1 went unnoticed"
fi

# A re-run of the same sweep submits nothing.
"$ristsim" sweep "$sweep" --out "$tmp/slurm" --backend slurm --quiet >"$tmp/rerun.out" ||
  fail "the re-run failed"
grep -q "12 points, 12 done before, 0 run now" "$tmp/rerun.out" || fail "the re-run redid points"

awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "wall time: local backend (2 processes) %.1f s, slurm backend (2 CPUs, one task cancelled and rerun) %.1f s\n", b - a, c - b }'
echo "PASS"
