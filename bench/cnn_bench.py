#!/usr/bin/env python3
"""PyTorch counterpart of FashionMnistBench: the same CNN on Fashion-MNIST from Debian's dataset-fashion-mnist.

--model cnn: conv(1->16, 3x3, pad 1) -> norm -> ReLU -> maxpool 2 -> conv(16->32, 3x3, pad 1) -> norm -> ReLU
-> maxpool 2 -> flatten -> linear(32*7*7 -> 10); norm: batch | group (4 groups) | layer (GroupNorm with 1 group) |
none.
--model resnet: three residual blocks relu(norm(conv3x3(relu(norm(conv3x3(x))))) + conv1x1(x)) of 32, 64, 128
channels (GroupNorm with 8 groups), maxpool 2 after the first two, global average pooling, linear(128 -> 10).
Conv bias only without norm. AdamW(lr, betas 0.9/0.999, eps 1e-8, weight decay 0). One optimizer step = K
micro-batches of B images, each micro-batch's loss = sum of cross-entropies / (K*B). Pixels (p/255 - 0.2860)/0.3530.
Prints test accuracy per epoch, training images/s (evaluation excluded) and one JSON line.

Example:
    /usr/bin/python3 bench/cnn_bench.py --norm group --micro-batch 4 --accum 16 --epochs 1 --threads 2
"""
import argparse
import gzip
import json
import os
import resource
import sys
import time

import numpy as np

DATA = os.environ.get("ACCRUE_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="cnn", choices=["cnn", "resnet"])
    p.add_argument("--norm", default="group", choices=["batch", "group", "layer", "none"])
    p.add_argument("--micro-batch", "-B", type=int, default=64)
    p.add_argument("--accum", "-K", type=int, default=1)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many optimizer steps (0: epochs)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--train-limit", type=int, default=0)
    p.add_argument("--test-limit", type=int, default=0, help="evaluate on the first N test images (0: all)")
    p.add_argument("--data", default=DATA)
    return p.parse_args(argv)


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    m = int.from_bytes(raw[:4], "big")
    if m != magic:
        sys.exit(f"{path}: wrong magic number 0x{m:08X}, expected 0x{magic:08X}")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(magic & 0xFF)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * len(dims))
    if data.size != int(np.prod(dims)):
        sys.exit(f"{path}: size mismatch: header says {int(np.prod(dims))} bytes, found {data.size}")
    return data.reshape(dims)


def load(d):
    def split(images, labels):
        x = read_idx(os.path.join(d, images), 0x803).astype(np.float32) / 255.0
        x = (x - 0.2860) / 0.3530
        y = read_idx(os.path.join(d, labels), 0x801).astype(np.int64)
        return x[:, None, :, :].copy(), y
    return (split("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
            split("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"))


if __name__ == "__main__":
    ARGS = parse_args()
    for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[v] = str(ARGS.threads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def norm_layer(kind, c, groups=4):
    return {"batch": lambda: nn.BatchNorm2d(c), "group": lambda: nn.GroupNorm(groups, c),
            "layer": lambda: nn.GroupNorm(1, c), "none": lambda: nn.Identity()}[kind]()


class Residual(nn.Module):
    """relu(norm2(conv2(relu(norm1(conv1(x))))) + shortcut(x)), the shortcut a 1x1 convolution."""

    def __init__(self, kind, cin, c):
        super().__init__()
        bias = kind == "none"
        self.body = nn.Sequential(
            nn.Conv2d(cin, c, 3, padding=1, bias=bias), norm_layer(kind, c, 8), nn.ReLU(),
            nn.Conv2d(c, c, 3, padding=1, bias=bias), norm_layer(kind, c, 8))
        self.shortcut = nn.Conv2d(cin, c, 1, bias=bias) if cin != c else nn.Identity()

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


def build(model, kind, seed):
    torch.manual_seed(seed)
    bias = kind == "none"
    if model == "resnet":
        return nn.Sequential(Residual(kind, 1, 32), nn.MaxPool2d(2), Residual(kind, 32, 64), nn.MaxPool2d(2),
                             Residual(kind, 64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=bias), norm_layer(kind, 16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, bias=bias), norm_layer(kind, 32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def accuracy(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(x), 500):
            correct += (model(x[s:s + 500]).argmax(1) == y[s:s + 500]).sum().item()
    model.train()
    return correct / len(x)


def main(a):
    torch.set_num_threads(a.threads)
    (xtr, ytr), (xte, yte) = load(a.data)
    if a.train_limit:
        xtr, ytr = xtr[:a.train_limit], ytr[:a.train_limit]
    if a.test_limit:
        xte, yte = xte[:a.test_limit], yte[:a.test_limit]
    xtr, ytr, xte, yte = map(torch.from_numpy, (xtr, ytr, xte, yte))
    model = build(a.model, a.norm, a.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.0)
    B, K = a.micro_batch, a.accum
    n = len(xtr)
    gen = torch.Generator().manual_seed(a.seed)
    step, images, train_s, accs, loss_v = 0, 0, 0.0, [], float("nan")
    done = False
    for epoch in range(a.epochs if a.max_steps == 0 else 10 ** 9):
        order = torch.randperm(n, generator=gen)
        for w in range(0, n, B * K):
            t0 = time.perf_counter()
            window = order[w:w + B * K]
            total = 0.0
            for m in range(0, len(window), B):
                idx = window[m:m + B]
                loss = F.cross_entropy(model(xtr[idx]), ytr[idx], reduction="sum") / len(window)
                loss.backward()
                total += loss.item()
            opt.step()
            opt.zero_grad(set_to_none=True)
            train_s += time.perf_counter() - t0
            images += len(window)
            step += 1
            loss_v = total
            if step % 100 == 0:
                print(f"step {step} epoch {epoch} loss {total:.4f} {images / train_s:.0f} img/s", file=sys.stderr)
            if a.max_steps and step >= a.max_steps:
                done = True
                break
        acc = accuracy(model, xte, yte)
        accs.append(round(acc, 4))
        print(f"epoch {epoch} step {step}: train loss {loss_v:.4f}, test accuracy {acc:.4f}, "
              f"{images / train_s:.0f} images/s (training only)")
        if done:
            break
    print(json.dumps({"bench": "fashion_mnist_cnn", "impl": "pytorch", "torch": torch.__version__,
                      "model": a.model, "norm": a.norm, "micro_batch": B, "accum": K, "effective_batch": B * K,
                      "threads": a.threads,
                      "lr": a.lr, "train_images": n, "images_trained": images, "train_seconds": round(train_s, 2),
                      "images_per_s": round(images / train_s, 1), "final_train_loss": round(loss_v, 4),
                      "test_accuracy": accs,
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
                      "loadavg_1m_end": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main(ARGS)
