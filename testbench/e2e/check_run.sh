#!/usr/bin/env bash
# Runs one command and checks its exit status and output (stdout and stderr
# together). Used by the e2e tests of the ristsim executable.
#
#   check_run.sh RC [--stdin TEXT] [--expect REGEX]... [--reject REGEX]... -- CMD [ARGS...]
#
# RC is the exit status the command must return. Every --expect extended regex
# must match some output line; no --reject regex may match any. TEXT (with \n
# escapes) is fed to the command's stdin; without --stdin, stdin is empty.
set -u
want_rc=$1; shift
stdin=""; expects=(); rejects=()
while [[ $# -gt 0 && $1 != "--" ]]; do
  case $1 in
    --stdin) stdin=$2; shift 2 ;;
    --expect) expects+=("$2"); shift 2 ;;
    --reject) rejects+=("$2"); shift 2 ;;
    *) echo "check_run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ $# -gt 0 ]] && shift  # the --
if [[ $# -eq 0 ]]; then echo "check_run.sh: no command given after --" >&2; exit 2; fi

out=$(printf '%b' "$stdin" | "$@" 2>&1)
rc=$?
printf '$'; printf ' %q' "$@"; printf '\n%s\n' "$out"
ok=1
if [[ $rc -ne $want_rc ]]; then echo "FAIL: exit status $rc, expected $want_rc"; ok=0; fi
for re in ${expects[@]+"${expects[@]}"}; do
  grep -Eq -- "$re" <<<"$out" || { echo "FAIL: no output line matches: $re"; ok=0; }
done
for re in ${rejects[@]+"${rejects[@]}"}; do
  if grep -Eq -- "$re" <<<"$out"; then echo "FAIL: an output line matches: $re"; ok=0; fi
done
if [[ $ok -eq 1 ]]; then echo "PASS"; exit 0; fi
exit 1
