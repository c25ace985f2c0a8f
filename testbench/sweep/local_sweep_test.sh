#!/usr/bin/env bash
# e2e test of `ristsim sweep` through the local backend (ctest sweep.local):
# a 4-point LeNet sweep runs on 2 worker processes into SQLite and CSV with the
# expected values; a re-run skips the points done; compare_db.py passes a copy
# and catches a changed cell (compare_db_bad); a worker killed with SIGKILL is
# restarted; a point that fails gets a
# `failed` row with its error and exit 1; a sweep with an invalid point is
# refused at load time (exit 2, FILE:LINE:COLUMN, no output folder); `ristsim
# report --sweep` writes the Pareto fronts.
#
# With a third argument `cosim` (ctest sweep.cosim) it checks `measure.cosim`
# instead: one point whose conv2 is co-simulated (SystemC model, Verilated RTL,
# golden model) with 0 mismatches, and the load-time error of cosim with more
# than one point per task.
#
# usage: local_sweep_test.sh RISTSIM SOURCE_DIR [cosim]
set -euo pipefail
ristsim=$1
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ristsim-sweep-local.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if [[ ${3:-} == cosim ]]; then
  cat >"$tmp/c.yaml" <<EOF
name: cosim1
arch: $src/configs/dynfixed8.yaml
models: [{name: lenet, model: $src/models/lenet_fmnist.onnx, data: fashion-mnist}]
axes: {array.lanes: [16]}
measure: {images: 100, calib: 100, cosim: conv2}
EOF
  out=$("$ristsim" sweep "$tmp/c.yaml" --out "$tmp/c" --quiet) || fail "the cosim sweep failed: $out"
  python3 - "$tmp/c" <<'EOF' || fail "the co-simulation row"
import sqlite3, sys
r = sqlite3.connect(sys.argv[1] + "/results.sqlite").execute(
    "SELECT status, cosim_layer, cosim_outputs, cosim_mismatches FROM points").fetchall()
assert r == [("ok", "conv2", 3200, 0)], r
EOF
  printf 'slurm: {points_per_task: 2}\n' >>"$tmp/c.yaml"
  set +e
  out=$("$ristsim" sweep "$tmp/c.yaml" --out "$tmp/c2" 2>&1)
  rc=$?
  set -e
  [[ $rc -eq 2 ]] && grep -q "c.yaml:6:26: slurm.points_per_task must be 1 with measure.cosim" \
    <<<"$out" || fail "cosim with 2 points per task: exit $rc: $out"
  echo "PASS"
  exit 0
fi

cat >"$tmp/s.yaml" <<EOF
name: local4
arch: $src/configs/dynfixed8.yaml
models: [{name: lenet, model: $src/models/lenet_fmnist.onnx, data: fashion-mnist}]
axes:
  formats.weights.bits: [4, 8]
  array.lanes: [8, 16]
measure: {images: 200, calib: 100}
slurm: {points_per_task: 2}
EOF

# 1. The sweep: 4 points in 2 tasks on 2 processes.
out=$("$ristsim" sweep "$tmp/s.yaml" --out "$tmp/a" --jobs 2) || fail "the sweep failed: $out"
echo "$out"
grep -q "4 points, 0 done before, 4 run now: 4 ok, 0 failed, 0 missing" <<<"$out" || fail "summary"
python3 - "$tmp/a" <<'EOF' || fail "database contents"
import sqlite3, sys, csv
db = sqlite3.connect(sys.argv[1] + "/results.sqlite")
assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
rows = db.execute('SELECT idx, "formats.weights.bits", "array.lanes", status, top1, images, '
                  'energy_pj, area_um2, cycles, version, task FROM points ORDER BY idx').fetchall()
assert len(rows) == 4, rows
for r in rows:
    assert r[3] == "ok" and r[5] == 200 and 0.5 < r[4] <= 1 and r[6] > 0 and r[7] > 0, r
    assert isinstance(r[1], int) and isinstance(r[2], int), r  # axis values stored as numbers
assert [(r[1], r[2]) for r in rows] == [(4, 8), (4, 16), (8, 8), (8, 16)], rows
assert [r[10] for r in rows] == [0, 0, 1, 1], rows        # 2 points per task
assert rows[0][8] > rows[1][8] and rows[0][8] == rows[2][8], rows   # 8 lanes take more cycles
assert rows[2][6] > rows[0][6] and rows[1][7] > rows[0][7], rows    # 8-bit weights cost more
with open(sys.argv[1] + "/results.csv") as f:
    c = list(csv.DictReader(f))
assert len(c) == 4 and c[3]["formats.weights.bits"] == "8" and c[3]["status"] == "ok", c
print("database ok:", rows)
EOF

# 2. A re-run does nothing (the points are done).
out=$("$ristsim" sweep "$tmp/s.yaml" --out "$tmp/a" --jobs 2) || fail "the re-run failed: $out"
grep -q "4 points, 4 done before, 0 run now" <<<"$out" || fail "the re-run redid points: $out"

# compare_db_bad: the checker of the Slurm test passes a copy and catches one changed cell.
cp "$tmp/a/results.sqlite" "$tmp/copy.sqlite"
"$src/testbench/sweep/compare_db.py" "$tmp/a/results.sqlite" "$tmp/copy.sqlite" \
  --expect-points 4 || fail "compare_db: a copy differs"
python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute('UPDATE points SET cycles=cycles+1 WHERE idx=2'); d.commit()" \
  "$tmp/copy.sqlite"
if "$src/testbench/sweep/compare_db.py" "$tmp/a/results.sqlite" "$tmp/copy.sqlite" \
  --expect-points 4; then
  fail "compare_db_bad: a changed cell went unnoticed"
fi

# 2b. A worker killed mid-run is restarted; its task's points all get rows.
sed -e 's/\[4, 8\]/[6]/' "$tmp/s.yaml" >"$tmp/k.yaml"   # 2 points, one task
"$ristsim" sweep "$tmp/k.yaml" --out "$tmp/k" --jobs 1 --quiet >"$tmp/k.out" 2>&1 &
collector=$!
killed=
for _ in $(seq 300); do
  worker=$(ps -o pid= --ppid "$collector" 2>/dev/null | head -n1 | tr -d " " || true)
  if [[ -n $worker ]]; then kill -9 "$worker" && killed=$worker && break; fi
  sleep 0.02
done
rc=0
wait "$collector" || rc=$?
cat "$tmp/k.out"
[[ -n $killed ]] || fail "no worker process to kill"
[[ $rc -eq 0 ]] || fail "the sweep with a killed worker failed (exit $rc)"
grep -q "2 points, 0 done before, 2 run now: 2 ok, 0 failed, 0 missing (1 task restarts)" \
  "$tmp/k.out" || fail "the killed worker's task was not restarted"
[[ -s $tmp/k/logs/local-task0-attempt2.log ]] || fail "no log of the second attempt"

# 3. A point that fails (no such model file): a failed row with the error, exit 1.
sed -e "s|$src/models/lenet_fmnist.onnx|$tmp/none.onnx|" -e 's/\[4, 8\]/[4]/' \
    -e 's/\[8, 16\]/[8]/' "$tmp/s.yaml" >"$tmp/f.yaml"
set +e
out=$("$ristsim" sweep "$tmp/f.yaml" --out "$tmp/f" --quiet 2>&1)
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "a failed point gave exit $rc, expected 1: $out"
grep -q "1 points failed" <<<"$out" || fail "no failure message: $out"
python3 - "$tmp/f" "$tmp/none.onnx" <<'EOF' || fail "the failed row"
import sqlite3, sys
r = sqlite3.connect(sys.argv[1] + "/results.sqlite").execute(
    "SELECT status, error FROM points").fetchall()
assert len(r) == 1 and r[0][0] == "failed" and sys.argv[2] in r[0][1], r
EOF

# 4. An invalid point is a load-time error naming the value; nothing is created.
sed -e 's/\[4, 8\]/[4, 40]/' "$tmp/s.yaml" >"$tmp/bad.yaml"
set +e
out=$("$ristsim" sweep "$tmp/bad.yaml" --out "$tmp/bad" 2>&1)
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "an invalid point gave exit $rc, expected 2: $out"
grep -q "bad.yaml:5:29: point 2 (formats.weights.bits=40 array.lanes=8) is not a valid arch" \
  <<<"$out" || fail "the message does not name the value: $out"
[[ ! -e $tmp/bad ]] || fail "an invalid sweep left an output folder"

# 5. --dry-run prints the Slurm batch script (flags override the file) and writes nothing.
out=$("$ristsim" sweep "$tmp/s.yaml" --out "$tmp/dry" --backend slurm --dry-run --partition p1 \
  --time 00:02:00) || fail "--dry-run failed: $out"
for want in '^#SBATCH --array=0-1$' '^#SBATCH --partition=p1$' '^#SBATCH --time=00:02:00$' \
  "^exec '.*ristsim' 'sweep' '$tmp/s.yaml' '--out' '$tmp/dry' '--worker' .* \"\\\$\\{SLURM_ARRAY_TASK_ID\\}\""; do
  grep -Eq -- "$want" <<<"$out" || fail "--dry-run: no line matching $want in: $out"
done
[[ ! -e $tmp/dry ]] || fail "--dry-run created the output folder"

# 6. The report: fronts of top-1 against energy, area and cycles.
out=$("$ristsim" report --sweep "$tmp/a") || fail "report --sweep failed: $out"
echo "$out"
for f in sweep_report.md sweep_report.html sweep_report.json; do
  [[ -s $tmp/a/report/$f ]] || fail "no $f"
done
python3 - "$tmp/a/report/sweep_report.json" <<'EOF' || fail "report json"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["points"] == 4 and j["ok"] == 4, j
assert [f["cost"] for f in j["fronts"]] == ["energy_pj", "area_um2", "cycles"], j
for f in j["fronts"]:
    assert f["points"] == 4 and 1 <= len(f["front"]) <= 4, f
    costs = [p["cost"] for p in f["front"]]
    accs = [p["top1"] for p in f["front"]]
    assert costs == sorted(costs) and accs == sorted(accs), f  # a front rises with its cost
EOF
set +e
out=$("$ristsim" report --sweep "$tmp/nothing" 2>&1)
rc=$?
set -e
[[ $rc -eq 2 ]] && grep -q "no sweep results here" <<<"$out" || fail "report of no sweep: $rc $out"
echo "PASS"
