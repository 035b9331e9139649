"""Running independent jobs of a sweep, serially or on any executor.

:func:`run_jobs` is the map every sweep uses; :func:`make_executor` turns a short
string (a notebook parameter, a command-line option) into the executor to pass
as a sweep's ``executor`` argument:

=============================  ==================================================
spec                           executor
=============================  ==================================================
``None``, ``"serial"``         :class:`SerialExecutor`: this process, one job after
                               another (the same as passing ``executor=None``)
``"processes"``                local worker processes, one per available core
``"processes:4"``              four local worker processes
``"dask"``, ``"dask:4"``       a ``dask.distributed.LocalCluster`` of single-threaded
                               worker processes (one per core, or four)
``"tcp://host:8786"``          the running ``dask.distributed`` scheduler at that
                               address (also ``tls://``, ``ucx://``, ``host:port``)
an ``Executor``                itself, unchanged
a ``distributed.Client``       its executor
=============================  ==================================================

Every job runs with one numba thread and one BLAS thread, so that a machine's
cores are shared out between jobs rather than oversubscribed; results do not
depend on this (the compiled kernels sum in a fixed order, whatever the thread
count), nor on where the jobs run.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = ["SerialExecutor", "make_executor", "run_jobs"]

#: Environment of every local worker process: one thread for each threading layer.
SINGLE_THREAD_ENV = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

_ADDRESS = re.compile(r"^(?:[a-z][a-z0-9+]*://\S+|[A-Za-z0-9_.\-]+:\d+)$")
_BLAS_LIMITED = False


def run_jobs(
    fn: Callable[..., Any],
    arglist: Iterable[Sequence[Any]],
    executor: concurrent.futures.Executor | None = None,
) -> list[Any]:
    """``[fn(*args) for args in arglist]``, on ``executor`` when one is given.

    Results come back in the order of ``arglist``, whatever the executor, so a
    sweep returns the same arrays run serially, in processes or on a
    ``dask.distributed`` cluster (:func:`make_executor`). ``fn`` must be a
    module-level function (picklable) for process and cluster executors.
    """
    if executor is None:
        return [fn(*args) for args in arglist]
    futures = [executor.submit(fn, *args) for args in arglist]
    return [f.result() for f in futures]


class SerialExecutor(concurrent.futures.Executor):
    """An executor that runs each job at once, in the calling thread.

    Passing it to a sweep is the same as passing ``executor=None``; it exists so
    that "serial" is one more value of :func:`make_executor` and can be used in a
    ``with`` block like the others.
    """

    def __init__(self) -> None:
        self._shut = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
               ) -> concurrent.futures.Future:
        """Run ``fn(*args, **kwargs)`` now; its result (or error) is in the returned future."""
        if self._shut:
            raise RuntimeError("cannot schedule new futures after shutdown")
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: B036 - handed to the caller through the future
            future.set_exception(err)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse further jobs (nothing is ever pending)."""
        self._shut = True

    def __repr__(self) -> str:
        return "SerialExecutor()"


def _limit_threads() -> None:
    """One numba thread for the calling thread, one BLAS/OpenMP thread for the process."""
    global _BLAS_LIMITED
    import numba

    numba.set_num_threads(1)  # numba's count is per thread: set where the job runs
    if not _BLAS_LIMITED:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            pass
        else:
            threadpool_limits(1)
        _BLAS_LIMITED = True


def _process_setup() -> None:
    """Initializer of local worker processes: single-threaded environment and libraries.

    numba reads ``NUMBA_NUM_THREADS`` when it is imported (here, when the worker
    unpickles this initializer) and again before each compilation, and refuses a
    changed value once its thread pool runs. So the environment is changed and
    numba's configuration reloaded *before* the pool starts; the pool then starts
    with one thread, and later compilations read the same value.
    """
    os.environ.update(SINGLE_THREAD_ENV)
    from numba.core import config
    from numba.np.ufunc import parallel

    if parallel._is_initialized:  # pragma: no cover - the pool started before us
        os.environ["NUMBA_NUM_THREADS"] = str(config.NUMBA_NUM_THREADS)
    else:
        config.reload_config()
    _limit_threads()


def _single_thread_call(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    _limit_threads()
    return fn(*args, **kwargs)


class _DaskExecutor(concurrent.futures.Executor):
    """A ``dask.distributed`` client's executor whose jobs run with one thread each.

    Closing it closes the client it opened (and the local cluster it started,
    if any), never a scheduler or workers it was only connected to.
    """

    def __init__(self, client: Any, *, own_client: bool, cluster: Any = None) -> None:
        self.client = client
        self._inner = client.get_executor(pure=False)
        self._own_client = own_client
        self._cluster = cluster

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
               ) -> concurrent.futures.Future:
        """Run ``fn(*args, **kwargs)`` on a worker with one numba thread."""
        return self._inner.submit(_single_thread_call, fn, args, kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Wait for (or cancel) the jobs, then close what this executor opened."""
        self._inner.shutdown(wait=wait and not cancel_futures)
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __repr__(self) -> str:
        return f"<dask executor on {self.client.scheduler.address}>"


def _count(spec: str, kind: str) -> int | None:
    head, _, n = spec.partition(":")
    if not n:
        return None
    try:
        count = int(n)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"{kind} executor: the number of workers must be a positive "
                         f"integer, got {spec!r}")
    return count


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _processes(workers: int | None) -> concurrent.futures.ProcessPoolExecutor:
    import multiprocessing

    # spawn: numba's thread pool is not fork-safe
    return concurrent.futures.ProcessPoolExecutor(
        workers or _cores(), mp_context=multiprocessing.get_context("spawn"),
        initializer=_process_setup)


def _distributed():
    try:
        import distributed
    except ImportError as err:
        raise ImportError("a dask executor needs dask.distributed: pip install "
                          "'lrtools[cluster]' (or dask[distributed])") from err
    return distributed


def make_executor(spec: str | concurrent.futures.Executor | Any | None = None
                  ) -> concurrent.futures.Executor:
    """The executor named by ``spec``, for a sweep's ``executor`` argument.

    Parameters
    ----------
    spec : str, Executor, distributed.Client or None
        ``None`` or ``"serial"``: this process; ``"processes"`` or
        ``"processes:N"``: local worker processes; ``"dask"`` or ``"dask:N"``: a
        local ``dask.distributed`` cluster of worker processes; a scheduler
        address such as ``"tcp://10.0.0.5:8786"``: that ``dask.distributed``
        cluster; an executor is returned as it is and a ``distributed.Client``
        gives its executor. The table in this module's documentation lists them.

    Returns
    -------
    concurrent.futures.Executor
        Use it in a ``with`` block, or call its ``shutdown()``, to release the
        workers (or the client) it started. Jobs run with one numba thread and
        one BLAS thread each (local processes also get ``NUMBA_NUM_THREADS=1``,
        ``OMP_NUM_THREADS=1``, ``OPENBLAS_NUM_THREADS=1``, ``MKL_NUM_THREADS=1``).

    Raises
    ------
    ValueError
        For a string that names no executor.
    ImportError
        For a dask executor without ``dask.distributed`` installed.

    Examples
    --------
    >>> from lrtools import make_executor
    >>> from lrtools.studies import population
    >>> with make_executor("processes:2") as ex:          # doctest: +SKIP
    ...     runs = population.limit_runs(population.LimitSettings.fast(), executor=ex)
    """
    if spec is None:
        return SerialExecutor()
    if isinstance(spec, concurrent.futures.Executor):
        return spec
    if not isinstance(spec, str):
        distributed = _distributed()
        if isinstance(spec, distributed.Client):
            return _DaskExecutor(spec, own_client=False)
        raise TypeError(f"an executor spec is a string, an Executor, a distributed.Client "
                        f"or None, got {type(spec).__qualname__}")
    text = spec.strip()
    low = text.lower()
    if low in ("", "serial", "none"):
        return SerialExecutor()
    if low == "processes" or low.startswith("processes:"):
        return _processes(_count(low, "processes"))
    if low == "dask" or low.startswith("dask:"):
        n = _count(low, "dask") or _cores()
        distributed = _distributed()
        cluster = distributed.LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, env=dict(SINGLE_THREAD_ENV))
        client = distributed.Client(cluster, set_as_default=False)
        return _DaskExecutor(client, own_client=True, cluster=cluster)
    if _ADDRESS.match(text):
        distributed = _distributed()
        client = distributed.Client(text, set_as_default=False)
        return _DaskExecutor(client, own_client=True)
    raise ValueError(f"unknown executor {spec!r}: use 'serial', 'processes', 'processes:N', "
                     "'dask', 'dask:N' or a dask scheduler address such as "
                     "'tcp://host:8786'")
