#!/bin/sh
# The cost model on every shipped arch (configs/*.yaml) with a model (default
# models/lenet.yaml): one report per arch under OUT (default out/bench_cost) and
# a summary table of area, energy, pJ/MAC, TOPS/W and the thesis claims.
# Usage: scripts/bench_cost.sh [BUILD_DIR] [MODEL] [OUT]   (extra: YOSYS=1 for --yosys)
set -eu
build=${1:-build}
model=${2:-models/lenet.yaml}
out=${3:-out/bench_cost}
ristsim=$build/sim/cli/ristsim
[ -x "$ristsim" ] || { echo "no $ristsim: build the ristsim target first" >&2; exit 2; }
mkdir -p "$out"
extra=""
[ "${YOSYS:-0}" = 1 ] && extra="--yosys"
printf '%-12s %12s %14s %10s %10s  %s\n' arch "area (mm^2)" "energy (uJ)" "pJ/MAC" "TOPS/W" "claims (8-bit mult, lane, bandwidth)"
for arch in configs/*.yaml; do
  name=$(basename "$arch" .yaml)
  "$ristsim" report --arch "$arch" --model "$model" --out "$out/$name" --force $extra > "$out/$name.log" 2>&1 ||
    { echo "$name: failed, see $out/$name.log"; continue; }
  python3 - "$out/$name/report.json" "$name" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s = j["summary"]
claims = ", ".join("%.3gx %s" % (c["value"], "ok" if c["holds"] else "NO") for c in j["claims"])
print("%-12s %12.4g %14.4g %10.4g %10.4g  %s" % (sys.argv[2], s["area_um2"] * 1e-6,
      s["energy_per_inference_pj"] * 1e-6, s["energy_per_mac_pj"], s["tops_per_w"], claims))
PY
done
echo "reports: $out/<arch>/report.html"
