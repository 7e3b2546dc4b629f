"""PyTorch reference for bench/tensor.ts: a 784-128-10 MLP at batch 128, forward + backward
(cross-entropy loss, gradients of all four parameters) and a full SGD step, f32, with a given
number of threads. Prints one JSON line of seconds per call (best of several timed batches).
"""
import json
import sys
import time

import torch

import blas_check

blas_check.check()

threads = int(sys.argv[1])
torch.set_num_threads(threads)
g = torch.Generator().manual_seed(0)
x = torch.randn(128, 784, generator=g)
y = torch.randint(0, 10, (128,), generator=g)
w1 = (torch.randn(784, 128, generator=g) * 0.05).requires_grad_()
b1 = torch.zeros(128, requires_grad=True)
w2 = (torch.randn(128, 10, generator=g) * 0.05).requires_grad_()
b2 = torch.zeros(10, requires_grad=True)
params = [w1, b1, w2, b2]


def loss_fn():
    h = torch.relu(x @ w1 + b1)
    return torch.nn.functional.cross_entropy(h @ w2 + b2, y)


def fwd_bwd():
    for p in params:
        p.grad = None
    loss = loss_fn()
    loss.backward()
    return loss


def sgd_step():
    loss = fwd_bwd()
    with torch.no_grad():
        for p in params:
            p -= 0.01 * p.grad
    return loss


def bench(f):
    """Best time per call over many short blocks (~30 ms each), as bench/tensor.ts measures nx."""
    for _ in range(20):
        f()
    best = float("inf")
    for _ in range(40):
        n = 20
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


print(json.dumps({"fwd_bwd": bench(fwd_bwd), "sgd_step": bench(sgd_step), "version": torch.__version__}))
