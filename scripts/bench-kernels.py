"""PyTorch's sigmoid and sigmoid backward on the sizes of KernelBench (examples), one JSON line each:
median and best of RUNS calls after WARMUP, in milliseconds, on torch.get_num_threads() threads."""
import json
import sys
import time

import torch

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 20
shapes = [(8, 32, 32, 32), (8, 64, 32, 32), (8, 16, 16, 128), (64, 32, 32, 32)]


def timed(fn):
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    return ms[len(ms) // 2], ms[0]


torch.manual_seed(1)
for shape in shapes:
    x = torch.randn(shape) * 3
    g = torch.randn(shape)
    out = torch.empty_like(x)
    s = torch.sigmoid(x)
    for op, fn in (("sigmoid", lambda: torch.sigmoid(x, out=out)),
                   ("sigmoid_bp", lambda: torch.ops.aten.sigmoid_backward(g, s))):
        med, best = timed(fn)
        print(json.dumps({"op": op, "shape": str(list(shape)).replace(" ", ""), "impl": "torch",
                          "threads": torch.get_num_threads(), "median_ms": round(med, 4), "best_ms": round(best, 4)}))
