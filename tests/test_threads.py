"""Seeded runs give the same numbers whatever the thread count and kernel variant.

The compiled batched kernels sum over trials in a fixed order (one partial sum
per trial, added up serially), so the serial and the parallel variants, and the
parallel variant on 1 or 2 threads, must agree bit for bit. Each configuration
runs in a fresh interpreter (numba's thread count is fixed at start-up): one
nonlinear (erf) network training, large enough to take the parallel kernels,
and one reduced-theory run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import json, sys
import numpy as np
import lrtools
from lrtools import LowRankRNN, tasks, theory
from lrtools import _kernels as K

task = tasks.FlipFlop(dt=0.1, t_max=20.0, batch_size=8)
net = LowRankRNN.random(300, 1, phi="erf", seed=3)
# B * T * N = 8 * 200 * 300 >= the parallel threshold: "auto" runs the parallel kernels
assert 8 * 200 * 300 >= K._PARALLEL_WORK
h = lrtools.train(net, task, epochs=4, eta=0.05, seed=1)
th = theory.learn(net.overlaps(), task, epochs=4, eta=0.05, phi="erf", seed=1)
many = theory.loss_and_gamma_many(np.stack([net.overlaps().matrix] * 3), task.sample(
    np.random.default_rng(0)), task.loss_weights(task.sample(np.random.default_rng(0))[2]),
    task.dt, "erf")
json.dump({"network": h.overlaps.tolist(), "network_loss": h.loss.tolist(),
           "theory": th.overlaps.tolist(), "theory_loss": th.loss.tolist(),
           "many": [many[0].tolist(), many[1].tolist()],
           "threads": __import__("numba").get_num_threads()}, sys.stdout)
"""


def _run(env_extra: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                        "LRTOOLS_PARALLEL")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def runs():
    configs = {
        "1 thread": {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                     "OPENBLAS_NUM_THREADS": "1"},
        "2 threads": {"NUMBA_NUM_THREADS": "2", "OMP_NUM_THREADS": "2",
                      "OPENBLAS_NUM_THREADS": "2"},
        "2 threads, serial kernels": {"NUMBA_NUM_THREADS": "2", "LRTOOLS_PARALLEL": "never"},
        "1 thread, parallel kernels": {"NUMBA_NUM_THREADS": "1", "LRTOOLS_PARALLEL": "always"},
    }
    return {name: _run(env) for name, env in configs.items()}


def test_thread_count_was_applied(runs):
    assert runs["1 thread"]["threads"] == 1
    assert runs["2 threads"]["threads"] == 2


@pytest.mark.parametrize("quantity", ["network", "network_loss", "theory", "theory_loss", "many"])
def test_bit_identical_across_threads_and_variants(runs, quantity):
    ref = runs["1 thread"][quantity]
    for name, r in runs.items():
        # JSON holds every float's shortest round-trip repr: equal text, equal bits
        if json.dumps(r[quantity]) != json.dumps(ref):
            diff = np.max(np.abs(np.asarray(r[quantity][0] if quantity == "many" else r[quantity])
                                 - np.asarray(ref[0] if quantity == "many" else ref)))
            pytest.fail(f"{quantity}: {name} differs from 1 thread (max difference {diff:.3g})")


def test_the_switch_is_checked(monkeypatch):
    from lrtools import _kernels as K

    monkeypatch.setenv("LRTOOLS_PARALLEL", "sometimes")
    with pytest.raises(ValueError, match="LRTOOLS_PARALLEL"):
        K.parallel_mode()
    monkeypatch.setenv("LRTOOLS_PARALLEL", "never")
    assert K.parallel_mode() == "never"


def test_many_networks_on_threads_are_the_same_numbers(monkeypatch):
    from lrtools import tasks, theory, twins

    task = tasks.FlipFlop(dt=0.1, t_max=10.0, batch_size=8)
    S = twins.random_overlaps(7, 0)
    batch = task.sample(np.random.default_rng(0))
    w = task.loss_weights(batch[2])
    monkeypatch.setattr(theory, "_MANY_PARALLEL_WORK", 0)
    monkeypatch.setenv("LRTOOLS_PARALLEL", "always")
    a = theory.loss_and_gamma_many(S, batch, w, task.dt, "erf")
    monkeypatch.setenv("LRTOOLS_PARALLEL", "never")
    b = theory.loss_and_gamma_many(S, batch, w, task.dt, "erf")
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
