#!/usr/bin/env bash
# ristsim against PyTorch (and Brevitas where it installs) on Caffe's LeNet and
# Fashion-MNIST, on this machine, in one run:
#   1. fp32 inference over the 10,000 test images (batch 1000 both),
#   2. 8-bit dynamic fixed point inference (configs/dynfixed8.yaml; ristsim's
#      float (Ristretto) and exact datapaths, PyTorch fake quantization with
#      power-of-two scales, Brevitas Int8 fixed-point quantizers),
#   3. one training epoch over the 60,000 training images (batch 64, SGD).
# Prints the median of REPEATS runs of each, the ratios, and the exact/float
# datapath ratio. Both sides use all cores (nproc threads).
#
#   scripts/bench_functional.sh            # REPEATS=3
#
# Timings: ristsim inference is the `seconds` of `ristsim eval --json` (the
# evaluation loop; dynfixed8 includes its range analysis over 1,000 training
# images); ristsim training is the wall time of `ristsim train --epochs 1
# --no-test --quiet` (whole process: data loading and the ONNX write
# included). PyTorch times are the timed loop only, data already in memory.
#
# PyTorch is installed into .venv-bench/ (not a dependency of ristsim): PyPI's
# Linux torch wheel with --no-deps plus its pure-Python dependencies, and
# scripts/bench/torch_cpu_stubs.py writes stand-ins for the NVIDIA libraries it
# links, so no multi-GB CUDA packages are downloaded; torch runs on the CPU.
# Environment: REPEATS (3), RISTSIM (a built ristsim; default: scripts/setup.sh
# then build/sim/cli/ristsim), VENV (.venv-bench), TORCH_SPEC (torch).
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${REPEATS:-3}
venv=${VENV:-.venv-bench}
data=/usr/share/datasets/fashion-mnist
say() { echo "bench_functional: $*" >&2; }

# --- ristsim
if [[ -z ${RISTSIM:-} ]]; then
  scripts/setup.sh
  RISTSIM=build/sim/cli/ristsim
fi
[[ -x $RISTSIM ]] || { say "error: $RISTSIM is not an executable"; exit 1; }

# --- PyTorch (CPU) in its own virtual environment
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    as_root=(); [[ $(id -u) -eq 0 ]] || as_root=(sudo)
    say "installing python3-venv"
    "${as_root[@]}" apt-get update -qq >/dev/null
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  command -v readelf >/dev/null || { say "error: readelf (binutils) is needed"; exit 1; }
  rm -rf "$venv"
  python3 -m venv "$venv"
  say "installing ${TORCH_SPEC:-torch} (CPU use, without the NVIDIA packages) into $venv/"
  "$venv/bin/pip" install -q --no-deps "${TORCH_SPEC:-torch}"
  "$venv/bin/pip" install -q filelock 'typing-extensions>=4.13.0' 'setuptools>=77.0.3,<81' \
    'sympy>=1.13.3' 'networkx>=2.5.1' jinja2 'fsspec>=0.8.5' numpy
  "$venv/bin/python" scripts/bench/torch_cpu_stubs.py \
    "$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/torch/lib" >&2
  "$venv/bin/python" -c 'import torch; torch.nn.Conv2d(1, 2, 3)(torch.zeros(1, 1, 5, 5))' \
    || { say "error: torch does not import"; exit 1; }
  say "installing Brevitas (optional)"
  "$venv/bin/pip" install -q --no-deps brevitas 'dependencies==2.0.1' packaging unfoldNd >/dev/null 2>&1 \
    || say "Brevitas did not install; its row is skipped"
fi
py=$venv/bin/python
have_brevitas=0
"$py" -c 'import brevitas' 2>/dev/null && have_brevitas=1

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
res=$tmp/results.jsonl
say "load before: $(uptime)"
json_of() { "$py" -c 'import sys, json; t = sys.stdin.read(); print(json.dumps(json.loads(t[t.index("{"):t.rindex("}") + 1])))'; }
record() { echo "{\"key\": \"$1\", \"run\": $2, \"data\": $3}" >>"$res"; }

for r in $(seq 1 "$repeats"); do
  say "run $r/$repeats: training"
  t0=$(date +%s.%N)
  "$RISTSIM" train --model models/lenet.yaml --data fashion-mnist --epochs 1 --batch 64 \
    --seed 1 --no-test --quiet --out "$tmp/w.onnx" >/dev/null
  t1=$(date +%s.%N)
  record ristsim_train "$r" "{\"seconds\": $("$py" -c "print($t1 - $t0)")}"
  record torch_train "$r" "$("$py" scripts/bench/torch_lenet.py train --data "$data" --batch 64 2>/dev/null)"
  say "run $r/$repeats: inference"
  record ristsim_fp32 "$r" "$("$RISTSIM" eval --model "$tmp/w.onnx" --data fashion-mnist --batch 1000 --json --quiet | json_of)"
  record ristsim_float8 "$r" "$("$RISTSIM" eval --model "$tmp/w.onnx" --data fashion-mnist --batch 1000 \
    --arch configs/dynfixed8.yaml --datapath float --json --quiet | json_of)"
  record ristsim_exact8 "$r" "$("$RISTSIM" eval --model "$tmp/w.onnx" --data fashion-mnist --batch 1000 \
    --arch configs/dynfixed8.yaml --datapath exact --json --quiet | json_of)"
  record torch_fp32 "$r" "$("$py" scripts/bench/torch_lenet.py infer --data "$data" --batch 1000 2>/dev/null)"
  record torch_fq8 "$r" "$("$py" scripts/bench/torch_lenet.py fq8 --data "$data" --batch 1000 2>/dev/null)"
  if [[ $have_brevitas == 1 ]]; then
    out=$("$py" scripts/bench/torch_lenet.py brevitas --data "$data" --batch 1000 2>/dev/null) \
      && record brevitas8 "$r" "$out" || say "Brevitas run failed"
  fi
done
say "load after: $(uptime)"

"$py" - "$res" "$repeats" "$(nproc)" "$(uptime)" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["key"], []).append(r["data"]["seconds"])
med = {k: statistics.median(v) for k, v in by.items()}
print(f"LeNet / Fashion-MNIST, {sys.argv[3]} cores, median of {sys.argv[2]} runs (seconds; ratio = PyTorch / ristsim, > 1: ristsim faster)")
print(f"{'what':44} {'ristsim':>9} {'PyTorch':>9} {'ratio':>7}  runs (ristsim | PyTorch)")
def line(what, a, b):
    if a not in med or b not in med:
        return
    print(f"{what:44} {med[a]:9.3f} {med[b]:9.3f} {med[b] / med[a]:7.2f}  "
          f"{' '.join('%.2f' % x for x in by[a])} | {' '.join('%.2f' % x for x in by[b])}")
line("fp32 inference, 10,000 images, batch 1000", "ristsim_fp32", "torch_fp32")
line("8-bit, float datapath vs fake quant", "ristsim_float8", "torch_fq8")
line("8-bit, exact datapath vs fake quant", "ristsim_exact8", "torch_fq8")
line("8-bit, float datapath vs Brevitas", "ristsim_float8", "brevitas8")
line("8-bit, exact datapath vs Brevitas", "ristsim_exact8", "brevitas8")
line("training, 1 epoch, 60,000 images, batch 64", "ristsim_train", "torch_train")
print(f"exact / float datapath (ristsim, dynfixed8): {med['ristsim_exact8'] / med['ristsim_float8']:.2f}x (target <= 3x)")
acc = {r["key"]: r["data"].get("top1") for r in rows}
print("top-1 of the last run: " + ", ".join(f"{k} {v:.4f}" for k, v in acc.items() if v is not None))
torch_v = next((r["data"].get("torch") for r in rows if "torch" in r["data"]), "?")
print(f"torch {torch_v}; load at the end: {sys.argv[4].strip()}")
PY
