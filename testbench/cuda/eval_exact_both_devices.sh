#!/usr/bin/env bash
# `eval --datapath exact` of the trained LeNet on --device cpu and on --device cuda, for every
# arch under configs/: the same JSON report (accuracy, loss, every layer's formats, statistics
# and overflow counts) apart from the timing fields. The GPU runs the quantizers, the exact
# datapath (cuda::exact_conv_device: IMMA where integer_gemm_exact proves it exact, per output
# elsewhere) and the decoding on the device (LayerQuant::forward_gpu); the CPU the reference's
# bits (kernels/cpu). The range analysis before it sums in float (cuBLAS against OpenBLAS), so
# a fractional length could in principle differ where a maximum sits on a power of two; the
# report names the arch then.
#   eval_exact_both_devices.sh RISTSIM OUT_DIR [DATA]
# Exit 77 (ctest: skipped) where no GPU is usable, with the driver's reason. RISTSIM_ARCHS
# (names, default every arch) limits the archs; eval_exact_both_devices_bad.sh plants a
# difference to show that the comparison fails.
set -u
ristsim=$1; out=$2; data=${3:-fashion-mnist}
why=$("$ristsim" eval --model models/lenet_fmnist.onnx --data "$data" --limit 1 --device cuda \
      --quiet 2>&1 >/dev/null)
if grep -q -- "--device cuda: " <<<"$why"; then echo "skipped: ${why%%$'\n'*}"; exit 77; fi
rm -rf "$out" && mkdir -p "$out"
status=0
# Every shipped arch but the OCP MX ones and the per-channel ones (the GPU path refuses them:
# they run on the CPU only).
archs=${RISTSIM_ARCHS:-$(for f in configs/*.yaml; do
  grep -Eq 'type: *mx|granularity: *channel' "$f" || basename "$f" .yaml; done)}
for name in $archs; do
  arch=configs/$name.yaml
  for d in cpu cuda; do
    "$ristsim" eval --model models/lenet_fmnist.onnx --data "$data" --arch "$arch" \
      --datapath exact --limit 1000 --calib 500 --json --quiet --device "$d" |
      grep -Ev '"(seconds|images_per_s|threads)":' >"$out/$name.$d.json" ||
      { echo "FAIL: $name --device $d"; status=1; }
  done
  if cmp -s "$out/$name.cpu.json" "$out/$name.cuda.json"; then
    echo "PASS: $name: the same report on cpu and cuda"
  else
    echo "FAIL: $name: the reports differ:"; diff "$out/$name.cpu.json" "$out/$name.cuda.json" | head -8
    status=1
  fi
done
exit $status
