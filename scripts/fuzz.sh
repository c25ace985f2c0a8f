#!/usr/bin/env bash
# Fuzzes ristsim's readers with libFuzzer (clang, -fsanitize=fuzzer,address,undefined with
# float-cast-overflow, no recovery). Targets: arch_yaml net_yaml onnx rstw idx cifar caffe
# (testbench/fuzz/fuzz_entries.cpp; docs/data.md, "Hostile input").
#
#   scripts/fuzz.sh TARGET [SECONDS]   build, then fuzz one target (default 300 s)
#   scripts/fuzz.sh --ci [SECONDS]     build, then fuzz every target SECONDS each (default 20,
#                                      RISTSIM_JOBS targets at a time, default nproc), print
#                                      the executions per target and a last line
#                                      "fuzz: N passed, N failed"; exit 1 on any finding
#   scripts/fuzz.sh --build            build only
#
# The build goes to build-fuzz/ (RISTSIM_FUZZ_BUILD_DIR), with only the libraries the targets
# need. Each run starts from the committed seeds (testbench/fuzz/corpus/TARGET) and reproducers
# (testbench/fuzz/regressions/TARGET); what it finds new goes to build-fuzz/corpus/TARGET, and a
# crashing input to build-fuzz/artifacts/TARGET/ (add it to testbench/fuzz/regressions/ with a
# line in its expect.txt once fixed). Needs the Debian packages clang and libclang-rt-14-dev
# (scripts/setup.sh installs them).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${RISTSIM_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${RISTSIM_JOBS:-$(nproc)}
targets=(arch_yaml net_yaml onnx rstw idx cifar caffe)
say() { echo "fuzz: $*" >&2; }

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

build_fuzzers() {
  if ! command -v clang++ >/dev/null 2>&1; then
    say "error: clang++ not found (install the Debian packages clang and libclang-rt-14-dev)"
    exit 2
  fi
  local flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow"
  flags+=" -fno-sanitize-recover=all -fsanitize=fuzzer-no-link"
  local launcher=()
  if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
  fi
  mkdir -p "$build"
  local log="$build/build.log"
  # Only sim/numeric, sim/config, kernels/reference, sim/io, sim/engine and testbench/fuzz.
  if ! cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" \
      -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" "${launcher[@]}" \
      -DRISTSIM_CUDA=OFF -DRISTSIM_FUZZ=ON \
      -DRISTSIM_SKIP_DIRS="kernels/cpu;sim/flow;sim/cycle;sim/rtlgen;sim/cost;kernels/cuda;sim/cli" \
      >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    say "error: cmake configuration failed (log: $log)"
    exit 1
  fi
  local tgts=() x
  for x in "${targets[@]}"; do tgts+=(--target "fuzz_$x"); done
  if ! cmake --build "$build" -j "$jobs" "${tgts[@]}" >>"$log" 2>&1; then
    grep -E -A6 'error' "$log" | tail -n 40 >&2 || tail -n 40 "$log" >&2
    say "error: the build failed (log: $log)"
    exit 1
  fi
}

# run_one TARGET SECONDS: 0 when no finding; prints "TARGET: N executions in S s (E/s)".
run_one() {
  local t=$1 secs=$2
  local exe="$build/testbench/fuzz/fuzz_$t"
  local work="$build/corpus/$t" art="$build/artifacts/$t/" log="$build/logs/$t.log"
  mkdir -p "$work" "$art" "$(dirname "$log")"
  local status=0
  # Temporary input files of the readers go to a folder of their own, removed afterwards.
  local tmp="$build/tmp/$t"
  mkdir -p "$tmp"
  TMPDIR="$tmp" ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=0" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$art" \
    "$work" "$root/testbench/fuzz/corpus/$t" "$root/testbench/fuzz/regressions/$t" \
    >"$log" 2>&1 || status=$?
  rm -rf "$tmp"
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  execs=${execs:-0}
  local rate=$((execs / (secs > 0 ? secs : 1)))
  if [[ $status -eq 0 ]]; then
    echo "$t: $execs executions in $secs s ($rate/s), no finding"
  else
    echo "$t: FAILED after $execs executions (exit $status); log: $log"
    grep -E -m 12 'ERROR|SUMMARY|runtime error|terminate called|what\(\)|Test unit written' \
      "$log" | sed 's/^/  /'
  fi
  return $status
}

[[ $# -ge 1 ]] || usage
case $1 in
  --ci)
    secs=${2:-20}
    start=$(date +%s)
    build_fuzzers
    say "built the fuzzers in $(($(date +%s) - start)) s ($build)"
    # The targets run $jobs at a time (one core each); their lines are printed in target order.
    passed=0
    failed=0
    out="$build/logs/ci"
    mkdir -p "$out"
    pids=()
    for i in "${!targets[@]}"; do
      while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do wait -n || true; done
      (rc=0; run_one "${targets[$i]}" "$secs" >"$out/${targets[$i]}.line" || rc=$?
       echo "$rc" >"$out/${targets[$i]}.rc") &
      pids+=($!)
    done
    wait "${pids[@]}" || true
    for target in "${targets[@]}"; do
      cat "$out/$target.line"
      if [[ $(cat "$out/$target.rc" 2>/dev/null) == 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    done
    say "total wall time $(($(date +%s) - start)) s"
    echo "fuzz: $passed passed, $failed failed"
    [[ $failed -eq 0 ]]
    ;;
  --build)
    build_fuzzers
    ;;
  -h | --help) usage ;;
  *)
    target=$1
    secs=${2:-300}
    if [[ ! " ${targets[*]} " == *" $target "* ]]; then
      say "error: unknown target '$target' (targets: ${targets[*]})"
      exit 2
    fi
    build_fuzzers
    run_one "$target" "$secs"
    ;;
esac
