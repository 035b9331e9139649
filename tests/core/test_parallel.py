"""Sweeps give the same numbers serially and on an executor; make_executor reads its specs."""

import concurrent.futures

import numpy as np
import pytest

from lrtools import memory
from lrtools._parallel import SerialExecutor, make_executor, run_jobs


def _square(x, y):
    return x * x + y


def test_run_jobs_keeps_order_on_any_executor():
    args = [(i, 1) for i in range(7)]
    serial = run_jobs(_square, args)
    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        assert run_jobs(_square, args, ex) == serial
    with concurrent.futures.ProcessPoolExecutor(2) as ex:
        assert run_jobs(_square, args, ex) == serial == [i * i + 1 for i in range(7)]


def test_memory_sweeps_accept_an_executor():
    starts = memory.random_overlaps(2, 0)
    serial = memory.flow_memory(starts, learning_time=2.0)
    with concurrent.futures.ProcessPoolExecutor(2) as ex:
        parallel = memory.flow_memory(starts, learning_time=2.0, executor=ex)
        eta_p = memory.memory_vs_eta(memory.paper_theta2(N=100), [2e-2, 4e-2],
                                     learning_times=(1.0, 1.0, 1.0), flow=False, executor=ex)
    eta_s = memory.memory_vs_eta(memory.paper_theta2(N=100), [2e-2, 4e-2],
                                 learning_times=(1.0, 1.0, 1.0), flow=False)
    for key in serial:
        assert np.array_equal(serial[key], parallel[key]), key
    for key in eta_s:
        assert np.array_equal(eta_s[key], eta_p[key]), key


# ---------------------------------------------------------------------------
# make_executor: a notebook parameter or command-line option -> an executor
# ---------------------------------------------------------------------------


def _threads():
    import os

    import numba

    return numba.get_num_threads(), os.environ.get("NUMBA_NUM_THREADS"), os.getpid()


def test_serial_specs_run_in_this_process():
    import os

    for spec in (None, "serial", "SERIAL", "", " none "):
        with make_executor(spec) as ex:
            assert isinstance(ex, SerialExecutor)
            assert run_jobs(_square, [(2, 1), (3, 0)], ex) == [5, 9]
            assert ex.submit(_threads).result()[2] == os.getpid()
    ex = SerialExecutor()
    failed = ex.submit(int, "x")
    assert isinstance(failed.exception(), ValueError)
    ex.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        ex.submit(_square, 1, 1)


def test_processes_have_one_numba_thread_each():
    import os

    with make_executor("processes:2") as ex:
        assert isinstance(ex, concurrent.futures.ProcessPoolExecutor)
        assert ex._max_workers == 2
        out = run_jobs(_threads, [()] * 4, ex)
    assert all(n == 1 and env == "1" and pid != os.getpid() for n, env, pid in out)
    with make_executor("processes") as ex:
        assert ex._max_workers >= 1


def _compile_in_worker(i):
    import numba
    import numpy as np

    @numba.njit
    def shifted_sum(x):  # a fresh function: numba compiles, and rereads its config
        return x.sum() + i

    return shifted_sum(np.ones(3)), numba.get_num_threads()


def test_workers_can_compile_after_their_pool_started():
    # numba rereads NUMBA_NUM_THREADS before each compilation and refuses a value
    # that differs from the running pool's; the initializer must leave them equal
    with make_executor("processes:2") as ex:
        out = run_jobs(_compile_in_worker, [(i,) for i in range(4)], ex)
    assert out == [(3.0 + i, 1) for i in range(4)]


def test_an_executor_is_passed_through_and_bad_specs_raise():
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert make_executor(pool) is pool
    for bad in ("processes:0", "processes:x", "dask:-1"):
        with pytest.raises(ValueError, match="positive integer"):
            make_executor(bad)
    with pytest.raises(ValueError, match="unknown executor 'threads'"):
        make_executor("threads")
    with pytest.raises(TypeError, match="executor spec"):
        make_executor(3)


def test_scheduler_addresses_are_recognised():
    from lrtools._parallel import _ADDRESS

    for address in ("tcp://10.0.0.5:8786", "tls://head.cluster:8786", "scheduler:8786",
                    "ucx://10.1.2.3:13337", "inproc://10.0.0.1/123/1"):
        assert _ADDRESS.match(address), address
    for other in ("processes", "serial", "tcp:/x", "host:port"):
        assert not _ADDRESS.match(other), other

