#!/usr/bin/env bash
# The "bring your RTL" workflow, and planted bugs the generator cannot make:
# `ristsim rtl` writes the arch's RTL into DIR with its defaults, an optional
# sed edit changes one of its files (a bug written into a copy of generated
# RTL: tests only, never in the generator), then `ristsim cosim --arch ARCH
# --rtl DIR [COSIM_ARGS...]` runs, checked by testbench/e2e/check_run.sh.
#
#   edited_rtl_check.sh RISTSIM ARCH DIR FILE SED_SCRIPT RC [CHECKS...] -- [COSIM_ARGS...]
#
# FILE "-" (and any SED_SCRIPT): no edit, the two default commands as a user
# types them. An edit that changes nothing fails the test (the bug must exist).
set -u
ristsim=$1 arch=$2 dir=$3 file=$4 script=$5 rc=$6
shift 6
checks=()
while [[ $# -gt 0 && $1 != "--" ]]; do checks+=("$1"); shift; done
[[ $# -gt 0 ]] && shift
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"  # ristsim creates the output folder, never its parent
echo "\$ $ristsim rtl --arch $arch --out $dir"
"$ristsim" rtl --arch "$arch" --out "$dir" || { echo "FAIL: ristsim rtl failed"; exit 1; }
if [[ $file != "-" ]]; then
  cp "$dir/$file" "$dir/$file.orig"
  sed -E -i "$script" "$dir/$file"
  if cmp -s "$dir/$file" "$dir/$file.orig"; then
    echo "FAIL: the edit '$script' does not change $file"
    exit 1
  fi
  echo "planted in $file:"
  diff "$dir/$file.orig" "$dir/$file"
  rm "$dir/$file.orig"
fi
exec "$here/../e2e/check_run.sh" "$rc" ${checks[@]+"${checks[@]}"} -- \
  "$ristsim" cosim --arch "$arch" --rtl "$dir" "$@"
