"""MatMul f32 reference for bench/tensor.ts: prints one JSON line {n: seconds_per_matmul}.

Run by the benchmark as /usr/bin/python3 with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset for this
command only. Argument: comma-separated sizes. Also reports the BLAS kernel in use (threadpoolctl).
"""
import json
import sys
import time

import numpy as np

import blas_check

blas_check.check()


def bench(n):
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b
    reps, total = 0, 0.0
    best = float("inf")
    while total < 1.0 or reps < 3:
        t0 = time.perf_counter()
        a @ b
        dt = time.perf_counter() - t0
        best = min(best, dt)
        total += dt
        reps += 1
    return best


info = {}
try:
    from threadpoolctl import threadpool_info

    info = {k: v for k, v in threadpool_info()[0].items() if k in ("internal_api", "num_threads", "architecture")}
except Exception:  # threadpoolctl is optional: name the BLAS library mapped into this process
    with open("/proc/self/maps") as maps:
        libs = sorted({line.split()[-1].split("/")[-1] for line in maps if "blas" in line.lower()})
    info = {"libraries": libs}
sizes = [int(s) for s in sys.argv[1].split(",")]
print(json.dumps({"times": {n: bench(n) for n in sizes}, "blas": info}))
