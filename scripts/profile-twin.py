"""Per-op profile of the PyTorch twin's unet_train_step (B = 64, AdamW), to set beside ours
(`bin/nabla bench` with -Dbench.only=unet_train_step -Dbench.profile=true) in one sitting.

Usage: NABLA_SHARED=../shared /usr/bin/python3 scripts/profile-twin.py [runs=3] [warmup=2]
Prints JSON lines: the median wall time of the profiled steps, then per op (torch.profiler's CPU totals over the
profiled steps, divided by their number) the calls and milliseconds per step, largest first. Threads:
torch.get_num_threads() (set OMP_NUM_THREADS, as scripts/bench-vs-twin.sh does).
"""
import copy
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

shared = os.environ.get("NABLA_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
sys.path.insert(0, os.path.join(shared, "bench", "torch-twin"))
import twin  # noqa: E402  (the twin's models and schedule, as its own benchmark builds them)

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 2

torch.manual_seed(0)
net = twin.make_policy_unet()
opt = torch.optim.AdamW(net.parameters(), lr=1e-4, betas=(0.9, 0.999), weight_decay=1e-4)
sched = twin.DDIMSchedule(eta=1.0)
gen = torch.Generator().manual_seed(1)
b = 64
x0 = torch.rand(b, 1, twin.IMG, twin.IMG, generator=gen) * 2 - 1
abar = sched.alphas_cumprod.to(torch.float32)


def train_step():
    t = torch.randint(0, 1000, (b,), generator=gen)
    c = torch.randint(0, twin.NUM_CLASSES, (b,), generator=gen)
    c = torch.where(torch.rand(b, generator=gen) < 0.1, torch.full_like(c, twin.NULL_CLASS), c)
    noise = torch.randn(b, 1, twin.IMG, twin.IMG, generator=gen)
    a = abar[t][:, None, None, None]
    xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
    loss = F.mse_loss(net(xt, t, c), noise)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


for _ in range(warmup):
    train_step()
walls = []
with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
    for _ in range(runs):
        t0 = time.perf_counter()
        train_step()
        walls.append((time.perf_counter() - t0) * 1e3)
print(json.dumps({"profile": "twin unet_train_step", "threads": torch.get_num_threads(), "runs": runs,
                  "wall_ms_median": round(statistics.median(walls), 2)}))
rows = [e for e in prof.key_averages() if e.self_cpu_time_total > 0]
rows.sort(key=lambda e: -e.self_cpu_time_total)
for e in rows[:30]:
    print(json.dumps({"profile": "twin unet_train_step", "op": e.key, "calls_per_step": e.count / runs,
                      "self_ms_per_step": round(e.self_cpu_time_total / 1e3 / runs, 2)}))
