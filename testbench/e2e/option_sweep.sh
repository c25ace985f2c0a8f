#!/usr/bin/env bash
# Every numeric option of every ristsim command, swept over zero, a negative, a
# huge value in range, a value beyond its type, a non-number (and NaN / inf for
# float options). The contract (docs/engine.md, "Command line"):
#   - a value the option does not allow: exit 2, and the message names the option;
#   - a count of images beyond what the data has: clamped, exit 0, and a note
#     on stderr names the option ("note: --calib ... using N");
#   - never exit 1, never a crash (a signal, a sanitizer report).
# Runs on a tiny generated idx data set (64 training, 16 test images), so that
# the accepted values finish in seconds.
#
#   option_sweep.sh RISTSIM WORKDIR
set -u
rs=$1 work=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
rm -rf "$work" && mkdir -p "$work/tiny"
python3 "$root/testbench/e2e/make_tiny_idx.py" "$work/tiny" || exit 1
tiny=$work/tiny
onnx=models/lenet_fmnist.onnx
arch=configs/dynfixed8.yaml

# command | base arguments | options: NAME:KIND, KIND one of
#   count  "at most N images": 0 may be refused or mean "all"; huge is clamped (exit 0, note)
#   int    any other integer: huge in range may be refused or accepted
#   long   runs as long as its value (epochs, vectors): huge in range is not run
#   i64    a 64-bit integer: huge in range may be refused or accepted
#   u64    unsigned 64-bit: negatives refused
#   float  real number: NaN and inf refused
#   bad    only the values that must be refused (-1, beyond the type, not a number): the
#          main job and cosim run a Verilated co-simulation when a value is accepted
table=(
  "eval|--model $onnx --data $tiny --arch $arch --quiet|calib:count batch:count limit:count seed:u64 threads:int"
  "train|--model models/lenet.yaml --data $tiny --arch $arch --epochs 1 --no-test --quiet --out $work/t.rstw|epochs:long batch:count calib:count shift:int step-size:i64 seed:u64 threads:int lr:float momentum:float weight-decay:float gamma:float"
  "finetune|--model $onnx --data $tiny --arch $arch --epochs 1 --quiet --out $work/ft --force|epochs:long batch:count calib:count checkpoint-every:i64 stop-after:long seed:u64 threads:int lr:float weight-decay:float distill-weight:float distill-temperature:float"
  "quantize|--model $onnx --data $tiny --bits 8 --cost bits --quiet --out $work/q --force|images:count search-images:count test-images:count batch:count bits:int conv-bits:int fc-bits:int act-bits:int seed:u64 threads:int error-margin:float"
  "report|--arch $arch --model $onnx --data $tiny --out $work/r --force|limit:count calib:count batch:count seed:u64 sram-kib:float activity:float accuracy-fp32:float accuracy-quantized:float"
  "|--arch $arch --data $tiny --out $work/main --force --layer ip2|limit:bad calib:bad image:bad"
  "cosim|--arch $arch --model $onnx --layer ip2 --data $tiny|calib:bad image:bad seed:bad stream:bad"
  "cosim|--arch $arch|vectors:bad seed:bad stream:bad"
  "format|--type fixed --bits 8 1.5|bits:int fl:int random-bits:int"
  "format|--type minifloat --exp-bits 4 --mant-bits 3 1.5|exp-bits:int mant-bits:int bias:int"
  "format|--type pow2 --bits 4 0.3|exp-max:int"
)

passed=0 failed=0
run_case() {  # KIND OPTION VALUE COMMAND BASE...
  local kind=$1 opt=$2 value=$3 cmd=$4; shift 4
  local out rc
  local args=() skip=0 a
  for a in "$@"; do  # the base's own value of the option gives way to the swept one
    if [[ $skip -eq 1 ]]; then skip=0; continue; fi
    if [[ $a == "--$opt" ]]; then skip=1; continue; fi
    args+=("$a")
  done
  out=$(timeout 120 "$rs" $cmd "${args[@]}" "--$opt" "$value" 2>&1 </dev/null)
  rc=$?
  local why=""
  if [[ $kind == bad && $rc -ne 2 ]]; then
    why="exit $rc, expected 2"
  elif [[ $rc -eq 2 ]]; then
    grep -q -- "--$opt" <<<"$out" || why="exit 2 without naming --$opt"
  elif [[ $rc -eq 0 ]]; then
    case "$kind:$value" in
      count:2147483647) grep -q -- "note: --$opt 2147483647 is more than" <<<"$out" || why="clamped without a note" ;;
      *:abc|*:99999999999|*:nan|*:inf|u64:-1) why="accepted '$value'" ;;
    esac
  else
    why="exit $rc"
  fi
  if [[ -n $why ]]; then
    failed=$((failed + 1))
    printf 'FAIL: ristsim %s ... --%s %s: %s\n%s\n' "$cmd" "$opt" "$value" "$why" "$(tail -n 5 <<<"$out")"
  else
    passed=$((passed + 1))
    printf 'ok: ristsim %s --%s %s: exit %s: %s\n' "$cmd" "$opt" "$value" "$rc" "$(grep -m1 -E 'error|note' <<<"$out")"
  fi
}

for row in "${table[@]}"; do
  IFS='|' read -r cmd base opts <<<"$row"
  read -r -a base_args <<<"$base"
  for spec in $opts; do
    opt=${spec%%:*} kind=${spec#*:}
    values=(0 -1 abc)
    case $kind in
      bad) values=(-1 abc 99999999999999999999 1.5) ;;
      count|int) values+=(2147483647 99999999999 1.5) ;;
      long) values+=(99999999999 1.5) ;;
      i64) values+=(2147483647 99999999999999999999 1.5) ;;
      u64) values+=(99999999999999999999999) ;;
      float) values+=(nan inf 1e400) ;;
    esac
    for v in "${values[@]}"; do run_case "$kind" "$opt" "$v" "$cmd" "${base_args[@]}"; done
  done
done
echo "option sweep: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
