"""Chapter 5 science (lrtools.plasticity): the batched linear kernels and predictions 1-4, 6.

Tolerances: the batched kernels compute the same float64 expressions as
``theory``/``train`` in a different order, so they agree to round-off (1e-12
relative on O(1) quantities). The predictions are checked on small seeded
instances with margins of several standard deviations of their spread over seeds
(measured in chapter 5) around the claimed sign or scaling.
"""

import concurrent.futures

import numpy as np
import pytest
from conftest import assert_close

import lrtools
from lrtools import LowRankRNN, Overlaps, plasticity, tasks, theory, train
from lrtools.equivalence import epochs_to_criterion

NAMES = ("m", "u", "v", "z")
EXACT = 1e-12


def _random_S(n, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, 4, 4))
    return A @ A.transpose(0, 2, 1) / 4 + 0.1 * np.eye(4)


# ---------------------------------------------------------------------------
# the batched kernels the chapter runs on (core: theory.learn_many, training.train_many)
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
    r = lrtools.training.train_many(np.array([n.X for n in nets]), filter_task, 30, eta,
                                    optimizer, seeds=[7, 8], weight_noise=noise, weight_decay=wd)
    for i, net in enumerate(nets):
        h = train(net, filter_task, 30, eta, optimizer, seed=[7, 8][i], weight_noise=noise,
                  weight_decay=wd, progress=False)
        assert_close(r["X"][i], net.X, atol=1e-11)  # O(1) entries, 30 updates of round-off
        assert_close(r["loss"][:, i], h.loss, rtol=1e-11)


def test_noise_needs_N_and_shapes_are_checked(filter_task):
    S = _random_S(2, 0)
    with pytest.raises(ValueError, match="N >= 4"):
        theory.learn_many(S, filter_task, 1, 1e-3, weight_noise=0.1)
    with pytest.raises(ValueError, match=r"\(n, k, k\)"):
        theory.learn_many(S[0], filter_task, 1, 1e-3)
    with pytest.raises(ValueError, match="optimizer"):
        lrtools.training.train_many(np.zeros((1, 10, 4)), filter_task, 1, 1e-3, "sgd")


def test_time_to_criterion_interpolates_log_loss():
    # the fractional epochs of prediction 1 (formerly predictions.time_to_criterion)
    r = 0.7
    loss = r ** np.arange(50.0)
    crit = 0.01
    assert abs(epochs_to_criterion(loss, crit, interpolate=True)
               - np.log(crit) / np.log(r)) < EXACT
    assert epochs_to_criterion(loss, 2.0, interpolate=True) == 0.0
    assert epochs_to_criterion(loss, 1e-30, interpolate=True) == np.inf


# ---------------------------------------------------------------------------
# predictions 1, 2 and 6: families of equivalent networks
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def family():
    data = plasticity.family_runs([0, 1], N=200, n_family=40, epochs=600)
    return data, plasticity.family_effects(data)


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


def test_prediction2_readout_pattern_separates_trained_not_random(family):
    data, fx = family
    # chapter 5: trained 4.6 +- 0.3, untrained 1.10 +- 0.07 over 5 bases
    assert np.all(fx["pattern_ratio"] > 2.5)
    assert np.all(fx["pattern_ratio_random"] < 1.35)
    # independent of N, unlike independent stimulation (s^2/N): at N = 200 the
    # patterned variance is larger by a factor of order N
    assert np.median(data["pattern"] / data["noise"]) > 20


def test_prediction6_noisier_networks_learn_faster(family):
    _, fx = family
    # chapter 5: rho = -0.6 +- 0.05 (n = 200); for n = 40 its sampling sd is ~0.15
    assert np.all(fx["rho_noise_time"] < -0.15)


def test_noise_check_simulation_follows_formula(family):
    data, _ = family
    M = data["members"][0][[0, 1]]
    chk = plasticity.noise_check(data["base"][0], M, N=100, n_steps=200, n_trials=400)
    assert chk["output_gap"] < 1e-12  # equivalent linear networks: the same output
    late = slice(100, None)
    ratio = chk["sampled"][:, late].mean(1) / chk["predicted"][:, late].mean(1)
    # a sample variance of 400 Gaussian trials has relative sd 0.07; the average over the
    # correlated second half of the trial is no worse; 4 sd
    assert np.max(np.abs(ratio - 1)) < 0.28


def test_family_runs_executor_matches_serial():
    kw = dict(N=100, n_family=8, epochs=50, base_epochs=200)
    serial = plasticity.family_runs([0, 1], **kw)
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        parallel = plasticity.family_runs([0, 1], executor=ex, **kw)
    for k in serial:
        assert np.array_equal(serial[k], parallel[k])


def test_family_runs_refuse_a_misspelt_setting():
    with pytest.raises(TypeError, match="n_familly"):
        plasticity.family_runs([0], N=20, n_familly=4)


# ---------------------------------------------------------------------------
# prediction 3: reversal learning
# ---------------------------------------------------------------------------


def test_signed_filter_is_the_reversed_exponential_filter():
    A = tasks.SignedFilter(c=0.2)
    B = tasks.SignedFilter(c=0.2, sign=-1.0)
    assert_close(A.sample()[1], tasks.ExponentialFilter(c=0.2).sample()[1], atol=0.0)
    assert_close(B.sample()[1], -A.sample()[1], atol=0.0)
    assert "SignedFilter" in tasks.__all__


def test_prediction3_reversal_lowers_synaptic_totals():
    data = plasticity.reversal_cohort(0, n=8, N=500)
    Td = plasticity.synaptic_totals(data["direct"])
    Tr = plasticity.synaptic_totals(data["reversal"])
    # chapter 5: lower in >= 97 % of the animals of uniform cohorts, for every total
    assert np.all((Tr < Td).mean(axis=0) >= 7 / 8)
    # behaviour restored (loss < 1e-9 after 2000 epochs of A)
    f = plasticity.behaviour_features
    gap = np.abs(f(data["reversal"]) - f(data["direct"]))
    assert np.max(gap) < 1e-3
    assert np.max(data["loss_reversal"]) < 1e-8


def test_prediction3_trace_grows_with_step():
    scan = plasticity.reversal_step_scan([1e-2, 5e-3], n=6, N=200)
    # chapter 5: recurrent total -8 % at eta 1e-2, -2 % at 5e-3
    assert scan["record"][0, 2] < scan["record"][1, 2] < 0


def test_decoder_is_unbiased_without_information_and_reads_separated_groups():
    rng = np.random.default_rng(0)
    # without information the accuracy averages 0.5 over data sets (a single data set can
    # be separable by chance); 100 data sets x 10 splits of 6 test individuals: the sd of
    # the mean is ~0.2 / sqrt(100) = 0.02 (splits of one data set are correlated): 3 sd
    same = [plasticity.decode_groups(rng.normal(size=(10, 3)), rng.normal(size=(10, 3)),
                                     n_splits=10, seed=i).mean() for i in range(100)]
    assert abs(np.mean(same) - 0.5) < 0.06
    apart = plasticity.decode_groups(rng.normal(size=(10, 3)), 4 + rng.normal(size=(10, 3)),
                                     n_splits=50)
    assert apart.mean() > 0.95
    with pytest.raises(ValueError, match="train_fraction"):
        plasticity.decode_groups(rng.normal(size=(2, 3)), rng.normal(size=(2, 3)),
                                 train_fraction=0.9)


def test_reversal_cohort_rejects_unknown_population():
    with pytest.raises(ValueError, match="population"):
        plasticity.reversal_cohort(0, population="mixed", n=2)
    with pytest.raises(ValueError, match="population"):
        plasticity.cohort_start(0, population="mixed", n=2)


def test_step_scan_keeps_every_animal():
    scan = plasticity.reversal_step_scan([1e-2], n=3, N=50, epochs=(300, 100, 200))
    assert scan["records"].shape == (1, 3, 3)
    assert_close(scan["records"].mean(axis=1), scan["record"], atol=1e-15)


# ---------------------------------------------------------------------------
# prediction 4: the per-neuron balance law
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
    b = plasticity.neuron_balance(X0, X1)
    assert isinstance(b, plasticity.NeuronBalance)
    assert_close(b.d_out - b.d_in, np.diag(dK), atol=1e-14)


def test_neuron_balance_checks_its_arguments():
    X = np.ones((5, 4))
    with pytest.raises(ValueError, match="do not match"):
        plasticity.neuron_balance(X, np.ones((5, 3)))
    with pytest.raises(ValueError, match="did not change"):
        plasticity.neuron_balance(X, X)


@pytest.fixture(scope="module")
def balance_small():
    rules = {k: r for k, r in plasticity.PLASTICITY_RULES.items() if r.phi == "linear"}
    return plasticity.balance_runs(rules, seeds=[0, 1], N=200, learning_time=5.0)


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
    # the rate-free relation: gradient descent has one (residual 0.002), Adam none (0.3)
    assert np.all(gd["rate_free_residual"] < 0.005)
    assert np.all(adam["rate_free_residual"] > 0.1)


def test_prediction4_erf_breaks_the_law():
    rules = {"erf": plasticity.PlasticityRule("gd", 5e-3, 0.0, "erf")}
    r = plasticity.balance_runs(rules, seeds=[0], N=100, learning_time=2.0)["erf"]
    # chapter 5: 0.20 +- 0.06 at learning time 5; linear GD gives 0.004
    assert r["violation"][0] > 0.05
    assert r["correlation"][0] > 0.9


def test_plasticity_science_imports_no_matplotlib_cache_or_report():
    import ast
    import inspect

    from lrtools import burial

    for mod in (plasticity, burial):
        tree = ast.parse(inspect.getsource(mod))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(m.startswith("matplotlib") or m in ("cache", "report")
                       for m in names), (mod.__name__, names)
