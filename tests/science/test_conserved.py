"""Chapter 4 science: what learning conserves (JS, K, the balance) and weight decay."""

import numpy as np
import pytest
from conftest import assert_close

import lrtools
from lrtools import LowRankRNN, Overlaps, conserved, memory, tasks, theory

A = tasks.ExponentialFilter(c=0.2)


@pytest.fixture(scope="module")
def theta2():
    return memory.paper_theta2(N=500, seed=0)


def test_flow_conserves_invariants_and_balance(theta2):
    h = memory.run_phases(theta2, memory.filter_phases([2000, 2000], [0.2, 0.4], 5e-3),
                          mode="flow", flow_points=50)
    for part in h:
        Q = conserved.conserved(part)
        assert Q.shape == (50, 5)
        # DOP853 at rtol 1e-10 over O(1) changes of the overlaps: <= 1e-8 asked
        assert np.max(np.abs(Q - conserved.conserved(theta2))) < 1e-8
    assert memory.gaps(theta2, h[-1].final)["invisible"] > 0.1  # the overlaps did move


def test_balance_is_conserved_by_the_nonlinear_flow_too(theta2):
    # the rescaling u -> l u, v -> v / l is a symmetry for every phi
    fl = theory.flow(theta2, A, t_end=10.0, n_points=20, phi="erf")
    b = conserved.balance(fl)
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
    # k_drift and k_entries read the same K from the snapshots
    assert conserved.k_drift(h)[-1] == pytest.approx(np.max(np.abs(K1 - K0)), rel=1e-12)
    pairs = [(0, 1), (2, 2)]
    assert_close(conserved.k_entries(h, pairs)[-1], [K1[0, 1], K1[2, 2]], rtol=1e-12)


def test_gd_drift_of_conserved_quantities_is_eta_squared_per_step(theta2):
    drift = []
    for eta in (1e-2, 5e-3, 2.5e-3):
        h = theory.learn(theta2, A, epochs=1, eta=eta)
        drift.append(np.max(np.abs(conserved.conserved(h.final) - conserved.conserved(theta2))))
    slope = np.polyfit(np.log([1e-2, 5e-3, 2.5e-3]), np.log(drift), 1)[0]
    assert slope == pytest.approx(2.0, abs=0.05)  # O(eta^2), next order O(eta^3) is 2% here


def test_adam_breaks_the_conserved_quantities(theta2):
    net = LowRankRNN.from_overlaps(theta2, N=200, seed=2)
    gd = lrtools.train(net.copy(), A, epochs=400, eta=5e-3)
    adam = lrtools.train(net.copy(), A, epochs=400, eta=1e-3, optimizer="adam")
    Q0 = conserved.conserved(theta2)
    d_gd = np.max(np.abs(conserved.conserved(gd.final) - Q0))
    d_adam = np.max(np.abs(conserved.conserved(adam.final) - Q0))
    assert adam.loss[-1] < 0.1 * adam.loss[0] and gd.loss[-1] < 0.1 * gd.loss[0]
    # measured: 0.43 (Adam) vs 5.4e-3 (GD): per-entry scaling ignores the Lax structure
    assert d_adam > 20 * d_gd


def test_k_needs_vector_snapshots(theta2):
    h = theory.learn(theta2, A, epochs=1, eta=5e-3)
    with pytest.raises(ValueError, match="no vector snapshots"):
        conserved.k_drift(h)
    with pytest.raises(ValueError, match="no vector snapshots"):
        conserved.k_entries(h, [(0, 1)])


def test_weight_decay_shrinks_the_invariants_exactly(theta2):
    wd = 0.05
    fl = theory.flow(theta2, A, t_end=10.0, n_points=11, weight_decay=wd)
    Q = conserved.conserved(fl)
    expected = conserved.conserved(theta2)[None] * np.exp(-2 * wd * fl.time)[:, None]
    assert_close(Q, expected, atol=1e-8)  # d(JS)/dtau = [Gamma, JS] - 2 wd JS


def test_weight_decay_erases_memory_at_the_predicted_rate(theta2):
    r = memory.history_pair(theta2, epochs=(3000, 1000, 1000), eta=5e-3)
    eta, wd, epochs = 5e-3, 0.03, 20000
    d = conserved.decay_under_weight_decay(Overlaps(r["aba"]), Overlaps(r["aaa"]), A, eta, wd,
                                           epochs, record_every=500)
    late = d["epoch"] >= epochs // 2
    rate = lrtools.fits.fit_rate(d["epoch"][late], d["invisible"][late])
    # prediction 2 eta wd holds for wd << loss curvature; measured 5% above it
    assert rate == pytest.approx(float(d["predicted_rate"]), rel=0.1)
    assert d["invisible"][-1] < 1e-2 * d["invisible"][0]


def test_weight_decay_ends_at_the_min_norm_point(theta2):
    h = theory.learn(theta2, A, epochs=20000, eta=5e-3, weight_decay=0.1)
    S = h.final
    # exponential approach, 2 eta wd * 20000 = 20 e-foldings from O(1)
    assert memory.gaps(S, conserved.min_norm_overlaps(S))["invisible"] < 1e-6


def test_predicted_decay_rate_and_its_domain():
    # -2 log(1 - eta w), close to 2 eta w for small eta w
    assert conserved.predicted_decay_rate(5e-3, 0.1) == pytest.approx(1e-3, rel=1e-3)
    with pytest.raises(ValueError, match="eta \\* weight_decay"):
        conserved.predicted_decay_rate(10.0, 0.2)
    # still importable from lrtools.memory, where other modules look for it
    assert memory.predicted_decay_rate is conserved.predicted_decay_rate
