# LinUCB peer for bench/bandit.ts: disjoint LinUCB in NumPy, the way the Open Bandit Pipeline keeps it
# (per-arm A^-1 and b, Sherman-Morrison updates), vectorized over the arms with einsum (faster than OBP's
# per-arm loop). Reads <prefix>.x.f64 (steps x dims) and <prefix>.r.f64 (steps); prints one JSON line.
import json, sys, time
import numpy as np

spec = json.loads(sys.argv[1])
steps, dims, arms, alpha = spec["steps"], spec["dims"], spec["arms"], spec["alpha"]
x = np.fromfile(spec["prefix"] + ".x.f64", dtype=np.float64).reshape(-1, dims)
r = np.fromfile(spec["prefix"] + ".r.f64", dtype=np.float64)
a_inv = np.repeat(np.eye(dims)[None, :, :], arms, axis=0)
b = np.zeros((arms, dims))

def decide(c):
    theta = np.einsum("aij,aj->ai", a_inv, b)
    width = np.sqrt(np.einsum("i,aij,j->a", c, a_inv, c))
    return int(np.argmax(theta @ c + alpha * width))

def update(arm, c, reward):
    u = a_inv[arm] @ c
    a_inv[arm] -= np.outer(u, u) / (1.0 + c @ u)
    b[arm] += reward * c

warm = spec["warm"]
for t in range(warm):
    update(t % arms, x[t], r[t])
best = {"decide": float("inf"), "update": float("inf")}
for _ in range(3):
    started = time.perf_counter()
    chosen = [decide(x[warm + t]) for t in range(steps)]
    best["decide"] = min(best["decide"], (time.perf_counter() - started) / steps)
    started = time.perf_counter()
    for t in range(steps):
        update(chosen[t], x[warm + t], r[warm + t])
    best["update"] = min(best["update"], (time.perf_counter() - started) / steps)
print(json.dumps({"decideUs": best["decide"] * 1e6, "updateUs": best["update"] * 1e6}))
