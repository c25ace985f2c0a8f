#!/usr/bin/env bash
# The project's test command (README, "Tests"; .ci/run calls exactly this).
#
#   scripts/test.sh            the whole check, in three stages:
#                                1. set up and build (scripts/setup.sh), then the ctest suite;
#                                2. the sanitizer CI subset (as --sanitize --sanitize-subset ci);
#                                3. scripts/fuzz.sh --ci, when that script exists;
#                              then one line "N passed, N failed" summing the stages (ctest's
#                              counts, the sanitizer run's ctest counts, the fuzzer's count or
#                              1 for the stage) and exit status 1 if any stage failed.
#   scripts/test.sh ARGS...    only the ctest suite, ARGS passed to ctest
#                              (e.g. `scripts/test.sh -L unit`, `scripts/test.sh -R e2e.format`).
#   scripts/test.sh --sanitize [--sanitize-subset ci|all] [ARGS...]
#                              only the sanitizer stage: ASan + UBSan (float-cast-overflow
#                              included, no recovery: the first finding fails the test) built
#                              into build-sanitize/ (CMake option RISTSIM_SANITIZE), then the
#                              labels unit, e2e, exhaustive and systemc. Subset `all` (default)
#                              builds everything; `ci` builds the targets that cover the
#                              readers, the configs, the numeric core, the engine and the CLI's
#                              error paths, and leaves out the long e2e runs (see ci_* below).
#                              ARGS go to ctest.
#
# Labels: unit, exhaustive, systemc, cosim, cuda, e2e. Environment: RISTSIM_BUILD_DIR (default
# build), RISTSIM_SANITIZE_DIR (default build-sanitize), RISTSIM_JOBS (default nproc).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build_dir=${RISTSIM_BUILD_DIR:-build}
san_dir=${RISTSIM_SANITIZE_DIR:-build-sanitize}
jobs=${RISTSIM_JOBS:-$(nproc)}
say() { echo "test.sh: $*" >&2; }

# The sanitizer CI subset: these targets, and every test of the labels below whose programs
# they built, except the long e2e runs (the main job end to end, with a Verilated co-simulation,
# on every arch; the quantize search), the Slurm sweeps (sbatch orchestration: the same ristsim
# runs as sweep.local), the onnxruntime venv (no ristsim code runs in it) and the streamed whole
# flows of stream_cli (the readers they use are fuzzed under the same sanitizers by fuzz.sh).
# Those still run, uninstrumented, in the ctest stage. Measured figures: README, "Tests".
ci_targets=(numeric_unit_tests numeric_docs_tests test_arch_yaml test_net_yaml io_tests
            test_backends ristsim)
ci_exclude='^(e2e\.(arch_(dynfixed8|dynfixed4|fixed16|minifloat8|pow2_4|e4m3|systolic4x4_ws)|main_job|main_job_files|main_job_calib_clamped|report_search.*)|sweep\.(slurm|data|cosim)|ort_venv|stream_cli)$'
san_labels='^(unit|e2e|exhaustive|systemc)$'

# Runs ctest with the given arguments, prints its output, and sets $passed/$failed from its
# "NN% tests passed, F tests failed out of T" line (no such line: 0 passed, 1 failed).
passed=0 failed=0
count_ctest() {
  local log rc
  log=$(mktemp)
  ctest --output-on-failure -j "$jobs" "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  rm -f "$log"
  if [[ -z $line ]]; then  # no tests selected (exit 0), or ctest itself failed
    passed=0 failed=$((rc != 0))
  else
    local f t
    f=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    t=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
    passed=$((t - f)) failed=$f
    [[ $rc -ne 0 && $failed -eq 0 ]] && failed=1
  fi
  return "$rc"
}

# The sanitizer stage. $1: subset (ci or all); the rest: ctest arguments.
sanitize() {
  local subset=$1; shift
  local t0=$SECONDS log="$san_dir/build.log"
  mkdir -p "$san_dir"
  say "sanitizer build ($subset) into $san_dir/ with $jobs jobs (log: $log)"
  local launcher=()  # as setup.sh: ccache where it is installed
  if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
  fi
  if ! cmake -S . -B "$san_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRISTSIM_SANITIZE=ON \
       -DRISTSIM_CUDA=OFF ${launcher[@]+"${launcher[@]}"} >"$log" 2>&1; then
    tail -n 40 "$log" >&2; say "error: sanitizer configuration failed"; passed=0 failed=1; return 1
  fi
  local targets=()
  [[ $subset == ci ]] && targets=(--target "${ci_targets[@]}")
  if ! cmake --build "$san_dir" -j "$jobs" "${targets[@]}" >>"$log" 2>&1; then
    grep -E -B2 -A6 'error' "$log" | tail -n 60 >&2; say "error: sanitizer build failed"
    passed=0 failed=1; return 1
  fi
  say "sanitizer build: $((SECONDS - t0)) s"
  # The tests of the labels whose programs exist in this build (a subset builds only some):
  # a test is left out when its program, or an argument naming a target's output in the
  # build folder (ristsim, a test executable), does not exist. Other missing paths in the
  # build folder are outputs the test will write.
  local numbers targets_list
  targets_list=$(cmake --build "$san_dir" --target help | sed -n 's/^\.\.\. \([^ ]*\).*/\1/p' | tr '\n' ' ')
  numbers=$(ctest --test-dir "$san_dir" --show-only=json-v1 | python3 -c '
import json, os, re, sys
exclude = re.compile(sys.argv[1]) if sys.argv[1] else None
labels = re.compile(sys.argv[2])
build = sys.argv[3]
targets = set(sys.argv[4].split())
picked = []
for i, t in enumerate(json.load(sys.stdin)["tests"], 1):
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    if not any(labels.match(l) for l in props.get("LABELS", [])): continue
    if exclude and exclude.match(t["name"]): continue
    cmd = t.get("command") or []
    if not cmd or not os.path.exists(cmd[0]): continue        # program not built
    paths = [a.split("=", 1)[-1] for a in cmd[1:]]           # -DRISTSIM=PATH counts too
    if any(a.startswith(build) and not os.path.exists(a) and os.path.basename(a) in targets
           for a in paths): continue
    picked.append(str(i))
print(",".join(picked))
' "$([[ $subset == ci ]] && echo "$ci_exclude")" "$san_labels" "$(cd "$san_dir" && pwd)/" "$targets_list")
  if [[ -z $numbers ]]; then say "error: no sanitizer tests were built"; passed=0 failed=1; return 1; fi
  # A sanitizer report exits 86, never a status a test may expect (1 or 2).
  local t1=$SECONDS rc=0
  ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=86:detect_leaks=1:abort_on_error=0} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-exitcode=86:print_stacktrace=1} \
  SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 \
    count_ctest --test-dir "$san_dir" -I "0,0,0,$numbers" "$@" || rc=$?
  say "sanitizer tests ($subset): $passed passed, $failed failed, $((SECONDS - t1)) s (build and tests: $((SECONDS - t0)) s)"
  return "$rc"
}

if [[ ${1:-} == --sanitize ]]; then
  shift
  subset=all
  if [[ ${1:-} == --sanitize-subset ]]; then subset=${2:-}; shift 2 || true; fi
  if [[ $subset != ci && $subset != all ]]; then
    say "error: --sanitize-subset must be ci or all, not '$subset'"; exit 2
  fi
  sanitize "$subset" "$@"
  rc=$?
  echo "$passed passed, $failed failed"
  exit "$rc"
fi

"$root/scripts/setup.sh" || exit 1
if [[ $# -gt 0 ]]; then  # any ctest argument: only ctest, as before
  exec ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" "$@"
fi

total_passed=0 total_failed=0 status=0
stage() {  # NAME: adds the stage's counts
  total_passed=$((total_passed + passed)) total_failed=$((total_failed + failed))
  say "stage $1: $passed passed, $failed failed"
  [[ $failed -eq 0 ]] || status=1
}
count_ctest --test-dir "$build_dir"
stage ctest
sanitize ci
stage "sanitizer (ci subset)"
if [[ -x "$root/scripts/fuzz.sh" ]]; then
  log=$(mktemp)
  "$root/scripts/fuzz.sh" --ci 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  rm -f "$log"
  if [[ -n $line ]]; then
    passed=${line%% *} failed=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")
  else
    passed=$((rc == 0)) failed=$((rc != 0))
  fi
  [[ $rc -ne 0 && $failed -eq 0 ]] && failed=1
  stage fuzz
fi
echo "$total_passed passed, $total_failed failed"
exit "$status"
