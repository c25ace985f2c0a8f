#!/usr/bin/env bash
# The output rules of every ristsim command that writes (sim/util/output.h, docs/quantize.md):
#   outputs_test.sh RISTSIM CASE
# run from the source root. Each CASE is one ctest test (label e2e); it prints PASS or the
# first failure. A full disk is simulated without root: `ulimit -f` (RLIMIT_FSIZE) with SIGXFSZ
# ignored, so a write past the limit fails with EFBIG ("File too large"), as on a full disk.
set -u
ristsim=$1 case=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/ristsim_outputs_XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL ($case): $*"; [ -f "$work/log" ] && { echo "--- output:"; cat "$work/log"; }; exit 1; }

# run RC [limit-KiB] -- ARGS...: runs ristsim, output in $work/log, expects exit status RC.
run() {
  local want=$1 limit=unlimited
  shift
  if [ "$1" != -- ]; then limit=$1; shift; fi
  shift
  ( trap '' XFSZ; ulimit -f "$limit"; exec "$ristsim" "$@" ) > "$work/log" 2>&1
  local rc=$?
  [ "$rc" = "$want" ] || fail "exit status $rc, expected $want: ristsim $*"
}
expect() { grep -Eq -- "$1" "$work/log" || fail "no output line matches: $1"; }
reject() { ! grep -Eq -- "$1" "$work/log" || fail "an output line matches: $1"; }
# only DIR NAMES...: DIR holds exactly these entries (hidden ones included).
only() {
  local dir=$1; shift
  local have want
  have=$(ls -A "$dir" | sort | tr '\n' ' ')
  want=$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ')
  [ "$have" = "$want" ] || fail "$dir holds '$have', expected '$want'"
}
# A tiny idx data set (128 training and 64 test images of Fashion-MNIST) for fast training.
tiny_data() {
  local src=/usr/share/datasets/fashion-mnist d=$work/tiny
  mkdir -p "$d"
  for split in train:128 t10k:64; do
    local s=${split%%:*} n=${split##*:}
    { printf '\x00\x00\x08\x03\x00\x00\x00'; printf "\\x$(printf %02x "$n")"; printf '\x00\x00\x00\x1c\x00\x00\x00\x1c'
      zcat "$src/$s-images-idx3-ubyte.gz" | tail -c +17 | head -c $((n * 784)); } > "$d/$s-images-idx3-ubyte"
    { printf '\x00\x00\x08\x01\x00\x00\x00'; printf "\\x$(printf %02x "$n")"
      zcat "$src/$s-labels-idx1-ubyte.gz" | tail -c +9 | head -c "$n"; } > "$d/$s-labels-idx1-ubyte"
  done
  echo "$d"
}
model=models/lenet_fmnist.onnx
arch=configs/dynfixed8.yaml

case $case in
# ---- a full disk: exit 1, the path and the OS reason named, nothing partial left ----
full_disk_train)
  data=$(tiny_data)
  for out in w.onnx w.rstw; do
    mkdir -p "$work/o"
    run 1 100 -- train --model $model --data "$data" --epochs 0 --no-test --out "$work/o/$out"
    only "$work/o"
    expect "error: .*o/$out: cannot write .*File too large"
    # An existing model keeps its bytes.
    echo "the previous model" > "$work/o/$out"
    run 1 100 -- train --model $model --data "$data" --epochs 0 --no-test --out "$work/o/$out"
    [ "$(cat "$work/o/$out")" = "the previous model" ] || fail "$out was changed"
    only "$work/o" "$out"
    rm -rf "$work/o"
  done ;;
full_disk_quantize)
  data=$(tiny_data)
  run 1 100 -- quantize --model $model --data "$data" --bits 8 --images 64 --search-images 64 --out "$work/q"
  only "$work" log tiny
  expect "error: .*/quantized\.onnx: cannot write .*File too large" ;;
full_disk_finetune)
  data=$(tiny_data)
  run 1 100 -- finetune --model $model --arch configs/fixed16.yaml --data "$data" --epochs 1 --batch 32 --out "$work/ft"
  only "$work" log tiny
  expect "error: .*/ckpt-[0-9]+\.rstw: cannot write .*File too large" ;;
full_disk_rtl)
  run 1 2 -- rtl --arch $arch --out "$work/rtl"
  only "$work" log
  expect "error: .*\.sv: cannot write .*File too large" ;;
full_disk_report)
  run 1 8 -- report --arch $arch --model $model --accuracy-quantized 0.9 --out "$work/rep"
  only "$work" log
  expect "error: .*: cannot write .*File too large" ;;
full_disk_main_job)  # the arguments of e2e.arch_dynfixed8, whose Verilated PE is cached
  run 1 16 -- --arch $arch --out "$work/main" --limit 300 --calib 300 --layer ip2 --quiet
  only "$work" log
  expect "error: .*File too large" ;;
full_disk_stdout)  # cosim --json to a full disk: the result is lost, so the job failed
  ( "$ristsim" cosim --arch $arch --vectors 20 --json > /dev/full ) 2> "$work/log"
  rc=$?
  [ $rc = 1 ] || fail "exit status $rc, expected 1"
  expect "ristsim cosim: error: standard output: cannot write: No space left on device" ;;
# ---- an unusable --out: exit 2 before any work ----
unwritable_out)
  run 2 -- train --model $model --data fashion-mnist --epochs 2 --out /nonexistent/dir/w.onnx
  expect "error: --out '/nonexistent/dir/w.onnx': its folder '/nonexistent/dir' does not exist"
  reject "^training "
  mkdir "$work/adir"
  run 2 -- train --model $model --data fashion-mnist --epochs 2 --out "$work/adir"
  expect "is a folder, not a file"
  run 2 -- --arch $arch --out /dev/null/out
  expect "error: --out '/dev/null/out': '/dev/null' is not a folder"
  reject "^\[fp32\]"
  run 2 -- quantize --model $model --data fashion-mnist --bits 8 --out "$work/log/q"
  expect "is not a folder"
  reject "range analysis"
  run 2 -- finetune --model $model --arch $arch --data fashion-mnist --out /nonexistent/ft
  expect "does not exist"
  run 2 -- report --arch $arch --model $model --out /nonexistent/rep
  run 2 -- rtl --arch $arch --out /nonexistent/rtl
  run 2 -- cosim --arch $arch --vcd /nonexistent/w.vcd
  expect "--vcd '/nonexistent/w.vcd'" ;;
# ---- a folder ristsim did not write is never replaced; --force replaces a previous output ----
foreign_folder)
  data=$(tiny_data)
  mkdir -p "$work/q" && echo precious > "$work/q/user.txt"
  run 2 -- quantize --model $model --data "$data" --bits 8 --images 64 --search-images 64 --out "$work/q"
  expect "not empty and was not written by ristsim"
  reject "range analysis"
  run 2 -- quantize --model $model --data "$data" --bits 8 --images 64 --search-images 64 --out "$work/q" --force
  [ "$(cat "$work/q/user.txt")" = precious ] || fail "user.txt was changed"
  only "$work/q" user.txt
  for cmd in "rtl --arch $arch" "report --arch $arch --model $model" "--arch $arch --limit 10" \
             "finetune --model $model --arch $arch --data $data"; do
    run 2 -- $cmd --out "$work/q" --force
    expect "not empty and was not written by ristsim"
    only "$work/q" user.txt
  done ;;
force_replace)
  data=$(tiny_data)
  run 0 -- quantize --model $model --data "$data" --bits 8 --images 64 --search-images 64 --out "$work/q"
  only "$work/q" .ristsim-output quantized.onnx arch.yaml report.md report.json
  run 2 -- quantize --model $model --data "$data" --bits 6 --images 64 --search-images 64 --out "$work/q"
  expect "holds a previous ristsim output: --force replaces it"
  first=$(cksum < "$work/q/arch.yaml")
  [ "$(cksum < "$work/q/arch.yaml")" = "$first" ] || fail "the first output was changed"
  run 0 -- quantize --model $model --data "$data" --bits 6 --images 64 --search-images 64 --out "$work/q" --force
  [ "$(cksum < "$work/q/arch.yaml")" != "$first" ] || fail "--force did not replace the output"
  only "$work" log tiny q
  # A file added to a previous output: not replaced, even with --force.
  echo mine > "$work/q/notes.txt"
  run 2 -- quantize --model $model --data "$data" --bits 8 --images 64 --search-images 64 --out "$work/q" --force
  expect "holds 'notes.txt', which ristsim did not write"
  [ "$(cat "$work/q/notes.txt")" = mine ] || fail "notes.txt was changed"
  # rtl the same way.
  run 0 -- rtl --arch $arch --out "$work/rtl"
  run 2 -- rtl --arch $arch --out "$work/rtl"
  run 0 -- rtl --arch $arch --out "$work/rtl" --force
  [ -f "$work/rtl/files.f" ] || fail "rtl --force wrote no files.f" ;;
# ---- interrupted: SIGINT removes the staging folder; a killed run's is removed next time ----
sigint_main_job)
  set -m  # background jobs keep SIGINT (without job control a shell ignores it for them)
  "$ristsim" --arch $arch --out "$work/main" --limit 2000 --calib 300 > "$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    compgen -G "$work/.main.partial-*/arch.txt" > /dev/null && break
    sleep 0.1
  done
  compgen -G "$work/.main.partial-*/arch.txt" > /dev/null || fail "no staging folder appeared"
  kill -INT $pid
  wait $pid
  rc=$?
  [ $rc = 130 ] || fail "exit status $rc, expected 130 (SIGINT)"
  only "$work" log ;;
stale_partial)
  dead=$(bash -c 'echo $$')  # a process that has exited
  mkdir -p "$work/.main.partial-$dead/plots" "$work/.main.partial-$$"
  echo half > "$work/.main.partial-$dead/arch.txt"
  echo half > "$work/.w.onnx.tmp-$dead"
  run 2 -- --arch $arch --out "$work/main" --layer conv9
  only "$work" log ".main.partial-$$" ".w.onnx.tmp-$dead"
  data=$(tiny_data)
  run 0 -- train --model $model --data "$data" --epochs 0 --no-test --quiet --out "$work/w.onnx"
  only "$work" log tiny ".main.partial-$$" w.onnx ;;
*) echo "outputs_test.sh: unknown case '$case'"; exit 2 ;;
esac
echo PASS
