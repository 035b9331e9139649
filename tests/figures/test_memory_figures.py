"""Chapter 4 figures: every plot draws its panels (hand-made or toy-size inputs)."""

import inspect

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lrtools.figures import memory as figures
from lrtools.studies import memory as study


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def scans():
    etas = [1e-2, 5e-3, 2.5e-3]
    flow_aba = np.eye(4)
    aba = np.array([flow_aba + 0.5 * e * np.eye(4)[0][:, None] * np.eye(4)[0] for e in etas])
    dcs = [0.05, 0.1, 0.2]
    return {
        "eta_scan": {"eta": np.array(etas), "invisible": np.array([3e-3, 2e-3, 1.5e-3]),
                     "flow_invisible": np.array(1e-3), "flow_function": np.array(1e-9),
                     "aba": aba, "flow_aba": flow_aba},
        "flows": {"invisible": np.array([1.0, 3.0, 10.0, 20.0, 30.0]),
                  "conserved_drift": np.array([1e-12, 3e-12, 2e-12, 0.0, 0.0]),
                  "function": np.array([1e-10, 0.0, 0.0, 2e-10, 0.0]),
                  "loss": np.array([0.0, 1e-16, 0.0, 0.0, 0.0]),
                  "bracket_sv": np.array([1e-3, 2e-3, 0.1, 0.2, 0.3])},
        "dc_scan": {"flow": np.array(dcs) ** 2, "gd": np.array(dcs)},
        "starts": np.zeros((5, 4, 4)), "etas": etas, "dcs": dcs, "n_unit": 2, "eta": 5e-3,
        "holonomy": {"dcs": np.array(dcs),
                     "measured": np.ones((3, 4, 4)) * np.array(dcs)[:, None, None] ** 2,
                     "predicted": np.ones((3, 4, 4)) * np.array(dcs)[:, None, None] ** 2 * 0.99,
                     "cosine": np.array([1.0, 1.0, -1.0])},
    }


@pytest.fixture
def cond():
    ep = np.arange(0, 101, 10)
    decay = {}
    for w, r in ((0.1, 0.02), (0.2, 0.04)):
        decay.update({f"{w}/epoch": ep, f"{w}/invisible": 3.0 * np.exp(-r * ep),
                      f"{w}/predicted_rate": np.array(r), f"{w}/min_norm_gap": np.array(1e-4)})
    noise = {"target/std": np.array([0.0, 0.01, 0.1]),
             "target/invisible": np.array([1e-3, 1.1e-3, 2e-3]),
             "target/floor_invisible": np.array([0.0, 1e-4, 5e-3]),
             "weight/std": np.array([0.002, 0.01]), "weight/invisible": np.array([1e-3, 2e-3]),
             "weight/floor_invisible": np.array([1e-4, 3e-3]),
             "weight/invisible0": np.array(5e-4)}
    optim = {"adam/invisible": np.array(0.3), "adam/visible": np.array(0.01),
             "adam/function": np.array(1e-4), "gd/invisible": np.array(1e-3),
             "gd/visible": np.array(1e-5), "gd/function": np.array(1e-5)}
    return {"pair": {}, "noise": noise, "decay": decay, "optim": optim, "wds": [0.1, 0.2],
            "N_noise": 150}


@pytest.fixture
def no_cache(monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", "off")


def _titles(fig):
    return [ax.get_title(loc="left")[:1] or ax.get_title()[:1] for ax in fig.axes]


def test_chapter_plots_draw_their_panels(scans, cond):
    fig = figures.plot_flow_memory(scans)
    assert [ax.get_title()[0] for ax in fig.axes] == ["a", "b", "c", "d"]
    assert fig.axes[2].get_legend_handles_labels()[1][1] == r"GD, $\eta$ = 5e-3"
    # the loop whose prediction points the other way is marked
    assert fig.axes[3].get_legend_handles_labels()[1] == [
        "gradient flow", "curvature x enclosed area", "prediction points the other way"]
    plt.close(fig)
    fig = figures.plot_conditions(scans, cond)
    assert [ax.get_title()[0] for ax in fig.axes] == ["a", "b", "c", "d"]
    assert len(fig.axes[3].patches) == 6  # three gaps for GD and for Adam


def test_linear_memory_figures_at_toy_size(no_cache):
    data = study.linear_memory_runs(study.LinearMemorySettings(N=30, epochs=(60, 20, 20, 20, 60)))
    fig = figures.plot_figure3(data)
    assert _titles(fig) == ["a", "b", "c", "d", "e", "f"]
    fig = figures.plot_figure6(data)
    assert len(fig.axes) == 12  # ten overlaps, K and the conserved quantities
    adam = study.adam_memory_runs(study.AdamMemorySettings(N=30, epochs=20))
    fig = figures.plot_figure7(adam)
    assert _titles(fig) == ["a", "b", "c", "d"]
    assert fig.axes[0].get_legend_handles_labels()[1] == ["Adam", r"GD, $\eta$ = 5e-3"]


def test_paper_figures_have_the_registry_signature():
    for fn in (figures.figure3, figures.figure6, figures.figure7):
        params = inspect.signature(fn).parameters
        assert list(params) == ["fast", "progress"]
        assert params["fast"].default is False and params["progress"].default is None
