"""Chapter 4 science: the nonlinear twins in the reduced erf theory and in the network."""

import dataclasses

import numpy as np
import pytest
from conftest import assert_close

import lrtools
from lrtools import Overlaps, memory, tasks, theory, twins


@pytest.mark.parametrize("task", [
    tasks.FlipFlop(dt=0.05, t_max=20.0, batch_size=8),
    tasks.DecisionMaking(dt=0.05, t_max=20.0, batch_size=8),
    tasks.TeacherStudent(batch_size=8),
], ids=["flipflop", "decision", "teacher"])
def test_fused_erf_kernel_matches_theory(task):
    S = twins.random_overlaps(3, 0)
    batch = task.sample(np.random.default_rng(1))
    w = task.loss_weights(batch[2])
    L, G = theory.loss_and_gamma_many(S, batch, w, task.dt, "erf")
    for i in range(3):
        L0, G0 = theory.loss_and_gamma(Overlaps(S[i]), batch, w, task.dt, "erf")
        assert L[i] == pytest.approx(L0, rel=1e-12)  # the same sums in another order
        assert_close(G[i], G0, atol=1e-12 * np.max(np.abs(G0)))


def test_learn_many_is_the_exact_map_on_the_same_batches():
    task = tasks.FlipFlop(dt=0.05, t_max=20.0, batch_size=4)
    S = twins.random_overlaps(2, 3)
    r = theory.learn_many(S, task, 20, 0.05, "erf", seed=7, record_every=10)
    for i in range(2):
        h = theory.learn(Overlaps(S[i]), task, epochs=20, eta=0.05, phi="erf", seed=7)
        assert_close(r["overlaps"][-1, i], h.final.matrix, atol=1e-12)
        assert_close(r["loss"][:, i], h.loss, rtol=1e-11)


def test_eta_drop_divides_the_rate_once():
    task = tasks.DecisionMaking(dt=0.05, t_max=20.0, batch_size=8)
    S = twins.random_overlaps(2, 4)
    r = theory.learn_many(S, task, 5, 0.01, "erf", seed=0, eta_drop=(1e9, 5.0))
    assert np.all(r["drop_epoch"] == 0)
    assert_close(r["eta"], np.full(2, 0.002), rtol=1e-15)


def test_random_overlaps_follow_the_recipe():
    S = twins.random_overlaps(50, 0)
    assert S.shape == (50, 4, 4)
    assert np.all(np.linalg.eigvalsh(S)[:, 0] > 1e-3)
    d = np.diagonal(S, axis1=1, axis2=2)
    assert d.min() >= 0.5 and d.max() <= 2.0
    assert np.all(S[:, 0, 1:] >= 0)


def test_twin_experiment_shapes_and_features():
    f = twins.TwinProtocol.fast()
    small = {k: dataclasses.replace(getattr(f, k), batch_size=2)
             for k in ("task_a", "task_b", "task_c")}
    data = twins.twin_experiment(f.replace(**small, n_pairs=3, seed=2, epochs=(20, 10),
                                           record_every=10))
    assert data["ab"].shape == (3, 3, 2, 4, 4) and data["c"].shape == (2, 3, 2, 4, 4)
    assert data["c_loss"].shape == (10, 3, 2) and data["ab_drop"].shape == (3, 2)
    assert_close(data["ab"][0, :, 0], data["start"])  # both twins start at the start
    f = twins.twin_features(data, "start")
    assert f["visible"].shape == (3, 2, 7) and f["invisible"].shape == (3, 2, 3)
    assert np.array_equal(f["visible"][:, 0], f["visible"][:, 1])  # identical twins
    d = twins.twin_distances(data)
    assert list(d["epoch"]) == [0, 10, 20, 30] and d["visible"].shape == (4, 3)
    assert np.all(d["visible"][0] == 0)
    with pytest.raises(ValueError, match="stage"):
        twins.twin_features(data, "end")


def test_twin_experiment_on_an_executor_is_the_same_bit_for_bit():
    f = twins.TwinProtocol.fast()
    small = {k: dataclasses.replace(getattr(f, k), batch_size=4)
             for k in ("task_a", "task_b", "task_c")}
    p = f.replace(**small, n_pairs=3, seed=5, epochs=(30, 20), record_every=10)
    ref = twins.twin_experiment(p)
    with lrtools.make_executor("processes:2") as ex:  # A | B, then C of the A | B twins
        par = twins.twin_experiment(p, executor=ex)
    assert ref.keys() == par.keys()
    for k in ref:
        assert np.array_equal(ref[k], par[k]), k
    with pytest.raises(ValueError, match="update"):
        twins.twin_experiment(p, update="euler")


def test_network_twin_check_starts_from_the_twins():
    pair = twins.random_overlaps(2, 6)
    d = twins.network_twin_check(pair, N=60, epochs=2, eta=0.01, batch_size=2)
    for i, t in enumerate("AB"):
        net = lrtools.History.from_arrays(d, f"net_{t}/")
        th = lrtools.History.from_arrays(d, f"th_{t}/")
        assert_close(net.overlaps[0], pair[i], atol=1e-12)  # exact overlaps at the start
        assert_close(th.overlaps[0], pair[i], atol=1e-15)
        # same batch, finite N = 60: the Gaussian limit holds to O(N^-1/2) ~ 13%
        assert net.loss[0] == pytest.approx(th.loss[0], rel=0.3)
    g = memory.gap_series(lrtools.History.from_arrays(d, "th_A/"),
                          lrtools.History.from_arrays(d, "th_B/"))
    assert g["visible"].shape == (3,) and g["invisible"][0] > 0


def _shift(M, key, dx):
    out = M.copy()
    i, j = memory.NAMES.index(key[0]), memory.NAMES.index(key[1])
    out[i, j] += dx
    if i != j:
        out[j, i] += dx
    return out


def test_median_twin_pair():
    # final invisible distances grow with |zz difference|: order 1, 2, 0 -> the middle is 2
    n, B = 3, np.eye(4)
    ab = np.repeat(B[None, None, None], 2, axis=0).repeat(n, axis=1).repeat(2, axis=2)
    c = np.repeat(ab[-1:], 2, axis=0)
    for p, dz in enumerate([0.75, 0.0, 0.25]):
        c[-1, p, 1] = _shift(B, "zz", dz)
    data = {"start": np.repeat(B[None], n, axis=0), "ab": ab, "ab_epoch": np.array([0, 100]),
            "c": c, "c_epoch": np.array([0, 100])}
    assert twins.median_twin_pair(data) == 2
