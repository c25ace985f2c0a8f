#!/bin/sh
# e2e: `ristsim report` on configs/dynfixed8.yaml and models/lenet.yaml writes the
# three report files with parseable JSON; without --model it is a usage error (2).
# Usage: report_cli_test.sh RISTSIM SOURCE_DIR WORK_DIR
set -u
ristsim=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" || exit 1
printf 'label,energy_pj,accuracy\nfixed16,3.3e8,0.91\ndynfixed8,1.65e8,0.905\nworse,2.0e8,0.80\n' > "$work/pareto.csv"
"$ristsim" report --arch "$src/configs/dynfixed8.yaml" --model "$src/models/lenet.yaml" \
  --accuracy-fp32 0.91 --accuracy-quantized 0.905 --pareto "$work/pareto.csv" \
  --out "$work/out" > "$work/stdout.txt" 2>&1 || { cat "$work/stdout.txt"; echo "FAIL: report exited $?"; exit 1; }
for f in report.md report.html report.json; do
  [ -s "$work/out/$f" ] || { echo "FAIL: $f missing"; exit 1; }
done
grep -q '"energy_per_inference_pj"' "$work/out/report.json" || { echo "FAIL: no summary"; exit 1; }
grep -q '"macs": 2293000' "$work/out/report.json" || { echo "FAIL: lenet MACs"; exit 1; }
grep -q '"accuracy_quantized": 0.905' "$work/out/report.json" || { echo "FAIL: accuracy"; exit 1; }
grep -q '"on_front": false' "$work/out/report.json" || { echo "FAIL: the dominated point is on the front"; exit 1; }
if command -v python3 > /dev/null; then
  python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$work/out/report.json" ||
    { echo "FAIL: report.json does not parse"; exit 1; }
fi
"$ristsim" report --arch "$src/configs/dynfixed8.yaml" --out "$work/out2" > "$work/usage.txt" 2>&1
rc=$?
[ "$rc" -eq 2 ] || { cat "$work/usage.txt"; echo "FAIL: missing --model gave exit $rc, not 2"; exit 1; }
grep -q "model" "$work/usage.txt" || { echo "FAIL: the usage error does not name --model"; exit 1; }
[ ! -e "$work/out2/report.json" ] || { echo "FAIL: a failed run left a report"; exit 1; }
echo "report_cli_test: PASS"
