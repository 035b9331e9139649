"""Chapter 4 studies: settings, runs and key numbers (hand-made inputs where possible)."""

import numpy as np
import pytest

import lrtools
from lrtools import Overlaps, memory, twins
from lrtools.studies import memory as study
from lrtools.studies import twins as twin_study

NAMES = memory.NAMES


# --- settings ---------------------------------------------------------------------


def test_paper_and_fast_settings_are_the_chapters():
    # paper = the defaults = the full-mode values; fast = the CI values
    lin, lin_f = study.LinearMemorySettings.paper(), study.LinearMemorySettings.fast()
    assert (lin.N, lin.epochs, lin.eta, lin.c, lin.target_noise, lin.seed) == (
        500, (3000, 1000, 1000, 1000, 4000), 5e-3, (0.2, 0.4), 0.1, 0)
    assert lin_f == lin.replace(N=100)
    assert study.AdamMemorySettings.fast() == study.AdamMemorySettings(N=100, epochs=1000)
    assert study.AdamMemorySettings().epochs == 4000
    flow = study.FlowScanSettings.for_mode(True)
    assert (flow.etas, flow.n_unit, flow.n_broad, flow.dcs) == ((5e-3, 2.5e-3), 1, 2, (0.05, 0.1))
    cond = study.ConditionsSettings.for_mode(False)
    assert (cond.target_stds, cond.weight_stds, cond.N_noise, cond.wds, cond.pair_epochs) == (
        (0.0, 0.01, 0.03, 0.1, 0.3), (0.002, 0.01), 150, (0.01, 0.03, 0.1), (3000, 1000, 1000))
    check = twin_study.NetworkCheckSettings.fast()
    assert (check.Ns, check.epochs, check.eta, check.batch_size) == ((100, 250), 60, 0.05, 4)


def test_misspelt_settings_raise():
    with pytest.raises(TypeError):
        study.LinearMemorySettings(NN=100)
    with pytest.raises(TypeError):
        twin_study.TwinSettings.paper().replace(paper_pair=10)
    with pytest.raises(TypeError):
        study.ConditionsSettings(500)  # keyword-only


# --- runs at toy size -------------------------------------------------------------


@pytest.fixture
def no_cache(monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", "off")


@pytest.fixture
def toy_linear(no_cache):
    s = study.LinearMemorySettings(N=30, epochs=(60, 20, 20, 20, 60))
    return s, study.linear_memory_runs(s)


def test_linear_memory_runs_at_toy_size(toy_linear):
    s, data = toy_linear
    assert len(data["net_runs"]) == 5 and list(data["bounds"]) == [0, 60, 80, 100, 120, 180]
    assert data["Q"].shape == (181, 5) and data["K"].shape == (len(data["k_epochs"]), 4)
    n = study.linear_memory_numbers(data)
    # the network and the exact map are the same computation (round-off over 180 epochs)
    assert n["fig3_map_error"] < 1e-10
    d = study.conserved_drift_numbers(data)
    # O(eta^2) per step over 120 epochs, far from convergence: measured 3.1e-3
    assert d["K_scale"] > 0 and d["Q_drift_clean"] < 1e-2


def test_adam_memory_runs_at_toy_size(no_cache):
    data = study.adam_memory_runs(study.AdamMemorySettings(N=30, epochs=20))
    assert len(data["adam_runs"]) == len(data["gd_runs"]) == 5
    n = study.adam_memory_numbers(data)
    assert n["adam_Q_drift"] > n["gd7_Q_drift"]  # Adam breaks the conserved quantities


def test_one_step_numbers_and_span_at_theta2():
    s = study.LinearMemorySettings.fast()
    n = study.one_step_numbers(s)
    assert n["step_slope"] == pytest.approx(2.0, abs=0.05)  # O(eta^2) per step
    assert n["step_drift"] == memory.one_step_drift(
        memory.paper_theta2(), lrtools.tasks.ExponentialFilter(c=0.2), [5e-3])[0]
    with pytest.raises(ValueError, match="not among"):
        study.one_step_numbers(s.replace(eta=4e-3))
    h = study.horizontal_span_numbers(study.span_at_theta2(s))
    assert (h["level_set_dim"], h["fields_rank"], h["brackets_rank"]) == (5, 3, 5)


def test_scans_reject_empty_settings():
    with pytest.raises(ValueError, match="at least one"):
        study.flow_memory_scans(study.FlowScanSettings(n_unit=0))
    with pytest.raises(ValueError, match="at least one"):
        twin_study.network_check_runs({}, twin_study.NetworkCheckSettings(Ns=()))


def _hist(*mats, loss=1e-3):
    M = np.array(mats, dtype=float)
    return lrtools.History(loss=np.full(len(M) - 1, loss), overlaps=M, names=NAMES,
                           time=np.arange(len(M), dtype=float))


def _base():
    M = np.diag([2.0, 2.0, 3.0, 4.0])
    for (i, j), x in {(3, 0): 0.5, (2, 1): 0.25, (3, 1): 0.25, (2, 0): 0.5}.items():
        M[i, j] = M[j, i] = x
    return M


def _shift(M, key, dx):
    out = M.copy()
    i, j = NAMES.index(key[0]), NAMES.index(key[1])
    out[i, j] += dx
    if i != j:
        out[j, i] += dx
    return out


def test_linear_memory_numbers_on_hand_made_runs():
    M0 = _base()
    M2 = _shift(_shift(M0, "zz", 0.25), "zm", 0.125)  # invisible 0.25, visible 0.125
    runs = [_hist(M0, M0, loss=1e-3), _hist(M0, M0), _hist(M0, M2, loss=2e-3)]
    data = {"net_runs": runs, "network": _hist(M0, M2),
            "exact": _hist(M0, _shift(M2, "vv", 0.0625))}
    n = study.linear_memory_numbers(data)
    # binary fractions: every difference is exact in float64
    assert n == {"fig3_map_error": 0.0625, "fig3_function_gap": 0.125, "fig3_visible_gap": 0.125,
                 "fig3_invisible_gap": 0.25, "fig3_loss_A1": 1e-3, "fig3_loss_A2": 2e-3,
                 # the last phase is A2 here: A3 = A2
                 "fig3_a3_visible_gap": 0.125, "fig3_a3_invisible_gap": 0.25,
                 "fig3_a3_function_gap": 0.125}
    with pytest.raises(ValueError, match="three phases"):
        study.linear_memory_numbers({**data, "net_runs": runs[:2]})


def test_conserved_drift_numbers_on_hand_made_K_and_Q():
    K = np.array([[2.0, -4.0]] * 5 + [[2.0, -3.0], [2.0, -2.0]])
    K[1, 0] = 2.5
    Q = np.zeros((51, 5))
    Q[40:, 0] = 0.25
    Q[-1, 1] = 1.0
    data = {"K": K, "k_epochs": np.array([0, 10, 20, 30, 40, 45, 50]), "Q": Q,
            "bounds": np.array([0, 10, 20, 30, 40, 50])}
    n = study.conserved_drift_numbers(data)
    # scale 4; clean drift 0.5 / 4, noisy drift 2 / 4 (from the end of the clean part)
    assert n == {"K_scale": 4.0, "K_drift_clean": 0.125, "K_drift_noise": 0.5,
                 "Q_drift_clean": 0.25, "Q_drift_noise": 1.0}
    with pytest.raises(ValueError, match="five phases"):
        study.conserved_drift_numbers({**data, "bounds": np.array([0, 25, 50])})


def test_adam_memory_numbers_on_hand_made_runs():
    M0 = _base()
    S0 = Overlaps(M0, NAMES)
    ends = [M0, _shift(M0, "zz", 0.25), _shift(M0, "zm", 0.125)]
    losses = [1e-4, 2e-4, 3e-4, 4e-4, 5e-4]
    adam_runs = [_hist(M0, ends[i // 2] if i % 2 == 0 else M0, loss=losses[i]) for i in range(5)]
    gd_runs = [_hist(M0, M0) for _ in range(5)]
    data = {"adam_runs": adam_runs, "gd_runs": gd_runs, "S0": S0, "adam": _hist(M0, M0),
            "gd": _hist(M0, M0)}
    n = study.adam_memory_numbers(data)
    # gaps of binary fractions are exact; the joined histories end at the start: zero drift
    assert n == {"adam_function_gap": 0.125, "adam_visible_gap": 0.125,
                 "adam_invisible_gap": 0.25, "gd7_invisible_gap": 0.0, "adam_Q_drift": 0.0,
                 "gd7_Q_drift": 0.0, "adam_loss": 5e-4}
    with pytest.raises(ValueError, match="five phases"):
        study.adam_memory_numbers({**data, "gd_runs": gd_runs[:3]})


def test_horizontal_span_numbers_counts_ranks():
    span = {"fields": np.array([3.0, 2.0, 1e-10]),
            "brackets": np.array([4.0, 3.0, 2.0, 1.0, 0.5, 1e-12]), "level_set_dim": 5}
    n = study.horizontal_span_numbers(span)
    assert n == {"level_set_dim": 5, "fields_rank": 2, "brackets_rank": 5,
                 "bracket_sv_theta2": 0.125}  # 0.5 / 4, exact


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
    }


def test_flow_memory_numbers_on_hand_made_scans(scans):
    n = study.flow_memory_numbers(scans)
    # GD minus flow = eta / 2 and the flow memory = dc^2, GD's = dc: log-log slopes 1, 2, 1
    # (two-point fits of exact power laws: round-off only)
    assert n["dev_slope"] == pytest.approx(1.0, abs=1e-10)
    assert n["dc_slope_flow"] == pytest.approx(2.0, abs=1e-10)
    assert n["dc_slope_gd"] == pytest.approx(1.0, abs=1e-10)
    assert n["gd_flow_ratio"] == pytest.approx(2.0, rel=1e-15)  # 2e-3 / 1e-3
    rest = {k: n[k] for k in n if k not in ("dev_slope", "dc_slope_flow", "dc_slope_gd",
                                            "gd_flow_ratio")}
    assert rest == {"flow_memory_theta2": 1e-3, "flow_function_theta2": 1e-9,
                    "gd_memory_theta2": 2e-3, "flow_unit_median": 2.0,
                    "flow_broad_median": 20.0, "flow_broad_min": 10.0,
                    "flow_max_conserved_drift": 3e-12, "flow_max_function": 2e-10,
                    "flow_max_loss": 1e-16, "n_starts": 5}
    with pytest.raises(ValueError, match="not among"):
        study.flow_memory_numbers({**scans, "eta": 3e-3})
    # GD minus flow is eta / 2 on the first overlap (added to 1: one rounding of 1e-16)
    assert study.gd_flow_deviation(scans["eta_scan"]) == pytest.approx([5e-3, 2.5e-3, 1.25e-3],
                                                                      abs=1e-15)


@pytest.fixture
def cond():
    ep = np.arange(0, 101, 10)
    rates = {0.1: 0.02, 0.2: 0.04}
    decay = {}
    for w, r, f, gap in ((0.1, 0.02, 1.0, 5e-3), (0.2, 0.04, 1.1, 1e-4)):
        decay.update({f"{w}/epoch": ep, f"{w}/invisible": 3.0 * np.exp(-f * r * ep),
                      f"{w}/predicted_rate": np.array(rates[w]),
                      f"{w}/min_norm_gap": np.array(gap)})
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


def test_conditions_numbers_on_hand_made_runs(cond):
    n = study.conditions_numbers(cond)
    # exact exponentials decaying at 1 and 1.1 times the predicted rate (fit: round-off)
    for k, v in (("wd_rate_ratio_small", 1.0), ("wd_rate_ratio_large", 1.1),
                 ("wd_rate_ratio_min", 1.0), ("wd_rate_ratio_max", 1.1)):
        assert n.pop(k) == pytest.approx(v, rel=1e-10)
    assert n == {"noise_memory_01": 2e-3, "noise_floor_01": 5e-3, "noise_memory_001": 1.1e-3,
                 "noise_floor_001": 1e-4, "noise_memory_0": 1e-3, "wnoise_memory": 2e-3,
                 "wnoise_floor": 3e-3, "wnoise_std": 0.01, "wnoise_memory_0": 5e-4,
                 "wd_small": 0.1, "wd_large": 0.2, "wd_min_norm_gap": 1e-4,
                 "adam_pair_invisible": 0.3, "gd_pair_invisible": 1e-3,
                 "adam_pair_function": 1e-4, "N_noise": 150}
    bad = {**cond, "noise": {**cond["noise"], "target/std": np.array([0.0, 0.01, 0.03])}}
    with pytest.raises(ValueError, match="include 0.1"):
        study.conditions_numbers(bad)


def _twin_data(zz_diffs, zm_ab=0.5, zm_30=0.25):
    """Hand-made twin runs: after C the B twin differs by ``zz_diffs[p]`` and 1/8 in uu, vv."""
    n = len(zz_diffs)
    B = np.eye(4)
    start = np.repeat(_shift(B, "uu", 0.25)[None], n, axis=0)
    ab = np.repeat(B[None, None, None], 2, axis=0).repeat(n, axis=1).repeat(2, axis=2)
    ab[-1, :, 1] = _shift(B, "zm", zm_ab)
    c = np.repeat(ab[-1:], 3, axis=0)
    c[1, :, 1] = _shift(B, "zm", zm_30)
    for p, dz in enumerate(zz_diffs):
        c[2, p, 1] = _shift(_shift(_shift(B, "zz", dz), "uu", 0.125), "vv", 0.125)
    c_loss = np.full((200, n, 2), 1e-3)
    c_loss[:10] = 2.0
    c_loss[100:, -1, 1] = 4e-3
    return {"start": start, "ab": ab, "ab_epoch": np.array([0, 100]),
            "ab_loss": np.ones((100, n, 2)), "c": c, "c_epoch": np.array([0, 50, 100]),
            "c_loss": c_loss}


def test_median_twin_pair_of_hand_made_twins():
    # final invisible distances grow with |zz difference|: order 1, 2, 0 -> the middle is 2
    assert twins.median_twin_pair(_twin_data([0.75, 0.0, 0.25])) == 2


def network_check_inputs():
    """Hand-made network check: task C for random twins at N = 60 and 80 (3 epochs)."""
    pair = twins.random_overlaps(2, 6)
    s = twin_study.NetworkCheckSettings(Ns=(60, 80), epochs=3, eta=0.01, batch_size=2)
    H = {}
    for Nc in s.Ns:
        d = twins.network_twin_check(pair, N=Nc, seed=0, epochs=s.epochs, eta=s.eta,
                                     batch_size=s.batch_size)
        H.update({(k, Nc): lrtools.History.from_arrays(d, f"{k}/") for k in ("net_A", "net_B")})
        H.update({k: lrtools.History.from_arrays(d, f"{k}/") for k in ("th_A", "th_B")})
    return pair, s, H


def test_network_check_numbers():
    pair, s, H = network_check_inputs()
    n = twin_study.network_check_numbers(H, s)
    assert (n["check_N1"], n["check_N2"], n["check_batch"], n["check_epochs"]) == (60, 80, 2, 3)
    assert n["check_tau"] == pytest.approx(0.03, rel=1e-15)  # 0.01 * 3, one rounding
    g0 = memory.gaps(pair[0], pair[1], "erf")
    # the theory starts exactly at the twins (float64 round-off of the stored overlaps)
    assert n["check_vis_0"] == pytest.approx(g0["visible"], abs=1e-14)
    assert n["check_inv_0"] == pytest.approx(g0["invisible"], abs=1e-14)
    zperp0 = [memory.outside_span(t) for t in pair]
    assert min(abs(n["check_zperp_start"] - z) for z in zperp0) < 1e-14  # same, as above
    loss = [H[(f"net_{t}", 80)].loss.mean() for t in "AB"]  # 3 epochs: the last 20 are all
    assert n["check_loss"] == pytest.approx(max(loss), rel=1e-15)
    with pytest.raises(ValueError, match="two network sizes"):
        twin_study.network_check_numbers(H, s.replace(Ns=(60,)))
    gap = twin_study.network_check_gaps(H, s.Ns)
    assert set(gap) == {(src, k) for src in (60, 80, "th") for k in ("visible", "invisible")}


def _holonomy(dcs, ratio, cosine):
    return {"holonomy": {"dcs": np.array(dcs), "ratio": np.array(ratio),
                         "cosine": np.array(cosine), "chord": np.zeros(len(dcs))}}


def test_holonomy_numbers_say_what_the_prediction_does_at_the_largest_loop():
    dcs = [0.01, 0.02, 0.04, 0.1, 0.4]
    err = 0.5 * np.array(dcs)  # relative error proportional to the loop size
    n = study.holonomy_numbers(_holonomy(dcs, 1 - err, [1.0] * 4 + [-0.99]))
    assert n["holonomy_error_slope"] == pytest.approx(1.0)
    assert n["holonomy_ratio_small"] == pytest.approx(0.995)
    assert n["holonomy_misalignment_small"] == 0.0
    assert n["holonomy_large_verdict"].startswith("fails")
    n = study.holonomy_numbers(_holonomy(dcs, 1 - err, [1.0] * 5))
    assert n["holonomy_large_verdict"] == "is off by more than 10%"
    n = study.holonomy_numbers(_holonomy(dcs[:4], 1 - err[:4], [1.0] * 4))
    assert n["holonomy_large_verdict"] == "still holds"
    with pytest.raises(ValueError, match="two loops"):
        study.holonomy_numbers(_holonomy([0.05, 0.2], [0.99, 0.9], [1.0, 1.0]))
