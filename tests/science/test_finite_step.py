"""Chapter 5 science (lrtools.finite_step): what a finite plasticity step adds to gradient flow.

Exact identities are checked to round-off (1e-14 on O(1) quantities after one
step). The modified equation is checked by its order: gradient descent and the
modified flow differ by O(eta^2) at fixed learning time, gradient descent and the
flow by O(eta). The sign statements of prediction 3 are checked on the chapter's
first animals (uniform population, N = 500).
"""

import numpy as np
import pytest
from conftest import assert_close

from lrtools import LowRankRNN, Overlaps, finite_step, plasticity, tasks, theory
from lrtools.memory import random_overlaps

NAMES = ("m", "u", "v", "z")


def _gamma(S, task):
    batch = next(tasks.batches(task, 0))
    return theory.loss_and_gamma_many(S, batch, task.loss_weights(batch[2]), task.dt)[1]


def test_noether_step_is_the_exact_change_of_the_conserved_charges(filter_task):
    S = np.array([LowRankRNN.random(60, seed=s).overlaps().matrix for s in range(3)])
    eta = 2e-2
    S1 = theory.learn_many(S, filter_task, 1, eta)["final"]
    G = _gamma(S, filter_task)
    d = finite_step.noether_step(S, G, eta)
    assert_close(d[:, 0], (S1[:, 1, 1] - S1[:, 2, 2]) - (S[:, 1, 1] - S[:, 2, 2]), atol=1e-14)
    assert_close(d[:, 1], (S1[:, 0, 0] - S1[:, 3, 3]) - (S[:, 0, 0] - S[:, 3, 3]), atol=1e-14)
    # (Gamma S Gamma)_aa = N |dL/dx_a|^2 >= 0: the step adds a quadratic form of gradients
    GSG = G @ S @ G
    assert np.all(np.einsum("nii->ni", GSG) >= 0)


def test_flow_many_without_correction_is_the_flow(filter_task):
    S = np.array([LowRankRNN.random(80, seed=s).overlaps().matrix for s in range(2)])
    r = finite_step.flow_many(S, filter_task, 3.0)
    for i in range(2):
        ref = theory.flow(Overlaps(S[i], NAMES), filter_task, 3.0, 2).final.matrix
        assert_close(r["final"][i], ref, atol=1e-7)  # two adaptive integrators, rtol 1e-9/1e-10


def test_modified_flow_follows_gradient_descent_to_second_order(filter_task):
    """|GD - modified flow| = O(eta^2) while |GD - flow| = O(eta), at fixed learning time."""
    S = random_overlaps(2, 3)  # O(1) overlaps: away from the saddle of a random start
    tau = 2.0
    flow = finite_step.flow_many(S, filter_task, tau)["final"]
    err_flow, err_mod = [], []
    for eta in (5e-3, 2.5e-3):
        gd = theory.learn_many(S, filter_task, int(round(tau / eta)), eta)["final"]
        mod = finite_step.flow_many(S, filter_task, tau, eta_correction=eta)["final"]
        err_flow.append(np.max(np.abs(gd - flow)))
        err_mod.append(np.max(np.abs(gd - mod)))
    # measured: 3.3e-3 -> 1.7e-3 (ratio 2.0) and 4.0e-5 -> 1.1e-5 (ratio 3.8)
    assert 1.8 < err_flow[0] / err_flow[1] < 2.2  # first order
    assert 3.4 < err_mod[0] / err_mod[1] < 4.6  # second order
    assert err_mod[1] < 0.02 * err_flow[1]


def test_modified_gamma_adds_a_nonnegative_diagonal(filter_task):
    S = np.array([LowRankRNN.random(80, seed=3).overlaps().matrix])
    G = _gamma(S, filter_task)
    assert np.all(np.abs(np.einsum("nii->ni", G)) == 0)  # linear networks: no diagonal
    Gt = finite_step.modified_gamma(G, np.zeros_like(G), 1e-2)
    assert np.all(np.einsum("nii->ni", Gt) >= 0)
    assert_close(np.einsum("nii->ni", Gt), 0.5e-2 * np.einsum("nii->ni", G @ G), atol=1e-15)


@pytest.fixture(scope="module")
def first_animals():
    start = plasticity.cohort_start(0, population="uniform", n=4, N=500)
    kw = dict(learning_times=(15.0, 5.0, 10.0))
    return (finite_step.reversal_flow(start, **kw),
            finite_step.reversal_flow(start, eta_correction=2.5e-3, **kw))


def test_prediction3_flow_limit_has_no_definite_sign(first_animals):
    flow, _ = first_animals
    assert max(flow["loss_reversal"].max(), flow["loss_direct"].max()) < 1e-9
    rec = finite_step.relative_record(flow["direct"], flow["reversal"])[:, 0]
    # chapter 5: the exact flow lowers the input total in some animals and raises it in
    # others (measured on these four: +0.07 %, +0.10 %, -0.42 %, +0.01 %)
    assert rec.min() < 0 < rec.max()
    assert np.max(np.abs(rec)) < 0.01


def test_prediction3_finite_steps_lower_the_input_total_in_every_animal(first_animals):
    flow, mod = first_animals
    slope = (finite_step.relative_record(mod["direct"], mod["reversal"])
             - finite_step.relative_record(flow["direct"], flow["reversal"])) / 2.5e-3
    # the first-order coefficient of the input and readout totals: -0.7 to -4.5 per unit
    # step on these animals (-0.07 % to -0.45 % per 1e-3), all negative
    assert np.all(slope[:, :2] < -0.3)
    # the implicit decay acts on the reversal twin, not on the direct twin at its minimum
    assert np.all(flow["decay_reversal"] > flow["decay_direct"])


def test_record_statistics_and_binomial_interval_by_hand():
    v = np.array([[-1.0, 2.0, 0.5], [-2.0, -1.0, 0.5], [3.0, -0.5, 0.5], [-0.1, -0.2, -0.5]])
    st = finite_step.record_statistics(v)
    assert list(st["negative"]) == [3, 3, 1] and int(st["n"]) == 4
    assert_close(st["median"], [-0.55, -0.35, 0.5], atol=1e-15)
    lo, hi = finite_step.binomial_interval(3, 4)
    # Clopper-Pearson for 3 of 4: beta quantiles (0.1941, 0.9937)
    assert abs(lo - 0.19412) < 1e-4 and abs(hi - 0.99370) < 1e-4
    assert finite_step.binomial_interval(0, 10)[0] == 0.0
