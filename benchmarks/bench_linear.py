"""Time per epoch of the linear theory and the N = 500 linear network (Figure 1 settings).

Usage: python benchmarks/bench_linear.py [--repeat 5] [--json out.json]

Reports the median over repeats of the wall time per epoch, after a warm-up that
compiles (or loads) the numba kernels.
"""

from __future__ import annotations

import argparse
import json

from _timing import per_epoch

import lrtools
from lrtools import LowRankRNN, tasks, theory

AUTHORS_MS = {"theory.learn (linear, T=400)": 140.0, "train (linear, N=500, T=400)": 220.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    task = tasks.ExponentialFilter(c=0.2, dt=0.05, t_max=20.0)  # T = 400 steps
    net = LowRankRNN.random(N=500, rank=1, phi="linear", seed=0)
    S0 = net.overlaps()
    results = {
        "theory.learn (linear, T=400)": per_epoch(
            lambda n: theory.learn(S0, task, n, 5e-3, progress=False), 2000, args.repeat),
        "train (linear, N=500, T=400)": per_epoch(
            lambda n: lrtools.train(net.copy(), task, n, 5e-3, progress=False), 200, args.repeat),
    }
    for name, sec in results.items():
        ms = sec * 1e3
        print(f"{name:32s} {ms:8.3f} ms/epoch   authors/ours = {AUTHORS_MS[name] / ms:7.0f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: v * 1e3 for k, v in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
