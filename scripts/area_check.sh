#!/bin/sh
# The cost model's area against yosys, block by block (docs/cost.md "Yosys
# cross-check"): for every shipped arch (configs/*.yaml) and every co-simulation
# arch (testbench/cosim/arch/*.yaml), `ristsim report --yosys` synthesizes each
# rtl/ module of the arch's PE on its own (generic cells, `stat`, the cell areas
# of configs/tech/45nm.yaml) and this prints model GE, yosys GE and their ratio
# per block, with the cells yosys made.
#
# Usage: scripts/area_check.sh [BUILD_DIR] [OUT]      (about 12 s per arch)
#   UPDATE=1  also rewrite testbench/cost/area_yosys.csv, the yosys GE per arch
#             and module that the unit test CostArea.* checks the model against
#             (run it after a change to rtl/ or to the yosys flow).
# Exit: 0 when every block is within 1.25x of yosys or has an entry in the
# explained list (testbench/cost/area_explained.csv) that covers its ratio,
# 1 otherwise, 2 on bad usage.
set -eu
build=${1:-build}
out=${2:-out/area_check}
ristsim=$build/sim/cli/ristsim
[ -x "$ristsim" ] || { echo "no $ristsim: build the ristsim target first" >&2; exit 2; }
command -v yosys > /dev/null || { echo "yosys is not installed" >&2; exit 2; }
mkdir -p "$out"
rows=$out/blocks.csv
echo "arch,module,instances,model_ge,yosys_ge,ratio,cells" > "$rows"
for arch in configs/*.yaml testbench/cosim/arch/*.yaml; do
  name=$(basename "$arch" .yaml)
  "$ristsim" report --arch "$arch" --model models/lenet.yaml --yosys --out "$out/$name" --force \
    > "$out/$name.log" 2>&1 || { echo "$name: report failed, see $out/$name.log" >&2; exit 1; }
  python3 - "$out/$name/report.json" "$name" >> "$rows" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for r in j["cross_check"]:
    if r["module"] == "-" or r["error"]:
        continue
    n = r["instances"]
    cells = " ".join("%s:%d" % kv for kv in sorted(r["cells"].items()))
    print("%s,%s,%g,%.3f,%.3f,%.3f,%s" % (sys.argv[2], r["module"], n, r["model_ge"] / n,
          r["yosys_ge"] / n, r["ratio"], cells))
PY
done
status=0
python3 - "$rows" testbench/cost/area_explained.csv <<'PY' || status=$?
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
explained = list(csv.DictReader(l for l in open(sys.argv[2]) if not l.startswith("#")))
bad = 0
print("%-22s %-22s %10s %10s %7s  %s" % ("arch", "module", "model GE", "yosys GE", "ratio", "verdict"))
for r in rows:
    m, y = float(r["model_ge"]), float(r["yosys_ge"])
    if m == 0 and y == 0:
        verdict = "ok (wires)"
    else:
        ratio = y / m if m > 0 else float("inf")
        if 1 / 1.25 <= ratio <= 1.25:
            verdict = "ok"
        else:
            hit = [e for e in explained if e["module"] == r["module"] and
                   (e["arch"] == "*" or e["arch"] == r["arch"]) and
                   float(e["min_ratio"]) <= ratio <= float(e["max_ratio"])]
            verdict = "explained: " + hit[0]["reason"] if hit else "BEYOND 1.25x"
            bad += 0 if hit else 1
    print("%-22s %-22s %10.1f %10.1f %7.3f  %s" % (r["arch"], r["module"], m, y,
          y / m if m > 0 else 0, verdict))
sys.exit(1 if bad else 0)
PY
if [ "${UPDATE:-0}" = 1 ]; then
  {
    echo "# yosys GE of one instance of each rtl/ module of each arch's PE, written by"
    echo "# UPDATE=1 scripts/area_check.sh (yosys $(yosys -V | cut -d' ' -f2), configs/tech/45nm.yaml cell areas)."
    echo "arch,module,yosys_ge"
    tail -n +2 "$rows" | cut -d, -f1,2,5
  } > testbench/cost/area_yosys.csv
  echo "wrote testbench/cost/area_yosys.csv"
fi
exit $status
