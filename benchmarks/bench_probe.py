"""Cost of the chapter 3 probe: building equivalent networks, the sweep, the noise formula.

Usage: python benchmarks/bench_probe.py [--repeat 5] [--json out.json]

Reports the median wall time over repeats (after a warm-up that compiles or
loads the numba kernels) of: one equivalent network at N = 500 (the paper's
example), one equivalent overlap matrix, the predicted initial speed, one epoch
of a family member's learning (the exact overlap map, T = 400 steps), the noise
variance formula (T = 400) and one simulated noise trial of the N = 500 network.
"""

from __future__ import annotations

import argparse
import json

from _timing import median_time

from lrtools import LowRankRNN, equivalence, noise_response, tasks, theory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    task = tasks.ExponentialFilter(c=0.2, dt=0.05, t_max=20.0)
    net = LowRankRNN.random(N=500, rank=1, phi="linear", seed=0)
    S = net.overlaps()
    S2 = equivalence.equivalent_overlaps(S, **equivalence.PAPER_TARGETS)
    results = {
        "equivalent_network (N=500)": median_time(
            lambda: equivalence.equivalent_network(net, **equivalence.PAPER_TARGETS), args.repeat),
        "equivalent_overlaps": median_time(
            lambda: equivalence.equivalent_overlaps(S, **equivalence.PAPER_TARGETS), args.repeat),
        "initial_speed (T=400)": median_time(lambda: equivalence.initial_speed(S2, task),
                                             args.repeat),
        "family member, per epoch (T=400)": median_time(
            lambda: theory.learn(S2, task, 500, 5e-3, progress=False), args.repeat, per=500),
        "output_noise_variance (T=400)": median_time(
            lambda: noise_response.output_noise_variance(S2, N=500, dt=0.05, n_steps=400,
                                                         noise_std=0.5),
            args.repeat),
        "noise trial, simulated (N=500, T=400)": median_time(
            lambda: noise_response.sampled_noise_variance(net, dt=0.05, n_steps=400, noise_std=0.5,
                                                 n_trials=50, seed=0), args.repeat, per=50),
    }
    for name, sec in results.items():
        print(f"{name:40s} {sec * 1e3:10.3f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: v * 1e3 for k, v in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
