"""An independent PyTorch (autograd) implementation of the network, for checks only.

Written directly from the model equations, with the N x N matrix formed
explicitly, so that it shares no code with lrtools' compiled kernels.
"""

from __future__ import annotations

import math

import numpy as np
import torch

PHI = {
    "linear": lambda h: h,
    "erf": lambda h: torch.erf(math.sqrt(math.pi) / 2 * h),
    "tanh": torch.tanh,
}


def network_loss(X, names, x, target, weights, dt, phi):
    """Loss sum w (y - y*)^2 of the network with vectors X (torch, (N, k))."""
    N = X.shape[0]
    cols = {c: [i for i, n in enumerate(names) if n[0] == c] for c in "muvz"}
    M, U, V, Z = (X[:, cols[c]] for c in "muvz")
    W = U @ V.T / N  # the full connectivity matrix (fine for a reference)
    x = torch.as_tensor(x)
    h = torch.zeros(x.shape[0], N, dtype=X.dtype)
    ys = []
    for t in range(x.shape[1]):
        h = h + dt * (-h + PHI[phi](h) @ W.T + x[:, t] @ M.T)
        ys.append(PHI[phi](h) @ Z / N)
    y = torch.stack(ys, dim=1)
    return (torch.as_tensor(weights) * (y - torch.as_tensor(target)) ** 2).sum()


def network_gradient(X, names, batch, weights, dt, phi):
    """(loss, dL/dX) by autograd, as numpy."""
    Xt = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    x, target, _ = batch
    L = network_loss(Xt, names, x, target, weights, dt, phi)
    L.backward()
    return float(L.detach()), Xt.grad.numpy().copy()


def adam_reference(X0, names, batch, weights, dt, phi, lr, steps):
    """Vectors after `steps` epochs of torch.optim.Adam on the same loss."""
    Xt = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([Xt], lr=lr)
    x, target, _ = batch
    for _ in range(steps):
        opt.zero_grad()
        network_loss(Xt, names, x, target, weights, dt, phi).backward()
        opt.step()
    return Xt.detach().numpy().copy()


def random_batch(rng: np.random.Generator, B: int, T: int, n_in: int = 1, n_out: int = 1):
    x = rng.standard_normal((B, T, n_in))
    target = rng.standard_normal((B, T, n_out))
    mask = (rng.random((B, T, n_out)) > 0.2).astype(float)
    return x, target, mask


def flip_flop_pulses_loop(rng, batch_size, n_steps, dt, *, pulse_duration=0.5,
                          first_pulse=0.5, post_pulse=2.0, wait_min=4.0, wait_max=10.0):
    """The flip-flop pulse trains as a plain Python loop (the compiled sampler's reference)."""
    T = int(n_steps)
    pulses = np.zeros((batch_size, T))
    state = np.zeros((batch_size, T))
    free = np.ones((batch_size, T), dtype=bool)
    n_pulse = int(round(pulse_duration / dt))
    n_blank = int(round((pulse_duration + post_pulse) / dt))
    for b in range(batch_size):
        onset = first_pulse
        free[b, :int(round(first_pulse / dt))] = False
        while True:
            k0 = int(round(onset / dt))
            if k0 >= T:
                break
            sign = 1.0 if rng.random() < 0.5 else -1.0
            pulses[b, k0:k0 + n_pulse] = sign
            state[b, k0:] = sign
            free[b, k0:k0 + n_blank] = False
            onset += pulse_duration + post_pulse + rng.uniform(wait_min, wait_max)
    return pulses, state, free
