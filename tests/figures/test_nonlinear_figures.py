"""Chapter 2 figures (lrtools.figures.nonlinear) on tiny runs and hand-made results."""

from __future__ import annotations

import inspect

import matplotlib
import numpy as np
import pytest

import lrtools
from lrtools import Overlaps, closure
from lrtools.figures import nonlinear as figures
from lrtools.studies import nonlinear as study

matplotlib.use("Agg")

NAMES = lrtools.vector_names()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    matplotlib.pyplot.close("all")


def test_paper_figures_take_fast_and_progress():
    for fn in (figures.figure4, figures.figure8, figures.figure11_nonlinear):
        params = inspect.signature(fn).parameters
        assert list(params) == ["fast", "progress"]
        assert params["fast"].default is False and params["progress"].default is None
    spec = lrtools.figures.get(4), lrtools.figures.get(8)
    assert spec[0].function is figures.figure4 and spec[1].function is figures.figure8


def test_figure_helpers_on_a_tiny_run(monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", "off")
    s = study.FlipFlopSettings(N=60, dt=0.2, batch_size=2, epochs=20, eta=0.1, seed=0,
                               large_eta=0.2, large_epochs=15, adam_lr=5e-3, adam_epochs=15)
    runs = study.flip_flop_runs(s)
    other = study.optimizer_runs(s)
    task = s.task
    hists = {"small": runs["network"], "adam": other["adam"]["network"]}
    cl = {k: closure.closure_loss(h, task, "erf", seed=0) for k, h in hists.items()}
    fig4 = figures.plot_figure4(task, runs)
    fig8 = figures.plot_figure8(hists, cl, theories={"small": {"map": runs["exact"]}})
    assert len(fig4.axes) == 11 and len(fig8.axes) == 4
    d = study.figure8_data(s)
    fig8_all = figures.plot_figure8(d["histories"], d["closure"], theories=d["theories"],
                                    titles=d["titles"])
    assert len(fig8_all.axes) == 6 and fig8_all.axes[1].get_title() == "GD, $\\eta$ = 0.2"


def test_entries_and_gaussianity_axes():
    fig, axes = matplotlib.pyplot.subplots(1, 4)
    X = np.random.default_rng(0).standard_normal((200, 4))
    figures.plot_entries(axes, X, kind="qq")
    assert axes[0].get_title() == "$m$"
    with pytest.raises(ValueError, match="kind"):
        figures.plot_entries(axes, X, kind="violin")
    fig, ax = matplotlib.pyplot.subplots()
    figures.plot_gaussianity(ax, {"run": (np.arange(3), np.zeros(3))}, noise=0.1)
    assert ax.get_ylabel() == "Mardia excess kurtosis"


def test_figure11():
    A = np.random.default_rng(3).standard_normal((4, 4))
    S = Overlaps(A @ A.T / 4 + 0.3 * np.eye(4), NAMES)  # generic: no structural coincidences
    fig = figures.plot_figure11_nonlinear(S)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["linear: 4 visible columns", "erf: 7 visible columns"]


def _fake_convergence(Ns, overlap_error, *, seeds=None, epochs=3, **arrays):
    Ns = np.asarray(Ns)
    overlap_error = np.asarray(overlap_error, float)
    n, s = overlap_error.shape
    rng = np.random.default_rng(n * 10 + s)
    kw = {"loss_error": np.full((n, s), 1e-3),
          "error_curves": rng.uniform(0.01, 0.1, (n, s, epochs + 1)),
          "net_overlaps": np.broadcast_to(np.eye(4), (n, s, epochs + 1, 4, 4)).copy(),
          "net_loss": np.full((n, s, epochs), 0.2),
          "theory_overlaps": np.broadcast_to(np.eye(4), (s, epochs + 1, 4, 4)).copy(),
          "theory_loss": np.tile(np.linspace(0.3, 0.1, epochs), (s, 1)),
          "departure": np.full((n, s, 2, 4), 0.2), "closure": np.full((n, s, 2), 1e-3),
          "mardia": np.zeros((n, s, 2))}
    kw.update(arrays)
    return closure.Convergence(Ns=Ns, seeds=np.arange(s) if seeds is None else np.asarray(seeds),
                               overlap_error=overlap_error, **kw)


def test_convergence_figure_on_known_laws():
    Ns = np.array([250, 1000, 4000, 16000])
    plain = _fake_convergence(Ns, np.sqrt(4.0 / Ns + 0.01**2)[:, None] * np.ones((1, 3)))
    proj = _fake_convergence(Ns, 3.0 * Ns[:, None] ** -0.5 * np.ones((1, 3)),
                             loss_error=1e-4 / Ns[:, None] * np.ones((1, 3)))
    fits, floors = study.convergence_fits(plain, proj)
    fig = figures.plot_convergence_study(plain, proj, fits, floors)
    assert [ax.get_title()[:3] for ax in fig.axes] == ["(a)", "(b)", "(c)"]
    assert len(fig.axes[2].get_lines()) == 2 * len(Ns)  # solid and dashed per N
    with pytest.raises(ValueError, match="different N"):
        figures.plot_convergence_study(plain, _fake_convergence(Ns[:2], np.ones((2, 3))),
                                       fits, floors)


def test_departure_figure():
    Ns = np.array([100, 400])
    dep = np.zeros((2, 2, 2, 4))
    dep[:, :, 0, 1], dep[:, :, 1, 1] = 0.1, 0.3
    c = _fake_convergence(Ns, np.ones((2, 2)), departure=dep)
    fig = figures.plot_departure_study(c)
    assert [ax.get_title()[:3] for ax in fig.axes] == ["(a)", "(b)"]


def test_tanh_figure():
    erf = _fake_convergence([100, 200, 400], [[0.1, 0.9], [0.2, 0.9], [0.05, 0.9]])
    tanh = _fake_convergence([100, 400], [[0.3], [0.1]])
    S0 = Overlaps(np.eye(4), NAMES)
    fig = figures.plot_tanh_study(tanh, erf, S0, eta=0.1)
    assert fig.axes[0].get_title().startswith("(a) tanh, N = 400")
    assert len(fig.axes[0].get_lines()) == 2 * len(S0.visible("tanh"))  # network + theory
    with pytest.raises(ValueError, match="not among"):
        figures.plot_tanh_study(_fake_convergence([300], [[0.1]]), erf, S0, eta=0.1)
