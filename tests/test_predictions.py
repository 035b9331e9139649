"""Chapter 5: the batched linear kernels and the sign or scaling of every prediction.

Tolerances: the batched kernels compute the same float64 expressions as
``theory``/``train`` in a different order, so they agree to round-off (1e-12
relative on O(1) quantities). The overlap-space synaptic noise is exact in
distribution, so it is compared with the vector simulation by z-scores of
sample means and ratios of sample standard deviations. The predictions are
checked on small seeded instances with margins of several standard deviations
of their spread over seeds (measured in chapter 5) around the claimed sign or
exponent.
"""

import concurrent.futures

import numpy as np
import pytest
from conftest import assert_close

import lrtools
from lrtools import LowRankRNN, Overlaps, memory, tasks, theory, train
from lrtools import predictions as pred

NAMES = ("m", "u", "v", "z")
EXACT = 1e-12


def _random_S(n, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, 4, 4))
    return A @ A.transpose(0, 2, 1) / 4 + 0.1 * np.eye(4)


# ---------------------------------------------------------------------------
# batched kernels
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("white_noise", [False, True])
def test_kernel_matches_theory(filter_task, white_noise):
    task = filter_task.white_noise(batch_size=3) if white_noise else filter_task
    batch = next(tasks.batches(task, 0))
    w = task.loss_weights(batch[2])
    S = _random_S(6, 1)
    L, G = theory.loss_and_gamma_many(S, batch, w, task.dt, "linear")
    for i in range(len(S)):
        L1, G1 = theory.loss_and_gamma(Overlaps(S[i], NAMES), batch, w, task.dt)
        assert abs(L[i] - L1) <= EXACT * abs(L1)
        assert np.max(np.abs(G[i] - G1)) <= EXACT * np.max(np.abs(G1))


def test_learn_many_matches_theory_learn(filter_task):
    S0 = np.array([LowRankRNN.random(100, seed=s).overlaps().matrix for s in range(3)])
    r = theory.learn_many(S0, filter_task, 200, 5e-3, weight_decay=0.05, record_every=50)
    for i in range(3):
        h = theory.learn(Overlaps(S0[i], NAMES), filter_task, 200, 5e-3, weight_decay=0.05,
                         progress=False)
        assert_close(r["overlaps"][:, i], h.overlaps[r["epoch"]], atol=EXACT)
        assert_close(r["loss"][:, i], h.loss, rtol=EXACT)


@pytest.mark.parametrize("optimizer,eta,noise,wd", [("gd", 5e-3, 0.0, 0.0),
                                                    ("gd", 5e-3, 1e-2, 0.1),
                                                    ("adam", 1e-2, 1e-3, 0.0)])
def test_train_many_matches_train(filter_task, optimizer, eta, noise, wd):
    nets = [LowRankRNN.random(40, seed=s) for s in range(2)]
    r = lrtools.training.train_many(np.array([n.X for n in nets]), filter_task, 30, eta, optimizer,
                        seeds=[7, 8], weight_noise=noise, weight_decay=wd)
    for i, net in enumerate(nets):
        h = train(net, filter_task, 30, eta, optimizer, seed=[7, 8][i], weight_noise=noise,
                  weight_decay=wd, progress=False)
        assert_close(r["X"][i], net.X, atol=1e-11)  # O(1) entries, 30 updates of round-off
        assert_close(r["loss"][:, i], h.loss, rtol=1e-11)


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


def test_noise_needs_N_and_shapes_are_checked(filter_task):
    S = _random_S(2, 0)
    with pytest.raises(ValueError, match="N >= 4"):
        theory.learn_many(S, filter_task, 1, 1e-3, weight_noise=0.1)
    with pytest.raises(ValueError, match=r"\(n, k, k\)"):
        theory.learn_many(S[0], filter_task, 1, 1e-3)
    with pytest.raises(ValueError, match="optimizer"):
        lrtools.training.train_many(np.zeros((1, 10, 4)), filter_task, 1, 1e-3, "sgd")


def test_time_to_criterion_interpolates_log_loss():
    r = 0.7
    loss = r ** np.arange(50.0)
    crit = 0.01
    assert abs(pred.time_to_criterion(loss, crit) - np.log(crit) / np.log(r)) < EXACT
    assert pred.time_to_criterion(loss, 2.0) == 0.0
    assert pred.time_to_criterion(loss, 1e-30) == np.inf


# ---------------------------------------------------------------------------
# predictions 1, 2 and 6: families of equivalent networks
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def family():
    data = pred.family_runs([0, 1], N=200, n_family=40, epochs=600)
    return data, pred.family_effects(data)


def test_prediction1_speed_ranks_early_learning(family):
    _, fx = family
    # chapter 5: ratio 2.0 +- 0.2, rho_early -0.95 +- 0.02, rho_late +0.8 +- 0.05 over 5 bases
    assert np.all(fx["speed_ratio"] > 1.3)
    assert np.all(fx["rho_early"] < -0.7)
    assert np.all(fx["rho_late"] > 0.3)  # the ranking reverses for strict criteria


def test_prediction2_noise_separates_trained_not_random(family):
    _, fx = family
    # chapter 5: trained 1.9-2.1, untrained 1.03-1.19 over 5 bases
    assert np.all(fx["noise_ratio"] > 1.5)
    assert np.all(fx["noise_ratio_random"] < 1.35)


def test_prediction6_noisier_networks_learn_faster(family):
    _, fx = family
    # chapter 5: rho = -0.6 +- 0.05 (n = 200); for n = 40 its sampling sd is ~0.15
    assert np.all(fx["rho_noise_time"] < -0.15)


def test_noise_check_simulation_follows_formula(family):
    data, _ = family
    M = data["members"][0][[0, 1]]
    chk = pred.noise_check(data["base"][0], M, N=100, n_steps=200, n_trials=400)
    assert chk["output_gap"] < 1e-12  # equivalent linear networks: the same output
    late = slice(100, None)
    ratio = chk["sampled"][:, late].mean(1) / chk["predicted"][:, late].mean(1)
    # a sample variance of 400 Gaussian trials has relative sd 0.07; the average over the
    # correlated second half of the trial is no worse; 4 sd
    assert np.max(np.abs(ratio - 1)) < 0.28


def test_family_runs_executor_matches_serial():
    kw = dict(N=100, n_family=8, epochs=50, base_epochs=200)
    serial = pred.family_runs([0, 1], **kw)
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        parallel = pred.family_runs([0, 1], executor=ex, **kw)
    for k in serial:
        assert np.array_equal(serial[k], parallel[k])


# ---------------------------------------------------------------------------
# prediction 3: reversal learning
# ---------------------------------------------------------------------------


def test_prediction3_reversal_lowers_synaptic_totals():
    data = pred.reversal_cohort(0, n=8, N=500)
    Td, Tr = pred.synaptic_totals(data["direct"]), pred.synaptic_totals(data["reversal"])
    # chapter 5: lower in >= 97 % of the animals of uniform cohorts, for every total
    assert np.all((Tr < Td).mean(axis=0) >= 7 / 8)
    # behaviour restored (loss < 1e-9 after 2000 epochs of A)
    f = pred.behaviour_features
    gap = np.abs(f(data["reversal"]) - f(data["direct"]))
    assert np.max(gap) < 1e-3
    assert np.max(data["loss_reversal"]) < 1e-8


def test_prediction3_trace_grows_with_step():
    scan = pred.reversal_step_scan([1e-2, 5e-3], n=6, N=200)
    # chapter 5: recurrent total -8 % at eta 1e-2, -2 % at 5e-3
    assert scan["record"][0, 2] < scan["record"][1, 2] < 0


def test_decoder_is_unbiased_without_information_and_reads_separated_groups():
    rng = np.random.default_rng(0)
    # without information the accuracy averages 0.5 over data sets (a single data set can
    # be separable by chance); 100 data sets x 10 splits of 6 test individuals: the sd of
    # the mean is ~0.2 / sqrt(100) = 0.02 (splits of one data set are correlated): 3 sd
    same = [pred.decode_groups(rng.normal(size=(10, 3)), rng.normal(size=(10, 3)), n_splits=10,
                               seed=i).mean() for i in range(100)]
    assert abs(np.mean(same) - 0.5) < 0.06
    apart = pred.decode_groups(rng.normal(size=(10, 3)), 4 + rng.normal(size=(10, 3)),
                               n_splits=50)
    assert apart.mean() > 0.95


def test_reversal_cohort_rejects_unknown_population():
    with pytest.raises(ValueError, match="population"):
        pred.reversal_cohort(0, population="mixed", n=2)


# ---------------------------------------------------------------------------
# prediction 4: the balance law
# ---------------------------------------------------------------------------


def test_one_gd_step_changes_K_by_eta_squared_term(filter_task):
    """K' - K = eta^2 X Gamma J Gamma X^T exactly: the law's O(eta) violation per unit time."""
    net = LowRankRNN.random(50, seed=3)
    S = net.overlaps()
    X0 = net.X.copy()
    eta = 5e-3
    G = theory.gamma(S, filter_task)
    X1 = X0 @ (np.eye(4) - eta * G)
    J = np.array([-1.0, -1.0, 1.0, 1.0])
    dK = (X1 * J) @ X1.T - (X0 * J) @ X0.T
    assert_close(dK, eta**2 * X0 @ G @ np.diag(J) @ G @ X0.T, atol=1e-14)
    b = pred.balance(X0, X1)
    assert_close(b.d_out - b.d_in, np.diag(dK), atol=1e-14)


@pytest.fixture(scope="module")
def balance_small():
    rules = {k: r for k, r in pred.PLASTICITY_RULES.items() if r.phi == "linear"}
    return pred.balance_runs(rules, seeds=[0, 1], N=200, learning_time=5.0)


def test_prediction4_balance_order_eta_and_noise(balance_small):
    r = balance_small
    gd, gd2 = r["gradient, eta 5e-3"], r["gradient, eta 2.5e-3"]
    assert np.all(gd["violation"] < 0.01) and np.all(np.abs(gd["slope"] - 1) < 1e-3)
    # O(eta): halving eta at fixed learning time halves the violation (measured 2.0)
    assert np.all(np.abs(gd["violation"] / gd2["violation"] - 2) < 0.2)
    n1, n3 = r["gradient + noise 1e-3"], r["gradient + noise 3e-3"]
    # linear in the noise amplitude at fixed time (measured 2.9)
    assert np.all(np.abs(n3["violation"] / n1["violation"] - 3) < 0.5)
    adam = r["Adam, lr 1e-3"]
    assert np.all(adam["violation"] > 0.4) and np.all(adam["slope"] < 0.85)
    # population totals balance under every rule; only the per-neuron law discriminates
    for v in r.values():
        assert np.all(np.abs(v["total_ratio"] - 1) < 0.05)


def test_prediction4_erf_breaks_the_law():
    rules = {"erf": pred.PlasticityRule("gd", 5e-3, 0.0, "erf")}
    r = pred.balance_runs(rules, seeds=[0], N=100, learning_time=2.0)["erf"]
    # chapter 5: 0.20 +- 0.06 at learning time 5; linear GD gives 0.004
    assert r["violation"][0] > 0.05
    assert r["correlation"][0] > 0.9


# ---------------------------------------------------------------------------
# prediction 5: noise buries, weight decay erases
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def memory_states():
    return pred.memory_pair(memory.paper_theta2(N=500, seed=0).matrix)


def test_diffusion_rate_is_the_one_step_variance(memory_states):
    S = memory_states["aaa"]
    e = np.random.default_rng(0).standard_normal(6)
    e /= np.linalg.norm(e)
    n, s, N = 20000, 1e-2, 100
    r = theory.learn_many(np.repeat(S[None], n, 0), tasks.ExponentialFilter(c=0.2), 1, 1e-12,
                        weight_noise=s, N=N, noise_seed=0)
    p = pred.invisible_values(r["final"]) @ e
    # sample variance of 20000 values: relative sd 0.01; the s^2 terms add O(s^2) = 1e-4
    assert abs(p.var() / pred.diffusion_rate(S, e, s, N) - 1) < 0.05


def test_prediction5_lifetime_scales_as_N_over_s_squared(memory_states):
    a, b = memory_states["aaa"], memory_states["aba"]
    kw = dict(n_rep=64, n_points=30, seed=1)
    bs = pred.noise_burial(a, b, [2e-3, 8e-3], N=500, **kw)
    fs = pred.lifetime_fit(bs, n_boot=50)
    slope_s = pred.fit_exponent(bs["std"], fs["t_star"])["exponent"]
    bN = pred.noise_burial(a, b, [4e-3, 4e-3], N=[250, 1000], **kw)
    fN = pred.lifetime_fit(bN, n_boot=50)
    slope_N = pred.fit_exponent(bN["N"], fN["t_star"])["exponent"]
    # chapter 5 (128 individuals, 4 levels): -2.0 with a 95 % interval of +-0.15; with 64
    # individuals and 2 levels a factor 4 apart the sd of the slope is ~0.15: 3 sd
    assert abs(slope_s + 2) < 0.45
    assert abs(slope_N - 1) < 0.45
    # the mean difference is kept: no erasure (se of the late mean ~0.25 of D0 here)
    assert np.all(np.abs(np.r_[fs["retention"], fN["retention"]] - 1) < 0.75)
    # the formula ignores learning's absorption of noise: measured within a factor 1.6
    assert np.all(np.abs(np.log(fs["t_star"] / fs["t_pred"])) < np.log(1.6))


def test_weight_decay_erases_at_the_predicted_rate(memory_states):
    d = pred.weight_decay_erasure(memory_states["aaa"], memory_states["aba"], [0.1],
                                  e_folds=6.0)
    # chapter 4's derivation holds for small w; fitted late-time rate within 15 %
    assert abs(d["fitted_rate"][0] / d["predicted_rate"][0] - 1) < 0.15
    assert d["distance"][0, -1] < 0.01 * d["distance"][0, 0]


def test_burial_runs_pool_independent_replications(memory_states):
    a, b = memory_states["aaa"], memory_states["aba"]
    runs = pred.burial_runs(a, b, [8e-3], N=200, n_rep=4, n_points=5, seeds=[0, 1])
    pooled = pred.pool_runs(runs)
    assert pooled["proj"].shape == (1, 6, 2, 8)
    assert_close(pooled["proj"][..., :4], runs["proj"][0], atol=0.0)
    # different seeds draw different noise
    assert not np.array_equal(runs["proj"][0], runs["proj"][1])


# ---------------------------------------------------------------------------
# the chapter's short calls: key numbers, cached studies, whole figures
# ---------------------------------------------------------------------------
# The numbers functions only average and divide: hand-computed values agree to round-off
# (EXACT, 1e-12 relative).


def test_family_numbers_by_hand():
    fx = {"speed_ratio": np.array([1.0, 3.0]), "spread_ratio": np.array([2.0, 2.0]),
          "rho_early": np.array([-0.5, -1.0]), "rho_late": np.array([0.2, 0.4])}
    time = np.array([[[5.0, 7.0, 9.0], [50.0, 60.0, 70.0]],
                     [[4.5, 8.0, 6.0], [40.0, 45.0, 80.0]]])  # (bases, criteria, members)
    out = pred.family_numbers({"time": time}, fx)
    expected = {"speed_ratio": 2.0, "speed_ratio_sd": np.sqrt(2.0), "spread_ratio": 2.0,
                "spread_ratio_sd": 0.0, "rho_early": -0.75, "rho_early_sd": np.sqrt(0.125),
                "rho_late": 0.3, "rho_late_sd": np.sqrt(0.02), "t_early_min": 4.5,
                "t_early_max": 9.0}
    assert set(out) == set(expected)
    for k, v in expected.items():
        assert_close(out[k], v, rtol=EXACT, atol=EXACT, err_msg=k)
    with pytest.raises(ValueError, match="at least two"):
        pred.family_numbers({"time": time[:1]}, {k: v[:1] for k, v in fx.items()})
    with pytest.raises(ValueError, match="lacks"):
        pred.family_numbers({}, fx)


def test_noise_numbers_by_hand():
    fx = {"noise_ratio": np.array([2.0, 4.0]), "noise_ratio_random": np.array([1.0, 1.2])}
    check = {"sampled": np.array([[9.0, 9.0, 2.0, 2.0], [9.0, 9.0, 6.0, 6.0]]),
             "predicted": np.array([[1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0]]),
             "output_gap": np.array(1e-15)}
    out = pred.noise_numbers(fx, check, n_trials=101)
    # second half: sampled means (2, 6), predicted (2, 4): ratios 1 and 1.5
    expected = {"noise_ratio": 3.0, "noise_ratio_sd": np.sqrt(2.0), "noise_ratio_random": 1.1,
                "noise_ratio_random_sd": np.sqrt(0.02), "noise_pair_ratio": 2.0,
                "noise_sim_err": 0.5, "noise_sim_expected": np.sqrt(0.02),
                "noise_output_gap": 1e-15}
    assert set(out) == set(expected)
    for k, v in expected.items():
        assert_close(out[k], v, rtol=EXACT, err_msg=k)
    with pytest.raises(ValueError, match="n_trials"):
        pred.noise_numbers(fx, check, n_trials=1)


def _cohort_effects_by_hand():
    u = {"record": np.array([[-0.01, -0.02, -0.03], [-0.03, -0.04, -0.01]]),
         "record_negative": np.array([[1.0, 0.9, 0.8], [0.95, 1.0, 0.7]]),
         "d": np.array([[0.5, 1.5, 1.0], [0.7, 2.5, 2.0]]),
         "acc_totals": np.array([0.9, 0.8]), "acc_behaviour": np.array([0.5, 0.4]),
         "behaviour_gap": np.array([1e-12, 3e-12])}
    d = {"record": np.array([[0.0, -0.01, -0.1], [-0.02, 0.01, -0.2]]),
         "record_negative": np.array([[0.5, 0.6, 0.9], [0.5, 0.4, 0.7]]),
         "d": np.array([[0.1, 0.2, 0.3], [0.1, 0.4, 0.5]]),
         "acc_totals": np.array([0.6, 0.5]), "acc_behaviour": np.array([0.5, 0.5]),
         "behaviour_gap": np.array([2e-12, 1e-12])}
    scan = {"eta": np.array([1e-2, 5e-3]),
            "record": np.array([[-0.02, -0.03, -0.05], [-0.01, -0.015, 0.001]]),
            "record_negative": np.array([[1.0, 1.0, 1.0], [0.9, 0.8, 0.3]])}
    return {"uniform": u, "diverse": d}, scan


def test_cohort_numbers_by_hand():
    effects, scan = _cohort_effects_by_hand()
    out = pred.cohort_numbers(effects, scan)
    expected = {
        "rec_mm": 2.0, "rec_mm_sd": 100 * np.sqrt(2e-4), "rec_zz": 3.0, "rec_W": 2.0,
        "rec_W_div": 15.0, "rec_W_div_sd": 100 * np.sqrt(5e-3), "neg_uniform": 0.7,
        "neg_div": 0.8, "d_z": 2.0, "d_z_sd": np.sqrt(0.5), "d_W": 1.5, "d_z_div": 0.3,
        "d_W_div": 0.4, "rec_zz_div": 0.0, "neg_div_z": 0.5,
        "n_per_group": 4,  # ceil(2 * 2.8^2 / 2^2) = ceil(3.92)
        "acc_conn": 0.85, "acc_beh": 0.45, "acc_conn_div": 0.55, "acc_beh_div": 0.5,
        "beh_gap": 3e-12, "step_W_large": -5.0, "step_W_small": 0.1, "step_mm_large": -2.0,
        "step_mm_small": -1.0, "step_zz_large": -3.0, "step_zz_small": -1.5,
        "step_neg_mz_small": 0.8, "step_neg_W_small": 0.3, "eta_large": 1e-2,
        "eta_small": 5e-3,
    }
    for k, v in expected.items():
        assert_close(out[k], v, rtol=EXACT, atol=EXACT, err_msg=k)
    assert isinstance(out["n_per_group"], int)  # quoted without a format in the text
    assert len(out) == 39  # 31 above and 8 sds not listed
    with pytest.raises(ValueError, match="lacks"):
        pred.cohort_numbers({"uniform": effects["uniform"]}, scan)


def _balance_runs_by_hand():
    runs = {}
    for i, label in enumerate(pred.BALANCE_KEYS.values()):
        v = np.array([1.0, 2.0]) * 10.0**-i
        runs[label] = {"violation": v, "slope": 1 + v, "correlation": 1 - v,
                       "total_ratio": np.array([1.0, 1.0]),
                       "d_in": np.array([[1.0, -2.0, 0.5]] * 2),
                       "d_out": np.array([[1.1, -1.9, 0.4]] * 2)}
    return runs


def test_balance_numbers_by_hand():
    runs = _balance_runs_by_hand()
    out = pred.balance_numbers(runs)
    assert len(out) == 6 * 4 * 2 + 2
    # rule i has violations (1, 2) * 10^-i
    assert_close(out["bal_gd_violation"], 1.5, rtol=EXACT)
    assert_close(out["bal_gd_violation_sd"], np.sqrt(0.5), rtol=EXACT)
    assert_close(out["bal_adam_slope"], 1 + 1.5e-4, rtol=EXACT)
    assert_close(out["bal_erf_violation_sd"], np.sqrt(0.5) * 1e-5, rtol=EXACT)
    assert out["bal_n1_total_ratio"] == 1.0 and out["bal_n1_total_ratio_sd"] == 0.0
    assert_close(out["bal_eta_ratio"], 10.0, rtol=EXACT)  # gd / gd2
    assert_close(out["bal_noise_ratio"], 0.1, rtol=EXACT)  # n3 / n1
    del runs["Adam, lr 1e-3"]
    with pytest.raises(ValueError, match="Adam"):
        pred.balance_numbers(runs)


def _burial_study_by_hand():
    fit = {"t_star": np.array([100.0, 25.0]), "t_pred": np.array([50.0, 25.0]),
           "retention": np.array([1.0, 0.8])}
    fit_N = {"t_star": np.array([30.0, 120.0]), "t_pred": np.array([30.0, 60.0]),
             "retention": np.array([1.2, 1.0])}
    return {"burial": {"std": np.array([1e-3, 2e-3])}, "burial_N": {"N": np.array([250, 1000])},
            "fit": fit, "fit_N": fit_N,
            "exp_s": {"exponent": -2.0, "low": -2.2, "high": -1.8},
            "exp_N": {"exponent": 1.0, "low": 0.9, "high": 1.1},
            "per_seed": {"s": np.array([-2.1, -1.9]), "N": np.array([1.0, 1.2])}}


def test_burial_numbers_by_hand():
    pair = {"D0": np.array(0.3), "function_gap": np.array(1e-13)}
    decay = {"weight_decay": np.array([0.03, 0.1]), "fitted_rate": np.array([3e-4, 1.1e-3]),
             "predicted_rate": np.array([3e-4, 1e-3])}
    out = pred.burial_numbers(pair, _burial_study_by_hand(), decay)
    ratios = np.array([2.0, 1.0, 1.0, 2.0])  # t_star / t_pred of both scans
    expected = {"D0": 0.3, "pair_function_gap": 1e-13, "exp_s": -2.0, "exp_s_low": -2.2,
                "exp_s_high": -1.8, "exp_N": 1.0, "exp_N_low": 0.9, "exp_N_high": 1.1,
                "exp_s_seed_sd": np.sqrt(0.02), "exp_N_seed_sd": np.sqrt(0.02),
                "life_ratio": 1.5, "life_ratio_sd": ratios.std(ddof=1), "retention": 1.0,
                "retention_sd": np.sqrt(0.08 / 3), "t_star_1e3": 100.0, "s_min": 1e-3,
                "s_max": 2e-3, "N_min": 250, "N_max": 1000, "wd_ratio_small": 1.0,
                "wd_ratio_large": 1.1, "wd_small": 0.03, "wd_large": 0.1}
    assert set(out) == set(expected)
    for k, v in expected.items():
        assert_close(out[k], v, rtol=EXACT, atol=EXACT, err_msg=k)
    assert isinstance(out["N_min"], int)  # quoted without a format in the text
    with pytest.raises(ValueError, match="lacks"):
        pred.burial_numbers({}, _burial_study_by_hand(), decay)


def test_summary_table_has_six_rows():
    keys = ["speed_ratio", "speed_ratio_sd", "rho_early", "rho_early_sd", "noise_ratio",
            "noise_ratio_sd", "noise_ratio_random", "noise_ratio_random_sd", "rec_zz",
            "rec_zz_sd", "d_z", "acc_conn", "acc_beh", "bal_gd_violation", "bal_n3_violation",
            "bal_adam_violation", "bal_erf_violation", "exp_s", "exp_s_low", "exp_s_high",
            "exp_N", "exp_N_low", "exp_N_high", "rho_noise_time", "rho_noise_time_sd"]
    values = dict.fromkeys(keys, 1.0)
    values["rho_noise_time"] = -0.6
    table = pred.summary_table(values)
    lines = table.splitlines()
    assert len(lines) == 2 + 6 and all(line.count("|") == 4 for line in lines)
    assert lines[-1].endswith("| ρ = -0.60 ± 1.00 |")
    del values["exp_N"]
    with pytest.raises(ValueError, match="exp_N"):
        pred.summary_table(values)


def test_cached_noise_check_is_the_pair_of_extremes(family, tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path))
    data, _ = family
    kw = dict(N=60, n_trials=20, n_steps=50)
    chk = pred.cached_noise_check(data, 1, **kw)
    assert [p.name.split("-")[:3] for p in tmp_path.glob("*.npz")] == [["ch5", "noise", "check"]]
    order = np.argsort(data["noise"][1])
    direct = pred.noise_check(data["base"][1], data["members"][1][[order[0], order[-1]]], **kw)
    for k in direct:  # same seeded computation: identical
        assert np.array_equal(chk[k], direct[k])
    assert np.array_equal(pred.cached_noise_check(data, 1, **kw)["sampled"], chk["sampled"])
    with pytest.raises(ValueError, match="base"):
        pred.cached_noise_check(data, 2, **kw)


def test_balance_study_merges_linear_and_erf_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path))
    runs = pred.balance_study([0, 1], [0], N=20, N_erf=10, learning_time=0.05)
    assert list(runs) == list(pred.PLASTICITY_RULES)
    assert runs["gradient, erf network"]["d_in"].shape == (1, 10)
    assert runs["Adam, lr 1e-3"]["d_in"].shape == (2, 20)
    names = sorted(p.name.rsplit("-", 1)[0] for p in tmp_path.glob("*.npz"))
    assert names == ["ch5-balance", "ch5-balance"]  # one entry point, two keys
    direct = pred.balance_runs({"gradient, eta 5e-3": pred.PLASTICITY_RULES["gradient, eta 5e-3"]},
                               seeds=[0, 1], N=20, learning_time=0.05)
    assert np.array_equal(runs["gradient, eta 5e-3"]["d_out"],
                          direct["gradient, eta 5e-3"]["d_out"])


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
    fig = pred.plot_p1_learning_speed(fam, fx)
    assert len(fig.axes) == 4  # three panels and the colour bar
    assert _titles(fig)[:3] == ["a  one family learns c = 0.4", "b  predicted speed vs outcome",
                                "c  2 base networks"]
    chk = {"sampled": 1 + rng.random((2, 30)), "predicted": np.ones((2, 30))}
    fig = pred.plot_p2_noise_separation(chk, fx, N=50)
    assert _titles(fig) == ["a  two equivalent trained networks, N = 50", "b  2 families each"]
    assert_close(fig.axes[0].lines[0].get_xdata(), 0.05 * np.arange(30), atol=0.0)
    S = _random_S(2 * 3 * 2 * 8, 1).reshape(2, 3, 2, 8, 4, 4)  # population, cohort, twin, animal
    cohorts = {pop: {"direct": S[i, :, 0], "reversal": S[i, :, 1]}
               for i, pop in enumerate(("uniform", "diverse"))}
    cfx = {pop: {"acc_totals": rng.random(3), "acc_behaviour": rng.random(3)} for pop in cohorts}
    scan = {"eta": np.array([1e-2, 5e-3]), "record": rng.standard_normal((2, 3))}
    fig = pred.plot_p3_reversal(cohorts, cfx, scan)
    assert _titles(fig) == ["a  paired change, one cohort each",
                            "b  history from two groups (3 cohorts)",
                            "c  uniform cohort: step size"]
    fig = pred.plot_p4_balance(_balance_runs_by_hand())
    titles = _titles(fig)
    assert len(titles) == 5 and titles[0].startswith("a  gradient, eta 5e-3\nslope")
    assert titles[3].startswith("d  gradient, erf network") and titles[4] == "e  "
    ticks = [t.get_text() for t in fig.axes[4].get_xticklabels()]
    assert ticks == list(pred.BALANCE_SHORT.values())
    n_rec, n_rep = 6, 12
    epoch = np.tile(np.arange(n_rec) * 10.0, (2, 1))
    burial = {"D0": np.array(0.5), "epoch": epoch, "std": np.array([1e-3, 2e-3]),
              "N": np.array([500, 500]), "proj": rng.standard_normal((2, n_rec, 2, n_rep))}
    fit = {"t_pred": np.array([40.0, 10.0]), "t_star": np.array([38.0, 11.0]),
           "t_boot": np.linspace(0.8, 1.2, 10)[:, None] * [38.0, 11.0],
           "dprime": 1 + rng.random((2, n_rec))}
    decay = {"weight_decay": np.array([0.03, 0.1]), "epoch": epoch,
             "distance": np.exp(-0.01 * epoch), "predicted_rate": np.array([3e-4, 1e-3])}
    study = {"burial": burial, "fit": fit,
             "burial_N": burial | {"N": np.array([250, 1000])}, "fit_N": fit}
    fig = pred.plot_p5_noise_burial(study, decay)
    assert len(fig.axes) == 4 and len(fig.axes[2].child_axes) == 1  # the inset of panel c
    assert [ax.get_title(loc="left") for ax in fig.axes[:4]] == [
        "a  individuals under noise", "b  readability", "c  lifetime (inset: N, s = 4e-3)",
        "d  weight decay erases"]
    fig = pred.plot_p6_noise_speed(fam, fx)
    assert _titles(fig) == ["noise sensitivity vs learning time, five families"]
    plt.close("all")
