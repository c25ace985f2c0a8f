#!/usr/bin/env bash
# A short finetune of the quantized LeNet on --device cpu and on --device cuda must give the
# same codes (codes.bin byte for byte): the quantized layers run the host code in both modes,
# pooling, ReLU and the solver run the CPU's arithmetic on the GPU (docs/cuda.md).
#   finetune_both_devices.sh RISTSIM OUT_DIR
# Exit 77 (ctest: skipped) where no GPU is usable, with the driver's reason.
set -u
ristsim=$1; out=$2
why=$("$ristsim" finetune --help >/dev/null && "$ristsim" eval --model models/lenet_fmnist.onnx \
      --data fashion-mnist --limit 1 --device cuda --quiet 2>&1 >/dev/null)
if grep -q -- "--device cuda: " <<<"$why"; then echo "skipped: ${why%%$'\n'*}"; exit 77; fi
rm -rf "$out" && mkdir -p "$out"
for d in cpu cuda; do
  "$ristsim" finetune --model models/lenet_fmnist.onnx --data fashion-mnist --arch configs/dynfixed8.yaml \
    --max-images 512 --calib 256 --epochs 1 --batch 64 --out "$out/$d" --device "$d" --quiet || exit 1
done
if cmp "$out/cpu/codes.bin" "$out/cuda/codes.bin"; then echo "PASS: the same codes on cpu and cuda"; exit 0; fi
echo "FAIL: codes.bin differs between --device cpu and --device cuda"
exit 1
