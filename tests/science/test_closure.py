"""The Gaussian closure (lrtools.closure): the gains, the finite-N convergence of the
network to the reduced theory, the mean-field gradient on masked batches,
Gaussianity, departure, closure defect, projected training and the convergence study."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import assert_close
from reference import network_gradient
from scipy import special

import lrtools
from lrtools import LowRankRNN, Overlaps, closure, tasks, theory
from lrtools.fits import fit_floor, fit_power_law

SQPI2 = math.sqrt(math.pi) / 2


def _dphi(phi, h):
    if phi == "erf":
        return np.exp(-math.pi * h * h / 4)
    return 1.0 - np.tanh(h) ** 2


# --- gains --------------------------------------------------------------------

DELTAS = [0.0, 1e-8, 1e-3, 0.05, 0.2, 0.29, 0.3, 0.31, 0.6, 0.99, 1.0, 1.01, 2.0, 7.5, 40.0,
          300.0, 1e4]


def test_erf_gain_closed_form_against_quadrature():
    g, dg = theory.gain(np.array(DELTAS), "erf")
    for D, gi, dgi in zip(DELTAS, g, dg, strict=True):
        ref, ref_d = closure.gain_reference(D, "erf") if D > 0 else (1.0, -math.pi / 4)
        # closed form vs 30-digit quadrature: float64 round-off only
        assert abs(gi - ref) < 1e-14, D
        assert abs(dgi - ref_d) < 1e-14, D


def test_tanh_gain_against_high_precision_reference():
    g, dg = theory.gain(np.array(DELTAS), "tanh")
    for D, gi, dgi in zip(DELTAS, g, dg, strict=True):
        ref, ref_d = closure.gain_reference(D, "tanh") if D > 0 else (1.0, -1.0)
        # the book quotes 1e-10; Gauss-Hermite (D <= 0.3) and the trapezoid rule
        # (D > 0.3) are both exponentially accurate and reach ~2e-15 (measured)
        assert abs(gi - ref) < 1e-13, D
        assert abs(dgi - ref_d) < 1e-13, D


@pytest.mark.parametrize("phi", ["erf", "tanh"])
def test_gains_against_monte_carlo(phi):
    xi = np.random.default_rng(0).standard_normal(1_000_000)
    for D in (0.1, 1.0, 5.0):
        samples = _dphi(phi, math.sqrt(D) * xi)
        g, _ = theory.gain(D, phi)
        # Monte Carlo: within 5 standard errors
        assert abs(samples.mean() - g) < 5 * samples.std() / math.sqrt(xi.size), D


@pytest.mark.parametrize("phi", ["erf", "tanh"])
def test_gain_derivative_matches_finite_differences(phi):
    for D in (0.05, 0.3, 0.9, 1.0, 3.0):
        h = 1e-5
        fd = (theory.gain(D + h, phi)[0] - theory.gain(D - h, phi)[0]) / (2 * h)
        # central differences: O(h^2) ~ 1e-10 truncation, 1e-16 / h round-off
        assert theory.gain(D, phi)[1] == pytest.approx(fd, abs=1e-9), D


def test_stein_lemma_with_network_vectors():
    """v . phi(h) / N -> <phi'> S_vx kappa for Gaussian vectors (the reduction itself)."""
    S = tasks.teacher_overlaps()
    X = S.vectors(200_000, seed=1)
    kap = np.array([0.7, -0.4])  # h = 0.7 m - 0.4 u
    h = X[:, :2] @ kap
    D = kap @ S.matrix[:2, :2] @ kap
    g, _ = theory.gain(D, "erf")
    lhs = X[:, 2] @ special.erf(SQPI2 * h) / X.shape[0]
    rhs = g * S.matrix[2, :2] @ kap
    # O(1/sqrt(N)) fluctuation: |lhs - rhs| ~ 2e-3 at N = 2e5; 1e-2 is 5 sigma
    assert abs(lhs - rhs) < 1e-2


# --- the reduction at finite N ----------------------------------------------------


def _forward_errors(S, x, dt, phi, Ns, seeds):
    y_th = theory.run(S, x, dt, phi)
    err = np.empty((len(Ns), len(seeds)))
    for i, N in enumerate(Ns):
        for j, s in enumerate(seeds):
            net = LowRankRNN.from_overlaps(S, N, phi=phi, seed=[s, N])
            err[i, j] = np.sqrt(np.mean((net.run(x, dt) - y_th) ** 2))
    return err


@pytest.mark.parametrize("phi", ["erf", "tanh"])
def test_network_output_converges_to_theory_like_inverse_sqrt_N(phi):
    S = tasks.teacher_overlaps()
    task = tasks.TeacherStudent(batch_size=4, t_max=5.0, phi=phi)
    x, _, _ = task.sample(np.random.default_rng(0))
    Ns = [500, 2000, 8000, 32000]
    err = _forward_errors(S, x, task.dt, phi, Ns, seeds=range(4))
    fit = fit_power_law(Ns, err)
    # Stein's lemma holds up to O(N^-1/2) sampling fluctuations of v.phi(h)/N:
    # 16 points over a factor 64 in N pin the slope to about +-0.1
    assert -0.7 <= fit.slope <= -0.3, fit
    assert err[-1].mean() < err[0].mean() / 4  # and the error does shrink


def test_network_gradient_projected_on_the_vectors_converges_to_gamma():
    """X^T dL/dX -> S Gamma: the overlap update of the network tends to the theory's."""
    S = Overlaps(np.eye(4), lrtools.vector_names()).replace(vu=0.8, zu=0.3, vm=0.2, zm=0.2,
                                                           mu=0.1)
    task = tasks.FlipFlop(dt=0.1, t_max=20.0, batch_size=2)
    batch = task.sample(np.random.default_rng(2))
    w = task.loss_weights(batch[2])
    _, Gam = theory.loss_and_gamma(S, batch, w, task.dt, "erf")
    ref = S.matrix @ Gam
    Ns = [500, 4000, 32000]
    err = np.empty((3, 3))
    for i, N in enumerate(Ns):
        for s in range(3):
            net = LowRankRNN.from_overlaps(S, N, phi="erf", seed=[s, N])
            _, grad = net.loss_and_gradient(batch, w, task.dt)
            err[i, s] = np.max(np.abs(net.X.T @ grad - ref)) / np.max(np.abs(ref))
    fit = fit_power_law(Ns, err)
    # sampling error of the Gaussian averages: slope -1/2 (9 points, +-0.2)
    assert -0.7 <= fit.slope <= -0.3, fit


def _small_tasks():
    return {
        "flipflop": tasks.FlipFlop(dt=0.05, t_max=6.0, batch_size=3, wait_min=1.0,
                                   wait_max=2.0),
        "decision": tasks.DecisionMaking(dt=0.1, t_max=4.0, batch_size=3, fixation=0.5,
                                         stimulus=1.5, delay=0.5, response=1.5),
        "teacher": tasks.TeacherStudent(dt=0.05, t_max=4.0, batch_size=3),
    }


@pytest.mark.parametrize("phi", ["erf", "tanh"])
@pytest.mark.parametrize("name", ["flipflop", "decision", "teacher"])
def test_mean_field_gradient_on_masked_batches_matches_finite_differences(name, phi):
    task = _small_tasks()[name]
    rng = np.random.default_rng(11)
    A = rng.standard_normal((4, 4))
    S = Overlaps(A @ A.T / 4 + 0.3 * np.eye(4), lrtools.vector_names())
    batch = task.sample(rng)
    w = task.loss_weights(batch[2])
    assert 0 < batch[2].mean() < 1 or name == "teacher"  # a real mask (teacher: all ones)
    L, Gam = theory.loss_and_gamma(S, batch, w, task.dt, phi)
    D = theory.overlap_gradient(Gam)
    h = 1e-6
    for key in S.pair_names:
        Lp = theory.loss_and_gamma(S.replace(**{key: S[key] + h}), batch, w, task.dt, phi)[0]
        Lm = theory.loss_and_gamma(S.replace(**{key: S[key] - h}), batch, w, task.dt, phi)[0]
        a, b = S.split(key)
        # central differences: O(h^2) ~ 1e-12 truncation, ~1e-10 round-off on L ~ 1
        assert D[S.index(a), S.index(b)] == pytest.approx((Lp - Lm) / (2 * h), rel=1e-6,
                                                         abs=1e-9), key
    invisible = [S.index(a) for a in ("v", "z")]
    assert np.all(D[np.ix_(invisible, invisible)] == 0.0)  # zv, vv, zz are loss-invisible


def test_network_gradient_on_flip_flop_batch_matches_autograd():
    task = _small_tasks()["flipflop"]
    batch = task.sample(np.random.default_rng(4))
    w = task.loss_weights(batch[2])
    net = LowRankRNN.random(N=40, rank=1, phi="erf", seed=5)
    net.X *= 1.5
    L, grad = net.loss_and_gradient(batch, w, task.dt)
    L_ref, grad_ref = network_gradient(net.X, net.names, batch, w, task.dt, "erf")
    # same arithmetic in another order (torch autograd): agreement to ~1e-14
    assert L == pytest.approx(L_ref, rel=1e-12)
    assert np.max(np.abs(grad - grad_ref)) < 1e-11 * np.max(np.abs(grad_ref))


# --- lrtools.closure -------------------------------------------------------------------


def test_gaussianity_statistics():
    rng = np.random.default_rng(0)
    N = 20000
    X = rng.standard_normal((N, 4)) @ np.linalg.cholesky(tasks.teacher_overlaps().matrix).T
    g = closure.gaussianity(X)
    noise = g.noise()
    # Gaussian rows: every statistic within 4 sampling standard deviations of zero
    assert np.all(np.abs(g.excess_kurtosis) < 4 * noise["excess_kurtosis"])
    assert np.all(np.abs(g.skewness) < 4 * noise["skewness"])
    assert np.all(g.ks < 2.5 * noise["ks"])
    assert abs(g.mardia) < 4 * noise["mardia"]
    # uniform entries: excess kurtosis -6/5; KS distance ~0.06 to the fitted Gaussian
    U = rng.uniform(-1, 1, (N, 4))
    gu = closure.gaussianity(U)
    assert_close(gu.excess_kurtosis, np.full(4, -1.2), atol=0.05)  # 12 s.d. of the estimate
    assert np.all(gu.ks > 0.04)
    # Gaussian marginals, uncorrelated, but dependent: v = +-m with a random sign.
    # Each column is exactly normal; Mardia's statistic sees |v| = |m|
    m = rng.standard_normal(N)
    dep = np.stack([m, rng.standard_normal(N), m * rng.choice([-1.0, 1.0], N),
                    rng.standard_normal(N)], axis=1)
    gd = closure.gaussianity(dep)
    assert np.all(np.abs(gd.excess_kurtosis) < 4 * noise["excess_kurtosis"])
    assert gd.mardia > 10 * noise["mardia"]


def test_qq_data():
    x = np.random.default_rng(1).normal(3.0, 2.0, 1000)
    q, s = closure.qq_data(x)
    assert q.shape == s.shape == (1000,)
    assert_close(q, -q[::-1], atol=1e-12)  # symmetric normal quantiles
    assert np.all(np.diff(s) >= 0) and abs(s.mean()) < 1e-12
    assert np.max(np.abs(s - q)[50:-50]) < 0.2  # Gaussian sample: on the diagonal


def test_departure_and_closure_vanish_for_linear_networks():
    task = _small_tasks()["flipflop"]
    batch = task.sample(np.random.default_rng(0))
    w = task.loss_weights(batch[2])
    lin = LowRankRNN.random(N=300, rank=1, phi="linear", seed=1)
    # linear: the gradient is X Gamma / N, inside the span, and L_N = L(S) exactly
    assert np.max(closure.departure(lin, batch, w, task.dt)) < 1e-12
    assert abs(closure.closure_defect(lin, batch, w, task.dt)) < 1e-14
    erf = LowRankRNN(lin.X, phi="erf")
    assert np.min(closure.departure(erf, batch, w, task.dt)) > 1e-4


def test_projected_training_is_exact_for_linear_networks():
    S0 = LowRankRNN.random(N=200, rank=1, seed=3).overlaps()
    task = tasks.FlipFlop(dt=0.1, t_max=10.0, batch_size=2)
    proj = closure.train_projected(S0, 200, task, epochs=5, eta=0.1, phi="linear", seed=0)
    th = theory.learn(S0, task, epochs=5, eta=0.1, phi="linear", seed=0)
    # a linear loss depends on S only, and projection keeps S: round-off agreement
    assert np.max(np.abs(proj.overlaps - th.overlaps)) < 1e-12
    assert_close(proj.loss, th.loss, rtol=1e-11)


def test_convergence_study_shapes_and_executor():
    import concurrent.futures as cf

    S0 = Overlaps(np.eye(4), lrtools.vector_names()).replace(vu=0.8, zu=0.3)
    task = tasks.FlipFlop(dt=0.1, t_max=10.0, batch_size=2)
    c = closure.convergence_study(S0, task, [50, 100], [0, 1, 2], epochs=3, eta=0.2)
    assert c.overlap_error.shape == (2, 3) and c.error_curves.shape == (2, 3, 4)
    assert c.net_overlaps.shape == (2, 3, 4, 4, 4) and c.theory_overlaps.shape == (3, 4, 4, 4)
    assert c.departure.shape == (2, 3, 2, 4) and c.closure.shape == (2, 3, 2)
    assert np.all(c.error_curves[:, :, 0] < 1e-12)  # exact initial overlaps at every N
    with cf.ThreadPoolExecutor(2) as ex:
        c2 = closure.convergence_study(S0, task, [50, 100], [0, 1, 2], epochs=3, eta=0.2,
                                         executor=ex)
    assert np.array_equal(c.net_overlaps, c2.net_overlaps)  # the same jobs, any executor
    back = closure.Convergence.from_arrays(c.to_arrays("p/"), "p/")
    assert np.array_equal(back.error_curves, c.error_curves)


def test_fits_recover_known_laws():
    rng = np.random.default_rng(0)
    Ns = np.array([250, 500, 1000, 2000, 4000])
    err = 3.0 * Ns[:, None] ** -0.5 * np.exp(0.1 * rng.standard_normal((5, 6)))
    fit = fit_power_law(Ns, err)
    assert fit.ci[0] < -0.5 < fit.ci[1] and fit.ci[1] - fit.ci[0] < 0.2
    assert_close(fit(Ns), 3.0 * Ns ** -0.5, rtol=0.15)  # 10% noise on each of 6 seeds
    floor = fit_floor(Ns, np.sqrt(4.0 / Ns + 0.01**2)[:, None] * np.ones((1, 3)))
    assert floor["a"] == pytest.approx(2.0, rel=1e-8) and floor["b"] == pytest.approx(0.01,
                                                                                      rel=1e-6)
    assert floor["crossover_N"] == pytest.approx(4e4, rel=1e-5)
