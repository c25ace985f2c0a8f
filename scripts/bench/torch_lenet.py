#!/usr/bin/env python3
"""PyTorch (and Brevitas) side of scripts/bench_functional.sh: Caffe's LeNet
(models/lenet.yaml) on Fashion-MNIST, CPU only.

  torch_lenet.py MODE [--data DIR] [--batch B] [--threads T] [--seed S]

MODE: infer (fp32 inference over the 10,000 test images), fq8 (the same with
8-bit dynamic fixed point fake quantization: torch.fake_quantize_per_tensor_affine
on the input, weights and output of every convolution and inner product, scales
powers of two from Ristretto's rule IL = ceil(log2 max|x|) + 1 on 1,000
training images; bias 16 bits), brevitas (the same network as Brevitas
QuantConv2d/QuantLinear with Int8 fixed-point weight/input/output quantizers),
train (one epoch over the 60,000 training images, SGD momentum 0.9, lr 0.01,
weight decay 5e-4, shuffled). Weights are trained for `train`, else freshly
initialised (the time does not depend on them). Prints one JSON line: mode,
seconds (the timed loop only; data already in memory), images, top1.
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    magic = int.from_bytes(b[0:4], "big")
    nd = magic & 0xFF
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def load(data, split):
    p = "train" if split == "train" else "t10k"
    x = idx(os.path.join(data, p + "-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    y = idx(os.path.join(data, p + "-labels-idx1-ubyte.gz")).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1).contiguous(), torch.from_numpy(y)


class LeNet(nn.Module):
    """conv 20 5x5, max pool 2, conv 50 5x5, max pool 2, ip 500, relu, ip 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.ip1 = nn.Linear(800, 500)
        self.ip2 = nn.Linear(500, 10)
        for m in (self.conv1, self.conv2, self.ip1, self.ip2):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.max_pool2d(self.conv1(x), 2, 2)
        x = F.max_pool2d(self.conv2(x), 2, 2)
        x = F.relu(self.ip1(x.flatten(1)))
        return self.ip2(x)


def fl_for(maxabs, bits):
    """Ristretto's dynamic fixed point: IL = ceil(log2 max) + 1 (sign), FL = bits - IL."""
    il = math.ceil(math.log2(maxabs)) + 1 if maxabs > 0 else 1
    return bits - il


def fq(x, fl, bits):
    q = 1 << (bits - 1)
    return torch.fake_quantize_per_tensor_affine(x, 2.0 ** -fl, 0, -q, q - 1)


class FQLeNet(nn.Module):
    """LeNet with 8-bit dynamic fixed point fake quantization around conv/ip."""

    def __init__(self, net, calib):
        super().__init__()
        self.net = net
        self.layers = [net.conv1, net.conv2, net.ip1, net.ip2]
        # range analysis: max |x| of each layer's input and output
        self.rng = [[0.0, 0.0] for _ in self.layers]
        self.calibrating = True
        with torch.no_grad():
            self.forward(calib)
        self.calibrating = False
        self.fin = [fl_for(a, 8) for a, _ in self.rng]
        self.fout = [fl_for(b, 8) for _, b in self.rng]
        with torch.no_grad():
            self.qw, self.qb = [], []
            for m in self.layers:
                fw = fl_for(m.weight.abs().max().item(), 8)
                fb = fl_for(m.bias.abs().max().item(), 16)
                self.qw.append(fq(m.weight, fw, 8))
                self.qb.append(fq(m.bias, fb, 16))

    def layer(self, i, x):
        m = self.layers[i]
        if self.calibrating:
            y = F.conv2d(x, m.weight, m.bias) if i < 2 else F.linear(x, m.weight, m.bias)
            self.rng[i][0] = max(self.rng[i][0], x.abs().max().item())
            self.rng[i][1] = max(self.rng[i][1], y.abs().max().item())
            return y
        x = fq(x, self.fin[i], 8)
        y = F.conv2d(x, self.qw[i], self.qb[i]) if i < 2 else F.linear(x, self.qw[i], self.qb[i])
        return fq(y, self.fout[i], 8)

    def forward(self, x):
        x = F.max_pool2d(self.layer(0, x), 2, 2)
        x = F.max_pool2d(self.layer(1, x), 2, 2)
        x = F.relu(self.layer(2, x.flatten(1)))
        return self.layer(3, x)


def brevitas_lenet():
    import brevitas.nn as qnn
    from brevitas.quant import Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint, Int16Bias

    kw = dict(weight_quant=Int8WeightPerTensorFixedPoint, input_quant=Int8ActPerTensorFixedPoint,
              output_quant=Int8ActPerTensorFixedPoint, bias_quant=Int16Bias, return_quant_tensor=False)

    class QLeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = qnn.QuantConv2d(1, 20, 5, **kw)
            self.conv2 = qnn.QuantConv2d(20, 50, 5, **kw)
            self.ip1 = qnn.QuantLinear(800, 500, bias=True, **kw)
            self.ip2 = qnn.QuantLinear(500, 10, bias=True, **kw)

        def forward(self, x):
            x = F.max_pool2d(self.conv1(x), 2, 2)
            x = F.max_pool2d(self.conv2(x), 2, 2)
            x = F.relu(self.ip1(x.flatten(1)))
            return self.ip2(x)

    return QLeNet()


def infer(model, x, y, batch):
    correct = 0
    with torch.inference_mode():
        t0 = time.perf_counter()
        for i in range(0, len(x), batch):
            out = model(x[i:i + batch])
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
        t = time.perf_counter() - t0
    return t, correct / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["infer", "fq8", "brevitas", "train"])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    net = LeNet()
    if a.mode == "train":
        batch = a.batch or 64
        x, y = load(a.data, "train")
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        net.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            j = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(x[j]), y[j])
            loss.backward()
            opt.step()
        t = time.perf_counter() - t0
        xt, yt = load(a.data, "test")
        net.eval()
        _, top1 = infer(net, xt, yt, 1000)
        res = dict(mode="train", seconds=t, images=len(x), batch=batch, top1=top1)
    else:
        batch = a.batch or 1000
        x, y = load(a.data, "test")
        net.eval()
        if a.mode == "fq8":
            xc, _ = load(a.data, "train")
            model = FQLeNet(net, xc[:1000])
        elif a.mode == "brevitas":
            model = brevitas_lenet()
            xc, _ = load(a.data, "train")
            model.train()
            with torch.no_grad():  # let the activation quantizers collect their ranges
                for i in range(0, 1000, 100):
                    model(xc[i:i + 100])
            model.eval()
        else:
            model = net
        t, top1 = infer(model, x, y, batch)
        res = dict(mode=a.mode, seconds=t, images=len(x), batch=batch, top1=top1)
    res["torch"] = torch.__version__
    res["threads"] = torch.get_num_threads()
    print(json.dumps(res))


if __name__ == "__main__":
    main()
