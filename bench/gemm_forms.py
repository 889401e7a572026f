#!/usr/bin/env python3
"""fp32 GEMM rate of torch's BLAS in the three forms of a linear layer's training step, the forms Accrue's
GemmBench times (W is (out, in), N = tokens rows):

  forward  Y  = X @ W.T    (N, in) x (in, out)
  dx       dX = dY @ W     (N, out) x (out, in)
  dw       dW = dY.T @ X   (out, N) x (N, in)

torch.mm on transposed views, as nn.Linear's forward and backward call it (BLAS's transpose flags, no copies).
Usage: gemm_forms.py THREADS TOKENS:IN:OUT[,...] [FORMS]   (FORMS: forward,dx,dw)
Prints one JSON line per form and shape: form, tokens, in, out, threads, gflops (median of >= 7 timings of >= 0.2 s).
"""
import json
import os
import statistics
import sys
import time

threads = int(sys.argv[1])
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = str(threads)
import torch  # noqa: E402

torch.set_num_threads(threads)
shapes = [tuple(int(v) for v in s.split(":")) for s in sys.argv[2].split(",")]
forms = sys.argv[3].split(",") if len(sys.argv) > 3 else ["forward", "dx", "dw"]
g = torch.Generator().manual_seed(0)
for tokens, n_in, n_out in shapes:
    x = torch.randn(tokens, n_in, generator=g)
    w = torch.randn(n_out, n_in, generator=g)
    dy = torch.randn(tokens, n_out, generator=g)
    for form in forms:
        a, b = {"forward": (x, w.t()), "dx": (dy, w), "dw": (dy.t(), x)}[form]
        out = torch.mm(a, b)
        flops = 2.0 * a.shape[0] * a.shape[1] * b.shape[1]
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 1.0:  # warm-up
            torch.mm(a, b, out=out)
        rates = []
        for _ in range(7):
            calls, t = 0, time.perf_counter()
            while True:
                torch.mm(a, b, out=out)
                calls += 1
                dt = time.perf_counter() - t
                if dt >= 0.2:
                    break
            rates.append(calls * flops / dt / 1e9)
        print(json.dumps({"form": form, "tokens": tokens, "in": n_in, "out": n_out, "threads": threads,
                          "gflops": statistics.median(rates), "torch": torch.__version__}), flush=True)
