#!/usr/bin/env bash
# Reproduces the experiments of Gysel's thesis ("Ristretto: Hardware-Oriented Approximation of
# Convolutional Neural Networks", MSc thesis, UC Davis 2016, arXiv:1605.06402) with ristsim on
# Fashion-MNIST, for lenet and cifar10_full:
#   Table 4.1  static fixed point (lenet 8-bit, cifar10_full 16-bit), before / after fine-tuning
#   Table 5.1  dynamic fixed point, one number category at a time (16/8/4/2/1 bits)
#   Table 5.2  fine-tuned dynamic fixed point: lenet 4/4/4 and 4/2/2, cifar10_full 8/8/8
#              (layer outputs / conv weights / FC weights)
#   Table 6.1  fine-tuned 8-bit minifloat
#   Table 7.1  power-of-two weights (4 bits; 8-bit dynamic fixed activations), fine-tuned
#   Fig. 8.1 / 8.2  top-1 against bit-width for fixed, dynamic fixed and minifloat, no fine-tuning
# and writes them into docs/results.md between the markers
#   <!-- reproduce_thesis begin --> ... <!-- reproduce_thesis end -->
# (the rest of that file belongs to others and is left as it is), with the plots as SVG in
# docs/figures/. Every number comes from the report.json files of `ristsim quantize` and
# `ristsim finetune` under the work directory.
#
# usage: scripts/reproduce_thesis.sh [--nets "lenet cifar10_full"] [--quick] [--work DIR]
#                                    [--activation-il ristretto|no-saturation] [--ft-epochs N]
#                                    [--only "CASE..."] [--tables-only]
#   --quick        fewer images (search 500, test 2000 for the figures) and 1 fine-tuning epoch
#   --only         run only these cases (fixed8 fixed16 dfp_search dfp_444 dfp_422 dfp_888
#                  minifloat8 pow2_4 fig); the tables take every report already in the work dir
#   --tables-only  run nothing, write the tables from the reports in the work directory
#   --ft-train-images N  fine-tune on the first N Fashion-MNIST training images (for time; the
#                  test split stays whole); the tables say so
# Fine-tuning: Ristretto's (stochastic weights, float activations, Adam, lr 1e-4) for the
# 8-bit cases; power-of-two weights with nearest weights and a cosine-decayed lr 5e-4; the 4-bit dynamic fixed point cases (4/4/4, 4/2/2) train with
# quantized activations (clipped straight-through) and nearest weights, Adam lr 1e-3 decayed by
# a cosine, --ft4-epochs (default 16), their formats from Ristretto's saturating activation rule
# and then a search of every group's fractional length (quantize --fl-search); 4/2/2 starts from
# the fine-tuned 4/4/4 net. The other cases use --activation-il (default no-saturation:
# Ristretto's rule clips Fashion-MNIST's pixels at 0.5, docs/quantize.md).
# Environment: BUILD (build directory, default build), RISTSIM (the binary).
# Models: models/<net>_fmnist.onnx (committed, trained) or models/<net>.onnx / .rstw when
# present; otherwise the script trains them first (seed 1) into the work directory.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
RISTSIM=${RISTSIM:-$BUILD/sim/cli/ristsim}
WORK=$ROOT/build-thesis
NETS="lenet cifar10_full"
QUICK=0
ACT_IL=no-saturation
FT_EPOCHS=2
FT4_EPOCHS=16
ONLY=""
TABLES_ONLY=0
DATA=fashion-mnist
FT_DATA=fashion-mnist
FT_N=0

while [ $# -gt 0 ]; do
  case "$1" in
    --nets) NETS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --activation-il) ACT_IL=$2; shift 2 ;;
    --ft-epochs) FT_EPOCHS=$2; shift 2 ;;
    --ft4-epochs) FT4_EPOCHS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --tables-only) TABLES_ONLY=1; shift ;;
    --ft-train-images) FT_N=$2; shift 2 ;;
    -h|--help) sed -n '2,37p' "$0"; exit 0 ;;
    *) echo "reproduce_thesis.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$RISTSIM" ] || { echo "reproduce_thesis.sh: $RISTSIM not built (set BUILD or RISTSIM)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "reproduce_thesis.sh: needs python3 (tables)" >&2; exit 1; }
SEARCH_IMAGES=2000 FIG_TEST=0
if [ $QUICK = 1 ]; then SEARCH_IMAGES=500 FIG_TEST=2000 FT_EPOCHS=1 FT4_EPOCHS=1; fi
mkdir -p "$WORK"
if [ "$FT_N" -gt 0 ]; then  # the first N training images and the whole test split, as idx
  FT_DATA="$WORK/fmnist-first-$FT_N"
  python3 - "$FT_DATA" "$FT_N" <<'PY'
import gzip, os, struct, sys
out, n = sys.argv[1], int(sys.argv[2])
src = "/usr/share/datasets/fashion-mnist"
os.makedirs(out, exist_ok=True)
for name, count in (("train-images-idx3-ubyte", n), ("train-labels-idx1-ubyte", n),
                    ("t10k-images-idx3-ubyte", None), ("t10k-labels-idx1-ubyte", None)):
    b = gzip.open(os.path.join(src, name + ".gz")).read()
    magic, total = struct.unpack(">II", b[:8])
    k = total if count is None else min(count, total)
    if magic == 0x803:
        hdr, body = struct.pack(">IIII", magic, k, 28, 28), b[16:16 + k * 784]
    else:
        hdr, body = struct.pack(">II", magic, k), b[8:8 + k]
    open(os.path.join(out, name), "wb").write(hdr + body)
PY
fi
T0=$(date +%s)
log() { echo "[$(( $(date +%s) - T0 )) s] $*"; }

model_of() {  # the trained model of a net, trained first when missing
  local net=$1
  for f in "$ROOT/models/${net}_fmnist.onnx" "$ROOT/models/$net.onnx" "$ROOT/models/$net.rstw"; do
    [ -f "$f" ] && { echo "$f"; return; }
  done
  local w="$WORK/$net.rstw"
  if [ ! -f "$w" ]; then
    local epochs=4 extra=""
    [ "$net" = cifar10_full ] && epochs=8 extra="--solver adam --lr 0.001"
    log "training $net ($epochs epochs, seed 1) -> $w" >&2
    "$RISTSIM" train --model "$ROOT/models/$net.yaml" --data $DATA --epochs $epochs --seed 1 \
      $extra --out "$w" --quiet --no-test >&2
  fi
  echo "$w"
}

wanted() {  # wanted CASE: with --only, only the cases listed (fig_* counts as fig)
  [ $TABLES_ONLY = 1 ] && return 1
  [ -z "$ONLY" ] && return 0
  local c=$1
  case $c in fig_*) c=fig ;; esac
  case " $ONLY " in *" $c "*) return 0 ;; esac
  return 1
}

quantize() {  # quantize NET NAME [--from MODEL] [options]: skipped when its report exists
  local net=$1 name=$2; shift 2
  local out="$WORK/$net/$name" from="$MODEL"
  if [ "${1:-}" = --from ]; then from=$2; shift 2; fi
  [ -f "$out/report.json" ] && return
  wanted $name || return 0
  [ -f "$from" ] || { log "skip $net $name: $from is missing"; return 0; }
  local il="--activation-il $ACT_IL" si="--search-images $SEARCH_IMAGES"
  case " $* " in *" --activation-il "*) il="" ;; esac  # the case's own rule
  case " $* " in *" --search-images "*) si="" ;; esac  # the case's own search set
  log "quantize $net $name (from $from) $il $si $*"
  "$RISTSIM" quantize --model "$from" --data $DATA --out "$out" --quiet $si $il "$@"
}

finetune() {  # finetune NET NAME [options]: fine-tunes NAME's quantized model into NAME-ft
  local net=$1 name=$2; shift 2
  local out="$WORK/$net/$name-ft" epochs=$FT_EPOCHS
  [ -f "$out/report.json" ] && return
  [ -f "$WORK/$net/$name/quantized.onnx" ] || return 0
  wanted $name || return 0
  case " $* " in *" --train-activations "*) epochs=$FT4_EPOCHS ;; esac
  log "finetune $net $name ($epochs epochs $*)"
  "$RISTSIM" finetune --model "$WORK/$net/$name/quantized.onnx" --data "$FT_DATA" --out "$out" \
    --epochs $epochs --seed 1 --resume --checkpoint-every 200 --quiet "$@"
}

# Ristretto's fine-tuning (8-bit and pow2 cases), and quantization-aware training for 4 bits.
FT_RISTRETTO="--lr 1e-4"
# Power-of-two weights: nearest weights (the values scored), a cosine-decayed rate from 5e-4.
# Ristretto's recipe left cifar10_full 1.55 points down (2 epochs on 10,000 images); this one
# 0.22 (2 epochs on all 60,000).
FT_POW2="--lr 5e-4 --lr-policy cosine --train-weights nearest"
FT_QAT="--lr 1e-3 --lr-policy cosine --train-activations clipped-ste --train-weights nearest"
# 4 bits: Ristretto's saturating rule, then every group's FL searched on 10,000 training images
# (--fl-search; docs/quantize.md): the rule alone clips the pixels at 0.4375. The class scores
# (ip2's outputs) get FL 1 (step 0.5, range -4..3.5): before fine-tuning the search prefers the
# range (FL -1), after it the resolution wins (8 epochs on 4/4/4, measured: FL -1 89.54 %,
# 0 90.24 %, 1 90.54 %, 2 90.26 %; docs/quantize.md).
Q4="--activation-il ristretto --fl-search --set-fl ip2.outputs=1 --search-images $([ $QUICK = 1 ] && echo 2000 || echo 10000)"

for net in $NETS; do
  MODEL=$(model_of $net)
  log "$net: model $MODEL"
  if [ $net = lenet ]; then static=8; else static=16; fi
  quantize $net fixed$static --format fixed --bits $static
  finetune $net fixed$static $FT_RISTRETTO
  quantize $net dfp_search --format dynamic_fixed --error-margin 1.0
  finetune $net dfp_search $FT_RISTRETTO  # with the search: the whole flow, timed below
  if [ $net = lenet ]; then
    quantize $net dfp_444 --format dynamic_fixed --act-bits 4 --conv-bits 4 --fc-bits 4 $Q4
    finetune $net dfp_444 $FT_QAT
    # 4/2/2 starts from the fine-tuned 4/4/4 net (its weights already on a 4-bit grid).
    quantize $net dfp_422 --from "$WORK/$net/dfp_444-ft/finetuned.onnx" \
      --format dynamic_fixed --act-bits 4 --conv-bits 2 --fc-bits 2 $Q4
    finetune $net dfp_422 $FT_QAT
  else
    quantize $net dfp_888 --format dynamic_fixed --act-bits 8 --conv-bits 8 --fc-bits 8
    finetune $net dfp_888 $FT_RISTRETTO
  fi
  quantize $net minifloat8 --format minifloat --bits 8
  finetune $net minifloat8 $FT_RISTRETTO
  quantize $net pow2_4 --format pow2 --bits 4
  finetune $net pow2_4 $FT_POW2
  for f in fixed dynamic_fixed minifloat; do
    for b in 16 8 6 4 2; do
      [ $f = minifloat ] && [ $b -lt 4 ] && continue
      quantize $net fig_${f}_$b --format $f --bits $b --test-images $FIG_TEST
    done
  done
done

log "writing docs/results.md"
mkdir -p "$ROOT/docs/figures"
python3 - "$ROOT" "$WORK" "$NETS" "$ACT_IL" "$FT_EPOCHS" "$QUICK" <<'PY'
import json, os, subprocess, sys
root, work, nets, act_il, ft_epochs, quick = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4], sys.argv[5], sys.argv[6] == "1"

def rep(net, name):
    p = os.path.join(work, net, name, "report.json")
    return json.load(open(p)) if os.path.exists(p) else None

def pct(x):
    return "n/a" if x is None or x < 0 else "%.2f %%" % (100 * x)

def drop(base, x):
    return "n/a" if base is None or x is None or x < 0 else "%.2f" % (100 * (base - x))

lines = []
out = lines.append
out("## The thesis' experiments on Fashion-MNIST (scripts/reproduce_thesis.sh)")
out("")
out("Made by `scripts/reproduce_thesis.sh%s` with `ristsim quantize` / `ristsim finetune` "
    "(docs/quantize.md): datapath float (Ristretto's), dynamic fixed activations by the %s rule "
    "(the 4-bit cases 4/4/4 and 4/2/2: Ristretto's rule, IL = ceil(log2 max), then every group's "
    "fractional length searched on 10,000 training images, `quantize --fl-search`, except the "
    "class scores, given FL 1 with `--set-fl ip2.outputs=1`; 4/2/2 "
    "starts from the fine-tuned 4/4/4 net), "
    "seed 1; the fine-tuning of each row (epochs, solver, learning rate, training modes) is in its "
    "own column. Top-1 on the 10,000 Fashion-MNIST "
    "test images (figures: %s). A row or target marked *not run* was not run by this invocation "
    "or an earlier one in the same work directory (the tables gather every report there, so "
    "they may come from several invocations with --only). The thesis' own numbers are on MNIST and CIFAR-10 (Gysel, "
    "\"Ristretto: Hardware-Oriented Approximation of Convolutional Neural Networks\", MSc thesis, "
    "UC Davis 2016, arXiv:1605.06402); they are not repeated here because this reproduction could "
    "not check them against the text, and a different data set makes them a different experiment: "
    "compare the drops, not the accuracies." % (" --quick" if quick else "", act_il,
    "the first 2,000 test images" if quick else "all test images"))
out("")

def base_of(net):
    for name in ("dfp_search", "fixed8", "fixed16", "minifloat8", "pow2_4", "dfp_444", "dfp_888"):  # not dfp_422
        r = rep(net, name)
        if r: return r["baseline"]["test_top1"]
    return None

def ft_how(f):
    if not f: return "not run"
    how = "%d ep, %s lr %g%s, acts %s, weights %s" % (f["epochs"], f["solver"], f["lr"],
        " cosine" if f.get("lr_policy") == "cosine" else "",
        f.get("train_activations", "float"), f.get("train_weights", "stochastic"))
    if f.get("mirror"): how += ", flips"
    if f.get("teacher"):
        how += ", distilled from %s (w %g, T %g)" % (os.path.basename(f["teacher"]), f["distill_weight"], f["distill_temperature"])
    d = os.path.basename(f.get("data", "fashion-mnist").rstrip("/"))
    if d.startswith("fmnist-first-"):
        how += ", on the first %s training images" % d[len("fmnist-first-"):]
    elif d != "fashion-mnist":
        how += ", on %s" % d
    return how

def ft_row(net, label, name):
    q, f = rep(net, name), rep(net, name + "-ft")
    if not q:
        out("| %s | %s | not run | | | | |" % (net, label)); return
    b = base_of(net) or q["baseline"]["test_top1"]  # the fp32 model's, also for 4/2/2 (from 4/4/4)
    after = f["after_top1"] if f else None
    out("| %s | %s | %s | %s (%s) | %s (%s) | %s | %.2f |" % (net, label, pct(b), pct(q["quantized"]["test_top1"]),
        drop(b, q["quantized"]["test_top1"]), pct(after), drop(b, after), ft_how(f), q["bits_per_param"]))

head = "| net | formats | fp32 | quantized (drop, points) | fine-tuned (drop, points) | fine-tuning | bits / parameter |\n|---|---|---|---|---|---|---|"
out("### Table 4.1: static fixed point"); out(""); out(head)
for net in nets:
    ft_row(net, "fixed, 8 bits" if net == "lenet" else "fixed, 16 bits", "fixed8" if net == "lenet" else "fixed16")
out("")
out("### Table 5.1: dynamic fixed point, one category at a time (the others float)"); out("")
out("| net | category | 16 bits | 8 bits | 4 bits | 2 bits | 1 bit |\n|---|---|---|---|---|---|---|")
for net in nets:
    r = rep(net, "dfp_search")
    if not r:
        out("| %s | not run |  |  |  |  |  |" % net); continue
    for cat, label in (("act", "layer outputs"), ("conv", "conv weights"), ("fc", "FC weights")):
        cells = {p["bits"]: p["top1"] for p in r["sweep"] if p["what"] == cat}
        out("| %s | %s | %s |" % (net, label, " | ".join(pct(cells.get(b)) for b in (16, 8, 4, 2, 1))))
    out("| %s | search set fp32 | %s |  |  |  |  |" % (net, pct(r["baseline"]["search_top1"])))
out("")
out("Scored on %s training images held apart from the range analysis; the search's combined plan and "
    "its test-split check are in each run's report.md." % (500 if quick else 2000))
out("")
out("### Table 5.2: fine-tuned dynamic fixed point (layer outputs / conv / FC bits)"); out(""); out(head)
for net in nets:
    if net == "lenet":
        ft_row(net, "4/4/4", "dfp_444"); ft_row(net, "4/2/2 (from the fine-tuned 4/4/4 net)", "dfp_422")
    else:
        ft_row(net, "8/8/8", "dfp_888")
out("")
def curve(net, name):  # quantized test top-1 after each fine-tuning epoch, over resumed runs too
    d = os.path.join(work, net, name + "-ft")
    per = {}
    if os.path.isdir(d):
        for fn in sorted(os.listdir(d)):
            if fn.startswith("report") and fn.endswith(".json"):
                for e in json.load(open(os.path.join(d, fn))).get("per_epoch", []):
                    per[e["epoch"]] = e["test_top1"]
    return ", ".join("%d: %s" % (k, pct(per[k])) for k in sorted(per))
rows = [(net, n) for net in nets for n in (("dfp_444", "dfp_422") if net == "lenet" else ("dfp_888",))]
curves = [(net, n, curve(net, n)) for net, n in rows if curve(net, n)]
if curves:
    out("Quantized test top-1 after each fine-tuning epoch (a run resumed from its checkpoint continues the count):"); out("")
    for net, n, c in curves: out("- %s %s: %s" % (net, n, c))
    out("")
out("### Table 6.1: fine-tuned 8-bit minifloat"); out(""); out(head)
for net in nets:
    r = rep(net, "minifloat8")
    lab = "minifloat, 8 bits"
    if r: lab += " (%s)" % r["layers"][0]["formats"]["weights"]
    ft_row(net, lab, "minifloat8")
out("")
out("### Table 7.1: power-of-two weights (4 bits), 8-bit dynamic fixed activations"); out(""); out(head)
for net in nets:
    ft_row(net, "pow2 weights, 4 bits", "pow2_4")
out("")
out("### The whole flow: search, then fine-tuning (1 point margin, dynamic fixed point)"); out("")
out("| net | bits / parameter | fp32 | searched (drop) | fine-tuned (drop) | quantize + finetune time |\n|---|---|---|---|---|---|")
for net in nets:
    q, f = rep(net, "dfp_search"), rep(net, "dfp_search-ft")
    if not q or not f:
        out("| %s | not run | | | | |" % net); continue
    b = q["baseline"]["test_top1"]
    out("| %s | %.2f | %s | %s (%s) | %s (%s) | %.0f s + %.0f s = %.1f min (%s) |" % (net,
        q["bits_per_param"], pct(b), pct(q["quantized"]["test_top1"]), drop(b, q["quantized"]["test_top1"]),
        pct(f["after_top1"]), drop(b, f["after_top1"]), q["seconds"], f["seconds"],
        (q["seconds"] + f["seconds"]) / 60, ft_how(f)))
out("")
out("Times are wall-clock on the shared 2-core build machine while other jobs ran; the formats of "
    "each layer are in the run's report.md.")
out("")
targets = [("lenet", "dfp_444", 0.5, "lenet 4/4/4"), ("lenet", "dfp_422", 1.5, "lenet 4/2/2"),
           ("cifar10_full", "dfp_888", 0.5, "cifar10_full 8/8/8")]
for net in nets:
    targets += [(net, "minifloat8", 0.5, net + " 8-bit minifloat"), (net, "pow2_4", 1.0, net + " pow2 weights")]
out("### Targets of issue 4 (drop after fine-tuning, points)"); out("")
out("| case | target | measured | met |\n|---|---|---|---|")
for net, name, t, label in targets:
    if net not in nets: continue
    q, f = rep(net, name), rep(net, name + "-ft")
    if not q or not f: out("| %s | <= %.1f | not run | |" % (label, t)); continue
    d = 100 * ((base_of(net) or q["baseline"]["test_top1"]) - f["after_top1"])
    out("| %s | <= %.1f | %.2f | %s |" % (label, t, d, "yes" if d <= t else "**no**"))
out("")
for i, net in enumerate(nets):
    fig = "8.%d" % (i + 1)
    if not any(rep(net, "fig_%s_%d" % (f, b)) for f in ("fixed", "dynamic_fixed", "minifloat") for b in (2, 4, 6, 8, 16)):
        out("### Figure %s: %s, top-1 against bit-width without fine-tuning" % (fig, net)); out("")
        out("Not run."); out(""); continue
    dat = os.path.join(work, net, "fig.dat")
    with open(dat, "w") as fdat:
        for f in ("fixed", "dynamic_fixed", "minifloat"):
            fdat.write("# %s\n" % f)
            for b in (2, 4, 6, 8, 16):
                r = rep(net, "fig_%s_%d" % (f, b))
                if r: fdat.write("%d %.4f\n" % (b, 100 * r["quantized"]["test_top1"]))
            fdat.write("\n\n")
    svg = os.path.join(root, "docs", "figures", "thesis_fig%s_%s.svg" % (fig.replace(".", "_"), net))
    gp = ("set terminal svg size 640,400 font 'sans,11'; set output '%s';"
          "set title '%s on Fashion-MNIST: top-1 against bit-width (no fine-tuning)';"
          "set xlabel 'bits'; set ylabel 'top-1 (%%)'; set key bottom right; set grid;"
          "set xtics (2,4,6,8,16); set yrange [0:100];"
          "plot '%s' index 0 w lp t 'fixed point', '' index 1 w lp t 'dynamic fixed point', '' index 2 w lp t 'minifloat'"
          % (svg, net, dat))
    try:
        subprocess.run(["gnuplot", "-e", gp], check=True)
        out("### Figure %s: %s, top-1 against bit-width without fine-tuning" % (fig, net)); out("")
        out("![%s](figures/%s)" % (net, os.path.basename(svg))); out("")
    except Exception as e:
        out("Figure %s: gnuplot failed (%s)" % (fig, e)); out("")
    out("| bits | fixed | dynamic fixed | minifloat |\n|---|---|---|---|")
    for b in (16, 8, 6, 4, 2):
        cells = []
        for f in ("fixed", "dynamic_fixed", "minifloat"):
            r = rep(net, "fig_%s_%d" % (f, b))
            cells.append(pct(r["quantized"]["test_top1"]) if r else "")
        out("| %d | %s |" % (b, " | ".join(cells)))
    out("")

section = "<!-- reproduce_thesis begin -->\n" + "\n".join(lines) + "\n<!-- reproduce_thesis end -->\n"
path = os.path.join(root, "docs", "results.md")
text = open(path).read() if os.path.exists(path) else "# Results\n\n"
b, e = "<!-- reproduce_thesis begin -->", "<!-- reproduce_thesis end -->"
if b in text and e in text:
    text = text[:text.index(b)] + section.rstrip("\n") + text[text.index(e) + len(e):]
else:
    text = text.rstrip("\n") + "\n\n" + section
tmp = path + ".tmp"
open(tmp, "w").write(text)
os.replace(tmp, path)
PY
log "done: docs/results.md (section reproduce_thesis), work files in $WORK"
