#!/usr/bin/env python3
"""Writes a tiny Fashion-MNIST-shaped idx data set (28x28 grey images, 10 classes) into DIR:
64 training and 16 test images of seeded random pixels, labels i % 10. The e2e tests use it
where a command must run to the end in a second (option sweeps, clamped counts)."""
import random
import struct
import sys

d = sys.argv[1]
rng = random.Random(7)
for split, n in (("train", 64), ("t10k", 16)):
    with open(f"{d}/{split}-images-idx3-ubyte", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28))
        f.write(bytes(rng.randrange(256) for _ in range(n * 784)))
    with open(f"{d}/{split}-labels-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">II", 0x801, n))
        f.write(bytes(i % 10 for i in range(n)))
