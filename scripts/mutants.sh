#!/usr/bin/env bash
# Mutation testing of the co-simulation: how many deliberately broken PEs does
# `ristsim cosim --rtl` catch? Generic mutation operators are applied, one at a
# time, to the generated RTL of a few shipped configs; each mutant is
# co-simulated (Verilated RTL vs SystemC vs golden model) and counted as
#   killed     the co-simulation reported a divergence (or the RTL stopped on
#              one of its own assertions),
#   survived   the co-simulation passed,
#   stillborn  Verilator rejected the mutant (not counted in the rate).
# The operators (each applied to one occurrence on one line of logic, never to
# declarations, comments or the simulation-only assertion blocks):
#   add_sub / sub_add   a + b <-> a - b
#   and_or / or_and     a & b <-> a | b
#   cmp                 > -> >=, >= -> >, == -> !=
#   const_off_by_one    W'dV -> W'd(V+1) (V-1 at the top of the range)
#   drop_enable         `if (x) begin` in a register block -> `if (1'b1) begin`;
#                       `c ? a : b` -> `a`
#   slice_narrow        [H:L] -> [H-1:L]
#   sign_flip           $signed( -> $unsigned(, >>> -> >>
#   drop_invert         ~x -> x
# The mutated files are the copies of the hand-written library rtl/*.sv that
# `ristsim rtl` writes next to the generated top (which only passes
# parameters). Only lines the elaborated PE contains are mutated: Verilator's
# --xml-only netlist (after parameters and generate blocks are resolved) gives
# the source lines of every node, so generate branches and modules this config
# does not elaborate (the minifloat converter of a fixed-point output, the
# SplitMix generator without stochastic rounding) are left out. Sites are drawn
# with a fixed seed, the same number per config, and the run stops starting
# mutants after BUDGET seconds, so it stays bounded.
#
#   scripts/mutants.sh [BUILD_DIR] [MUTANTS_PER_CONFIG] [BUDGET_S] [SEED]
# Checks first that the unmutated RTL passes. Prints one line per mutant, then
# "mutants: killed K / total T (...)"; the survivors also go to
# BUILD_DIR/mutants/survivors.txt with their diffs, each co-simulation's output
# to BUILD_DIR/mutants/mN.log.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
per_config="${2:-12}"
budget="${3:-600}"
seed="${4:-1}"
configs="${MUTANT_CONFIGS:-dynfixed8 minifloat8 pow2_4 e4m3}"
vectors="${MUTANT_VECTORS:-500}"
ristsim="$build/sim/cli/ristsim"
[ -x "$ristsim" ] || { echo "mutants.sh: build ristsim first ($ristsim)" >&2; exit 2; }
work="$build/mutants"
rm -rf "$work"
mkdir -p "$work"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
# Verilator's makefiles compile through $OBJCACHE: the runtime objects and the
# unmutated parts of each mutant then come from ccache.
if command -v ccache > /dev/null; then
  export OBJCACHE=ccache CCACHE_BASEDIR="$work"
fi

for c in $configs; do
  # cosim generates with --dynamic-fl auto; the mutated RTL must have the same shape.
  mkdir -p "$work/$c"  # ristsim creates its output folder, never the parent
  "$ristsim" rtl --arch "$root/configs/$c.yaml" --out "$work/$c/orig" --dynamic-fl auto > /dev/null
  # The elaborated netlist, for the lines that are live in this PE.
  (cd "$work/$c/orig" && verilator --xml-only --top-module ristsim_pe --Mdir "$work/$c/xml" \
     $(cat files.f)) > "$work/$c/xml.log" 2>&1 \
    || { echo "mutants.sh: verilator --xml-only failed for $c: $work/$c/xml.log" >&2; exit 1; }
done

python3 - "$work" "$per_config" "$seed" $configs > "$work/plan.txt" <<'EOF'
# Enumerates the mutation sites of each config's RTL and draws the sample.
import random, re, sys, os
work, per, seed, configs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]

def const_off(m):
    w, v = int(m.group(1)), int(m.group(2))
    return "%d'd%d" % (w, v + 1 if v + 1 < (1 << w) else v - 1)

def narrow(m):
    h, l = int(m.group(1)), int(m.group(2))
    return "[%d:%d]" % (h - 1, l) if h > l else None

OPS = [
    ("add_sub", r" \+ ", lambda m: " - "),
    ("sub_add", r" - ", lambda m: " + "),
    ("and_or", r" & ", lambda m: " | "),
    ("or_and", r" \| ", lambda m: " & "),
    ("cmp", r" (>=|>|==) ", lambda m: {">=": " > ", ">": " >= ", "==": " != "}[m.group(1)]),
    ("const_off_by_one", r"\b(\d+)'d(\d+)\b", const_off),
    ("drop_enable", r"\bif \((?!!rst_ni)([^()]+)\) begin$", lambda m: "if (1'b1) begin"),
    ("drop_enable", r"= ([\w\[\]]+) \? ([\w\[\]']+) : ", lambda m: "= 1'b1 ? %s : " % m.group(2)),
    ("slice_narrow", r"\[(\d+):(\d+)\]", narrow),
    ("sign_flip", r"\$signed\(", lambda m: "$unsigned("),
    ("sign_flip", r">>>", lambda m: ">>"),
    ("drop_invert", r"~(?=[\w(])", lambda m: ""),
]
SKIP = re.compile(r"^\s*(//|logic\b|input\b|output\b|parameter\b|localparam\b|module\b|\)|assert\b|else \$fatal)")
rng = random.Random(seed)
for c in configs:
    d = os.path.join(work, c, "orig")
    sites = []
    names = open(os.path.join(d, "files.f")).read().split()
    xml = open(os.path.join(work, c, "xml", "Vristsim_pe.xml")).read()
    ids = dict(re.findall(r'<file id="([a-z]+)" filename="([^"]*)"', xml))
    live = {}  # file -> 1-based first lines of the elaborated netlist's nodes
    for fid, first in re.findall(r'loc="([a-z]+),(\d+),', xml[xml.index("<netlist"):]):
        live.setdefault(ids[fid], set()).add(int(first))
    for name in names:
        in_assert = False
        for n, line in enumerate(open(os.path.join(d, name)).read().split("\n")):
            if line.startswith("`ifndef SYNTHESIS"): in_assert = True
            if line.startswith("`endif"): in_assert = False; continue
            if in_assert or SKIP.match(line) or n + 1 not in live.get(name, ()): continue
            code = line.split("//")[0]
            for op, pat, rep in OPS:
                for k, m in enumerate(re.finditer(pat, code)):
                    new = rep(m)
                    if new is None: continue
                    mutated = code[:m.start()] + new + code[m.end():]
                    sites.append((c, name, n, op, line, mutated + line[len(code):]))
    for s in rng.sample(sites, min(per, len(sites))):
        c, name, n, op, before, after = s
        print("\t".join([c, name, str(n), op, before.strip(), after.strip()]))
    print("#sites\t%s\t%d" % (c, len(sites)))
EOF

# The unmutated RTL must pass, or every mutant would look killed.
for c in $configs; do
  if ! nice "$ristsim" cosim --arch "$root/configs/$c.yaml" --rtl "$work/$c/orig" \
         --vectors "$vectors" --seed 1 --cache "$work/cache" > "$work/$c/orig.log" 2>&1; then
    echo "mutants.sh: the unmutated RTL of $c does not pass co-simulation: $work/$c/orig.log" >&2
    exit 1
  fi
  rm -rf "$work/cache"
done

start=$(date +%s)
killed=0 survived=0 stillborn=0 skipped=0 i=0
: > "$work/survivors.txt"
while IFS=$'\t' read -r c file line op before after; do
  if [ "$c" = "#sites" ]; then
    echo "config $file: $line mutation sites"
    continue
  fi
  i=$((i + 1))
  if [ $(( $(date +%s) - start )) -ge "$budget" ]; then
    skipped=$((skipped + 1))
    continue
  fi
  m="$work/$c/m$i"
  cp -r "$work/$c/orig" "$m"
  python3 - "$m/$file" "$line" "$after" <<'EOF'
import sys
path, n, after = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = open(path).read().split("\n")
indent = lines[n][:len(lines[n]) - len(lines[n].lstrip())]
lines[n] = indent + after
open(path, "w").write("\n".join(lines))
EOF
  rc=0
  out=$(nice timeout 300 "$ristsim" cosim --arch "$root/configs/$c.yaml" --rtl "$m" \
        --vectors "$vectors" --seed 1 --cache "$work/cache" 2>&1) || rc=$?
  echo "$out" > "$work/m$i.log"
  rm -rf "$work/cache"
  if [ $rc -eq 0 ]; then
    verdict=SURVIVED
    survived=$((survived + 1))
    printf '%s %s:%s %s\n  - %s\n  + %s\n' "$c" "$file" "$((line + 1))" "$op" "$before" "$after" \
      >> "$work/survivors.txt"
  elif echo "$out" | grep -Eq "verilator failed|make of the Verilated model failed|linking librtl.so failed"; then
    verdict=STILLBORN
    stillborn=$((stillborn + 1))
  else
    verdict=KILLED
    killed=$((killed + 1))
  fi
  printf '%-9s %s %s:%s %s: %s  =>  %s\n' "$verdict" "$c" "$file" "$((line + 1))" "$op" \
    "$before" "$after"
  rm -rf "$m"
done < "$work/plan.txt"
total=$((killed + survived))
echo "mutants: killed $killed / total $total ($(awk -v k=$killed -v t=$total \
  'BEGIN { printf "%.0f", t ? 100 * k / t : 0 }') %), stillborn $stillborn, not run (budget) $skipped," \
  "$(( $(date +%s) - start )) s"
echo "survivors: $work/survivors.txt"
