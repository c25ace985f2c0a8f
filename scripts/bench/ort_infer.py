#!/usr/bin/env python3
"""onnxruntime side of scripts/bench_functional.sh: a ristsim ONNX model
(models/lenet_fmnist.onnx, models/cifar10_full_fmnist.onnx) on the 10,000
Fashion-MNIST test images, CPU only.

  ort_infer.py MODE --model M.onnx [--data DIR] [--batch B] [--threads T]
                    [--calib N] [--repeats R]

MODE: ops (no timing: prints macs_per_image, the multiply-accumulates of one
image in the model's Conv and Gemm nodes, from ONNX shape inference), fp32
(the model as it is) or int8 (onnxruntime's static quantizer,
quantize_static, QDQ format, uint8 activations and int8 weights per tensor
(the combination onnxruntime's documentation recommends on x86),
MinMax calibration on the first N (1,000) training images; the quantized model
is made before anything is timed). Inputs are bytes / 255, as ristsim's data
loader does. Prints one JSON line: mode, seconds (the median of R timed loops),
runs, images, top1, ort (version), and `timed` (what the timed region holds):
InferenceSession.run over the images in batches of B, the images already
float32 in memory; the session's creation and one warm-up batch are outside.
"""
import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort


def idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    nd = int.from_bytes(b[0:4], "big") & 0xFF
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def load(data, split):
    p = "train" if split == "train" else "t10k"
    x = idx(os.path.join(data, p + "-images-idx3-ubyte.gz")).astype(np.float32) / np.float32(255)
    y = idx(os.path.join(data, p + "-labels-idx1-ubyte.gz")).astype(np.int64)
    return np.ascontiguousarray(x[:, None, :, :]), y


def quantize_int8(model, calib_x, out_path):
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self, name, x, batch=100):
            self.items = iter([{name: x[i:i + batch]} for i in range(0, len(x), batch)])

        def get_next(self):
            return next(self.items, None)

    name = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).get_inputs()[0].name
    quantize_static(model, out_path, Reader(name, calib_x), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    per_channel=False)


def macs_per_image(path):
    import onnx
    m = onnx.load(path)
    for i in m.graph.input:  # batch 1
        d = i.type.tensor_type.shape.dim
        if d and not d[0].dim_value:
            d[0].dim_value = 1
    m = onnx.shape_inference.infer_shapes(m)
    shape = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
             for v in list(m.graph.value_info) + list(m.graph.output) + list(m.graph.input)}
    init = {t.name: list(t.dims) for t in m.graph.initializer}
    macs = 0
    for n in m.graph.node:
        if n.op_type == "Conv":  # outputs x (C / groups) kh kw
            macs += int(np.prod(shape[n.output[0]])) * int(np.prod(init[n.input[1]][1:]))
        elif n.op_type in ("Gemm", "MatMul"):  # batch 1: the weight's size
            macs += int(np.prod(init[n.input[1]]))
    return macs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["ops", "fp32", "int8"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--calib", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=1)
    a = ap.parse_args()
    if a.mode == "ops":
        print(json.dumps({"mode": "ops", "model": a.model, "macs_per_image": macs_per_image(a.model)}))
        return 0

    x, y = load(a.data, "test")
    model = a.model
    tmp = tempfile.TemporaryDirectory()
    if a.mode == "int8":
        cx, _ = load(a.data, "train")
        model = os.path.join(tmp.name, "int8.onnx")
        quantize_int8(a.model, cx[:a.calib], model)
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    batches = [x[i:i + a.batch] for i in range(0, len(x), a.batch)]
    sess.run(None, {name: batches[0]})  # warm-up, outside the timed region
    times = []
    for _ in range(a.repeats):
        outs = []
        t0 = time.perf_counter()
        for b in batches:
            outs.append(sess.run(None, {name: b})[0])
        times.append(time.perf_counter() - t0)
    pred = np.concatenate(outs).reshape(len(x), -1).argmax(axis=1)
    top1 = float((pred == y).mean())
    print(json.dumps({"mode": a.mode, "seconds": statistics.median(times), "runs": times,
                      "images": int(len(x)), "batch": a.batch, "threads": a.threads,
                      "top1": top1, "ort": ort.__version__,
                      "timed": f"InferenceSession.run over {len(x)} images in batches of "
                               f"{a.batch}, data float32 in memory"
                               + ("; QDQ model made and calibrated before" if a.mode == "int8"
                                  else "")}))


if __name__ == "__main__":
    sys.exit(main())
