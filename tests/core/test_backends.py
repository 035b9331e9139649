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


def _theory_forward_loop(S, iM, iU, iV, iZ, x, dt, phi):
    """The reduced recursion one batch row and one time step at a time (plain Python)."""
    import math

    B, T, n_in = x.shape
    iX = list(iM) + list(iU)
    d, R, n_out = len(iX), len(iU), len(iZ)
    y, kap = np.zeros((B, T, len(iZ))), np.zeros((B, T + 1, d))
    for b in range(B):
        for t in range(T + 1):
            g = 1.0
            if phi == "erf":
                D = 0.0
                for i in range(d):
                    for j in range(d):
                        D += kap[b, t, i] * S[iX[i], iX[j]] * kap[b, t, j]
                g = 1.0 / math.sqrt(1.0 + math.pi / 2.0 * D)
            if t >= 1:
                for o in range(n_out):
                    s = 0.0
                    for i in range(d):
                        s += S[iZ[o], iX[i]] * kap[b, t, i]
                    y[b, t - 1, o] = g * s
            if t < T:
                for j in range(n_in):
                    kap[b, t + 1, j] = (1.0 - dt) * kap[b, t, j] + dt * x[b, t, j]
                for j in range(R):
                    s = 0.0
                    for i in range(d):
                        s += S[iV[j], iX[i]] * kap[b, t, i]
                    kap[b, t + 1, n_in + j] = (1.0 - dt) * kap[b, t, n_in + j] + dt * g * s
    return y, kap


@pytest.mark.parametrize("phi", ["linear", "erf"])
@pytest.mark.parametrize("B, n_in, R, n_out", [(1, 1, 1, 1), (19, 1, 1, 1), (37, 2, 2, 2)])
def test_reduced_forward_kernel_is_the_recursion_bit_for_bit(phi, B, n_in, R, n_out):
    # the kernel advances blocks of batch rows together; every row must still see
    # exactly the operations of the plain recursion, in order (serial and parallel)
    from lrtools import _kernels as K

    rng = np.random.default_rng(B)
    k = 2 * R + n_in + n_out
    A = rng.normal(size=(k, k))
    S = A @ A.T / k
    iM, iU = np.arange(R), np.arange(R, R + n_in)
    iV, iZ = np.arange(R + n_in, 2 * R + n_in), np.arange(2 * R + n_in, k)
    x = rng.normal(size=(B, 25, n_in))
    y0, kap0 = _theory_forward_loop(S, iM, iU, iV, iZ, x, 0.05, phi)
    for variant in (K.theory_forward.serial, K.theory_forward.parallel):
        y, kap = variant(S, iM, iU, iV, iZ, x, 0.05, K.PHI_CODES[phi])
        assert np.array_equal(y, y0) and np.array_equal(kap, kap0)
