#!/usr/bin/env bash
# The ImageNet-scale data path, measured on a synthetic ImageNet-shaped folder (issue 14):
#   1. `ristsim synth-images`: 1000 classes, 50 validation images each (50,000, ImageNet's
#      validation set) plus TRAIN_PER_CLASS training images each, about 256x256 (+-32) JPEGs;
#   2. the loader alone: `ristsim eval` of a one-layer net on all 50,000 validation images with
#      Caffe's preparation (decode, resize 256x256, crop 227, BGR, mean): images/s and max RSS;
#   3. `ristsim quantize` of CaffeNet (models/caffenet.yaml, random weights: the accuracy
#      figures mean nothing, memory and time do) on the folder, 8-bit dynamic fixed point
#      (--bits 8), with bounded image counts (CaffeNet runs at a few images/s here): max RSS,
#      wall time;
#   4. the same with --data-load memory (the pre-stream path: whole splits in memory), which
#      refuses: 50,000 x 3x227x227 floats are 31 GB.
# Max RSS is GNU time's "Maximum resident set size". Everything runs under `nice`. The folder
# is removed at the end (KEEP=1 keeps it).
#
#   scripts/bench_stream.sh                 # DIR=/tmp/ristsim_imagenet_synth
# Environment: RISTSIM (build/sim/cli/ristsim), DIR, TRAIN_PER_CLASS (3), QUANT_TEST (200 test
# images for quantize), QUANT_IMAGES (100 range / search images), BATCH (50), KEEP.
set -euo pipefail
cd "$(dirname "$0")/.."
ristsim=${RISTSIM:-build/sim/cli/ristsim}
dir=${DIR:-/tmp/ristsim_imagenet_synth}
train_per_class=${TRAIN_PER_CLASS:-3}
quant_test=${QUANT_TEST:-200}
quant_images=${QUANT_IMAGES:-100}
batch=${BATCH:-50}
log=$(mktemp -d)
trap '[ "${KEEP:-0}" = 1 ] || rm -rf "$dir"; rm -rf "$log"' EXIT

rss_mib() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"; }
wall() { awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$1"; }
cpu() { awk -F': ' '/User time|System time/ {s += $2} END {printf "%.0f", s}' "$1"; }
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"

if [ ! -d "$dir" ]; then
  nice /usr/bin/time -v "$ristsim" synth-images --out "$dir" --classes 1000 --val 50 \
    --train "$train_per_class" --size 256 --jitter 32 --seed 1 2> "$log/gen"
  echo "generated: $(du -sh "$dir" | cut -f1), wall $(wall "$log/gen")"
fi

# 2. The loader: a net that costs nothing per image (global average pooling + 1000 outputs).
cat > "$log/probe.yaml" <<'YAML'
name: loader_probe
input: data
input_shape: [3, 227, 227]
classes: 1000
output: ip
layers:
  - {name: pool, type: Pooling, bottom: data, top: pool, pool: ave, global_pooling: true}
  - {name: ip, type: InnerProduct, bottom: pool, top: ip, num_output: 1000}
YAML
nice /usr/bin/time -v "$ristsim" eval --model "$log/probe.yaml" --data "$dir" \
  --preprocess caffe_imagenet --batch 100 --json > "$log/eval.json" 2> "$log/eval"
ips=$(sed -n 's/.*"images_per_s": \([0-9.]*\).*/\1/p' "$log/eval.json")
n=$(sed -n 's/.*"images": \([0-9]*\).*/\1/p' "$log/eval.json")
echo "loader: $n images, $ips images/s, max RSS $(rss_mib "$log/eval") MiB, wall $(wall "$log/eval")," \
     "CPU $(cpu "$log/eval") s"
echo "load average after the loader run: $(cut -d' ' -f1-3 /proc/loadavg)"

# 3. quantize CaffeNet, streamed.
nice /usr/bin/time -v "$ristsim" quantize --model models/caffenet.yaml --data "$dir" \
  --preprocess caffe_imagenet --bits 8 --images "$quant_images" --search-images "$quant_images" \
  --test-images "$quant_test" --batch "$batch" --out "$log/q" --quiet 2> "$log/quant" || {
  cat "$log/quant"; exit 1; }
echo "quantize caffenet (streamed, $quant_images range + $quant_images search + $quant_test test" \
     "images of a 50,000-image split): max RSS $(rss_mib "$log/quant") MiB, wall $(wall "$log/quant"), CPU $(cpu "$log/quant") s," \
     "$(sed -n 's/.*"evaluations": \([0-9]*\).*/\1/p' "$log/q/report.json") evaluations"
echo "load average after quantize: $(cut -d' ' -f1-3 /proc/loadavg)"

# 4. The whole split in memory: refused before any work, naming the folder.
if nice "$ristsim" quantize --model models/caffenet.yaml --data "$dir" --preprocess caffe_imagenet \
     --bits 8 --data-load memory --out "$log/q2" --quiet 2> "$log/mem"; then
  echo "--data-load memory: ran (unexpected)"
else
  echo "--data-load memory: exit $?: $(tail -1 "$log/mem")"
fi
