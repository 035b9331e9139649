"""The convergence study on a dask.distributed cluster gives the serial arrays, bit for bit.

A ``LocalCluster`` of two single-threaded worker processes stands in for a real
cluster: the study reaches it through its scheduler address, as
``lrtools study convergence --scheduler tcp://...`` and a notebook's
``executor`` parameter do. Skipped when dask.distributed is not installed (the
``cluster`` extra; the ``test`` extra brings it).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from lrtools import make_executor, studies  # noqa: E402
from lrtools.closure import Convergence  # noqa: E402
from lrtools.studies.nonlinear import ConvergenceSettings  # noqa: E402

# the fast settings, smaller: two sizes and two seeds, plain and projected descent
SETTINGS = ConvergenceSettings.fast().replace(Ns=(250, 500), seeds=(0, 1))


def _single_numba_thread():
    import numba

    return numba.get_num_threads()


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as c:
        yield c


def _arrays(conv: Convergence) -> dict[str, np.ndarray]:
    return {k: v for k, v in conv.to_arrays().items() if k != "settings"}


def test_convergence_study_on_dask_equals_serial(cluster, monkeypatch, record_property):
    monkeypatch.setenv("LRTOOLS_CACHE", "off")  # both runs compute
    monkeypatch.setenv("LRTOOLS_PROGRESS", "0")
    t0 = time.perf_counter()
    serial, serial_numbers = studies.run_study("convergence", SETTINGS)
    t_serial = time.perf_counter() - t0
    with make_executor(cluster.scheduler_address) as ex:
        assert ex.submit(_single_numba_thread).result() == 1
        t0 = time.perf_counter()
        on_dask, dask_numbers = studies.run_study("convergence", SETTINGS, executor=ex)
        t_dask = time.perf_counter() - t0
    record_property("serial_s", round(t_serial, 2))
    record_property("dask_s", round(t_dask, 2))
    print(f"convergence study: serial {t_serial:.1f} s, dask (2 workers) {t_dask:.1f} s")
    for variant in ("plain", "projected"):
        a, b = _arrays(serial[variant]), _arrays(on_dask[variant])
        assert a.keys() == b.keys()
        for key in a:
            assert np.array_equal(a[key], b[key]), (variant, key)
    assert serial_numbers == dask_numbers
    # the cluster is still there for others: only the client was closed
    assert cluster.scheduler_info["workers"]
