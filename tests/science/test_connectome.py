"""Chapter 5 science (lrtools.connectome): the predictions in measurable quantities.

Exact identities (one step of per-vector rates, the emulation of unequal rates, the
isotropic variance as a sum over patterns) to round-off; the simulated
patterned-stimulation variance within its sampling error; the balance law with
rates on small seeded instances, with margins of several times the spread measured
in chapter 5.
"""

import numpy as np
import pytest
from conftest import assert_close
from scipy.stats import spearmanr

from lrtools import LowRankRNN, Overlaps, connectome, equivalence, noise_response, theory
from lrtools.tasks import ExponentialFilter

NAMES = ("m", "u", "v", "z")
J = np.array([-1.0, -1.0, 1.0, 1.0])


def _gd_with_rates(X, task, epochs, rates):
    """Gradient descent with one rate per vector type, by hand: X <- X - X Gamma H."""
    N = len(X)
    for _ in range(epochs):
        G = theory.gamma(Overlaps(X.T @ X / N, NAMES), task)
        X = X - X @ G @ np.diag(rates)
    return X


def test_one_step_with_rates_moves_K_H_by_a_quadratic_form(filter_task):
    X = LowRankRNN.random(50, seed=0).X
    rates = np.array([4.0, 1.0, 0.5, 0.25]) * 5e-3
    G = theory.gamma(Overlaps(X.T @ X / 50, NAMES), filter_task)
    X1 = _gd_with_rates(X, filter_task, 1, rates)
    KH = (X * (J / rates)) @ X.T
    KH1 = (X1 * (J / rates)) @ X1.T
    # K_H' = K_H + X Gamma H J Gamma X^T: no first-order term, for any rates (K_H has
    # entries of order 1/eta = 1e3: round-off 1e-13 on the difference)
    assert_close(KH1 - KH, X @ G @ np.diag(rates * J) @ G @ X.T, atol=1e-11)


def test_emulated_rates_are_gradient_descent_with_those_rates(filter_task):
    mu, lam, eta = 2.0, 0.5, 5e-3
    d = np.array([mu, lam, 1 / lam, 1 / mu])
    Y0 = LowRankRNN.random(40, seed=1).X
    Y1 = _gd_with_rates(Y0, filter_task, 30, np.full(4, eta))
    X1 = _gd_with_rates(Y0 * d, filter_task, 30, connectome.emulated_rates(mu, lam, eta))
    assert_close(X1, Y1 * d, atol=1e-12)


def test_synaptic_strengths_read_only_W():
    X = LowRankRNN.random(30, seed=2).X
    s = connectome.synaptic_strengths(X)
    X2 = X * np.array([1.0, 3.0, 1 / 3, 1.0])  # u -> 3u, v -> v/3: the same synapses
    for k, v in connectome.synaptic_strengths(X2).items():
        assert_close(v, s[k], rtol=1e-12)
    # balanced network: R_i = u_i^2 and C_i = v_i^2
    Xb = X * np.array([1.0, 1.0, np.sqrt(X[:, 1] @ X[:, 1] / (X[:, 2] @ X[:, 2])), 1.0])
    sb = connectome.synaptic_strengths(Xb)
    assert_close(sb["rec_in"], Xb[:, 1] ** 2, rtol=1e-12)
    assert_close(sb["rec_out"], Xb[:, 2] ** 2, rtol=1e-12)


@pytest.fixture(scope="module")
def rates():
    return connectome.rate_runs({"equal": (1.0, 1.0), "m fast": (2.0, 1.0),
                                 "u fast": (1.0, 2.0)}, seeds=(0, 1), N=200)


def test_prediction4_law_with_rates_holds_where_the_equal_law_fails(rates):
    # chapter 5: gradient level 0.004; equal weights with m:z = 16 fail by ~0.8
    for r in rates.values():
        assert np.all(r["weighted"] < 0.01)
        assert np.all(r["residual"] < 0.005) and np.all(r["signs_ok"])
        assert np.max(np.abs(r["weights"] / r["true_weights"] - 1)) < 0.01
    assert np.all(rates["m fast"]["equal"] > 0.3)
    # a recurrent rate split between u and v: invisible to the synapses, not to the factors
    assert np.all(rates["u fast"]["equal"] < 0.01)
    assert np.all(rates["u fast"]["factor_equal"] > 0.3)


def test_rate_free_relation_fails_without_a_law():
    rng = np.random.default_rng(0)
    X0 = rng.standard_normal((200, 4))
    X1 = X0 + 0.3 * rng.standard_normal((200, 4))  # independent changes: no relation
    assert connectome.rate_free_relation(X0, X1)["residual"] > 0.3


def _trained(N=100, seed=1):
    S = LowRankRNN.random(N, seed=seed).overlaps().matrix
    S = theory.learn_many(S[None], ExponentialFilter(c=0.2), 2000, 5e-3)["final"][0]
    return LowRankRNN.from_overlaps(Overlaps(S, NAMES), N=N, seed=0)


def test_pattern_variance_sums_to_the_isotropic_variance():
    net = _trained()
    S, N = net.overlaps().matrix, len(net.X)
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal((N, N)))[0] * np.sqrt(N)
    zp, vp = net.X[:, 3] @ Q / N, net.X[:, 2] @ Q / N
    total = connectome.pattern_noise_variance(S, zp, vp, dt=0.05, noise_std=0.5).sum() / N
    iso = noise_response.stationary_noise_variance(net.overlaps(), N=N, dt=0.05, noise_std=0.5)
    assert_close(total, iso, rtol=1e-10)


def test_pattern_variance_matches_the_simulation():
    net = _trained()
    X = net.X
    S = net.overlaps().matrix
    p = X[:, 3] / np.sqrt(S[3, 3])
    pred = connectome.pattern_noise_variance(S, np.sqrt(S[3, 3]), S[3, 2] / np.sqrt(S[3, 3]),
                                             dt=0.05, noise_std=0.5)
    sim = connectome.sampled_pattern_variance(X, p, dt=0.05, noise_std=0.5, n_steps=400,
                                              n_trials=2000)
    # 2000 Gaussian trials: relative sd 0.03 per time point; the late average is no worse
    assert abs(sim[200:].mean() / pred - 1) < 0.12


def test_initial_speeds_are_the_initial_speed():
    task = ExponentialFilter(c=0.4)
    S = np.array([LowRankRNN.random(100, seed=s).overlaps().matrix for s in range(3)])
    ref = [equivalence.initial_speed(Overlaps(x, NAMES), task, eta=5e-3) for x in S]
    assert_close(connectome.initial_speeds(S, task, 5e-3), ref, rtol=1e-12)


def test_noisy_speed_correlation_degrades_with_noise():
    task = ExponentialFilter(c=0.4)
    base = _trained(N=200).overlaps()
    fam = np.array([x.matrix for x in equivalence.sample_equivalent(base, 30, seed=0)])
    speed = connectome.initial_speeds(fam, task, 5e-3)
    time = 1 / speed  # a stand-in outcome ranked exactly by the speed
    r = connectome.noisy_speed_correlation(fam[None], time[None], task, [0.0, 1.0], n_draws=3)
    assert_close(r["rho"][0, 0], spearmanr(speed, time).statistic, atol=1e-12)
    assert r["rho"][1, 0] > -0.7  # strong noise blurs the ranking
    v = connectome.noisy_value_correlation(speed[None], time[None], [0.0], n_draws=2)
    assert_close(v[0, 0], -1.0, atol=1e-12)
