"""Figures of chapter 3 (lrtools.figures.probe): every panel is drawn, with its title."""

import numpy as np
import pytest

import lrtools
from lrtools import LowRankRNN, Overlaps, equivalence
from lrtools.figures import probe as figures
from lrtools.studies import probe as study


def _result(loss, exact=None):
    """A stand-in for a network_vs_theory result: objects with a ``loss`` array."""
    from types import SimpleNamespace

    out = {"network": SimpleNamespace(loss=np.asarray(loss, dtype=float))}
    if exact is not None:
        out["exact"] = SimpleNamespace(loss=np.asarray(exact, dtype=float))
    return out


@pytest.fixture(scope="module")
def hand_family():
    """Eight equivalent members; speed affine in the free overlaps; epochs set by the speed."""
    family = equivalence.sample_equivalent(LowRankRNN.random(50, seed=0).overlaps(), 8, seed=0)
    speed = np.array([1 + 0.5 * S["uu"] - 0.2 * S["mu"] + 0.1 * S["vv"] + 0.3 * S["zv"]
                      for S in family])
    epochs = np.empty(8)
    epochs[np.argsort(-speed)] = np.arange(1, 9)  # fastest: 1 epoch; slowest: 8
    epochs[np.argmin(speed)] = np.inf             # ... or never (the curves are 8 long)
    loss = np.where(np.arange(8)[None, :] < epochs[:, None], 1.0, 1e-5)
    data = {"members": np.array([S.matrix for S in family]), "names": np.array(family[0].names),
            "loss": loss, "speed": speed, "diverged": np.zeros(8, dtype=bool)}
    return data, epochs


def _hand_erf():
    members = []
    for vv, zz, zv in ((1.0, 3.0, 0.1), (2.0, 2.0, 0.3), (3.0, 1.0, 0.2)):
        M = np.diag([1.0, 1.0, vv, zz])
        M[2, 3] = M[3, 2] = zv
        members.append(Overlaps(M, ("m", "u", "v", "z")))
    summary = {"members": members, "epochs": np.array([3.0, 5.0, np.inf]),
               "speed": np.array([3.0, 2.0, 1.0]), "rho": -1.0,
               "rho_curve": np.array([-0.5, 0.2]), "fractions": np.array([0.5, 0.1]),
               "criterion": 0.01}
    check = {"y_fast": np.array([0.0, 1.0]), "y_slow": np.array([0.0, 0.5]),
             "y_theory": np.array([0.0, 0.8]), "y_start": np.array([0.0, 0.7]),
             "runs": [_result([1.0, 0.1], [1.0, 0.1]), _result([1.0, 0.9], [1.0, 0.8])],
             "epochs": 2, "N": 40}
    return summary, check


def test_chapter_figures_have_their_panels(hand_family):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data, _ = hand_family
    start = equivalence.family_summary(data, 1e-2, np.array([0.5, 1e-2, 1e-4]))
    fig = figures.plot_family_speed(start, start, c_start=0.2, c_trained=0.4)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["a  measured (random start)", "b  predicted initial speed",
                      "c  prediction vs outcome", "d  how far ahead the start predicts"]
    assert len(fig.axes) == 6  # four panels and the colour bars of a and b
    legend = [t.get_text() for t in fig.axes[3].get_legend().get_texts()]
    assert legend == ["random start, c = 0.2", "trained, c = 0.4"]

    members = equivalence.family_members(data)
    noise = {"predicted": np.ones((3, 10)), "sampled": np.full((3, 10), 1.1)}
    fig = figures.plot_noise_response(np.arange(10) * 0.05, noise, members, np.arange(1.0, 9.0),
                                      n_trials=100)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == [
        "a  3 equivalent networks, 100 trials each", "b  noise response over the trained family"]
    assert len(fig.axes) == 3

    summary, check = _hand_erf()
    fig = figures.plot_erf_probe(summary, start, check)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == [
        "a  erf family (random start)", "b  how far ahead the start predicts",
        "c  N-dimensional erf networks"]
    labels = [t.get_text() for t in fig.axes[2].get_legend().get_texts()]
    assert labels == ["fastest member, N = 40", "slowest member, N = 40", "theory"]
    plt.close("all")


def test_figure2_has_its_panels(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("LRTOOLS_CACHE", "off")  # no cache files from tests
    s = study.Figure2Settings(N=30, filter_epochs=10, epochs=10, epochs_new=10, after=5)
    fig = figures.plot_figure2(study.figure2_runs(s))
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert [t[:3] for t in titles] == [f"{p}  " for p in "abcdefgh"]
    assert titles[0] == "a  overlaps (random start)"
    assert titles[3] == "d  learning $c$ = 0.2" and titles[7] == "h  learning $c$ = 0.4"
    # the paper-figure registry draws Figure 2 with this module's function
    assert lrtools.figures.get(2).function is figures.figure2
    plt.close("all")
