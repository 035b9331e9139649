"""PyTorch backend: the network and the reduced theory on any torch device (e.g. CUDA).

Private module. The same equations as the numba kernels in ``_kernels``, written
with tensors and differentiated by autograd, so they run on a GPU and serve as an
independent check of the hand-written adjoints. Everything is float64.
"""

from __future__ import annotations

import math

import numpy as np
import torch

_SQRT_PI_2 = math.sqrt(math.pi) / 2.0


def device_of(device: str | torch.device | None) -> torch.device:
    """A torch device, with a clear error when it is not available."""
    dev = torch.device(device or "cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available here")
    return dev


def _phi(h: torch.Tensor, phi: str) -> torch.Tensor:
    if phi == "linear":
        return h
    if phi == "erf":
        return torch.erf(_SQRT_PI_2 * h)
    return torch.tanh(h)


def _tanh_gain_np(delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from ._kernels import TANH, gain_array

    d = np.ascontiguousarray(np.clip(delta, 0.0, None), dtype=np.float64)
    return gain_array(TANH, d)


class _TanhGain(torch.autograd.Function):
    r"""E[1 - tanh(h)^2] for h ~ N(0, delta), with derivative E[phi'''(h)] / 2.

    Evaluated by the quadrature of the numba kernel, on the host (one scalar per
    trial and step, negligible next to the network); the custom backward avoids
    the singular derivative of sqrt(delta) at delta = 0.
    """

    @staticmethod
    def forward(ctx, delta):  # noqa: D102
        g, dg = _tanh_gain_np(delta.detach().cpu().numpy())
        ctx.save_for_backward(torch.as_tensor(dg, dtype=delta.dtype, device=delta.device))
        return torch.as_tensor(g, dtype=delta.dtype, device=delta.device)

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        (dg,) = ctx.saved_tensors
        return grad * dg


def _gain(delta: torch.Tensor, phi: str) -> torch.Tensor:
    """<phi'> for h ~ N(0, delta), differentiable in delta."""
    if phi == "linear":
        return torch.ones_like(delta)
    if phi == "erf":
        return 1.0 / torch.sqrt(1.0 + (math.pi / 2.0) * delta)
    return _TanhGain.apply(delta)


def _blocks(A: torch.Tensor, idx: tuple[np.ndarray, ...]) -> tuple[torch.Tensor, ...]:
    return tuple(A[..., torch.as_tensor(i, device=A.device)] for i in idx)


def _forward(Xt, idx, x, dt, phi, noise=None, record=False):
    M, U, V, Z = _blocks(Xt, idx)
    N = Xt.shape[0]
    xt = torch.as_tensor(x, dtype=torch.float64, device=Xt.device)
    h = torch.zeros(x.shape[0], N, dtype=torch.float64, device=Xt.device)
    ys, hs = [], [h]
    for t in range(x.shape[1]):
        r = _phi(h, phi) @ V / N
        h = (1.0 - dt) * h + dt * (r @ U.T + xt[:, t] @ M.T)
        if noise is not None:
            h = h + torch.as_tensor(noise[:, t], dtype=torch.float64, device=Xt.device)
        ys.append(_phi(h, phi) @ Z / N)
        if record:
            hs.append(h)
    return torch.stack(ys, dim=1), (torch.stack(hs, dim=1) if record else None)


def network_run(X, idx, x, dt, phi, device, noise=None, record=False):
    """Forward simulation: ``y (B, T, n_out)`` and ``H (B, T+1, N)`` (empty unless ``record``)."""
    with torch.no_grad():
        Xt = torch.as_tensor(X, dtype=torch.float64, device=device_of(device))
        y, H = _forward(Xt, idx, x, dt, phi, noise, record)
    return y.cpu().numpy(), (H.cpu().numpy() if record else np.zeros((0, 0, 0)))


def network_loss_and_gradient(X, idx, x, target, weights, dt, phi, device):
    """Loss and ``dL/dX`` of the N-dimensional network (numpy in, numpy out)."""
    dev = device_of(device)
    Xt = torch.tensor(X, dtype=torch.float64, device=dev, requires_grad=True)
    y, _ = _forward(Xt, idx, x, dt, phi)
    w = torch.as_tensor(weights, dtype=torch.float64, device=dev)
    L = (w * (y - torch.as_tensor(target, dtype=torch.float64, device=dev)) ** 2).sum()
    L.backward()
    return float(L.detach().cpu()), Xt.grad.cpu().numpy()


def theory_run(S, idx, x, dt, phi, device, *, requires_grad=False):
    """Reduced dynamics (the equations of ``_kernels._theory_forward``); returns ``(y, S)``."""
    dev = device_of(device)
    St = torch.tensor(S, dtype=torch.float64, device=dev, requires_grad=requires_grad)
    iM, iU, iV, iZ = (torch.as_tensor(i, device=dev) for i in idx)
    iX = torch.cat([iM, iU])
    A, Bv, Cz = St[iX][:, iX], St[iV][:, iX], St[iZ][:, iX]
    xt = torch.as_tensor(x, dtype=torch.float64, device=dev)
    B, T, n_in = x.shape
    kap = torch.zeros(B, n_in + len(idx[1]), dtype=torch.float64, device=dev)
    ys = []
    for t in range(T):
        g = _gain(torch.einsum("bi,ij,bj->b", kap, A, kap), phi)
        r = g[:, None] * (kap @ Bv.T)
        kap = (1.0 - dt) * kap + dt * torch.cat([xt[:, t], r], dim=1)
        g1 = _gain(torch.einsum("bi,ij,bj->b", kap, A, kap), phi)
        ys.append(g1[:, None] * (kap @ Cz.T))
    return torch.stack(ys, dim=1), St


def theory_loss_and_gamma(S, idx, x, target, weights, dt, phi, device):
    """Loss and ``Gamma = F + F^T`` of the reduced theory by autograd (numpy out)."""
    y, St = theory_run(S, idx, x, dt, phi, device, requires_grad=True)
    w = torch.as_tensor(weights, dtype=torch.float64, device=y.device)
    L = (w * (y - torch.as_tensor(target, dtype=torch.float64, device=y.device)) ** 2).sum()
    L.backward()
    F = St.grad.cpu().numpy()
    return float(L.detach().cpu()), F + F.T
