"""The linear theory is exact: the overlap map against the N-dimensional network.

Tolerances: the map ``S' = (I - eta Gamma) S (I - eta Gamma)`` is an algebraic
identity for linear networks, so simulation and theory differ only by float64
round-off (~1e-16 per operation). Over hundreds of epochs of a contracting
iteration the accumulated difference stays near 1e-14; we demand 1e-10, which
no modelling error could meet (the first-order map misses by ~1e-5 per step).
"""

import numpy as np
import pytest
from conftest import assert_close, rel_err
from reference import network_gradient, random_batch

import lrtools
from lrtools import LowRankRNN, Overlaps, theory

EXACT = 1e-10


@pytest.mark.parametrize("N", [50, 400])
@pytest.mark.parametrize("rank", [1, 2])
def test_network_training_equals_exact_overlap_map(N, rank, filter_task, oscillator_task):
    task = filter_task if rank == 1 else oscillator_task
    net = LowRankRNN.random(N=N, rank=rank, phi="linear", seed=N + rank)
    S0 = net.overlaps()
    sim = lrtools.train(net, task, epochs=300, eta=5e-3, optimizer="gd")
    th = theory.learn(S0, task, epochs=300, eta=5e-3, phi="linear", update="exact")
    assert sim.overlaps.shape == th.overlaps.shape == (301, 2 + 2 * rank, 2 + 2 * rank)
    assert sim.loss.shape == th.loss.shape == (300,)
    # learning happened (otherwise agreement would be trivial)
    assert th.loss[-1] < 0.9 * th.loss[0]
    assert np.max(np.abs(sim.loss - th.loss) / th.loss) < EXACT
    assert rel_err(sim.overlaps, th.overlaps) < EXACT


def test_network_gradient_is_X_gamma_over_N(filter_task):
    """The core identity: dL/dX = X Gamma / N for a loss that depends on S only."""
    net = LowRankRNN.random(N=120, rank=1, seed=4)
    batch = filter_task.sample()
    w = filter_task.loss_weights(batch[2])
    L_net, grad = net.loss_and_gradient(batch, w, filter_task.dt)
    L_th, Gam = theory.loss_and_gamma(net.overlaps(), batch, w, filter_task.dt, "linear")
    assert L_net == pytest.approx(L_th, rel=1e-13)
    assert rel_err(grad, net.X @ Gam / net.N) < 1e-12
    # linear: Gamma couples left vectors (v, z) with right vectors (m, u) only
    J = lrtools.overlaps.left_right(net.names)
    assert_close(Gam[np.equal.outer(J, J)], np.zeros(8), atol=0.0)


@pytest.mark.parametrize("N", [6, 30, 1000])
def test_network_run_equals_theory_run(N):
    rng = np.random.default_rng(N)
    A = rng.standard_normal((6, 6))
    S = Overlaps(A @ A.T / 6, lrtools.vector_names(rank=2))
    net = LowRankRNN.from_overlaps(S, N=N, phi="linear", seed=1)
    x = rng.standard_normal((3, 200, 1))
    y_net = net.run(x, dt=0.05)
    y_th = theory.run(net.overlaps(), x, dt=0.05, phi="linear")
    assert y_net.shape == y_th.shape == (3, 200, 1)
    assert rel_err(y_net, y_th) < 1e-12


def test_run_matches_training_forward(filter_task):
    net = LowRankRNN.random(N=80, rank=1, seed=2)
    batch = filter_task.sample()
    y = net.run(batch[0], dt=filter_task.dt)
    w = filter_task.loss_weights(batch[2])
    L, _ = net.loss_and_gradient(batch, w, filter_task.dt)
    assert np.sum(w * (y - batch[1]) ** 2) == pytest.approx(L, rel=1e-13)


def test_first_order_map_differs_by_eta_squared(filter_task):
    S0 = LowRankRNN.random(N=300, rank=1, seed=5).overlaps()
    Gam = theory.gamma(S0, filter_task)
    for eta in (1e-2, 5e-3):
        ex = theory.learn(S0, filter_task, epochs=1, eta=eta, update="exact")
        fo = theory.learn(S0, filter_task, epochs=1, eta=eta, update="first-order")
        # one step: the difference is exactly eta^2 Gamma S Gamma
        assert_close(ex.overlaps[1] - fo.overlaps[1], eta**2 * Gam @ S0.matrix @ Gam,
                     atol=1e-15)
    # at fixed learning time tau = eta * epochs the per-step O(eta^2) gaps add up
    # to O(eta): halving eta halves the gap, up to O(eta) corrections
    gaps = []
    for eta in (4e-3, 2e-3):
        ex = theory.learn(S0, filter_task, epochs=round(1.0 / eta), eta=eta, update="exact")
        fo = theory.learn(S0, filter_task, epochs=round(1.0 / eta), eta=eta,
                          update="first-order")
        gaps.append(np.max(np.abs(ex.overlaps[-1] - fo.overlaps[-1])))
    assert 1.8 < gaps[0] / gaps[1] < 2.2


def test_direct_update_is_plain_gradient_descent_on_sigma(filter_task):
    S0 = LowRankRNN.random(N=300, rank=1, seed=6).overlaps()
    eta = 1e-2
    d = theory.learn(S0, filter_task, epochs=1, eta=eta, update="direct").final
    # dL/dsigma by central finite differences, each overlap a single variable
    h = 1e-6
    for name in S0.pair_names:
        grad = (theory.loss(S0.replace(**{name: S0[name] + h}), filter_task)
                - theory.loss(S0.replace(**{name: S0[name] - h}), filter_task)) / (2 * h)
        # O(h^2) truncation plus 1e-16 / h round-off: 1e-8 absolute is ample
        assert d[name] == pytest.approx(S0[name] - eta * grad, abs=1e-8), name
    for name in S0.invisible("linear"):
        assert d[name] == S0[name]


@pytest.mark.parametrize("phi", ["linear", "erf", "tanh"])
def test_reduced_loss_gradient_matches_finite_differences(phi):
    rng = np.random.default_rng(7)
    A = rng.standard_normal((4, 4))
    S = Overlaps(A @ A.T / 4 + 0.3 * np.eye(4), lrtools.vector_names())
    batch = random_batch(rng, B=3, T=60)
    w = batch[2] / batch[2].sum()
    L, Gam = theory.loss_and_gamma(S, batch, w, 0.1, phi)
    D = theory.overlap_gradient(Gam)
    h = 1e-6
    for name in S.pair_names:
        Lp = theory.loss_and_gamma(S.replace(**{name: S[name] + h}), batch, w, 0.1, phi)[0]
        Lm = theory.loss_and_gamma(S.replace(**{name: S[name] - h}), batch, w, 0.1, phi)[0]
        a, b = S.split(name)
        i, j = S.index(a), S.index(b)
        # central differences: O(h^2) ~ 1e-12 truncation, ~1e-10 round-off
        assert D[i, j] == pytest.approx((Lp - Lm) / (2 * h), rel=1e-6, abs=1e-9), name


@pytest.mark.parametrize("phi", ["linear", "erf", "tanh"])
@pytest.mark.parametrize("rank", [1, 2])
def test_network_gradient_matches_autograd(phi, rank):
    rng = np.random.default_rng(8)
    net = LowRankRNN.random(N=40, rank=rank, phi=phi, seed=9)
    net.X *= 1.5  # leave the unit-norm start so every term is exercised
    batch = random_batch(rng, B=2, T=40)
    w = batch[2] * 0.1
    L, grad = net.loss_and_gradient(batch, w, 0.1)
    L_ref, grad_ref = network_gradient(net.X, net.names, batch, w, 0.1, phi)
    # same arithmetic in a different order: agreement to ~1e-14
    assert L == pytest.approx(L_ref, rel=1e-12)
    assert rel_err(grad, grad_ref) < 1e-11


def test_preconditioner_is_jacobian_gram_matrix():
    """G = N J J^T with J the Jacobian of the overlaps with respect to the vectors."""
    N = 7
    X = np.random.default_rng(10).standard_normal((N, 4))
    S = Overlaps.from_vectors(X, lrtools.vector_names())
    G, names = theory.preconditioner(S)
    iu = np.triu_indices(4)
    jac = np.zeros((len(names), N * 4))
    for p, (a, b) in enumerate(zip(*iu, strict=True)):
        dS = np.zeros((N, 4))
        dS[:, a] += X[:, b] / N
        dS[:, b] += X[:, a] / N
        jac[p] = dS.ravel()
    assert_close(G, N * jac @ jac.T, atol=1e-13)
    assert np.linalg.eigvalsh(G).min() > 0


def test_flow_matches_small_step_map(filter_task):
    S0 = LowRankRNN.random(N=300, rank=1, seed=11).overlaps()
    fl = theory.flow(S0, filter_task, t_end=2.0, n_points=5)
    assert fl.overlaps.shape == (5, 4, 4) and fl.time[-1] == 2.0
    gaps = []
    for eta in (2e-3, 1e-3):
        m = theory.learn(S0, filter_task, epochs=round(2.0 / eta), eta=eta)
        gaps.append(np.max(np.abs(m.overlaps[-1] - fl.overlaps[-1])))
    # the map is a first-order integrator of the flow: error ~ eta
    assert 1.8 < gaps[0] / gaps[1] < 2.2
    assert fl.loss[-1] < fl.loss[0]


def test_several_inputs_and_outputs_are_exact():
    """Two inputs, rank 2, two outputs: the map stays exact (any n_in, R, n_out)."""
    rng = np.random.default_rng(12)
    net = LowRankRNN.random(N=80, rank=2, n_in=2, n_out=2, seed=13)
    assert net.names == ("m1", "m2", "u1", "u2", "v1", "v2", "z1", "z2")
    batch = random_batch(rng, B=3, T=50, n_in=2, n_out=2)
    w = batch[2] * 0.02
    L, grad = net.loss_and_gradient(batch, w, 0.1)
    L_th, Gam = theory.loss_and_gamma(net.overlaps(), batch, w, 0.1, "linear")
    assert L == pytest.approx(L_th, rel=1e-13)
    assert rel_err(grad, net.X @ Gam / net.N) < 1e-12
    assert rel_err(net.run(batch[0], 0.1), theory.run(net.overlaps(), batch[0], 0.1)) < 1e-12


@pytest.mark.parametrize("phi", ["linear", "erf"])
def test_many_networks_at_once_equal_one_at_a_time(phi):
    rng = np.random.default_rng(14)
    mats = []
    for _ in range(3):
        A = rng.standard_normal((4, 4))
        mats.append(A @ A.T / 4 + 0.2 * np.eye(4))
    batch = random_batch(rng, B=4, T=60)
    w = batch[2] / batch[2].sum()
    L, Gam = theory.loss_and_gamma_many(np.array(mats), batch, w, 0.05, phi)
    assert L.shape == (3,) and Gam.shape == (3, 4, 4)
    for i, M in enumerate(mats):
        L1, G1 = theory.loss_and_gamma(Overlaps(M, lrtools.vector_names()), batch, w, 0.05, phi)
        # fused, fast-math kernel vs the generic one: round-off only
        assert L[i] == pytest.approx(L1, rel=1e-12)
        assert rel_err(Gam[i], G1) < 1e-11
