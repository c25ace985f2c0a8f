#!/usr/bin/env bash
# ristsim against onnxruntime and PyTorch (and Brevitas where it installs) on
# Fashion-MNIST, on this machine, in one run (issue 17's targets):
#   1. inference over the 10,000 test images at batch 100 and at batch 1000,
#      on lenet and cifar10_full (the shipped trained models/*_fmnist.onnx):
#      fp32: ristsim, onnxruntime, PyTorch (lenet);
#      8-bit: ristsim's float (Ristretto) and exact datapaths on
#      configs/dynfixed8.yaml, onnxruntime int8 QDQ (its static quantizer,
#      calibrated on 1,000 training images), PyTorch fake quantization and
#      Brevitas (lenet);
#   2. one lenet training epoch over the 60,000 training images (batch 64, SGD);
#   3. scripts/bench/peak_probe.cpp: the measured fp32 FMA and int8 VNNI peak,
#      against which each tool's GOP/s are given.
# Rounds are interleaved (every tool once per round); prints the median of
# REPEATS rounds, each tool's top-1, the ratios and the targets met or missed.
# Every tool uses all cores (nproc threads).
#
#   scripts/bench_functional.sh            # REPEATS=3
#
# What each timed region holds:
#   ristsim eval: the `seconds` of `ristsim eval --json`: the evaluation loop
#     (per batch: the decoded test images, in memory, copied into the input;
#     the forward pass with the quantization of weights and activations; loss
#     and top-1). Model loading and, for dynfixed8, the range analysis over
#     1,000 training images happen before it.
#   ristsim train: the wall time of the whole `ristsim train --epochs 1
#     --no-test --quiet` process (data loading and the ONNX write included).
#   onnxruntime: InferenceSession.run over the images, data float32 in
#     memory; the session, the int8 model's quantization and calibration and
#     one warm-up batch before (scripts/bench/ort_infer.py).
#   PyTorch / Brevitas: the timed loop only, data already in memory
#     (scripts/bench/torch_lenet.py); inference runs untrained weights (the
#     time does not depend on them; their top-1 is chance).
#
# PyTorch and onnxruntime are installed into .venv-bench/ (not dependencies of
# ristsim): PyPI's Linux torch wheel with --no-deps plus its pure-Python
# dependencies, and scripts/bench/torch_cpu_stubs.py writes stand-ins for the
# NVIDIA libraries it links, so no multi-GB CUDA packages are downloaded; torch
# runs on the CPU. onnxruntime and onnx are PyPI's CPU wheels.
# Environment: REPEATS (3), RISTSIM (a built ristsim; default: scripts/setup.sh
# then build/sim/cli/ristsim), VENV (.venv-bench), TORCH_SPEC (torch),
# ORT_SPEC (onnxruntime), MODELS ("lenet cifar10_full"), BATCHES ("100 1000"),
# TRAIN (1; 0 skips the training rows).
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${REPEATS:-3}
venv=${VENV:-.venv-bench}
models=${MODELS:-lenet cifar10_full}
batches=${BATCHES:-100 1000}
train=${TRAIN:-1}
data=/usr/share/datasets/fashion-mnist
say() { echo "bench_functional: $*" >&2; }

# --- ristsim
if [[ -z ${RISTSIM:-} ]]; then
  scripts/setup.sh
  RISTSIM=build/sim/cli/ristsim
fi
[[ -x $RISTSIM ]] || { say "error: $RISTSIM is not an executable"; exit 1; }
for m in $models; do
  [[ -f models/${m}_fmnist.onnx ]] || { say "error: models/${m}_fmnist.onnx is missing"; exit 2; }
done

# --- the peers, each in the bench's own virtual environment
if [[ ! -x $venv/bin/python ]]; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    as_root=(); [[ $(id -u) -eq 0 ]] || as_root=(sudo)
    say "installing python3-venv"
    "${as_root[@]}" apt-get update -qq >/dev/null
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  python3 -m venv "$venv"
fi
py=$venv/bin/python
if ! "$py" -c 'import torch' 2>/dev/null; then
  command -v readelf >/dev/null || { say "error: readelf (binutils) is needed"; exit 1; }
  say "installing ${TORCH_SPEC:-torch} (CPU use, without the NVIDIA packages) into $venv/"
  "$venv/bin/pip" install -q --no-deps "${TORCH_SPEC:-torch}"
  "$venv/bin/pip" install -q filelock 'typing-extensions>=4.13.0' 'setuptools>=77.0.3,<81' \
    'sympy>=1.13.3' 'networkx>=2.5.1' jinja2 'fsspec>=0.8.5' numpy
  "$py" scripts/bench/torch_cpu_stubs.py \
    "$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/torch/lib" >&2
  "$py" -c 'import torch; torch.nn.Conv2d(1, 2, 3)(torch.zeros(1, 1, 5, 5))' \
    || { say "error: torch does not import"; exit 1; }
  say "installing Brevitas (optional)"
  "$venv/bin/pip" install -q --no-deps brevitas 'dependencies==2.0.1' packaging unfoldNd >/dev/null 2>&1 \
    || say "Brevitas did not install; its rows are skipped"
fi
if ! "$py" -c 'import onnxruntime, onnx' 2>/dev/null; then
  say "installing ${ORT_SPEC:-onnxruntime} and onnx into $venv/"
  "$venv/bin/pip" install -q "${ORT_SPEC:-onnxruntime}" onnx numpy
  "$py" -c 'import onnxruntime' || { say "error: onnxruntime does not import"; exit 1; }
fi
have_brevitas=0
"$py" -c 'import brevitas' 2>/dev/null && have_brevitas=1

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
res=$tmp/results.jsonl
threads=$(nproc)
g++ -O2 -std=c++17 -pthread scripts/bench/peak_probe.cpp -o "$tmp/peak_probe"
load_before=$(uptime)
say "load before: $load_before"
json_of() { "$py" -c 'import sys, json; t = sys.stdin.read(); print(json.dumps(json.loads(t[t.index("{"):t.rindex("}") + 1])))'; }
record() { echo "{\"key\": \"$1\", \"run\": $2, \"data\": $3}" >>"$res"; }
for m in $models; do
  record "$m/ops" 0 "$("$py" scripts/bench/ort_infer.py ops --model "models/${m}_fmnist.onnx")"
done

for r in $(seq 1 "$repeats"); do
  say "run $r/$repeats: peak probe"
  record peak "$r" "$("$tmp/peak_probe" "$threads" 0.3)"
  if [[ $train == 1 ]]; then
    say "run $r/$repeats: training"
    t0=$(date +%s.%N)
    "$RISTSIM" train --model models/lenet.yaml --data fashion-mnist --epochs 1 --batch 64 \
      --seed 1 --no-test --quiet --out "$tmp/w.onnx" >/dev/null
    t1=$(date +%s.%N)
    record train/ristsim "$r" "{\"seconds\": $("$py" -c "print($t1 - $t0)")}"
    record train/torch "$r" "$("$py" scripts/bench/torch_lenet.py train --data "$data" --batch 64 2>/dev/null)"
  fi
  for m in $models; do
    model=models/${m}_fmnist.onnx
    for b in $batches; do
      say "run $r/$repeats: $m inference, batch $b"
      k=$m/$b
      ev=("$RISTSIM" eval --model "$model" --data fashion-mnist --batch "$b" --json --quiet)
      record "$k/ristsim_fp32" "$r" "$("${ev[@]}" | json_of)"
      record "$k/ristsim_float8" "$r" "$("${ev[@]}" --arch configs/dynfixed8.yaml --datapath float | json_of)"
      record "$k/ristsim_exact8" "$r" "$("${ev[@]}" --arch configs/dynfixed8.yaml --datapath exact | json_of)"
      record "$k/ort_fp32" "$r" "$("$py" scripts/bench/ort_infer.py fp32 --model "$model" --data "$data" --batch "$b" --threads "$threads")"
      record "$k/ort_int8" "$r" "$("$py" scripts/bench/ort_infer.py int8 --model "$model" --data "$data" --batch "$b" --threads "$threads")"
      if [[ $m == lenet ]]; then
        record "$k/torch_fp32" "$r" "$("$py" scripts/bench/torch_lenet.py infer --data "$data" --batch "$b" 2>/dev/null)"
        record "$k/torch_fq8" "$r" "$("$py" scripts/bench/torch_lenet.py fq8 --data "$data" --batch "$b" 2>/dev/null)"
        if [[ $have_brevitas == 1 ]]; then
          out=$("$py" scripts/bench/torch_lenet.py brevitas --data "$data" --batch "$b" 2>/dev/null) \
            && record "$k/brevitas8" "$r" "$out" || say "Brevitas run failed"
        fi
      fi
    done
  done
done
load_after=$(uptime)
say "load after: $load_after"

"$py" scripts/bench/bench_summary.py "$res" "$repeats" "$threads" "$load_before" "$load_after" \
  "$models" "$batches"
