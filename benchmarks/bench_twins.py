"""Wall time of the whole twin experiment at the paper's scale, in the reduced erf theory.

Usage: python benchmarks/bench_twins.py [--pairs 10] [--epochs 30000 30000]
       [--executor processes:2] [--json out.json]

Runs :func:`lrtools.twins.twin_experiment` on :meth:`lrtools.TwinProtocol.paper`
(30000 epochs of task A or B, then 30000 of task C, batch 128, ``dt = 0.05``,
``T = 20`` s) with ``--pairs`` pairs (the paper: 10; the book: 50), without the
cache, after a short warm-up run that compiles (or loads) the kernels. Reports
the wall time of each phase and in all. With fewer ``--epochs`` it also reports
the time scaled to the paper's 30000 + 30000 epochs (every epoch costs the same:
one batch and one fused update, whatever the step size).

``--executor`` (:func:`lrtools.make_executor`, e.g. ``processes:2``) runs the
experiment as two jobs at a time (the A and B phases, then phase C of the A twins
and of the B twins); the phases then overlap, so only the whole experiment is
timed, and scaling needs the same epoch ratio for both phases.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from lrtools import TwinProtocol, make_executor, theory, twins


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--epochs", type=int, nargs=2, default=None, metavar=("AB", "C"))
    parser.add_argument("--executor", default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.executor is not None:
        with make_executor(args.executor) as ex:
            run(args, ex)
    else:
        run(args, None)


def run(args, ex) -> None:
    """Time the experiment (in this process when ``ex`` is None, else on ``ex``)."""
    p = TwinProtocol.paper().replace(n_pairs=args.pairs)
    paper_epochs = p.epochs
    if args.epochs is not None:
        p = p.replace(epochs=tuple(args.epochs))
    twins.twin_experiment(p.replace(epochs=(5, 5)), progress=False, executor=ex)  # compile

    phases = {}
    real = theory.learn_many

    def timed(*a, **kw):
        t0 = time.perf_counter()
        out = real(*a, **kw)
        task = type(a[1]).__name__
        phases[task] = phases.get(task, 0.0) + time.perf_counter() - t0
        return out

    theory.learn_many = timed  # in this process only: phases are timed without an executor
    try:
        t0 = time.perf_counter()
        twins.twin_experiment(p, progress=False, executor=ex)
        total = time.perf_counter() - t0
    finally:
        theory.learn_many = real
    print(f"numba threads: {os.environ.get('NUMBA_NUM_THREADS', 'default')}; "
          f"executor: {args.executor or 'none'}; "
          f"{args.pairs} pairs, epochs {p.epochs}, batch {p.batch_size}")
    for task, sec in phases.items():
        print(f"{task:18s} {sec:8.1f} s")
    print(f"{'whole experiment':18s} {total:8.1f} s")
    scaled = None
    if p.epochs != paper_epochs and ex is not None:
        ratios = {paper_epochs[i] / p.epochs[i] for i in (0, 1)}
        if len(ratios) == 1:
            scaled = total * ratios.pop()
            print(f"scaled to the paper's {paper_epochs} epochs: {scaled:8.1f} s")
        else:
            print("not scaled: with an executor, give both phases the same epoch ratio")
    elif p.epochs != paper_epochs:
        scale = {"FlipFlop": paper_epochs[0] / p.epochs[0],
                 "DecisionMaking": paper_epochs[0] / p.epochs[0],
                 "TeacherStudent": paper_epochs[1] / p.epochs[1]}
        scaled = sum(sec * scale.get(task, 1.0) for task, sec in phases.items())
        print(f"scaled to the paper's {paper_epochs} epochs: {scaled:8.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"pairs": args.pairs, "executor": args.executor,
                       "epochs": list(p.epochs), "phases": phases, "total": total,
                       "scaled_to_paper": scaled}, f, indent=1)


if __name__ == "__main__":
    main()
