#!/usr/bin/env bash
# A short finetune of the quantized LeNet on --device cpu and on --device cuda. The quantizers
# give the CPU's bits on the GPU, pooling, ReLU and the solver run the CPU's arithmetic, but the
# float GEMMs of the weighted layers are cuBLAS's (OpenBLAS's on the CPU): their sums round in
# another order, so a weight can land on the other side of a rounding step (docs/cuda.md).
# Identical codes.bin: PASS; otherwise PASS while at most 1 % of its bytes differ (a wrong
# quantizer, seed or gradient changes far more), FAIL above.
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
if cmp -s "$out/cpu/codes.bin" "$out/cuda/codes.bin"; then echo "PASS: the same codes on cpu and cuda"; exit 0; fi
total=$(stat -c %s "$out/cpu/codes.bin")
differ=$(cmp -l "$out/cpu/codes.bin" "$out/cuda/codes.bin" 2>/dev/null | wc -l)
echo "codes.bin: $differ of $total bytes differ between --device cpu and --device cuda"
if (( differ * 100 <= total )); then echo "PASS: within 1 %"; exit 0; fi
echo "FAIL: more than 1 % of the codes differ"
exit 1
