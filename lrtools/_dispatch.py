"""Serial and parallel variants of the batched compiled kernels, and the choice between them.

Each batched kernel of :mod:`lrtools._kernels` is compiled twice: serially (small
work, or a busy machine, where thread start-up dominates) and in parallel over the
batch. ``$LRTOOLS_PARALLEL`` chooses (:func:`parallel_mode`).
"""

from __future__ import annotations

import os
import types

from numba import njit

# Each batched kernel is compiled twice: serially (small work, or a busy
# machine, where thread start-up dominates) and parallel over the batch.
_PARALLEL_WORK = 400_000  # B * T * N above which the parallel version pays off


def _renamed(fn, suffix):
    # numba's on-disk cache is indexed by the function's qualified name and ignores
    # compiler flags: the parallel variant needs a name of its own, or it would load
    # the serial machine code from the cache.
    clone = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + suffix,
                               fn.__defaults__, fn.__closure__)
    clone.__qualname__ = fn.__qualname__ + suffix
    clone.__module__ = fn.__module__
    return clone


def parallel_mode() -> str:
    """``$LRTOOLS_PARALLEL``: ``"auto"`` (default), ``"always"`` or ``"never"``.

    ``auto`` runs a batched kernel in parallel when its work (``B * T * N``) is at
    least ``_PARALLEL_WORK``; ``always`` and ``never`` force one variant (the
    reproducibility study compares them). Both variants sum over the batch in the
    same order, so they agree bit for bit.
    """
    mode = os.environ.get("LRTOOLS_PARALLEL", "auto").strip().lower() or "auto"
    if mode not in ("auto", "always", "never"):
        raise ValueError(f"LRTOOLS_PARALLEL must be auto, always or never, got {mode!r}")
    return mode


def _dual(fn):
    serial = njit(cache=True, error_model="numpy")(fn)
    parallel = njit(cache=True, parallel=True, error_model="numpy")(_renamed(fn, "_parallel"))

    def call(*args, work):
        mode = parallel_mode()
        use = work >= _PARALLEL_WORK if mode == "auto" else mode == "always"
        return parallel(*args) if use else serial(*args)

    call.serial, call.parallel = serial, parallel
    call.__doc__ = fn.__doc__
    call.__name__ = fn.__name__.lstrip("_")
    return call
