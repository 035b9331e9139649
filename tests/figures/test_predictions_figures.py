"""Chapter 5 figures: every prediction's figure has its panels and titles (synthetic data)."""

import numpy as np
import pytest
from conftest import assert_close

from lrtools.figures import predictions as figures
from lrtools.studies import predictions as study


def _random_S(n, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, 4, 4))
    return A @ A.transpose(0, 2, 1) / 4 + 0.1 * np.eye(4)


def _balance_runs_by_hand():
    runs = {}
    for i, label in enumerate(study.BALANCE_KEYS.values()):
        v = np.array([1.0, 2.0]) * 10.0**-i
        runs[label] = {"violation": v, "slope": 1 + v, "correlation": 1 - v,
                       "total_ratio": np.array([1.0, 1.0]),
                       "d_in": np.array([[1.0, -2.0, 0.5]] * 2),
                       "d_out": np.array([[1.1, -1.9, 0.4]] * 2)}
    return runs


def _titles(fig):
    return [ax.get_title() or ax.get_title(loc="left") for ax in fig.axes]


def test_chapter_figures_have_their_panels():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    n_b, n, ep = 2, 8, 20
    loss = np.exp(-np.linspace(0, 5, ep))[None, :, None] * (1 + rng.random((n_b, 1, n)))
    fam = {"speed": rng.random((n_b, n)), "loss": loss, "time": 10 + rng.random((n_b, 2, n)),
           "criteria": np.tile([1e-2, 1e-4], (n_b, 1)), "noise": rng.random((n_b, n))}
    fx = {k: 1 + rng.random(n_b) for k in ("speed_ratio", "spread_ratio", "noise_ratio",
                                            "noise_ratio_random", "rho_noise_time")}
    fig = figures.plot_p1_learning_speed(fam, fx)
    assert len(fig.axes) == 4  # three panels and the colour bar
    assert _titles(fig)[:3] == ["a  one family learns c = 0.4", "b  predicted speed vs outcome",
                                "c  2 base networks"]
    chk = {"sampled": 1 + rng.random((2, 30)), "predicted": np.ones((2, 30))}
    fig = figures.plot_p2_noise_separation(chk, fx, N=50)
    assert _titles(fig) == ["a  two equivalent trained networks, N = 50", "b  2 families each"]
    assert_close(fig.axes[0].lines[0].get_xdata(), 0.05 * np.arange(30), atol=0.0)
    S = _random_S(2 * 3 * 2 * 8, 1).reshape(2, 3, 2, 8, 4, 4)  # population, cohort, twin, animal
    cohorts = {pop: {"direct": S[i, :, 0], "reversal": S[i, :, 1]}
               for i, pop in enumerate(("uniform", "diverse"))}
    cfx = {pop: {"acc_totals": rng.random(3), "acc_behaviour": rng.random(3)} for pop in cohorts}
    scan = {"eta": np.array([1e-2, 5e-3]), "record": rng.standard_normal((2, 3))}
    fig = figures.plot_p3_reversal(cohorts, cfx, scan)
    assert _titles(fig) == ["a  paired change, one cohort each",
                            "b  history from two groups (3 cohorts)",
                            "c  uniform cohort: step size"]
    fig = figures.plot_p4_balance(_balance_runs_by_hand())
    titles = _titles(fig)
    assert len(titles) == 5 and titles[0].startswith("a  gradient, eta 5e-3\nslope")
    assert titles[3].startswith("d  gradient, erf network") and titles[4] == "e  "
    ticks = [t.get_text() for t in fig.axes[4].get_xticklabels()]
    assert ticks == list(figures.BALANCE_SHORT.values())
    n_rec, n_rep = 6, 12
    epoch = np.tile(np.arange(n_rec) * 10.0, (2, 1))
    burial = {"D0": np.array(0.5), "epoch": epoch, "std": np.array([1e-3, 2e-3]),
              "N": np.array([500, 500]), "proj": rng.standard_normal((2, n_rec, 2, n_rep))}
    fit = {"t_pred": np.array([40.0, 10.0]), "t_star": np.array([38.0, 11.0]),
           "t_boot": np.linspace(0.8, 1.2, 10)[:, None] * [38.0, 11.0],
           "dprime": 1 + rng.random((2, n_rec))}
    decay = {"weight_decay": np.array([0.03, 0.1]), "epoch": epoch,
             "distance": np.exp(-0.01 * epoch), "predicted_rate": np.array([3e-4, 1e-3])}
    result = {"burial": burial, "fit": fit,
              "burial_N": burial | {"N": np.array([250, 1000])}, "fit_N": fit}
    fig = figures.plot_p5_noise_burial(result, decay)
    assert len(fig.axes) == 4 and len(fig.axes[2].child_axes) == 1  # the inset of panel c
    assert [ax.get_title(loc="left") for ax in fig.axes[:4]] == [
        "a  individuals under noise", "b  readability", "c  lifetime (inset: N, s = 4e-3)",
        "d  weight decay erases"]
    fig = figures.plot_p6_noise_speed(fam, fx)
    assert _titles(fig) == ["noise sensitivity vs learning time, five families"]
    plt.close("all")


def test_balance_figure_needs_its_four_example_rules():
    import matplotlib.pyplot as plt

    runs = _balance_runs_by_hand()
    del runs["Adam, lr 1e-3"]
    with pytest.raises(ValueError, match="Adam"):
        figures.plot_p4_balance(runs)
    plt.close("all")
