"""The population limit against the network of the same size (chapter 2's convergence setting).

Usage: python benchmarks/bench_population.py [--nodes 10] [--repeat 3] [--json out.json]

Flip-flop, ``dt = 0.1``, ``T = 20``, batch 4, ``eta = 0.1``, 50 epochs, erf, from
the convergence start of chapter 2 (:class:`lrtools.studies.population.LimitSettings`).
Times ``theory.learn(..., closure="population", nodes=n)`` (``n**4`` weighted
Gauss-Hermite rows; 10 per dimension gives 10^4) and ``lrtools.train`` of an
``N = n**4`` network with the same batches, interleaved, each the median over
repeats after a warm-up that compiles (or loads) the kernels. The ratio is from
the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

import lrtools
from lrtools import LowRankRNN, theory
from lrtools.studies.population import LimitSettings


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    s = LimitSettings()
    S0 = s.start_overlaps()
    n_rows = args.nodes ** 4
    net = LowRankRNN.random(N=n_rows, rank=1, phi=s.phi, seed=0)

    def population(epochs: int = s.epochs):
        return theory.learn(S0, s.task, epochs, s.eta, s.phi, seed=s.batch_seed,
                            closure="population", nodes=args.nodes, progress=False)

    def network(epochs: int = s.epochs):
        return lrtools.train(net.copy(), s.task, epochs, s.eta, seed=s.batch_seed,
                             progress=False)

    population(2)
    network(2)
    times = {"population": [], "network": []}
    for _ in range(args.repeat):
        times["population"].append(_time(population))
        times["network"].append(_time(network))
    med = {k: float(np.median(v)) for k, v in times.items()}
    print(f"numba threads: {os.environ.get('NUMBA_NUM_THREADS', 'default')}; "
          f"{n_rows} rows, {s.epochs} epochs; median of {args.repeat}")
    print(f"population limit ({args.nodes}^4 weighted nodes) {med['population']:8.2f} s")
    print(f"network, N = {n_rows:<26d} {med['network']:8.2f} s")
    print(f"population / network = {med['population'] / med['network']:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": n_rows, "epochs": s.epochs, "seconds": med,
                       "all": times}, f, indent=1)


if __name__ == "__main__":
    main()
