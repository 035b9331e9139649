"""Sweeps give the same numbers serially and on an executor (threads or processes)."""

import concurrent.futures

import numpy as np

from lrtools import memory
from lrtools._parallel import run_jobs


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
