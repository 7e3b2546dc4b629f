"""Reference for bench/learn.ts: training steps per second in PyTorch (Debian python3-torch) of
the same models as the tsnb side, with the same optimizer, batch and thread count.

Usage: /usr/bin/python3 bench/python/learn_torch.py THREADS SECONDS transformer V T D H L B
       /usr/bin/python3 bench/python/learn_torch.py THREADS SECONDS cnn B
Builds the model, warms up, prints "ready", then for every line read on stdin trains for about
SECONDS and prints one JSON line {"steps_per_s": ...}; bench/learn.ts alternates these
repetitions with its own.

transformer: lesson 8's model (notebooks/08-transformer.tsnb, bench/transformer-model.ts):
token + position embeddings, L pre-norm blocks of causal multi-head self-attention (one qkv
matrix, no biases) and a GELU MLP (4D, biases), residuals, final layer norm, a linear head;
cross-entropy of the next token; Adam(lr 3e-3, betas (0.9, 0.99), eps 1e-8); random tokens.
cnn: conv 3x3 16 (valid) + ReLU, max-pool 2, conv 3x3 32 + ReLU, max-pool 2, flatten, dense 10;
input 1x28x28; cross-entropy; Adam(lr 1e-3); random images, batches from a shuffled index.
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

import blas_check

blas_check.check()

threads = int(sys.argv[1])
seconds = float(sys.argv[2])
kind = sys.argv[3]
torch.set_num_threads(threads)
torch.manual_seed(0)

if kind == "transformer":
    V, T, D, H, L, B = map(int, sys.argv[4:10])
    Dh = D // H

    def p(*shape, std=0.02):
        return (torch.randn(*shape) * std).requires_grad_()

    def ones(n):
        return torch.ones(n, requires_grad=True)

    def zeros(n):
        return torch.zeros(n, requires_grad=True)

    params = {"tok": p(V, D), "pos": p(T, D), "g": ones(D), "b": zeros(D), "head": p(D, V)}
    blocks = []
    for _ in range(L):
        blocks.append(
            {
                "g1": ones(D), "b1": zeros(D), "qkv": p(D, 3 * D), "out": p(D, D, std=0.02 / math.sqrt(2 * L)),
                "g2": ones(D), "b2": zeros(D), "up": p(D, 4 * D), "upb": zeros(4 * D),
                "down": p(4 * D, D, std=0.02 / math.sqrt(2 * L)), "downb": zeros(D),
            }
        )
    all_params = list(params.values()) + [t for b in blocks for t in b.values()]
    mask = torch.triu(torch.full((T, T), -1e9), diagonal=1)

    def forward(x):
        h = F.embedding(x, params["tok"]) + params["pos"]
        for bl in blocks:
            a = F.layer_norm(h, (D,), bl["g1"], bl["b1"], 1e-5)
            qkv = (a @ bl["qkv"]).reshape(B, T, 3, H, Dh).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(Dh) + mask, dim=-1)
            h = h + ((w @ v).transpose(1, 2).reshape(B, T, D)) @ bl["out"]
            m = F.layer_norm(h, (D,), bl["g2"], bl["b2"], 1e-5)
            h = h + F.gelu(m @ bl["up"] + bl["upb"]) @ bl["down"] + bl["downb"]
        return F.layer_norm(h, (D,), params["g"], params["b"], 1e-5) @ params["head"]

    opt = torch.optim.Adam(all_params, lr=3e-3, betas=(0.9, 0.99), eps=1e-8)
    data = torch.randint(0, V, (1 << 16,))

    def one_step():
        starts = torch.randint(0, data.numel() - T - 1, (B,))
        idx = starts[:, None] + torch.arange(T)[None, :]
        x, y = data[idx], data[idx + 1]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(forward(x).reshape(B * T, V), y.reshape(B * T))
        loss.backward()
        opt.step()
        loss.item()

elif kind == "cnn":
    B = int(sys.argv[4])
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 5 * 5, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = 1024
    X = torch.randn(n, 1, 28, 28)
    Y = torch.randint(0, 10, (n,))
    state = {"perm": torch.randperm(n), "at": 0}

    def one_step():
        if state["at"] + B > n:
            state["perm"], state["at"] = torch.randperm(n), 0
        idx = state["perm"][state["at"] : state["at"] + B]
        state["at"] += B
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(X[idx]), Y[idx])
        loss.backward()
        opt.step()
        loss.item()

else:
    raise SystemExit(f"unknown model {kind}")

for _ in range(5):
    one_step()
print("ready", flush=True)
for _ in sys.stdin:
    steps = 0
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        one_step()
        steps += 1
    print(json.dumps({"steps_per_s": steps / (time.perf_counter() - t)}), flush=True)
