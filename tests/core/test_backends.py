"""The PyTorch backend (used for CUDA) computes what the compiled CPU kernels compute.

On this machine the torch code runs on the CPU through the private backend
functions; the same code runs on a GPU with ``device="cuda"`` (tested only where
a GPU exists). Tolerances: float64 on both sides, different summation order, so
agreement to ~1e-13 relative.
"""

import numpy as np
import pytest
import torch
from conftest import rel_err
from reference import random_batch

import lrtools
from lrtools import LowRankRNN, Overlaps, _torch, tasks, theory
from lrtools.theory import _indices


@pytest.mark.parametrize("phi", ["linear", "erf", "tanh"])
def test_torch_network_matches_kernels(phi):
    rng = np.random.default_rng(0)
    net = LowRankRNN.random(N=50, rank=2, phi=phi, seed=1)
    batch = random_batch(rng, B=3, T=30)
    w = batch[2] * 0.05
    L, g = net.loss_and_gradient(batch, w, 0.1)
    L_t, g_t = _torch.network_loss_and_gradient(net.X, net._idx, *batch[:2], w, 0.1, phi, "cpu")
    assert L_t == pytest.approx(L, rel=1e-12)
    assert rel_err(g_t, g) < 1e-11
    y = net.run(batch[0], 0.1)
    y_t, _ = _torch.network_run(net.X, net._idx, batch[0], 0.1, phi, "cpu")
    assert rel_err(y_t, y) < 1e-12


@pytest.mark.parametrize("phi", ["linear", "erf", "tanh"])
def test_torch_theory_matches_kernels(phi):
    rng = np.random.default_rng(2)
    A = rng.standard_normal((6, 6))
    S = Overlaps(A @ A.T / 6 + 0.2 * np.eye(6), lrtools.vector_names(rank=2))
    batch = random_batch(rng, B=3, T=40)
    w = batch[2] / batch[2].sum()
    L, Gam = theory.loss_and_gamma(S, batch, w, 0.1, phi)
    L_t, Gam_t = _torch.theory_loss_and_gamma(S.matrix, _indices(S.names), *batch[:2], w, 0.1,
                                              phi, "cpu")
    assert L_t == pytest.approx(L, rel=1e-12)
    assert rel_err(Gam_t, Gam) < 1e-10


def test_missing_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        LowRankRNN.random(N=10, rank=1, seed=0, device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_training_matches_cpu():
    task = tasks.ExponentialFilter(c=0.2, dt=0.05, t_max=5.0)
    cpu = LowRankRNN.random(N=200, rank=1, phi="erf", seed=3)
    gpu = LowRankRNN(cpu.X, phi="erf", device="cuda")
    h_cpu = lrtools.train(cpu, task, epochs=20, eta=5e-3)
    h_gpu = lrtools.train(gpu, task, epochs=20, eta=5e-3)
    assert rel_err(h_gpu.overlaps, h_cpu.overlaps) < 1e-10
    th_cpu = theory.learn(h_cpu.initial, task, epochs=20, eta=5e-3, phi="erf")
    th_gpu = theory.learn(h_cpu.initial, task, epochs=20, eta=5e-3, phi="erf", device="cuda")
    assert rel_err(th_gpu.overlaps, th_cpu.overlaps) < 1e-10
