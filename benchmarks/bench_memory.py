"""Time per epoch of the twin experiment's reduced erf theory (Figures 9, 10 settings).

Usage: python benchmarks/bench_memory.py [--repeat 3] [--json out.json]

Batch 128, dt = 0.05, T = 20 (400 steps), rank 1. Compares, per network and
epoch, the generic reduced theory (:func:`lrtools.theory.loss_and_gamma`, one
network at a time) with the fused kernel of :mod:`lrtools.memory` that treats
ten networks at once, and times one epoch of each task's batch sampling. The
twin experiment runs 10 + 10 networks in the A/B phase and 20 in phase C.
Median over repeats, after a warm-up that compiles (or loads) the kernels.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from _timing import median_time

from lrtools import Overlaps, memory, tasks, theory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    kw = {"dt": 0.05, "t_max": 20.0, "batch_size": 128}
    task_list = {"flip-flop": tasks.FlipFlop(**kw), "decision": tasks.DecisionMaking(**kw),
                 "teacher-student": tasks.TeacherStudent(**kw)}
    rng = np.random.default_rng(0)
    S = memory.random_overlaps(10, 0)
    task = task_list["flip-flop"]
    batch = task.sample(rng)
    w = task.loss_weights(batch[2])
    results = {
        "theory.loss_and_gamma, per network": median_time(
            lambda: theory.loss_and_gamma(Overlaps(S[0]), batch, w, task.dt, "erf"),
            args.repeat, 20),
        "fused kernel, per network (10 at once)": median_time(
            lambda: theory.loss_and_gamma_many(S, batch, w, task.dt, "erf"), args.repeat, 20) / 10,
    }
    for name, t in task_list.items():
        results[f"sample one batch ({name})"] = median_time(lambda t=t: t.sample(rng),
                                                            args.repeat, 10)
    for name, sec in results.items():
        print(f"{name:42s} {1e3 * sec:8.2f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: 1e3 * v for k, v in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
