#!/usr/bin/env python3
"""The summary of scripts/bench_functional.sh: medians, top-1, GOP/s and the
fraction of the measured peak per tool, the ratios and issue 17's targets.

  bench_summary.py RESULTS.jsonl REPEATS THREADS LOAD_BEFORE LOAD_AFTER MODELS BATCHES

RESULTS.jsonl: one line per measurement, {"key": ..., "run": ..., "data": {...}}
(keys MODEL/ops, peak, train/TOOL, MODEL/BATCH/TOOL).
"""
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
repeats, threads = sys.argv[2], sys.argv[3]
models, batches = sys.argv[6].split(), sys.argv[7].split()
by, last = {}, {}
for r in rows:
    by.setdefault(r["key"], []).append(r["data"].get("seconds"))
    last[r["key"]] = r["data"]
med = {k: statistics.median(v) for k, v in by.items() if None not in v}
peak = {f: statistics.median(r["data"][f] for r in rows if r["key"] == "peak")
        for f in ("fp32_gflops", "int8_gops", "int16_gops")
        if all(r["data"][f] is not None for r in rows if r["key"] == "peak")}
names = {"ristsim_fp32": "ristsim fp32", "ristsim_float8": "ristsim 8-bit float datapath",
         "ristsim_exact8": "ristsim 8-bit exact datapath", "ort_fp32": "onnxruntime fp32",
         "ort_int8": "onnxruntime int8 QDQ", "torch_fp32": "PyTorch fp32",
         "torch_fq8": "PyTorch fake quant 8-bit", "brevitas8": "Brevitas 8-bit"}
# The peak each tool's arithmetic runs on: integer for the int8 paths, fp32 otherwise.
int_tools = {"ristsim_exact8", "ort_int8"}
print(f"Fashion-MNIST, {threads} threads every tool, median of {repeats} interleaved rounds (seconds).")
print(f"Load before: {sys.argv[4].strip()}")
print(f"Load after:  {sys.argv[5].strip()}")
if peak:
    print(f"Measured peak (scripts/bench/peak_probe.cpp, {threads} threads): fp32 FMA "
          f"{peak['fp32_gflops']:.1f} GFLOP/s, int8 vpdpbusd {peak['int8_gops']:.1f} GOP/s, "
          f"int16 vpdpwssd {peak['int16_gops']:.1f} GOP/s")
verdicts = []
def ratio_line(what, a, b, target=None, invert=False):
    """b / a (peer time over ristsim time; > 1: ristsim faster), or a / b with invert."""
    if a not in med or b not in med:
        return
    x = med[a] / med[b] if invert else med[b] / med[a]
    s = f"  {what:58} {x:6.2f}"
    if target is not None:
        ok = x <= target if invert else x >= target
        verdict = "met" if ok else (f"missed: {x / target:.2f} of the target" if not invert
                                   else f"missed: {x / target:.2f}x the target")
        s += f"  (target {'<=' if invert else '>='} {target}: {verdict})"
        verdicts.append(f"{what}: {x:.2f}, {verdict}")
    print(s)
for m in models:
    ops = last.get(f"{m}/ops", {}).get("macs_per_image", 0) * 2
    for b in batches:
        k = f"{m}/{b}"
        print(f"\n{m}, batch {b} ({ops / 1e6:.2f} MOP per image)")
        print(f"  {'tool':34} {'median s':>9} {'top-1':>7} {'GOP/s':>8} {'% peak':>7}  runs")
        for t, name in names.items():
            key = f"{k}/{t}"
            if key not in med:
                continue
            gops = ops * last[key].get("images", 10000) / med[key] / 1e9
            pk = peak.get("int8_gops" if t in int_tools else "fp32_gflops")
            frac = f"{100 * gops / pk:6.1f}%" if pk else "      -"
            top1 = last[key].get("top1")
            print(f"  {name:34} {med[key]:9.3f} {top1 if top1 is not None else float('nan'):7.4f} "
                  f"{gops:8.1f} {frac}  {' '.join('%.2f' % x for x in by[key])}")
        print("  ratios (peer time / ristsim time: > 1 ristsim faster)")
        ratio_line(f"{m} b{b} fp32: onnxruntime / ristsim", f"{k}/ristsim_fp32", f"{k}/ort_fp32", 1.0)
        ratio_line(f"{m} b{b} 8-bit: onnxruntime int8 / ristsim exact", f"{k}/ristsim_exact8", f"{k}/ort_int8", 1.0)
        ratio_line(f"{m} b{b} 8-bit: onnxruntime int8 / ristsim float dp", f"{k}/ristsim_float8", f"{k}/ort_int8")
        ratio_line(f"{m} b{b} exact / float datapath (ristsim)", f"{k}/ristsim_exact8", f"{k}/ristsim_float8", 1.0, invert=True)
        ratio_line(f"{m} b{b} fp32: PyTorch / ristsim", f"{k}/ristsim_fp32", f"{k}/torch_fp32")
        ratio_line(f"{m} b{b} 8-bit: fake quant / ristsim float dp", f"{k}/ristsim_float8", f"{k}/torch_fq8")
        ratio_line(f"{m} b{b} 8-bit: fake quant / ristsim exact", f"{k}/ristsim_exact8", f"{k}/torch_fq8")
        ratio_line(f"{m} b{b} 8-bit: Brevitas / ristsim float dp", f"{k}/ristsim_float8", f"{k}/brevitas8")
print("\nlenet, one training epoch (60,000 images, batch 64)")
for t, name in (("train/ristsim", "ristsim (whole process)"), ("train/torch", "PyTorch (timed loop)")):
    if t in med:
        print(f"  {name:34} {med[t]:9.3f}  runs {' '.join('%.2f' % x for x in by[t])}")
ratio_line("lenet training: PyTorch / ristsim", "train/ristsim", "train/torch", 2.0)
print("\nTargets:")
for v in verdicts:
    print("  " + v)
torch_v = next((r["data"].get("torch") for r in rows if "torch" in r["data"]), "?")
ort_v = next((r["data"].get("ort") for r in rows if "ort" in r["data"]), "?")
print(f"torch {torch_v}, onnxruntime {ort_v}")
