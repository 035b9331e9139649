"""Public API shapes, seeded reproducibility and clear errors for bad input."""

import numpy as np
import pytest

import lrtools
from lrtools import DivergenceError, LowRankRNN, Overlaps, tasks, theory


def test_public_api_shapes(filter_task):
    net = LowRankRNN.random(N=60, rank=1, phi="linear", seed=0)
    assert net.X.shape == (60, 4) and net.names == ("m", "u", "v", "z")
    m, u, v, z = (net.vector(n) for n in "muvz")
    net_b = LowRankRNN.from_vectors(m=m, u=u, v=v, z=z, phi="linear")
    assert np.array_equal(net_b.X, net.X)
    x = np.random.default_rng(1).standard_normal((3, 50, 1))
    assert net.run(x, dt=0.05).shape == (3, 50, 1)
    y, h = net.run(x, dt=0.05, return_activity=True)
    assert h.shape == (3, 51, 60)
    hist = lrtools.train(net, filter_task, epochs=4, eta=5e-3, optimizer="gd")
    assert hist.loss.shape == (4,) and hist.overlaps.shape == (5, 4, 4)
    assert hist.overlap("zm").shape == (5,) and hist.time[-1] == pytest.approx(4 * 5e-3)
    th = theory.learn(hist.initial, filter_task, epochs=4, eta=5e-3, phi="linear")
    assert isinstance(th, lrtools.History) and th.overlaps.shape == (5, 4, 4)
    fl = theory.flow(hist.initial, filter_task, t_end=0.1, n_points=7)
    assert fl.overlaps.shape == (7, 4, 4) and fl.loss.shape == (7,)


def test_rank2_from_vectors_and_names():
    rng = np.random.default_rng(2)
    vecs = {n: rng.standard_normal((40, 2)) if n in "uv" else rng.standard_normal(40)
            for n in "muvz"}
    net = LowRankRNN.from_vectors(**vecs)
    assert net.rank == 2 and net.names == ("m", "u1", "u2", "v1", "v2", "z")
    S = net.overlaps()
    assert S["v1u2"] == pytest.approx(vecs["v"][:, 0] @ vecs["u"][:, 1] / 40, rel=1e-14)


def test_activity_stays_in_span_of_m_and_u():
    net = LowRankRNN.random(N=50, rank=1, phi="erf", seed=3)
    x = np.random.default_rng(4).standard_normal((1, 30, 1))
    _, h = net.run(x, dt=0.1, return_activity=True)
    basis = net.X[:, :2]
    coef, *_ = np.linalg.lstsq(basis, h[0].T, rcond=None)
    # h = m kM + u kU exactly, to round-off
    assert np.max(np.abs(basis @ coef - h[0].T)) < 1e-12


def test_seeded_runs_are_bit_identical(filter_task):
    noisy = tasks.NoisyTarget(task=filter_task, std=0.1)
    runs = []
    for _ in range(2):
        net = LowRankRNN.random(N=40, rank=1, seed=7)
        runs.append(lrtools.train(net, noisy, epochs=20, eta=5e-3, seed=11, weight_noise=1e-3))
    assert np.array_equal(runs[0].overlaps, runs[1].overlaps)
    assert np.array_equal(runs[0].loss, runs[1].loss)
    other = lrtools.train(LowRankRNN.random(N=40, rank=1, seed=7), noisy, epochs=20,
                          eta=5e-3, seed=12, weight_noise=1e-3)
    assert not np.array_equal(other.loss, runs[0].loss)


def test_same_seed_same_batches_for_train_and_learn(filter_task):
    wn = filter_task.white_noise(batch_size=4)
    net = LowRankRNN.random(N=30, rank=1, seed=8)
    sim = lrtools.train(net.copy(), wn, epochs=30, eta=1e-3, seed=5)
    th = theory.learn(net.overlaps(), wn, epochs=30, eta=1e-3, seed=5)
    # linear network: exact agreement on random batches too
    assert np.max(np.abs(sim.loss - th.loss) / th.loss) < 1e-10


def test_white_noise_targets_are_the_filtered_input(filter_task):
    wn = filter_task.white_noise(batch_size=2, std=0.5)
    x, y, mask = wn.sample(np.random.default_rng(0))
    assert x.shape == y.shape == mask.shape == (2, 400, 1)
    a = theory.filter_optimum(c=0.2, dt=0.05)["vu"]
    S = Overlaps(np.eye(4), ("m", "u", "v", "z")).replace(zm=1.0, zu=1.0, vm=a, vu=a)
    # the exact optimum filters white noise exactly like the target
    assert np.max(np.abs(theory.run(S, x, dt=0.05) - y)) < 1e-12


@pytest.mark.parametrize("dt", [0.0, -0.1, np.nan])
def test_bad_time_step(dt):
    with pytest.raises(ValueError, match="dt"):
        tasks.ExponentialFilter(c=0.2, dt=dt, t_max=20.0)
    net = LowRankRNN.random(N=10, rank=1, seed=0)
    with pytest.raises(ValueError, match="dt"):
        net.run(np.zeros((1, 5, 1)), dt=dt)
    with pytest.raises(ValueError, match="dt"):
        theory.run(net.overlaps(), np.zeros((1, 5, 1)), dt=dt)


def test_bad_shapes_and_names():
    with pytest.raises(ValueError, match="t_max"):
        tasks.ExponentialFilter(c=0.2, dt=0.3, t_max=1.0)
    with pytest.raises(ValueError, match="fewer than the number of vectors|must be an integer >="):
        LowRankRNN.random(N=3, rank=1, seed=0)
    net = LowRankRNN.random(N=10, rank=1, seed=0)
    with pytest.raises(ValueError, match=r"shape \(B, T, n_in=1\)"):
        net.run(np.zeros((5, 1)), dt=0.1)
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        LowRankRNN.random(N=10, rank=1, phi="relu", seed=0)
    with pytest.raises(ValueError, match="unknown update"):
        theory.learn(net.overlaps(), tasks.ExponentialFilter(), epochs=1, eta=1e-3,
                     update="euler")
    with pytest.raises(ValueError, match="unknown optimizer"):
        lrtools.train(net, tasks.ExponentialFilter(), epochs=1, eta=1e-3, optimizer="sgd")
    with pytest.raises(ValueError, match="learning rate"):
        lrtools.train(net, tasks.ExponentialFilter(), epochs=1, eta=-1.0)
    with pytest.raises(ValueError, match="random batches"):
        theory.flow(net.overlaps(), tasks.ExponentialFilter().white_noise(), t_end=1.0)


def test_divergence_is_detected_not_returned(filter_task):
    net = LowRankRNN.random(N=50, rank=1, seed=0)
    with pytest.raises(DivergenceError, match=r"eta=2.*reduce it"):
        lrtools.train(net, filter_task, epochs=200, eta=2.0)
    with pytest.raises(DivergenceError, match=r"eta=2.*reduce it"):
        theory.learn(net.overlaps(), filter_task, epochs=200, eta=2.0)


def test_balanced_start_is_balanced_and_seeded():
    """The paper's balanced start: sigma_zu ~ sigma_vm and sigma_mu ~ sigma_zv, same signs."""
    net = LowRankRNN.balanced(300, phi="erf", seed=4)
    S = net.overlaps()
    for a, b in (("zu", "vm"), ("mu", "zv")):
        assert abs(S[a] - S[b]) < 1e-3 and S[a] * S[b] > 0
    assert np.allclose([S[k] for k in ("mm", "uu", "vv", "zz")], 1.0, rtol=0, atol=1e-13)
    assert net.phi == "erf" and net.rank == 1
    assert np.array_equal(LowRankRNN.balanced(300, phi="erf", seed=4).X, net.X)
    with pytest.raises(RuntimeError, match="no balanced start"):
        LowRankRNN.balanced(300, seed=0, tol=1e-9, max_draws=512)
    with pytest.raises(ValueError, match="tol must be positive"):
        LowRankRNN.balanced(300, tol=0.0)
