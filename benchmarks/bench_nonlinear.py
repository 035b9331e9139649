"""Time per epoch of the erf network and its reduced theory (Figure 4 settings).

Usage: python benchmarks/bench_nonlinear.py [--repeat 3] [--json out.json]

Flip-flop task, N = 600, batch 10, dt = 0.025, T = 20 (800 steps), eta = 5e-2,
as in the paper's Figure 4. Reports the median over repeats of the wall time per
epoch (a fresh batch is drawn every epoch, as in training), after a warm-up that
compiles (or loads) the numba kernels; also the tanh variants.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from _timing import per_epoch

import lrtools
from lrtools import LowRankRNN, tasks, theory

AUTHORS_MS = {"train (erf, N=600, B=10, T=800)": 4300.0,
              "theory.learn (erf, B=10, T=800)": 1100.0}
TARGET_MS = {"train (erf, N=600, B=10, T=800)": 150.0,
             "theory.learn (erf, B=10, T=800)": 20.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    task = tasks.FlipFlop(dt=0.025, t_max=20.0, batch_size=10)
    results = {}
    for phi in ("erf", "tanh"):
        net = LowRankRNN.random(N=600, rank=1, phi=phi, seed=0)
        S0 = net.overlaps()
        results[f"train ({phi}, N=600, B=10, T=800)"] = per_epoch(
            lambda n, net=net: lrtools.train(net.copy(), task, n, 5e-2, seed=0, progress=False),
            20, args.repeat)
        results[f"theory.learn ({phi}, B=10, T=800)"] = per_epoch(
            lambda n, S0=S0, phi=phi: theory.learn(S0, task, n, 5e-2, phi=phi, seed=0,
                                                   progress=False),
            200, args.repeat)
    # sampling the batch alone (part of every epoch above)
    rng = np.random.default_rng(0)
    results["FlipFlop.sample (B=10, T=800)"] = per_epoch(
        lambda n: [task.sample(rng) for _ in range(n)], 200, args.repeat)
    print(f"numba threads: {os.environ.get('NUMBA_NUM_THREADS', 'default')}")
    for name, sec in results.items():
        ms = sec * 1e3
        line = f"{name:36s} {ms:8.2f} ms/epoch"
        if name in AUTHORS_MS:
            line += (f"   target <= {TARGET_MS[name]:.0f} ms"
                     f"   authors/ours = {AUTHORS_MS[name] / ms:6.0f}x")
        print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: v * 1e3 for k, v in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
