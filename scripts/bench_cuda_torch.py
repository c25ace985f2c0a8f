#!/usr/bin/env python3
"""The PyTorch peer of scripts/bench_cuda.sh: the same network (the layer list that
`bench_cuda --dump-net MODEL.yaml` prints), random weights, on the same GPU, in float32 and
with fake quantization (torch.fake_quantize_per_tensor_affine: 8-bit symmetric codes on a
power-of-two scale, as dynamic fixed point, on every Convolution / InnerProduct input and
weight and output). Prints one JSON object per mode with images/s.

usage: bench_cuda_torch.py NET.json [--batch 256] [--iters 10] [--bits 8]
"""
import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F


def hw(p, key, default):
    v = p.get(key, default)
    if isinstance(v, list):
        return (int(v[0]), int(v[1])) if len(v) == 2 else (int(v[0]), int(v[0]))
    return (int(v), int(v))


def build(net, device, gen):
    """(forward function, parameters) of the layer list, in Caffe's semantics."""
    params = {}
    probe = {net["input"]: torch.zeros([1] + net["input_shape"], device=device)}
    for l in net["layers"]:  # shapes and weights from a probe pass
        x = probe[l["bottoms"][0]]
        p, t = l["params"], l["type"]
        if t == "Convolution":
            kh, kw = hw(p, "kernel_size", 1)
            g = int(p.get("group", 1))
            k = int(p["num_output"])
            params[l["name"]] = (torch.randn(k, x.shape[1] // g, kh, kw, device=device, generator=gen) * 0.01,
                                 torch.zeros(k, device=device))
        elif t == "InnerProduct":
            k = int(p["num_output"])
            params[l["name"]] = (torch.randn(k, x[0].numel(), device=device, generator=gen) * 0.01,
                                 torch.zeros(k, device=device))
        probe[l["tops"][0]] = run_layer(l, [probe[b] for b in l["bottoms"]], params, None, None)

    return params


def fake_quant(x, bits, key, scales):
    """Dynamic fixed point: the power-of-two scale that covers max |x|, fixed by the first
    (calibration) batch as Ristretto's range analysis does."""
    if key not in scales:
        m = float(x.detach().abs().max())
        il = 0 if m == 0 else int(torch.ceil(torch.log2(torch.tensor(m))).item())
        scales[key] = 2.0 ** (il - (bits - 1))
    return torch.fake_quantize_per_tensor_affine(x, scales[key], 0, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)


def run_layer(l, xs, params, bits, scales):
    p, t, x = l["params"], l["type"], xs[0]
    if t in ("Convolution", "InnerProduct"):
        w, b = params[l["name"]]
        if bits:
            n = l["name"]
            x, w = fake_quant(x, bits, n + ".in", scales), fake_quant(w, bits, n + ".w", scales)
        if t == "Convolution":
            y = F.conv2d(x, w, b, stride=hw(p, "stride", 1), padding=hw(p, "pad", 0),
                         dilation=hw(p, "dilation", 1), groups=int(p.get("group", 1)))
        else:
            y = F.linear(x.flatten(1), w, b)
        return fake_quant(y, bits, l["name"] + ".out", scales) if bits else y
    if t == "ReLU":
        return F.relu(x)
    if t == "Pooling":
        if p.get("global_pooling") in ("true", 1, 1.0, True):
            k, s, pad = (x.shape[2], x.shape[3]), (1, 1), (0, 0)
        else:
            k, s, pad = hw(p, "kernel_size", 1), hw(p, "stride", 1), hw(p, "pad", 0)
        ceil = p.get("round", "ceil") == "ceil"
        if p.get("pool", "max") in ("max", "MAX"):
            return F.max_pool2d(x, k, s, pad, ceil_mode=ceil)
        return F.avg_pool2d(x, k, s, pad, ceil_mode=ceil, count_include_pad=True)
    if t == "LRN":
        return F.local_response_norm(x, int(p.get("local_size", 5)), float(p.get("alpha", 1.0)),
                                     float(p.get("beta", 0.75)), float(p.get("k", 1.0)))
    if t == "Concat":
        return torch.cat(xs, dim=int(p.get("axis", 1)))
    if t in ("Dropout", "Split", "Flatten", "Softmax"):
        return x if t != "Flatten" else x.flatten(1)
    raise SystemExit(f"bench_cuda_torch.py: layer type {t} is not supported")


def forward(net, x, params, bits, scales):
    blobs = {net["input"]: x}
    for l in net["layers"]:
        blobs[l["tops"][0]] = run_layer(l, [blobs[b] for b in l["bottoms"]], params, bits, scales)
    return blobs[net["output"] or net["layers"][-1]["tops"][0]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("net")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--bits", type=int, default=8)
    a = ap.parse_args()
    if not torch.cuda.is_available():
        print("bench_cuda_torch.py: no CUDA device for PyTorch", file=sys.stderr)
        return 1
    net = json.load(open(a.net))
    dev = torch.device("cuda")
    gen = torch.Generator(device=dev).manual_seed(1)
    params = build(net, dev, gen)
    images = torch.rand([a.batch] + net["input_shape"], generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        for mode, bits in (("fp32", 0), ("fake_quant", a.bits)):
            scales = {}
            for _ in range(2):  # warm-up (the first pass calibrates the scales)
                forward(net, images.to(dev), params, bits, scales).cpu()
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(a.iters):
                forward(net, images.to(dev), params, bits, scales).cpu()  # batch in, scores out
            torch.cuda.synchronize()
            dt = (time.perf_counter() - t0) / a.iters
            print(json.dumps({"model": net["name"], "peer": "pytorch", "mode": mode, "batch": a.batch,
                              "images_per_s": round(a.batch / dt, 1), "torch": torch.__version__,
                              "device": torch.cuda.get_device_name(0)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
