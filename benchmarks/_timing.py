"""Shared timing helper of the benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def median_time(fn: Callable[[], object], repeat: int, inner: int = 1, per: int = 1) -> float:
    """Median over ``repeat`` of the wall time of ``inner`` calls of ``fn``, / ``inner * per``.

    ``per`` counts the units of work inside one call (epochs, trials). One call
    first, untimed: it compiles (or loads) the numba kernels.
    """
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / (inner * per))
    return float(np.median(times))


def per_epoch(run: Callable[[int], object], epochs: int, repeat: int) -> float:
    """Seconds per epoch of ``run(epochs)`` (median over repeats; warm-up with 2 epochs)."""
    run(2)
    return median_time(lambda: run(epochs), repeat, per=epochs)
