"""The population limit of nonlinear learning: weighted rows in the network's own kernels."""

import numpy as np
import pytest

import lrtools
from lrtools import LowRankRNN, Overlaps, population, tasks, theory

S_CONV = Overlaps(np.eye(4)).replace(vu=0.8, zu=0.3, vm=0.2, zm=0.2, mu=0.1)
FLIP = tasks.FlipFlop(dt=0.1, t_max=10.0, batch_size=2)


def test_nodes_have_exactly_the_start_overlaps():
    for rule, nodes in (("gauss-hermite", 5), ("sobol", 8)):
        X, w, used = population.population_nodes(S_CONV, nodes, rule=rule, seed=3)
        assert used == rule and np.all(w > 0) and w.sum() == pytest.approx(1.0, abs=1e-14)
        np.testing.assert_allclose(X.T @ (w[:, None] * X), S_CONV.matrix, atol=1e-13)
    X, w, used = population.population_nodes(S_CONV, 5)
    assert used == "gauss-hermite" and X.shape == (5**4, 4)
    S2 = LowRankRNN.random(60, 2, seed=0).overlaps()  # k = 6: a tensor grid is too large
    X, w, used = population.population_nodes(S2, 12)
    assert used == "sobol" and X.shape[1] == 6
    np.testing.assert_allclose(X.T @ (w[:, None] * X), S2.matrix, atol=1e-12)


def test_linear_population_is_the_exact_map():
    # for linear networks the loss is a function of S: the population and the map agree
    task = tasks.ExponentialFilter(c=0.2)
    S0 = LowRankRNN.random(200, 1, seed=0).overlaps()
    exact = theory.learn(S0, task, 100, 5e-3)
    pop = theory.learn(S0, task, 100, 5e-3, closure="population", nodes=3)
    assert pop.info["closure"] == "population" and pop.info["n_nodes"] == 81
    np.testing.assert_allclose(pop.overlaps, exact.overlaps, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pop.loss, exact.loss, rtol=1e-11)


def test_weights_one_over_N_reproduce_the_network():
    net = LowRankRNN.random(150, 1, phi="erf", seed=1)
    plain = lrtools.train(net.copy(), FLIP, 10, 0.05, seed=3)
    weighted = LowRankRNN(net.X, phi="erf", row_weights=np.full(150, 1 / 150))
    assert weighted.overlaps().matrix == pytest.approx(net.overlaps().matrix, abs=1e-14)
    pop = lrtools.train(weighted, FLIP, 10, 0.05, seed=3)
    np.testing.assert_allclose(pop.overlaps, plain.overlaps, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pop.loss, plain.loss, rtol=1e-12)
    # the same for Adam and weight decay
    a = lrtools.train(net.copy(), FLIP, 5, 1e-3, "adam", seed=3, weight_decay=0.1)
    b = lrtools.train(LowRankRNN(net.X, phi="erf", row_weights=np.full(150, 1 / 150)), FLIP,
                      5, 1e-3, "adam", seed=3, weight_decay=0.1)
    np.testing.assert_allclose(b.overlaps, a.overlaps, rtol=0, atol=1e-12)


def test_converges_geometrically_in_the_nodes():
    runs = {n: theory.learn(S_CONV, FLIP, 10, 0.1, phi="erf", seed=0, closure="population",
                            nodes=n) for n in (4, 6, 8, 10)}
    diffs = [np.max(np.abs(runs[n].overlaps - runs[10].overlaps)) for n in (4, 6, 8)]
    assert diffs[0] > 30 * diffs[1] > 0 and diffs[1] > 30 * diffs[2] > 0, diffs
    # and it is not the Gaussian theory: the rows leave the Gaussian family
    gauss = theory.learn(S_CONV, FLIP, 10, 0.1, phi="erf", seed=0)
    assert np.max(np.abs(gauss.overlaps - runs[10].overlaps)) > 100 * diffs[2]


def test_adam_and_weight_decay_in_the_population():
    gd = theory.learn(S_CONV, FLIP, 5, 0.05, phi="erf", seed=0, closure="population", nodes=4)
    adam = theory.learn(S_CONV, FLIP, 5, 1e-2, phi="erf", seed=0, closure="population", nodes=4,
                        optimizer="adam")
    wd = theory.learn(S_CONV, FLIP, 5, 0.05, phi="erf", seed=0, closure="population", nodes=4,
                      weight_decay=0.5)
    assert adam.info["optimizer"] == "adam"
    assert not np.allclose(adam.overlaps[-1], gd.overlaps[-1])
    assert np.trace(wd.overlaps[-1]) < np.trace(gd.overlaps[-1])


def test_bad_population_arguments():
    with pytest.raises(ValueError, match="closure"):
        theory.learn(S_CONV, FLIP, 1, 0.1, phi="erf", closure="wishart")
    with pytest.raises(ValueError, match="Adam acts on the vectors"):
        theory.learn(S_CONV, FLIP, 1, 0.1, phi="erf", optimizer="adam")
    with pytest.raises(ValueError, match="update must be 'exact'"):
        theory.learn(S_CONV, FLIP, 1, 0.1, "erf", "first-order", closure="population")
    with pytest.raises(ValueError, match="node rule"):
        population.population_nodes(S_CONV, 4, rule="simpson")
    with pytest.raises(ValueError, match="sum to 1"):
        LowRankRNN(np.ones((5, 4)), row_weights=np.full(5, 0.3))
    with pytest.raises(ValueError, match="positive"):
        LowRankRNN(np.ones((4, 4)) + np.eye(4), row_weights=[1.5, -0.5, 0.0, 0.0])
    X = np.random.default_rng(0).standard_normal((8, 4))
    net = LowRankRNN(X, row_weights=np.full(8, 1 / 8))
    with pytest.raises(ValueError, match="not defined for weighted rows"):
        lrtools.train(net, FLIP, 1, 0.1, weight_noise=0.1)
