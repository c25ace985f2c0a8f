#!/usr/bin/env bash
# e2e test of a sweep model's image preparation keys (ctest sweep.data, docs/sweep.md): a
# 2-point CaffeNet sweep (random weights) over a tiny synthetic image folder with
# `preprocess: caffe_imagenet`, streamed by the local backend's workers, ends with 2 ok rows
# of 4 images each; bad preparation values are refused at load time (exit 2,
# FILE:LINE:COLUMN, no output folder); the CaffeNet example of docs/data.md loads
# (--backend slurm --dry-run prints its batch script).
#
# usage: data_sweep_test.sh RISTSIM SOURCE_DIR
set -euo pipefail
ristsim=$1
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ristsim-sweep-data.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$ristsim" synth-images --out "$tmp/img" --classes 3 --train 2 --val 2 --size 64 --jitter 0 \
  >/dev/null || fail "synth-images"

# 1. Two points, streamed with Caffe's ImageNet preparation (256x256, crop 227, BGR, mean).
cat >"$tmp/s.yaml" <<YAML
name: caffenet2
arch: $src/configs/dynfixed8.yaml
models:
  - {name: caffenet, model: $src/models/caffenet.yaml, data: $tmp/img,
     preprocess: caffe_imagenet, order: class}
axes:
  formats.weights.bits: [4, 8]
measure: {images: 4, calib: 3, batch: 2}
YAML
out=$("$ristsim" sweep "$tmp/s.yaml" --out "$tmp/a" --jobs 2 --quiet) || fail "the sweep failed: $out"
grep -q "2 points, 0 done before, 2 run now: 2 ok, 0 failed, 0 missing" <<<"$out" ||
  fail "summary: $out"
python3 - "$tmp/a" <<'PY' || fail "database contents"
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1] + "/results.sqlite").execute(
    'SELECT "formats.weights.bits", status, images, top1, macs FROM points ORDER BY idx').fetchall()
assert [(r[0], r[1], r[2]) for r in rows] == [(4, "ok", 4), (8, "ok", 4)], rows
assert all(0 <= r[3] <= 1 for r in rows), rows
assert all(r[4] > 600_000_000 for r in rows), rows   # CaffeNet at 227x227: ~724M MACs
PY

# 2. Bad preparation values: exit 2 at the value's line and column, nothing written.
refused() {  # refused FILE OUT LINE:COL MESSAGE
  set +e
  out=$("$ristsim" sweep "$1" --out "$2" 2>&1)
  local rc=$?
  set -e
  [[ $rc -eq 2 ]] || fail "$1: exit $rc, not 2: $out"
  grep -qF "$(basename "$1"):$3: $4" <<<"$out" || fail "expected '$(basename "$1"):$3: $4', got: $out"
  [[ ! -e $2 ]] || fail "$1: an output folder was left"
}
bad() {  # bad LINE:COL MESSAGE KEYS
  sed "s|preprocess: caffe_imagenet, order: class|$3|" "$tmp/s.yaml" >"$tmp/b.yaml"
  refused "$tmp/b.yaml" "$tmp/b" "$1" "$2"
}
bad 5:18 "models[].preprocess must be default, caffe_imagenet or none, not 'caffe'" \
  "preprocess: caffe"
bad 5:40 "models[].crop 300 is larger than the resize 256x256" \
  "preprocess: caffe_imagenet, crop: 300"
bad 5:12 "models[].mean takes one value or three (one per channel), got 2" "mean: [1, 2]"
bad 5:13 "models[].order must be interleaved or class, not 'random'" "order: random"
bad 5:6 "unknown key 'resise'" "resise: 128"
# Image keys on a data set that is not an image folder.
sed "s|data: $tmp/img|data: fashion-mnist|" "$tmp/s.yaml" >"$tmp/f.yaml"
refused "$tmp/f.yaml" "$tmp/f" 5:18 \
  "models[].preprocess, models[].order: image-folder options, but 'fashion-mnist' is not an image folder"

# 3. The CaffeNet example of docs/data.md loads (16 points) and makes its batch script.
out=$("$ristsim" sweep "$src/testbench/sweep/caffenet_8bit.yaml" --out "$tmp/c" --backend slurm \
  --dry-run) || fail "the CaffeNet example: $out"
grep -q "#SBATCH --array=0-15" <<<"$out" || fail "the CaffeNet example's array: $out"
[[ ! -e $tmp/c ]] || fail "--dry-run made the output folder"
echo "PASS"
