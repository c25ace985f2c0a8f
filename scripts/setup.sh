#!/usr/bin/env bash
# One-command setup for ristsim on Debian 12: installs the Debian packages that
# are missing (apt-get update only when something is), then configures and
# builds the project into build/. Idempotent: a second run installs nothing and
# rebuilds only what changed. Works as root and through sudo.
#
# Messages go to stderr, so `scripts/run.sh ... > file` captures only ristsim's
# output. Environment: RISTSIM_BUILD_DIR (default build), RISTSIM_JOBS (default nproc).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${RISTSIM_BUILD_DIR:-build}
jobs=${RISTSIM_JOBS:-$(nproc)}
say() { echo "setup: $*" >&2; }

packages=(
  cmake g++ pkg-config python3 ccache
  libsystemc-dev verilator yosys
  libyaml-cpp-dev libboost-program-options-dev libgtest-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libopenblas-dev zlib1g-dev libjpeg-dev libpng-dev gnuplot-nox
  dataset-fashion-mnist libonnx-testdata
  libsqlite3-dev slurm-wlm munge
  clang libclang-rt-14-dev
)

missing=()
if ! command -v dpkg-query >/dev/null 2>&1; then
  say "warning: not a Debian system (no dpkg-query); install these yourself: ${packages[*]}"
  packages=()
fi
for p in ${packages[@]+"${packages[@]}"}; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -qx 'install ok installed'; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    say "error: these packages are missing and installing them needs root or sudo: ${missing[*]}"
    exit 1
  fi
  say "installing ${#missing[@]} missing Debian packages: ${missing[*]}"
  "${as_root[@]}" apt-get update -qq >/dev/null
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cd "$root"
mkdir -p "$build_dir"
log="$build_dir/setup.log"
say "configuring and building into $build_dir/ with $jobs jobs (log: $build_dir/setup.log)"
# ccache (installed above) makes a rebuild in a fresh clone cheap: BASEDIR makes the
# cached compilations independent of where the clone lies.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
fi
if ! cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release ${launcher[@]+"${launcher[@]}"} >"$log" 2>&1; then
  cat "$log" >&2
  say "error: cmake configuration failed (full log: $log)"
  exit 1
fi
if ! cmake --build "$build_dir" -j "$jobs" >>"$log" 2>&1; then
  grep -E -B2 -A6 'error|Error' "$log" | tail -n 80 >&2 || tail -n 80 "$log" >&2
  say "error: the build failed (full log: $log)"
  exit 1
fi
say "build ready: $build_dir/sim/cli/ristsim"
