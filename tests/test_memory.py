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
    L, G = memory.erf_loss_gamma_many(S, batch, w, task.dt)
    for i in range(3):
        L0, G0 = theory.loss_and_gamma(Overlaps(S[i]), batch, w, task.dt, "erf")
        assert L[i] == pytest.approx(L0, rel=1e-12)  # the same sums in another order
        assert_close(G[i], G0, atol=1e-12 * np.max(np.abs(G0)))


def test_learn_many_is_the_exact_map_on_the_same_batches():
    task = tasks.FlipFlop(dt=0.05, t_max=20.0, batch_size=4)
    S = memory.random_overlaps(2, 3)
    r = memory.learn_many(S, task, epochs=20, eta=0.05, seed=7, record_every=10)
    for i in range(2):
        h = theory.learn(Overlaps(S[i]), task, epochs=20, eta=0.05, phi="erf", seed=7)
        assert_close(r["overlaps"][-1, i], h.final.matrix, atol=1e-12)
        assert_close(r["loss"][:, i], h.loss, rtol=1e-11)


def test_eta_drop_divides_the_rate_once():
    task = tasks.DecisionMaking(dt=0.05, t_max=20.0, batch_size=8)
    S = memory.random_overlaps(2, 4)
    r = memory.learn_many(S, task, epochs=5, eta=0.01, seed=0, eta_drop=(1e9, 5.0))
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
