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
                       "total_ratio": np.array([1.0, 1.0]), "rate_free_residual": v,
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
    assert _titles(fig)[:3] == ["a  one family learns the new filter",
                                "b  predicted speed vs outcome", "c  2 base networks"]
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
        "a  individuals under noise", "b  readability", "c  lifetime (inset: N, s = 0.001)",
        "d  weight decay erases"]
    fig = figures.plot_p6_noise_speed(fam, fx)
    assert _titles(fig) == ["noise sensitivity vs learning time, 2 families"]
    plt.close("all")


def test_balance_figure_needs_its_four_example_rules():
    import matplotlib.pyplot as plt

    runs = _balance_runs_by_hand()
    del runs["Adam, lr 1e-3"]
    with pytest.raises(ValueError, match="Adam"):
        figures.plot_p4_balance(runs)
    plt.close("all")


def test_new_prediction_figures_have_their_panels():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(1)
    noisy = {"noise": np.array([0.0, 0.01, 0.1]), "rho_speed": -rng.random((3, 2)),
             "rho_invisible": -rng.random((3, 2)), "rho_variance": -rng.random((3, 2))}
    fig = figures.plot_p1_measurement_noise(noisy)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0", "0.01", "0.1"]
    assert len(fig.axes[0].get_legend().get_texts()) == 3
    fam = {"pattern": 1 + rng.random((2, 8)), "noise": rng.random((2, 8)) * 1e-3}
    fx = {"pattern_ratio": 3 + rng.random(2), "pattern_ratio_random": 1 + rng.random(2)}
    fig = figures.plot_p2_pattern(fam, fx, N=500)
    assert _titles(fig) == ["a  two members of a trained family",
                            "b  readout-pattern stimulation"]
    assert fig.axes[0].get_xscale() == "log" and len(fig.axes[0].lines) == 4
    scan = {"eta": np.array([1e-2, 5e-3]), "records": -rng.random((2, 5, 3)) * 1e-2}
    flow = {"flow": rng.standard_normal((3, 3)) * 1e-3, "modified": -rng.random((3, 3)) * 1e-3,
            "eta_modified": np.array(5e-3)}
    fig = figures.plot_p3_flow_limit(scan, flow)
    assert len(fig.axes) == 3 and fig.axes[0].get_title().startswith("a  input total")
    # three animals (the flow's) drawn over the flow limit at 0 and the two steps
    assert_close(fig.axes[0].lines[0].get_xdata(), [0.0, 5.0, 10.0], atol=0.0)
    labels = ["rates m:u:v:z = 1:1:1:1", "rates m:u:v:z = 4:1:1:0.25"]
    rates = {k: {q: rng.random(2) for q in ("equal", "factor_equal", "weighted", "residual")}
             for k in labels}
    fig = figures.plot_p4_rates(rates, _balance_runs_by_hand())
    ticks = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert ticks == list(figures.BALANCE_SHORT.values()) + ["rates\n4:1:1:0.25"]
    assert fig.axes[0].get_yscale() == "log"
    w = np.array([0.0, 1.0, 10.0])
    cross = {"weight_decay": np.tile(w, (2, 1)), "kappa": np.tile(1e-2 * w, (2, 1)),
             "std": np.array([4e-3, 8e-3]), "t_star": np.array([[100.0, 50.0, 10.0],
                                                                [25.0, 20.0, 8.0]]),
             "t_low": np.full((2, 3), 5.0), "t_high": np.full((2, 3), 200.0),
             "t_formula": np.array([[100.0, 60.0, 12.0], [25.0, 22.0, 9.0]]),
             "epoch": np.tile(np.arange(10.0), (2, 3, 1)),
             "dprime": np.tile(np.linspace(5, 0.5, 10), (2, 3, 1))}
    fig = figures.plot_p5_crossover(cross)
    assert _titles(fig) == ["a  lifetime against decay (lines: formula)", "b  readability"]
    assert len(fig.axes[1].lines) == 4 + 1  # weakest and strongest decay per level, d' = 1
    plt.close("all")
