#!/bin/sh
# Caffe through the CLI: `quantize --export caffe` writes Ristretto's quantized prototxt +
# caffemodel of the trained lenet; `eval` reads them back (the Ristretto layers' formats as
# the arch) and must score the same top-1 as the model evaluated with the arch quantize wrote.
# `report` costs the prototxt as the .rstw. A prototxt that does not parse exits 2 naming the
# file and line.
#   caffe_round_trip.sh RISTSIM MODELS_DIR OUT_DIR CONFIGS_DIR
set -eu
ristsim=$1 models=$2 out=$3 configs=$4
rm -rf "$out"
mkdir -p "$out"
"$ristsim" quantize --model "$models/lenet_fmnist.rstw" --data fashion-mnist --out "$out/q" \
  --bits 8 --images 200 --search-images 200 --test-images 500 --export caffe --quiet
for f in quantized.prototxt quantized.caffemodel arch.yaml; do
  [ -s "$out/q/$f" ] || { echo "FAIL: no $f"; exit 1; }
done
[ ! -e "$out/q/quantized.onnx" ] || { echo "FAIL: quantized.onnx written with --export caffe"; exit 1; }
grep -q 'type: "ConvolutionRistretto"' "$out/q/quantized.prototxt" || { echo "FAIL: no ConvolutionRistretto"; exit 1; }
top1() { sed -n 's/^  "top1": \([0-9.]*\),$/\1/p'; }
a=$("$ristsim" eval --model "$out/q/quantized.prototxt" --weights "$out/q/quantized.caffemodel" \
  --data fashion-mnist --limit 500 --json | top1)
b=$("$ristsim" eval --model "$models/lenet_fmnist.rstw" --arch "$out/q/arch.yaml" \
  --data fashion-mnist --limit 500 --json | top1)
echo "top-1 from the caffemodel $a, from the model with arch.yaml $b"
[ -n "$a" ] && [ "$a" = "$b" ] || { echo "FAIL: top-1 differs"; exit 1; }
# report takes the Caffe model too: the same layers, so the same costs as the .rstw's.
"$ristsim" report --arch "$configs/dynfixed8.yaml" --model "$out/q/quantized.prototxt" \
  --weights "$out/q/quantized.caffemodel" --out "$out/r_caffe" --force >/dev/null
"$ristsim" report --arch "$configs/dynfixed8.yaml" --model "$models/lenet_fmnist.rstw" \
  --out "$out/r_rstw" --force >/dev/null
grep -q '"macs": 2293000' "$out/r_caffe/report.json" || { echo "FAIL: report of the prototxt: not lenet's 2,293,000 MACs"; exit 1; }
cmp -s "$out/r_caffe/report.csv" "$out/r_rstw/report.csv" || { echo "FAIL: report.csv differs between the prototxt and the .rstw"; exit 1; }
echo "report: the prototxt costs as the .rstw (report.csv identical)"
printf 'name: "x"\nlayer { name: "c" type: "Convolution" oops: 1 }\n' > "$out/bad.prototxt"
set +e
msg=$("$ristsim" eval --model "$out/bad.prototxt" --data fashion-mnist 2>&1)
rc=$?
set -e
echo "$msg"
[ $rc -eq 2 ] || { echo "FAIL: exit $rc for a bad prototxt (2 expected)"; exit 1; }
echo "$msg" | grep -q "bad.prototxt:2:" || { echo "FAIL: the message names no file:line"; exit 1; }
echo "PASS"
