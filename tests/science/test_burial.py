"""Chapter 5 science (lrtools.burial): noise buries the invisible memory, weight decay erases it.

The overlap-space synaptic noise is exact in distribution, so it is compared with
the vector simulation by z-scores of sample means and ratios of sample standard
deviations. The predictions are checked on small seeded instances with margins of
several standard deviations of their spread over seeds (measured in chapter 5)
around the claimed sign or exponent.
"""

import numpy as np
import pytest
from conftest import assert_close

import lrtools
from lrtools import LowRankRNN, burial, memory, tasks, theory
from lrtools.fits import fit_exponent


def test_overlap_noise_has_the_vector_distribution(filter_task):
    """Synaptic noise simulated in overlap space: same means and spreads as on the vectors."""
    N, n, s, E = 30, 1500, 0.05, 10
    net = LowRankRNN.random(N, seed=0)
    vec = lrtools.training.train_many(np.repeat(net.X[None], n, 0), filter_task, E, 5e-3,
                                      seeds=range(n), weight_noise=s)["X"]
    Sv = vec.transpose(0, 2, 1) @ vec / N
    So = theory.learn_many(np.repeat(net.overlaps().matrix[None], n, 0), filter_task, E, 5e-3,
                           weight_noise=s, N=N, noise_seed=1)["final"]
    iu = np.triu_indices(4)
    a, b = Sv[:, iu[0], iu[1]], So[:, iu[0], iu[1]]
    z = (a.mean(0) - b.mean(0)) / np.sqrt((a.var(0) + b.var(0)) / n)
    assert np.max(np.abs(z)) < 4.0  # 10 z-scores of equal means: |z| < 4 fails with p < 1e-3
    ratio = b.std(0) / a.std(0)
    assert np.max(np.abs(ratio - 1)) < 5 * np.sqrt(1 / n)  # sd of a ratio of sample sds ~ 1/sqrt(n)


@pytest.fixture(scope="module")
def memory_states():
    return burial.memory_pair(memory.paper_theta2(N=500, seed=0).matrix)


def test_invisible_values_read_the_six_invisible_overlaps():
    S = LowRankRNN.random(50, seed=1).overlaps()
    assert_close(burial.invisible_values(S.matrix), [S[k] for k in burial.INVISIBLE], atol=0.0)


def test_diffusion_rate_is_the_one_step_variance(memory_states):
    S = memory_states["aaa"]
    e = np.random.default_rng(0).standard_normal(6)
    e /= np.linalg.norm(e)
    n, s, N = 20000, 1e-2, 100
    r = theory.learn_many(np.repeat(S[None], n, 0), tasks.ExponentialFilter(c=0.2), 1, 1e-12,
                          weight_noise=s, N=N, noise_seed=0)
    p = burial.invisible_values(r["final"]) @ e
    # sample variance of 20000 values: relative sd 0.01; the s^2 terms add O(s^2) = 1e-4
    assert abs(p.var() / burial.diffusion_rate(S, e, s, N) - 1) < 0.05


def test_prediction5_lifetime_scales_as_N_over_s_squared(memory_states):
    a, b = memory_states["aaa"], memory_states["aba"]
    kw = dict(n_rep=64, n_points=30, seed=1)
    bs = burial.noise_burial(a, b, [2e-3, 8e-3], N=500, **kw)
    fs = burial.lifetime_fit(bs, n_boot=50)
    slope_s = fit_exponent(bs["std"], fs["t_star"])["exponent"]
    bN = burial.noise_burial(a, b, [4e-3, 4e-3], N=[250, 1000], **kw)
    fN = burial.lifetime_fit(bN, n_boot=50)
    slope_N = fit_exponent(bN["N"], fN["t_star"])["exponent"]
    # chapter 5 (128 individuals, 4 levels): -2.0 with a 95 % interval of +-0.15; with 64
    # individuals and 2 levels a factor 4 apart the sd of the slope is ~0.15: 3 sd
    assert abs(slope_s + 2) < 0.45
    assert abs(slope_N - 1) < 0.45
    # the mean difference is kept: no erasure (se of the late mean ~0.25 of D0 here)
    assert np.all(np.abs(np.r_[fs["retention"], fN["retention"]] - 1) < 0.75)
    # the formula ignores learning's absorption of noise: measured within a factor 1.6
    assert np.all(np.abs(np.log(fs["t_star"] / fs["t_pred"])) < np.log(1.6))


def test_noise_burial_needs_one_N_per_noise_level(memory_states):
    with pytest.raises(ValueError, match="values of N"):
        burial.noise_burial(memory_states["aaa"], memory_states["aba"], [1e-3, 2e-3],
                            N=[100, 200, 400])


def test_weight_decay_erases_at_the_predicted_rate(memory_states):
    d = burial.weight_decay_erasure(memory_states["aaa"], memory_states["aba"], [0.1],
                                    e_folds=6.0)
    # chapter 4's derivation holds for small w; fitted late-time rate within 15 %
    assert abs(d["fitted_rate"][0] / d["predicted_rate"][0] - 1) < 0.15
    assert d["distance"][0, -1] < 0.01 * d["distance"][0, 0]


def test_burial_runs_pool_independent_replications(memory_states):
    a, b = memory_states["aaa"], memory_states["aba"]
    runs = burial.burial_runs(a, b, [8e-3], N=200, n_rep=4, n_points=5, seeds=[0, 1])
    pooled = burial.pool_runs(runs)
    assert pooled["proj"].shape == (1, 6, 2, 8)
    assert_close(pooled["proj"][..., :4], runs["proj"][0], atol=0.0)
    # different seeds draw different noise
    assert not np.array_equal(runs["proj"][0], runs["proj"][1])


def test_crossover_lifetime_limits():
    t0 = np.array([100.0, 100.0, 100.0])
    kappa = np.array([0.0, 1e-5, 1.0])
    t = burial.crossover_lifetime(t0, kappa)
    assert t[0] == 100.0 and abs(t[1] / 100.0 - 1) < 1e-3  # noise-limited
    assert abs(t[2] - np.log(201.0) / 2) < 1e-12  # decay-limited: ln(2 kappa t0) / (2 kappa)


def test_prediction5_strong_decay_makes_the_lifetime_nearly_independent_of_noise(memory_states):
    a, b = memory_states["aaa"], memory_states["aba"]
    runs = [burial.decay_noise_lifetimes(a, b, [0.0, 30.0], std=s, N=500, n_rep=64, n_boot=5,
                                         seed=i) for i, s in enumerate((4e-3, 8e-3))]
    t = np.array([r["t_star"] for r in runs])  # (noise level, decay)
    # chapter 5: without decay the lifetimes scale as s^-2 (ratio 4, measured 4-6); at
    # w = 30 both are a few e-foldings 1/kappa = 3 epochs (ratio 1.4)
    assert t[0, 0] / t[1, 0] > 2.5
    assert t[0, 1] / t[1, 1] < 2.0
    assert np.all(t[:, 1] < 5 / runs[0]["kappa"][1])
    assert abs(runs[0]["kappa_fit"][1] / runs[0]["kappa"][1] - 1) < 0.3
