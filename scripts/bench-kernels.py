"""PyTorch's sigmoid, sigmoid backward and GroupNorm (32 groups, affine) + SiLU (forward; forward and the
gradient of x of sum(out * w)) on the sizes of KernelBench (examples), one JSON line each: median and
best of RUNS calls after WARMUP, in milliseconds, on torch.get_num_threads() threads."""
import json
import sys
import time

import torch
import torch.nn.functional as F

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


def report(op, shape, med, best):
    print(json.dumps({"op": op, "shape": str(list(shape)).replace(" ", ""), "impl": "torch",
                      "threads": torch.get_num_threads(), "median_ms": round(med, 4), "best_ms": round(best, 4)}))


for shape in [(8, 32, 32, 32), (8, 64, 32, 32), (64, 32, 32, 32)]:
    c = shape[1]
    weight = torch.rand(c) + 0.5
    bias = torch.randn(c) * 0.3
    w = torch.randn(shape)
    x = torch.randn(shape)

    def forward():
        with torch.no_grad():
            return F.silu(F.group_norm(x, 32, weight, bias, 1e-5))

    def forward_backward():
        xg = x.detach().requires_grad_(True)
        (F.silu(F.group_norm(xg, 32, weight, bias, 1e-5)) * w).sum().backward()
        return xg.grad

    report("group_norm_silu", shape, *timed(forward))
    report("group_norm_silu_fwd_bwd", shape, *timed(forward_backward))
