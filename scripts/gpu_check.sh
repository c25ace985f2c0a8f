#!/usr/bin/env bash
# The GPU checks of issue 16 as one command, for a session that is lent a GPU.
#
#   scripts/gpu_check.sh prepare      here (nvcc, no GPU needed): builds $RISTSIM_GPU_BUILD
#                                     (default build-cuda/) with CUDA (sm_80 and sm_90) and packs
#                                     the executables and the shared libraries they need (not
#                                     glibc, not the CUDA libraries: the GPU machine has CUDA 13)
#                                     into gpu_bundle/ (an ignored folder: carry it)
#   scripts/gpu_check.sh [OUT_DIR]    on the GPU machine: from gpu_bundle/ (or build-cuda/)
#                                     1. ctest's cuda label: the device tests (test_cuda) and
#                                        the host step tests, code for code against the CPU
#                                        and eval --datapath exact on both devices (every arch)
#                                     2. LeNet quantized and fine-tuned 2 epochs on --device cpu
#                                        and on --device cuda: codes.bin compared (identical, or
#                                        the share that differs, a figure: float GEMM order);
#                                        both times
#                                     3. scripts/bench_cuda.sh: images/s
#                                     Everything goes to OUT_DIR/gpu_check.txt (default: $OUT or
#                                     gpu_check_out/), figures as JSON lines in OUT_DIR/bench.jsonl.
# Environment: RISTSIM_FINETUNE_IMAGES (default 0: all 60000) limits step 2's training images.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [[ ${1:-} == prepare ]]; then
  set -e
  b=${RISTSIM_GPU_BUILD:-build-cuda}
  cmake -S . -B "$b" -DCMAKE_BUILD_TYPE=Release -DRISTSIM_CUDA=ON >/dev/null
  targets=(test_cuda bench_cuda layer_steps_tests quant_steps_tests accumulator_bound_tests exact_steps_tests ristsim)
  cmake --build "$b" -j"$(nproc)" --target "${targets[@]}"
  rm -rf gpu_bundle && mkdir -p gpu_bundle/bin gpu_bundle/lib
  for t in test_cuda bench_cuda layer_steps_tests quant_steps_tests accumulator_bound_tests exact_steps_tests; do
    cp "$b/testbench/cuda/$t" gpu_bundle/bin/
  done
  cp "$b/sim/cli/ristsim" gpu_bundle/bin/
  strip gpu_bundle/bin/* 2>/dev/null || true
  # The shared libraries the executables need, less glibc's, the C++ runtime's (the GPU image's
  # are newer and backward compatible) and CUDA's own (the GPU machine has CUDA 13).
  ldd gpu_bundle/bin/* | awk '/=> \// {print $3}' | sort -u |
    grep -Ev '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*|libstdc\+\+|libgcc_s|libcuda|libcudart|libcublas[^/]*|libnvidia[^/]*)\.so' |
    while read -r lib; do cp -L "$lib" gpu_bundle/lib/; done
  # The data set (a Debian package here; absent there).
  mkdir -p gpu_bundle/data && cp -r /usr/share/datasets/fashion-mnist gpu_bundle/data/
  tar -czf gpu_bundle.tar.gz gpu_bundle
  du -sh gpu_bundle gpu_bundle.tar.gz
  echo "gpu_check.sh: carry gpu_bundle.tar.gz (about 50 MB of the 64 MiB a run may carry) and run"
  echo "  'scripts/gpu_check.sh' on the GPU machine"
  exit 0
fi

out=${1:-${OUT:-gpu_check_out}}
mkdir -p "$out"
log=$out/gpu_check.txt
# Work files go to a scratch folder: OUT_DIR holds only gpu_check.txt and bench.jsonl (a device
# run brings back a few files only).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
exec > >(tee "$log") 2>&1
[[ ! -d gpu_bundle/bin && -f gpu_bundle.tar.gz ]] && tar -xzf gpu_bundle.tar.gz
data=fashion-mnist
[[ -d /usr/share/datasets/fashion-mnist || ! -d gpu_bundle/data/fashion-mnist ]] || data=$root/gpu_bundle/data/fashion-mnist
if [[ -d gpu_bundle/bin ]]; then
  # The bundled executables run through wrappers that give them the bundle's libraries (and
  # CUDA's, where the loader does not know them), so that python3 and nvidia-smi keep the
  # machine's own libraries.
  libs=$root/gpu_bundle/lib
  if ! ldconfig -p 2>/dev/null | grep -q 'libcublasLt\.so\.13'; then
    nvcc_dir=$(dirname "$(command -v nvcc 2>/dev/null || echo /usr/local/cuda/bin/nvcc)")
    found=$(find "$nvcc_dir/../lib64" "$nvcc_dir/../lib" /usr/local/cuda/targets /opt \
              -maxdepth 7 -name 'libcublasLt.so.13' 2>/dev/null | head -1)
    [[ -n $found ]] && libs=$libs:$(dirname "$found")
    found=$(find "$nvcc_dir/../lib64" "$nvcc_dir/../lib" /usr/local/cuda/targets /opt \
              -maxdepth 7 -name 'libcudart.so.13' 2>/dev/null | head -1)
    [[ -n $found ]] && libs=$libs:$(dirname "$found")
  fi
  bin=$root/gpu_bundle/run
  mkdir -p "$bin"
  for t in "$root"/gpu_bundle/bin/*; do
    printf '#!/usr/bin/env bash\nLD_LIBRARY_PATH=%q${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec %q "$@"\n' \
      "$libs" "$t" > "$bin/${t##*/}"
    chmod +x "$bin/${t##*/}"
  done
  tests=$bin
  ristsim=$bin/ristsim
  bench_build=$root/gpu_bundle/build
  mkdir -p "$bench_build/testbench/cuda" && ln -sf "$bin/bench_cuda" "$bench_build/testbench/cuda/bench_cuda"
else
  b=${RISTSIM_GPU_BUILD:-build-cuda}
  tests=$root/$b/testbench/cuda
  ristsim=$root/$b/sim/cli/ristsim
  bench_build=$root/$b
fi
echo "== $(date -u) gpu_check on $(nvidia-smi -L 2>/dev/null | head -1)"
status=0

echo "== 1. device tests (label cuda) and the host step tests"
export RISTSIM_SOURCE_DIR=$root  # the tests read configs/ from the checkout
for t in test_cuda layer_steps_tests quant_steps_tests accumulator_bound_tests exact_steps_tests; do
  "$tests/$t" --gtest_brief=1 || { echo "FAIL: $t"; status=1; }
done
echo "== 1b. eval --datapath exact of LeNet on both devices, every arch: the same report"
testbench/cuda/eval_exact_both_devices.sh "$ristsim" "$scratch/eval_exact" "$data" ||
  { echo "FAIL: eval_exact_both_devices"; status=1; }

echo "== 2. LeNet: quantize, then 2 epochs of finetune, on each device (codes compared, timed)"
limit=()
[[ ${RISTSIM_FINETUNE_IMAGES:-0} != 0 ]] && limit=(--max-images "$RISTSIM_FINETUNE_IMAGES")
work=$scratch/lenet
rm -rf "$work" && mkdir -p "$work"
for d in cpu cuda; do
  t0=$(date +%s.%N)
  "$ristsim" quantize --model models/lenet_fmnist.onnx --data "$data" --out "$work/q_$d" \
    --device "$d" --quiet "${limit[@]}" || { echo "FAIL: quantize --device $d"; status=1; }
  t1=$(date +%s.%N)
  "$ristsim" finetune --model "$work/q_$d/quantized.onnx" --data "$data" --out "$work/f_$d" \
    --epochs 2 --device "$d" --quiet "${limit[@]}" || { echo "FAIL: finetune --device $d"; status=1; }
  t2=$(date +%s.%N)
  echo "--device $d: quantize $(awk "BEGIN {print $t1 - $t0}") s, finetune (2 epochs) $(awk "BEGIN {print $t2 - $t1}") s"
done
# The quantizers are the CPU's bits on the GPU, the float GEMMs are not (cuBLAS's summation
# order; after 2 epochs the trajectories may have drifted apart): identical codes, or how many
# differ, as a figure. The short ctest cuda.finetune_both_devices holds the 1 % limit.
if [[ ! -s $work/f_cpu/codes.bin || ! -s $work/f_cuda/codes.bin ]]; then
  echo "FAIL: a finetune wrote no codes.bin"; status=1
elif cmp -s "$work/f_cpu/codes.bin" "$work/f_cuda/codes.bin"; then
  echo "PASS: finetune codes.bin identical on cpu and cuda"
else
  total=$(stat -c %s "$work/f_cpu/codes.bin")
  differ=$(cmp -l "$work/f_cpu/codes.bin" "$work/f_cuda/codes.bin" 2>/dev/null | wc -l)
  echo "finetune codes.bin: $differ of $total bytes differ between cpu and cuda" \
       "($(awk "BEGIN {printf \"%.3f\", 100 * $differ / $total}") %)"
fi

echo "== 3. scripts/bench_cuda.sh"
scripts/bench_cuda.sh "$bench_build" "$out/bench.jsonl" || { echo "FAIL: bench_cuda.sh"; status=1; }
echo "== done, status $status"
exit $status
