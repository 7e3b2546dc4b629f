"""Reference for bench/vmap.ts: per-example gradients of a 64-32-10 MLP's cross-entropy loss over
a batch, f32, computed with hand-batched ops (the batched formulas a vmap should emit: one
forward over the batch, per-example outer products by einsum) in PyTorch and NumPy, and with a
PyTorch autograd loop over the examples (what unrolling does). torch.func is not in PyTorch 1.13.
Usage: vmap_ref.py BATCH THREADS (the hand-batched torch ops are also timed at 1 thread). Prints one JSON line of seconds per call (best of several).
"""
import json
import sys
import time

import numpy as np
import torch

import blas_check

blas_check.check()

batch = int(sys.argv[1])
threads = int(sys.argv[2])
torch.set_num_threads(threads)
g = torch.Generator().manual_seed(0)
x = torch.randn(batch, 64, generator=g)
y = torch.randint(0, 10, (batch,), generator=g)
w1 = torch.randn(64, 32, generator=g) * 0.1
b1 = torch.zeros(32)
w2 = torch.randn(32, 10, generator=g) * 0.1
b2 = torch.zeros(10)
onehot = torch.nn.functional.one_hot(y, 10).float()


def torch_batched():
    h = torch.tanh(x @ w1 + b1)
    d2 = torch.softmax(h @ w2 + b2, dim=1) - onehot  # dloss/dlogits per example
    gw2 = torch.einsum("bi,bj->bij", h, d2)
    dh = (d2 @ w2.T) * (1 - h * h)
    gw1 = torch.einsum("bi,bj->bij", x, dh)
    return gw1, dh, gw2, d2


xn, yn, w1n, b1n, w2n, b2n, ohn = (t.numpy() for t in (x, y, w1, b1, w2, b2, onehot))


def numpy_batched():
    h = np.tanh(xn @ w1n + b1n)
    z = h @ w2n + b2n
    e = np.exp(z - z.max(axis=1, keepdims=True))
    d2 = e / e.sum(axis=1, keepdims=True) - ohn
    gw2 = h[:, :, None] * d2[:, None, :]
    dh = (d2 @ w2n.T) * (1 - h * h)
    gw1 = xn[:, :, None] * dh[:, None, :]
    return gw1, dh, gw2, d2


params = [p.clone().requires_grad_() for p in (w1, b1, w2, b2)]


def torch_loop():
    out = []
    for i in range(batch):
        h = torch.tanh(x[i] @ params[0] + params[1])
        loss = torch.nn.functional.cross_entropy((h @ params[2] + params[3])[None], y[i : i + 1])
        out.append(torch.autograd.grad(loss, params))
    return [torch.stack(gs) for gs in zip(*out)]


def best(f, budget=0.05, rounds=8):
    f()
    b = float("inf")
    for _ in range(rounds):
        n = 0
        t0 = time.perf_counter()
        t = t0
        while t - t0 < budget or n < 2:
            f()
            n += 1
            t = time.perf_counter()
        b = min(b, (t - t0) / n)
    return b


torch.set_num_threads(1)
with torch.no_grad():
    tb1 = best(torch_batched)
torch.set_num_threads(threads)
with torch.no_grad():
    tb = best(torch_batched)
nb = best(numpy_batched)
tl = best(torch_loop, rounds=3)
print(
    json.dumps(
        {
            "torch_batched": tb,
            "torch_batched_1": tb1,
            "numpy_batched": nb,
            "torch_loop": tl,
            "torch": torch.__version__,
        }
    )
)
