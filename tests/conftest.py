"""Shared fixtures and checks. Everything runs in float64."""

from __future__ import annotations

import numpy as np
import pytest

import lrtools
from lrtools import LowRankRNN, tasks


def assert_close(actual, desired, *, rtol=0.0, atol=0.0, err_msg=""):
    """``numpy.testing.assert_allclose`` that also demands equal shapes."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert actual.shape == desired.shape, f"shape {actual.shape} != {desired.shape} {err_msg}"
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol, err_msg=err_msg)


def rel_err(a, b) -> float:
    """Largest absolute difference relative to the largest magnitude of ``b``."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.fixture(scope="session")
def filter_task():
    """The paper's Figure 1 task (exponential filter, c = 0.2, dt = 0.05, T = 20)."""
    return tasks.ExponentialFilter(c=0.2, dt=0.05, t_max=20.0)


@pytest.fixture(scope="session")
def oscillator_task():
    """The paper's Figure 12 task (damped oscillator, c = 0.3, omega = 2)."""
    return tasks.DampedOscillator(c=0.3, omega=2.0, dt=0.05, t_max=20.0)


@pytest.fixture
def rank1_net():
    return LowRankRNN.random(N=200, rank=1, phi="linear", seed=0)


@pytest.fixture(autouse=True)
def _no_progress(monkeypatch):
    monkeypatch.setenv("LRTOOLS_PROGRESS", "0")


def pytest_report_header(config):
    return f"lrtools {lrtools.__version__}, numpy {np.__version__}"
