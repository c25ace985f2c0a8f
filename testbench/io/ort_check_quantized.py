#!/usr/bin/env python3
"""Checks ristsim's quantized exports on real data with onnxruntime (QDQ) or QONNX's executor.

For every OUT/<model>_<arch>.onnx written by ort_quantized_models, runs onnxruntime (or, with
--runner qonnx, qonnx.core.onnx_exec.execute_onnx on a --form qonnx export) on
OUT/<model>.input.pb (the first Fashion-MNIST test images as ristsim reads them) and asserts:
  - top-1 against OUT/<model>.labels.pb equals ristsim's exactly (the same count of correct
    images, from ristsim's logits OUT/<model>_<arch>.logits.pb), and
  - every logit is within one output quantum of ristsim's (OUT/<model>_<arch>.quantum.pb: the
    gap of the output format at that value). Both sides round the same float sums to the
    output format, but two libraries sum in different orders, so a sum within float error of
    a rounding boundary may land one quantum apart.
Prints one line per model (the figures of docs/results.md) and a summary.

Exit status: 0 all agree, 1 a mismatch, 77 onnxruntime, numpy or (--runner qonnx) qonnx not
importable (ctest skips).
With --all-must-fail (the planted-bug test): 0 when every model fails the check, else 1.
"""
import glob
import os
import sys

try:
    import numpy as np
    import onnxruntime as ort
except ImportError as e:
    print(f"ort_check_quantized: SKIP: {e}")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ort_check import read_tensor  # noqa: E402  (the TensorProto reader of ort_check.py)


def run_ort(path, x):
    so = ort.SessionOptions()
    # The graph as written: QuantizeLinear / DequantizeLinear are not fused into integer
    # kernels (which would round differently).
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def run_qonnx(path, x):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes
    m = ModelWrapper(path)
    name = m.graph.input[0].name
    m.set_tensor_shape(name, list(x.shape))  # the batch dimension is symbolic in the export
    m = m.transform(InferShapes())
    return execute_onnx(m, {name: x})[m.graph.output[0].name]


def main():
    argv = sys.argv[1:]
    runner = "onnxruntime"
    if "--runner" in argv:
        i = argv.index("--runner")
        runner = argv[i + 1] if i + 1 < len(argv) else ""
        del argv[i:i + 2]
    if runner not in ("onnxruntime", "qonnx"):
        print("usage: ort_check_quantized.py OUT [--runner onnxruntime|qonnx] [--all-must-fail]")
        return 2
    all_must_fail = "--all-must-fail" in argv
    args = [a for a in argv if a != "--all-must-fail"]
    out = args[0] if args else "."
    run = run_ort
    if runner == "qonnx":
        try:
            import qonnx  # noqa: F401
        except ImportError as e:
            print(f"ort_check_quantized: SKIP: {e}")
            return 77
        run = run_qonnx
    models = sorted(glob.glob(os.path.join(out, "*.onnx")))
    if not models:
        print(f"ort_check_quantized: no *.onnx in {out}")
        return 1
    if runner == "qonnx":
        from importlib.metadata import version
        print(f"qonnx {version('qonnx')} (its executor runs onnxruntime {ort.__version__} per node)")
    else:
        print(f"onnxruntime {ort.__version__}")
    failed = 0
    for m in models:
        stem = m[:-5]
        name = os.path.basename(stem)
        base = os.path.join(out, name.split("_fmnist_")[0] + "_fmnist")
        x = read_tensor(base + ".input.pb")
        labels = read_tensor(base + ".labels.pb").astype(np.int64)
        want = read_tensor(stem + ".logits.pb").astype(np.float64)
        quantum = read_tensor(stem + ".quantum.pb").astype(np.float64)
        got = run(m, x).astype(np.float64)
        err = np.abs(got - want)
        off = err > 0
        beyond = err > quantum * (1 + 1e-6)
        top_ort = int((got.argmax(1) == labels).sum())
        top_rs = int((want.argmax(1) == labels).sum())
        same_pred = int((got.argmax(1) == want.argmax(1)).sum())
        ok = got.shape == want.shape and top_ort == top_rs and not beyond.any()
        failed += not ok
        n = len(labels)
        print(f"{'PASS' if ok else 'FAIL'} {name}: top-1 {runner} {100 * top_ort / n:.2f} % "
              f"ristsim {100 * top_rs / n:.2f} % ({n} images, {same_pred} same predictions); "
              f"{int(off.sum())} of {want.size} logits one quantum apart, {int(beyond.sum())} "
              f"beyond")
    print(f"ort_check_quantized: {len(models) - failed} passed, {failed} failed")
    if all_must_fail:
        print("ort_check_quantized: every planted bug " + ("found" if failed == len(models) else "NOT found"))
        return 0 if failed == len(models) else 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
