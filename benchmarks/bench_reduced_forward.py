"""The reduced forward pass (one network), previous kernel against the current one.

Usage: python benchmarks/bench_reduced_forward.py [--repeat 7]

Times ``_kernels.theory_forward`` (serial variant) on the teacher's batch of task
C of the twin experiment (:class:`lrtools.tasks.TeacherStudent`: erf, B = 128,
T = 400, rank 1), the call that draws every task-C batch, beside the previous
kernel frozen in ``_baseline_kernels.py`` (one batch row at a time) and the
linear case. Reports the median time per call and the ratio measured in the same
run, and checks that the two kernels return the same arrays bit for bit.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import _baseline_kernels as previous  # noqa: E402
from _timing import median_time  # noqa: E402

from lrtools import _kernels as K  # noqa: E402
from lrtools import tasks  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    task = tasks.TeacherStudent()
    x, _, _ = task.sample(np.random.default_rng(0))
    S = np.ascontiguousarray(task.teacher.matrix)
    idx = [np.array([i]) for i in range(4)]  # m, u, v, z
    print(f"numba threads: {os.environ.get('NUMBA_NUM_THREADS', 'default')}; "
          f"batch {x.shape[0]}, T = {x.shape[1]}")
    for phi in ("erf", "linear"):
        code = K.PHI_CODES[phi]
        old = previous.theory_forward.serial(S, *idx, x, task.dt, code)
        new = K.theory_forward.serial(S, *idx, x, task.dt, code)
        same = all(np.array_equal(a, b) for a, b in zip(old, new, strict=True))
        t_old = median_time(lambda c=code: previous.theory_forward.serial(S, *idx, x, task.dt, c),
                            args.repeat, inner=20)
        t_new = median_time(lambda c=code: K.theory_forward.serial(S, *idx, x, task.dt, c),
                            args.repeat, inner=20)
        print(f"{phi:7s} previous {t_old * 1e3:6.2f} ms  current {t_new * 1e3:6.2f} ms  "
              f"ratio {t_old / t_new:5.2f}x  identical: {same}")


if __name__ == "__main__":
    main()
