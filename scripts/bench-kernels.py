"""PyTorch's sigmoid, sigmoid backward and GroupNorm (32 groups, affine) + SiLU (forward; forward and the
gradient of x of sum(out * w)) on the sizes of KernelBench (examples), one JSON line each: median and
best of RUNS calls after WARMUP, in milliseconds, on torch.get_num_threads() threads; and the backward of the U-Net's 3x3 stride-1 convolutions (gradients of
x, w and b, channels-last as the library's): op conv2d_bp, shape (B, H, W, Ci, Co); of x alone: op deconv2d; of w and b alone: op conv2d_bp_weights."""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 20
# BENCH_ONLY=op,... (as KernelBench's -Dbench.only) limits the ops timed
only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))


def wanted(*ops):
    return not only or any(op in only for op in ops)


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
for shape in shapes if wanted("sigmoid", "sigmoid_bp") else []:
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


def group_norm_silu(op, shapes, groups):
    """GroupNorm(groups) + SiLU forward (op) and forward and backward (op_fwd_bwd) on NCHW tensors of the
    given (shape, reported shape) pairs."""
    for shape, reported in shapes:
        c = shape[1]
        weight = torch.rand(c) + 0.5
        bias = torch.randn(c) * 0.3
        w = torch.randn(shape)
        x = torch.randn(shape)

        def forward():
            with torch.no_grad():
                return F.silu(F.group_norm(x, groups, weight, bias, 1e-5))

        def forward_backward():
            xg = x.detach().requires_grad_(True)
            (F.silu(F.group_norm(xg, groups, weight, bias, 1e-5)) * w).sum().backward()
            return xg.grad

        report(op, reported, *timed(forward))
        report(op + "_fwd_bwd", reported, *timed(forward_backward))


if wanted("group_norm_silu"):
    group_norm_silu("group_norm_silu", [(s, s) for s in [(8, 32, 32, 32), (8, 64, 32, 32), (64, 32, 32, 32)]], 32)
if wanted("group_norm_silu_nhwc"):
    # the U-Net's GroupNorm(8) + SiLU in the twin's layout (NCHW), reported as (B, H, W, C) like KernelBench's
    # channels-last case
    group_norm_silu("group_norm_silu_nhwc", [((b, c, h, w_), (b, h, w_, c)) for b, h, w_, c in
                                             [(64, 32, 32, 32), (64, 32, 32, 96), (64, 16, 16, 64),
                                              (64, 16, 16, 128), (64, 8, 8, 64), (8, 32, 32, 32)]], 8)


for b, h, w_, ci, co in [(64, 32, 32, 1, 32), (64, 32, 32, 32, 32), (64, 32, 32, 96, 32), (64, 32, 32, 64, 64),
                         (64, 32, 32, 32, 1),
                         (64, 16, 16, 64, 64), (64, 16, 16, 128, 64), (64, 8, 8, 64, 64), (64, 8, 8, 128, 64),
                         (8, 32, 32, 32, 32), (8, 32, 32, 96, 32), (8, 16, 16, 64, 64), (8, 8, 8, 64, 64),
                         (8, 32, 32, 32, 1)] if wanted("conv2d_bp", "deconv2d", "conv2d_bp_weights") else []:
    x = torch.randn(b, ci, h, w_).contiguous(memory_format=torch.channels_last)
    weight = torch.randn(co, ci, 3, 3).contiguous(memory_format=torch.channels_last)
    bias = torch.randn(co)
    dy = torch.randn(b, co, h, w_).contiguous(memory_format=torch.channels_last)

    def conv_backward():
        return torch.ops.aten.convolution_backward(dy, x, weight, [co], [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
                                                   [True, True, True])

    def input_gradient():
        return torch.ops.aten.convolution_backward(dy, x, weight, [co], [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
                                                   [True, False, False])

    def weight_gradient():
        return torch.ops.aten.convolution_backward(dy, x, weight, [co], [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
                                                   [False, True, True])

    if wanted("conv2d_bp"):
        report("conv2d_bp", (b, h, w_, ci, co), *timed(conv_backward))
    if wanted("deconv2d"):
        report("deconv2d", (b, h, w_, ci, co), *timed(input_gradient))
    if wanted("conv2d_bp_weights"):
        report("conv2d_bp_weights", (b, h, w_, ci, co), *timed(weight_gradient))
