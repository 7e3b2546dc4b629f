"""Reference for bench/ml.ts: training steps per second of MLPs in PyTorch (Debian python3-torch).

Usage: /usr/bin/python3 bench/python/ml_torch.py THREADS IN HIDDEN OUT BATCH SECONDS
Builds the model, warms up, prints "ready", then for every line read on stdin runs the
training loop for about SECONDS and prints one JSON line {"steps_per_s": ...}. bench/ml.ts
alternates these repetitions with its own, so machine noise hits both sides alike.

Same model (Linear-ReLU-Linear), optimizer (Adam, lr 1e-3), loss (cross-entropy from logits)
and batch as the tsnb side; random data, batches sliced from a shuffled index each epoch, like
the tsnb loop.
"""
import json
import sys
import time

import torch

import blas_check

blas_check.check()

threads, n_in, hidden, n_out, batch = map(int, sys.argv[1:6])
seconds = float(sys.argv[6])
torch.set_num_threads(threads)
torch.manual_seed(0)
n = 2048
x = torch.randn(n, n_in)
y = torch.randint(0, n_out, (n,))
model = torch.nn.Sequential(torch.nn.Linear(n_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, n_out))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = torch.nn.CrossEntropyLoss()


def run(k):
    done = 0
    while done < k:
        perm = torch.randperm(n)
        for s in range(0, n - batch + 1, batch):
            idx = perm[s : s + batch]
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            loss.item()
            done += 1
            if done >= k:
                return


t = time.perf_counter()
run(20)
chunk = max(1, int(20 * 0.05 / max(1e-9, time.perf_counter() - t)))
print("ready", flush=True)
for _ in sys.stdin:
    steps = 0
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        run(chunk)
        steps += chunk
    print(json.dumps({"steps_per_s": steps / (time.perf_counter() - t)}), flush=True)
