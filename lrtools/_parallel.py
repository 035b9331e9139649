"""Running independent jobs of a sweep, serially or on any executor."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable, Sequence
from typing import Any


def run_jobs(
    fn: Callable[..., Any],
    arglist: Iterable[Sequence[Any]],
    executor: concurrent.futures.Executor | None = None,
) -> list[Any]:
    """``[fn(*args) for args in arglist]``, on ``executor`` when one is given.

    Results come back in the order of ``arglist``, whatever the executor, so a
    sweep returns the same arrays run serially, in processes or on a
    ``dask.distributed`` cluster (``client.get_executor()``). ``fn`` must be a
    module-level function (picklable) for process and cluster executors.
    """
    if executor is None:
        return [fn(*args) for args in arglist]
    futures = [executor.submit(fn, *args) for args in arglist]
    return [f.result() for f in futures]
