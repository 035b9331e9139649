"""Chapter 4: conserved quantities, the memory of training history and its decoding."""

import numpy as np
import pytest
from conftest import assert_close

import lrtools
from lrtools import LowRankRNN, Overlaps, memory, tasks, theory

A = tasks.ExponentialFilter(c=0.2)
B = tasks.ExponentialFilter(c=0.4)


@pytest.fixture(scope="module")
def theta2():
    return memory.paper_theta2(N=500, seed=0)


@pytest.fixture(scope="module")
def broad():
    # a start with O(1) cross overlaps (the nonlinear experiment's recipe)
    return Overlaps(memory.random_overlaps(8, 5)[3], memory.NAMES)


# --- conserved quantities ---------------------------------------------------------


def test_theta2_has_the_papers_invisible_overlaps(theta2):
    S1 = LowRankRNN.random(N=500, rank=1, seed=0).overlaps()
    assert theta2["uu"] == 2.048 and theta2["mu"] == 0.8
    for key in S1.visible("linear"):
        assert theta2[key] == S1[key]


def test_flow_conserves_invariants_and_balance(theta2):
    h = memory.run_phases(theta2, memory.filter_phases([2000, 2000], [0.2, 0.4], 5e-3),
                          mode="flow", flow_points=50)
    for part in h:
        Q = memory.conserved(part)
        assert Q.shape == (50, 5)
        # DOP853 at rtol 1e-10 over O(1) changes of the overlaps: <= 1e-8 asked
        assert np.max(np.abs(Q - memory.conserved(theta2))) < 1e-8
    assert memory.gaps(theta2, h[-1].final)["invisible"] > 0.1  # the overlaps did move


def test_balance_is_conserved_by_the_nonlinear_flow_too(theta2):
    # the rescaling u -> l u, v -> v / l is a symmetry for every phi
    fl = theory.flow(theta2, A, t_end=10.0, n_points=20, phi="erf")
    b = memory.balance(fl)
    inv = theory.invariants(fl)
    assert np.max(np.abs(b - b[0])) < 1e-8  # integration tolerance, as above
    assert np.max(np.abs(inv - inv[0])) > 1e-2  # the linear Lax invariants are not conserved


def test_gd_step_changes_K_by_exactly_eta2_X_Gamma_J_Gamma_XT(theta2):
    # K' = X (I - eta G) J (I - eta G) X^T = K + eta^2 X G J G X^T, since G J = -J G
    net = LowRankRNN.from_overlaps(theta2, N=300, seed=1)
    X0 = net.X.copy()
    eta = 5e-3
    h = lrtools.train(net, A, epochs=1, eta=eta, snapshot_every=1)
    G = theory.gamma(Overlaps.from_vectors(X0, net.names), A)
    J = np.array([-1.0, -1.0, 1.0, 1.0])
    X1 = h.vectors[-1]
    K0, K1 = (X0 * J) @ X0.T, (X1 * J) @ X1.T
    predicted = eta**2 * (X0 @ G * J) @ G @ X0.T
    assert np.max(np.abs(predicted)) > 1e-6  # a real change ...
    assert_close(K1 - K0, predicted, atol=1e-12)  # ... equal to the formula up to round-off


def test_gd_drift_of_conserved_quantities_is_eta_squared_per_step(theta2):
    drift = []
    for eta in (1e-2, 5e-3, 2.5e-3):
        h = theory.learn(theta2, A, epochs=1, eta=eta)
        drift.append(np.max(np.abs(memory.conserved(h.final) - memory.conserved(theta2))))
    slope = np.polyfit(np.log([1e-2, 5e-3, 2.5e-3]), np.log(drift), 1)[0]
    assert slope == pytest.approx(2.0, abs=0.05)  # O(eta^2), next order O(eta^3) is 2% here


def test_adam_breaks_the_conserved_quantities(theta2):
    net = LowRankRNN.from_overlaps(theta2, N=200, seed=2)
    gd = lrtools.train(net.copy(), A, epochs=400, eta=5e-3)
    adam = lrtools.train(net.copy(), A, epochs=400, eta=1e-3, optimizer="adam")
    Q0 = memory.conserved(theta2)
    d_gd = np.max(np.abs(memory.conserved(gd.final) - Q0))
    d_adam = np.max(np.abs(memory.conserved(adam.final) - Q0))
    assert adam.loss[-1] < 0.1 * adam.loss[0] and gd.loss[-1] < 0.1 * gd.loss[0]
    # measured: 0.43 (Adam) vs 5.4e-3 (GD): per-entry scaling ignores the Lax structure
    assert d_adam > 20 * d_gd


# --- memory -----------------------------------------------------------------------


def test_aba_memory_under_gd(theta2):
    r = memory.history_pair(theta2, epochs=(3000, 1000, 1000), eta=5e-3)
    # measured: function gap 6.1e-5 (A2 not fully converged), invisible 2.9e-3
    assert r["function"] < 2e-4
    assert r["invisible"] > 10 * r["function"]
    assert r["loss"] < 1e-7


def test_flow_remembers_with_every_conserved_quantity_fixed(broad):
    r = memory.flow_memory(broad.matrix[None], learning_time=20.0)
    assert r["loss"][0] < 1e-15  # converged A phases
    assert r["function"][0] < 1e-8  # same behaviour
    assert r["conserved_drift"][0] < 1e-9  # integration error only
    # measured 7.1e-4, stable to 1e-9 when rtol goes from 1e-10 to 1e-12
    assert r["invisible"][0] > 1e-4


def test_gd_memory_tends_to_the_flow_memory_linearly(theta2):
    r = memory.memory_vs_eta(theta2, [5e-3, 2.5e-3], learning_times=(12.0, 12.0, 12.0))
    dev = np.max(np.abs(r["aba"] - r["flow_aba"]), axis=(1, 2))
    # O(eta) discretisation term: ratio 2 at first order; measured 2.26 at these eta
    assert 1.8 < dev[0] / dev[1] < 2.6
    assert float(r["flow_invisible"]) > 1e-4  # the flow's own memory (2.5e-4)


def test_horizontal_directions_are_bracket_generating(broad):
    h = memory.horizontal_span(broad)
    assert h["level_set_dim"] == 5
    assert h["tangent"] < 1e-7  # fields and brackets keep the conserved quantities
    sv = h["brackets"]
    assert h["fields"][2] > 1e-3 * h["fields"][0]  # three independent flow directions
    # the brackets add two more: 5 = the whole level set (6th = [F1, F2] = 0)
    assert sv[4] > 1e-4 * sv[0] and sv[5] < 1e-8 * sv[0]


def test_weight_decay_shrinks_the_invariants_exactly(theta2):
    wd = 0.05
    fl = theory.flow(theta2, A, t_end=10.0, n_points=11, weight_decay=wd)
    Q = memory.conserved(fl)
    expected = memory.conserved(theta2)[None] * np.exp(-2 * wd * fl.time)[:, None]
    assert_close(Q, expected, atol=1e-8)  # d(JS)/dtau = [Gamma, JS] - 2 wd JS


def test_weight_decay_erases_memory_at_the_predicted_rate(theta2):
    r = memory.history_pair(theta2, epochs=(3000, 1000, 1000), eta=5e-3)
    eta, wd, epochs = 5e-3, 0.03, 20000
    d = memory.decay_under_weight_decay(Overlaps(r["aba"]), Overlaps(r["aaa"]), A, eta, wd,
                                        epochs, record_every=500)
    late = d["epoch"] >= epochs // 2
    rate = memory.fit_rate(d["epoch"][late], d["invisible"][late])
    # prediction 2 eta wd holds for wd << loss curvature; measured 5% above it
    assert rate == pytest.approx(float(d["predicted_rate"]), rel=0.1)
    assert d["invisible"][-1] < 1e-2 * d["invisible"][0]


def test_weight_decay_ends_at_the_min_norm_point(theta2):
    h = theory.learn(theta2, A, epochs=20000, eta=5e-3, weight_decay=0.1)
    S = h.final
    # exponential approach, 2 eta wd * 20000 = 20 e-foldings from O(1)
    assert memory.gaps(S, memory.min_norm_overlaps(S))["invisible"] < 1e-6


# --- the fused reduced erf theory ---------------------------------------------------


@pytest.mark.parametrize("task", [
    tasks.FlipFlop(dt=0.05, t_max=20.0, batch_size=8),
    tasks.DecisionMaking(dt=0.05, t_max=20.0, batch_size=8),
    tasks.TeacherStudent(batch_size=8),
], ids=["flipflop", "decision", "teacher"])
def test_fused_erf_kernel_matches_theory(task):
    S = memory.random_overlaps(3, 0)
    batch = task.sample(np.random.default_rng(1))
    w = task.loss_weights(batch[2])
    L, G = theory.loss_and_gamma_many(S, batch, w, task.dt, "erf")
    for i in range(3):
        L0, G0 = theory.loss_and_gamma(Overlaps(S[i]), batch, w, task.dt, "erf")
        assert L[i] == pytest.approx(L0, rel=1e-12)  # the same sums in another order
        assert_close(G[i], G0, atol=1e-12 * np.max(np.abs(G0)))


def test_learn_many_is_the_exact_map_on_the_same_batches():
    task = tasks.FlipFlop(dt=0.05, t_max=20.0, batch_size=4)
    S = memory.random_overlaps(2, 3)
    r = theory.learn_many(S, task, 20, 0.05, "erf", seed=7, record_every=10)
    for i in range(2):
        h = theory.learn(Overlaps(S[i]), task, epochs=20, eta=0.05, phi="erf", seed=7)
        assert_close(r["overlaps"][-1, i], h.final.matrix, atol=1e-12)
        assert_close(r["loss"][:, i], h.loss, rtol=1e-11)


def test_eta_drop_divides_the_rate_once():
    task = tasks.DecisionMaking(dt=0.05, t_max=20.0, batch_size=8)
    S = memory.random_overlaps(2, 4)
    r = theory.learn_many(S, task, 5, 0.01, "erf", seed=0, eta_drop=(1e9, 5.0))
    assert np.all(r["drop_epoch"] == 0)
    assert_close(r["eta"], np.full(2, 0.002), rtol=1e-15)


def test_random_overlaps_follow_the_recipe():
    S = memory.random_overlaps(50, 0)
    assert S.shape == (50, 4, 4)
    assert np.all(np.linalg.eigvalsh(S)[:, 0] > 1e-3)
    d = np.diagonal(S, axis1=1, axis2=2)
    assert d.min() >= 0.5 and d.max() <= 2.0
    assert np.all(S[:, 0, 1:] >= 0)


# --- decoding -----------------------------------------------------------------------


def test_identical_twins_decode_at_chance():
    F = np.repeat(np.random.default_rng(0).normal(size=(10, 1, 3)), 2, axis=1)
    acc = memory.decode_history(F, n_splits=10)
    assert_close(acc, np.full(10, 0.5))  # identical features: one of each pair right


def test_history_is_decodable_from_invisible_overlaps_after_C():
    # 8 pairs, small batches and fewer epochs than the chapter (about 10 s)
    data = memory.twin_experiment(8, seed=1, epochs_ab=6000, epochs_c=1500, eta_ab=0.02,
                                  eta_c=0.03, batch_size=8, record_every=500)
    assert np.all(data["c_loss"][-50:].mean(axis=0) < 5e-3)  # both twins learned C
    f = memory.twin_features(data, "c")
    acc = memory.decode_history(f["invisible"], n_train_pairs=6, n_splits=40, seed=0)
    # 4 test networks per split, chance 0.5; measured 0.71 (sd over splits 0.2)
    assert acc.mean() > 0.6
    start = memory.decode_history(memory.twin_features(data, "start")["invisible"],
                                  n_train_pairs=6, n_splits=10, seed=0)
    assert_close(start, np.full(10, 0.5))  # identical twins at the start


def test_outside_span_is_the_norm_of_the_residual():
    X = np.random.default_rng(0).normal(size=(300, 4)) @ np.triu(np.ones((4, 4)))
    coef, *_ = np.linalg.lstsq(X[:, :3], X[:, 3], rcond=None)
    r = X[:, 3] - X[:, :3] @ coef
    S = Overlaps.from_vectors(X, memory.NAMES)
    # Schur complement of the Gram matrix = squared residual norm (float64 round-off)
    assert memory.outside_span(S) == pytest.approx(r @ r / 300, rel=1e-10)


def test_network_twin_check_starts_from_the_twins():
    twins = memory.random_overlaps(2, 6)
    d = memory.network_twin_check(twins, N=60, epochs=2, eta=0.01, batch_size=2)
    for i, t in enumerate("AB"):
        net = lrtools.History.from_arrays(d, f"net_{t}/")
        th = lrtools.History.from_arrays(d, f"th_{t}/")
        assert_close(net.overlaps[0], twins[i], atol=1e-12)  # exact overlaps at the start
        assert_close(th.overlaps[0], twins[i], atol=1e-15)
        # same batch, finite N = 60: the Gaussian limit holds to O(N^-1/2) ~ 13%
        assert net.loss[0] == pytest.approx(th.loss[0], rel=0.3)
    g = memory.gap_series(lrtools.History.from_arrays(d, "th_A/"),
                          lrtools.History.from_arrays(d, "th_B/"))
    assert g["visible"].shape == (3,) and g["invisible"][0] > 0


# --- the chapter's key numbers and figures (hand-made inputs) -------------------------

NAMES = memory.NAMES


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
    n = memory.linear_memory_numbers(data)
    # binary fractions: every difference is exact in float64
    assert n == {"fig3_map_error": 0.0625, "fig3_function_gap": 0.125, "fig3_visible_gap": 0.125,
                 "fig3_invisible_gap": 0.25, "fig3_loss_A1": 1e-3, "fig3_loss_A2": 2e-3}
    with pytest.raises(ValueError, match="three phases"):
        memory.linear_memory_numbers({**data, "net_runs": runs[:2]})


def test_conserved_drift_numbers_on_hand_made_K_and_Q():
    K = np.array([[2.0, -4.0]] * 5 + [[2.0, -3.0], [2.0, -2.0]])
    K[1, 0] = 2.5
    Q = np.zeros((51, 5))
    Q[40:, 0] = 0.25
    Q[-1, 1] = 1.0
    data = {"K": K, "k_epochs": np.array([0, 10, 20, 30, 40, 45, 50]), "Q": Q,
            "bounds": np.array([0, 10, 20, 30, 40, 50])}
    n = memory.conserved_drift_numbers(data)
    # scale 4; clean drift 0.5 / 4, noisy drift 2 / 4 (from the end of the clean part)
    assert n == {"K_scale": 4.0, "K_drift_clean": 0.125, "K_drift_noise": 0.5,
                 "Q_drift_clean": 0.25, "Q_drift_noise": 1.0}
    with pytest.raises(ValueError, match="five phases"):
        memory.conserved_drift_numbers({**data, "bounds": np.array([0, 25, 50])})


def test_adam_memory_numbers_on_hand_made_runs():
    M0 = _base()
    S0 = Overlaps(M0, NAMES)
    ends = [M0, _shift(M0, "zz", 0.25), _shift(M0, "zm", 0.125)]
    losses = [1e-4, 2e-4, 3e-4, 4e-4, 5e-4]
    adam_runs = [_hist(M0, ends[i // 2] if i % 2 == 0 else M0, loss=losses[i]) for i in range(5)]
    gd_runs = [_hist(M0, M0) for _ in range(5)]
    data = {"adam_runs": adam_runs, "gd_runs": gd_runs, "S0": S0, "adam": _hist(M0, M0),
            "gd": _hist(M0, M0)}
    n = memory.adam_memory_numbers(data)
    # gaps of binary fractions are exact; the joined histories end at the start: zero drift
    assert n == {"adam_function_gap": 0.125, "adam_visible_gap": 0.125,
                 "adam_invisible_gap": 0.25, "gd7_invisible_gap": 0.0, "adam_Q_drift": 0.0,
                 "gd7_Q_drift": 0.0, "adam_loss": 5e-4}
    with pytest.raises(ValueError, match="five phases"):
        memory.adam_memory_numbers({**data, "gd_runs": gd_runs[:3]})


def test_horizontal_span_numbers_counts_ranks():
    span = {"fields": np.array([3.0, 2.0, 1e-10]),
            "brackets": np.array([4.0, 3.0, 2.0, 1.0, 0.5, 1e-12]), "level_set_dim": 5}
    n = memory.horizontal_span_numbers(span)
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
    n = memory.flow_memory_numbers(scans)
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
        memory.flow_memory_numbers({**scans, "eta": 3e-3})


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
    n = memory.conditions_numbers(cond)
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
        memory.conditions_numbers(bad)


def test_chapter_plots_draw_their_panels(scans, cond):
    import matplotlib.pyplot as plt

    fig = memory.plot_flow_memory(scans)
    assert [ax.get_title()[0] for ax in fig.axes] == ["a", "b", "c"]
    assert fig.axes[2].get_legend_handles_labels()[1][1] == r"GD, $\eta$ = 5e-3"
    plt.close(fig)
    fig = memory.plot_conditions(scans, cond)
    assert [ax.get_title()[0] for ax in fig.axes] == ["a", "b", "c", "d"]
    assert len(fig.axes[3].patches) == 6  # three gaps for GD and for Adam
    plt.close(fig)


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


def test_twin_numbers_on_hand_made_twins():
    n = memory.twin_numbers(_twin_data([0.5, -0.25]), eta_c=1.0)
    inv = np.hypot(0.125, [0.5, 0.25])  # invisible distance: vv and zz differ
    # norms, means and sds in another order: a few roundings
    assert n.pop("inv_dist_c") == pytest.approx(inv.mean(), rel=1e-12)
    assert n.pop("inv_dist_c_sd") == pytest.approx(inv.std(), rel=1e-12)
    # mean of 100 equal numbers: pairwise summation may round
    assert n.pop("loss_c_max") == pytest.approx(4e-3, rel=1e-12)
    # learning time 30 at eta_c = 1 is epoch 30 of C: the next record (epoch 50) is used
    assert n == {"n_pairs": 2, "epochs_ab": 100, "epochs_c": 100, "eta_c": 1.0, "tau_c": 100.0,
                 "vis_dist_ab": 0.5, "inv_dist_ab": 0.0, "vis_dist_c": 0.125,
                 "vis_dist_c_sd": 0.0, "vis_dist_30": 0.25,
                 "loss_c_start": 2.0, "balance_twin_gap": 0.0, "balance_start_drift": 0.25,
                 "vv_gap": 0.125, "uu_gap": 0.125, "zz_gap": 0.375, "zz_B_larger": 0.5}
    with pytest.raises(ValueError, match="positive"):
        memory.twin_numbers(_twin_data([0.5]), eta_c=0.0)


def test_median_twin_pair():
    # final invisible distances grow with |zz difference|: order 1, 2, 0 -> the middle is 2
    assert memory.median_twin_pair(_twin_data([0.75, 0.0, 0.25])) == 2


def test_decoding_numbers_names_and_values():
    acc = {("start", "visible", 0.0): np.array([0.5, 0.5]),
           ("after A / B", "invisible", 0.3): np.array([0.5, 1.0]),
           ("after C", "visible", 0.3): np.array([0.25, 0.75, 1.0, 1.0])}
    n = memory.decoding_numbers(acc)
    # means and population sds of binary fractions: exact
    assert n == {"acc_start_visible_0": 0.5, "acc_start_visible_0_sd": 0.0,
                 "acc_after_AB_invisible_03": 0.75, "acc_after_AB_invisible_03_sd": 0.25,
                 "acc_after_C_visible_03": 0.75, "acc_after_C_visible_03_sd": np.sqrt(0.09375)}
    with pytest.raises(ValueError, match="no accuracies"):
        memory.decoding_numbers({("start", "visible", 0.0): np.array([])})


def test_network_check_numbers_and_plot():
    import matplotlib.pyplot as plt

    twins = memory.random_overlaps(2, 6)
    check = dict(epochs=3, eta=0.01, batch_size=2)
    H = {}
    for Nc in (60, 80):
        d = memory.network_twin_check(twins, N=Nc, seed=0, **check)
        H.update({(k, Nc): lrtools.History.from_arrays(d, f"{k}/") for k in ("net_A", "net_B")})
        H.update({k: lrtools.History.from_arrays(d, f"{k}/") for k in ("th_A", "th_B")})
    n = memory.network_check_numbers(H, [60, 80], **check)
    assert (n["check_N1"], n["check_N2"], n["check_batch"], n["check_epochs"]) == (60, 80, 2, 3)
    assert n["check_tau"] == pytest.approx(0.03, rel=1e-15)  # 0.01 * 3, one rounding
    g0 = memory.gaps(twins[0], twins[1], "erf")
    # the theory starts exactly at the twins (float64 round-off of the stored overlaps)
    assert n["check_vis_0"] == pytest.approx(g0["visible"], abs=1e-14)
    assert n["check_inv_0"] == pytest.approx(g0["invisible"], abs=1e-14)
    zperp0 = [memory.outside_span(t) for t in twins]
    assert min(abs(n["check_zperp_start"] - z) for z in zperp0) < 1e-14  # same, as above
    loss = [H[(f"net_{t}", 80)].loss.mean() for t in "AB"]  # 3 epochs: the last 20 are all
    assert n["check_loss"] == pytest.approx(max(loss), rel=1e-15)
    with pytest.raises(ValueError, match="two network sizes"):
        memory.network_check_numbers(H, [60], **check)
    fig = memory.plot_network_check(H, [60, 80])
    assert [ax.get_title()[0] for ax in fig.axes] == ["a", "b"]
    assert len(fig.axes[0].lines) == 6  # visible and invisible: two sizes and the theory
    plt.close(fig)


def test_one_step_drift_is_second_order(theta2):
    d = memory.one_step_drift(theta2, A, [1e-2, 5e-3])
    assert d.shape == (2,)
    # O(eta^2) per step: halving eta divides the drift by 4 (next order: 2% here)
    assert d[0] / d[1] == pytest.approx(4.0, rel=0.05)


def test_scan_builders_reject_bad_settings():
    S = Overlaps(_base(), NAMES)
    with pytest.raises(ValueError, match="positive"):
        memory.memory_vs_loop_size(S, [0.1, 0.0])
    with pytest.raises(ValueError, match="positive"):
        memory.weight_decay_map({"aba": _base(), "aaa": _base()}, A, [0.1, -0.1])
