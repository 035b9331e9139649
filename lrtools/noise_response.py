r"""Response of linear low-rank networks to activity noise, from their overlaps.

Noise ``s xi[t]`` injected into every neuron at every step reaches the output
through the readout ``z`` and the recurrent vectors, so its variance is a closed
form in the overlaps, exact at any ``N`` (only the isotropy of ``xi`` is used):
:func:`output_noise_variance` over time, :func:`stationary_noise_variance` its
long-time limit (rank 1), :func:`noise_difference_variance` for the difference
of two networks given the same noise, and :func:`sampled_noise_variance`, the
same quantities estimated by simulation (and :func:`pair_responses`, both
networks of a pair under the same noise). The variance reads the left invisible
overlaps ``zz, zv, vv`` (and the visible ``zu, vu``), so functionally
equivalent networks (:mod:`lrtools.equivalence`) can differ in it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._checks import check_dt
from .network import LowRankRNN
from .overlaps import Overlaps
from .tasks import Task

__all__ = [
    "output_noise_variance",
    "stationary_noise_variance",
    "sampled_noise_variance",
    "noise_difference_variance",
    "pair_responses",
]


def _linear_blocks(S: Overlaps) -> tuple[np.ndarray, ...]:
    names = S.names
    idx = {c: [i for i, n in enumerate(names) if n[0] == c] for c in "uvz"}
    M = S.matrix
    return (M[np.ix_(idx["u"], idx["v"])], M[np.ix_(idx["u"], idx["z"])],
            M[np.ix_(idx["v"], idx["z"])], M[np.ix_(idx["v"], idx["v"])],
            M[np.ix_(idx["z"], idx["z"])])


def output_noise_variance(
    S: Overlaps, *, N: int, dt: float, n_steps: int, noise_std: float
) -> np.ndarray:
    r"""Output variance of a linear network driven by activity noise, from its overlaps.

    With ``h[t+1] = A h[t] + dt M x[t] + s xi[t]``, ``A = (1-dt) I + dt U V^T/N``
    and i.i.d. standard normal ``xi`` (shape ``(N,)`` per step), the noise part
    of ``y[k] = Z^T h[k+1] / N`` is ``(s/N) sum_{n=0}^{k} Z^T A^n xi[k-n]``, so

    .. math:: \operatorname{Var} y_k = \frac{s^2}{N} \sum_{n=0}^{k} q_n, \qquad
        q_n = \frac{|A^{n\top} z|^2}{N}
            = a^{2n} \sigma_{zz} + 2 a^n \beta_n^\top \sigma_{Vz}
              + \beta_n^\top \sigma_{VV} \beta_n ,

    where ``a = 1 - dt``, ``z^T A^n = a^n z^T + beta_n^T V^T`` and
    ``beta_{n+1} = a beta_n + dt (a^n sigma_Uz + sigma_UV beta_n)``,
    ``beta_0 = 0``. Rank 1: ``beta_n = sigma_zu (lambda^n - a^n) / sigma_vu``,
    ``lambda = a + dt sigma_vu``. Exact at any ``N`` (only ``xi``'s isotropy is
    used). The variance depends on the visible ``zu, vu`` and on the invisible
    ``zz, zv, vv``.

    Parameters
    ----------
    S : Overlaps
        Overlaps of a linear network.
    N : int
        Number of neurons.
    dt : float
        Euler step.
    n_steps : int
        Number of output samples ``T``.
    noise_std : float
        ``s``, the standard deviation of the noise per neuron and step.

    Returns
    -------
    numpy.ndarray, shape (n_steps, n_out)
        Variance of each output at each time; independent of the input.
    """
    dt = check_dt(dt)
    if int(N) != N or N < 1:
        raise ValueError(f"N must be a positive integer, got {N}")
    if int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps}")
    if not (np.isfinite(noise_std) and noise_std >= 0):
        raise ValueError(f"noise_std must be non-negative, got {noise_std}")
    _, _, Svz, Svv, Szz = _linear_blocks(S)
    an, beta = _beta_sequence(S, dt, n_steps)
    q = (an[:, None] ** 2 * np.diag(Szz) + 2.0 * an[:, None] * np.einsum("nro,ro->no", beta, Svz)
         + np.einsum("nro,rs,nso->no", beta, Svv, beta))
    return noise_std**2 / N * np.cumsum(q, axis=0)


def _beta_sequence(S: Overlaps, dt: float, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``a^n`` (``(n,)``), ``beta_n`` (``(n, R, n_out)``): ``z^T A^n = a^n z^T + beta_n^T V^T``."""
    Suv, Suz, _, _, _ = _linear_blocks(S)
    a = 1.0 - dt
    R, n_out = Suz.shape
    betas = np.empty((n_steps, R, n_out))
    beta = np.zeros((R, n_out))
    for n in range(n_steps):
        betas[n] = beta
        beta = a * beta + dt * (a**n * Suz + Suv @ beta)
    return a ** np.arange(n_steps), betas


def noise_difference_variance(
    net1: LowRankRNN, net2: LowRankRNN, *, dt: float, n_steps: int, noise_std: float
) -> np.ndarray:
    r"""Variance of ``y_2 - y_1`` when both linear networks receive the *same* activity noise.

    With ``r^{(i)}_n = A_i^{n\top} z_i = a^n z_i + V_i \beta^{(i)}_n`` (see
    :func:`output_noise_variance`), ``y_2[k] - y_1[k] = (s/N) sum_n (r^{(2)}_n -
    r^{(1)}_n)^\top xi[k-n]``, so

    .. math:: \operatorname{Var}(y_2 - y_1)_k = \frac{s^2}{N}\sum_{n=0}^{k}
        \frac{|r^{(2)}_n - r^{(1)}_n|^2}{N} ,

    which needs the overlaps *between* the two networks' ``z`` and ``V``. For
    equivalent networks sharing ``z`` (and ``zu, vu``, hence ``beta_n``) it is
    ``(s^2/N) (|v_2 - v_1|^2/N) sum_n beta_n^2``.

    Returns
    -------
    numpy.ndarray, shape (n_steps, n_out)
    """
    dt = check_dt(dt)
    if net1.N != net2.N or net1.names != net2.names:
        raise ValueError("the two networks must have the same N and vectors")
    if "linear" != net1.phi or "linear" != net2.phi:
        raise ValueError("the noise formulas are for linear networks")
    an, b1 = _beta_sequence(net1.overlaps(), dt, n_steps)
    _, b2 = _beta_sequence(net2.overlaps(), dt, n_steps)
    W = np.concatenate([net1.Z, net1.V, net2.Z, net2.V], axis=1)
    # |W c|^2 = |R c|^2 with W = QR: a sum of squares, never negative at round-off
    R = np.linalg.qr(W, mode="r")
    n_out = net1.n_out
    q = np.empty((n_steps, n_out))
    for o in range(n_out):
        e = np.zeros((n_steps, n_out))
        e[:, o] = an
        coef = np.concatenate([-e, -b1[:, :, o], e, b2[:, :, o]], axis=1)  # (n, 2 (n_out + R))
        q[:, o] = np.sum((coef @ R.T) ** 2, axis=1) / net1.N
    return noise_std**2 / net1.N * np.cumsum(q, axis=0)


def stationary_noise_variance(S: Overlaps, *, N: int, dt: float, noise_std: float) -> float:
    r"""Long-time output variance under activity noise: the closed form for rank 1.

    Summing the geometric series of :func:`output_noise_variance` to infinity,
    with ``a = 1 - dt``, ``lambda = a + dt sigma_vu``, ``r = 1 - a^2``,
    ``q = 1 - a lambda``, ``p = 1 - lambda^2``:

    .. math:: \operatorname{Var} y_\infty = \frac{s^2}{N} \Bigl[
        \frac{\sigma_{zz}}{r}
        + \frac{2 a\, dt\, \sigma_{zu} \sigma_{zv}}{q r}
        + \frac{dt^2 \sigma_{zu}^2 \sigma_{vv} (1 + a \lambda)}{p q r} \Bigr] .

    Raises ``ValueError`` unless ``|a| < 1`` and ``|lambda| < 1`` (stable network).
    """
    dt = check_dt(dt)
    if S.names != ("m", "u", "v", "z"):
        raise ValueError(f"the closed form is for rank 1 (vectors m, u, v, z), got {S.names}")
    a = 1.0 - dt
    lam = a + dt * S["vu"]
    if not (abs(a) < 1 and abs(lam) < 1):
        raise ValueError(
            f"no stationary variance: the network is unstable (lambda = 1 - dt + dt sigma_vu "
            f"= {lam:.6g}, a = 1 - dt = {a:.6g}; both need |.| < 1)"
        )
    r, q, p = 1 - a * a, 1 - a * lam, 1 - lam * lam
    bracket = (S["zz"] / r + 2 * a * dt * S["zu"] * S["zv"] / (q * r)
               + dt**2 * S["zu"] ** 2 * S["vv"] * (1 + a * lam) / (p * q * r))
    return float(noise_std**2 / N * bracket)


def sampled_noise_variance(
    net: LowRankRNN,
    *,
    dt: float,
    n_steps: int,
    noise_std: float,
    n_trials: int,
    seed: np.random.Generator | int | None = None,
    x: np.ndarray | None = None,
    minus: LowRankRNN | None = None,
    batch_size: int = 100,
) -> np.ndarray:
    """Output variance under activity noise, estimated from ``n_trials`` simulations.

    Runs ``net`` with ``noise_std`` (``h[t+1] += noise_std * xi``) on the input
    ``x`` (shape ``(1, n_steps, n_in)``; default zero) and returns the sample
    variance (``ddof=1``) over trials. With ``minus``, the variance of
    ``y(net) - y(minus)`` with the same noise ``xi`` given to both (compare
    :func:`noise_difference_variance`). For a linear network the output is
    Gaussian, so the estimate has relative standard deviation
    ``sqrt(2 / (n_trials - 1))`` at each time.

    Returns
    -------
    numpy.ndarray, shape (n_steps, n_out)
    """
    if int(n_trials) != n_trials or n_trials < 2:
        raise ValueError(f"n_trials must be an integer >= 2, got {n_trials}")
    if x is None:
        x = np.zeros((1, n_steps, net.n_in))
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (1, n_steps, net.n_in):
        raise ValueError(f"x must have shape (1, {n_steps}, {net.n_in}), got {x.shape}")
    rng = np.random.default_rng(seed)
    s1 = np.zeros((n_steps, net.n_out))
    s2 = np.zeros((n_steps, net.n_out))
    done = 0
    while done < n_trials:
        b = min(batch_size, n_trials - done)
        xb = np.repeat(x, b, axis=0)
        batch_seed = int(rng.integers(2**63))  # one noise draw, shared with `minus`
        y = net.run(xb, dt, noise_std=noise_std, rng=batch_seed)
        if minus is not None:
            y = y - minus.run(xb, dt, noise_std=noise_std, rng=batch_seed)
        s1 += y.sum(axis=0)
        s2 += (y * y).sum(axis=0)
        done += b
    mean = s1 / n_trials
    return (s2 - n_trials * mean * mean) / (n_trials - 1)


def pair_responses(pair: tuple[LowRankRNN, LowRankRNN], task: Task, *, noise_std: float,
                   noise_seed: int, neurons: Sequence[int],
                   x: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Outputs, single-neuron activity and responses to the same noise of two linear networks.

    Both networks run on the input ``x`` (default: the task's first input),
    without noise and with the noise ``noise_std * xi`` drawn from ``noise_seed``
    (the same ``xi[t]`` on every neuron of both networks). The noise variance of a
    linear network does not depend on the input.

    Parameters
    ----------
    pair : (LowRankRNN, LowRankRNN)
        Two linear networks with the same ``N`` and vectors (e.g. equivalent ones).
    task : Task
        Gives the input (its first sample), the step ``dt`` and the length ``T``.
    noise_std, noise_seed : float, int
        Noise level per neuron and step, and the seed of the shared noise.
    neurons : sequence of int
        Neurons whose activity is returned.
    x : numpy.ndarray, optional
        Input ``(1, T, n_in)``, e.g. white noise as in the paper's Figure 2.

    Returns
    -------
    dict
        ``y (2, T)`` outputs, ``h (2, T+1, len(neurons))`` activity, ``y_noisy (2, T)``
        noisy outputs, ``noise_var (2, T)`` (:func:`output_noise_variance`) and
        ``diff_var (T,)`` (:func:`noise_difference_variance`).
    """
    T = task.n_steps
    x = task.sample()[0] if x is None else np.asarray(x, dtype=np.float64)
    if x.shape != (1, T, pair[0].n_in):
        raise ValueError(f"x must have shape (1, {T}, {pair[0].n_in}), got {x.shape}")
    out = {"y": [], "h": [], "y_noisy": [], "noise_var": []}
    for net in pair:
        y, H = net.run(x, task.dt, return_activity=True)
        out["y"].append(y[0, :, 0])
        out["h"].append(H[0][:, list(neurons)])
        # the same seed gives both networks the same noise xi[t] on every neuron
        out["y_noisy"].append(net.run(x, task.dt, noise_std=noise_std, rng=noise_seed)[0, :, 0])
        out["noise_var"].append(output_noise_variance(
            net.overlaps(), N=net.N, dt=task.dt, n_steps=T, noise_std=noise_std)[:, 0])
    out = {k: np.array(v) for k, v in out.items()}
    out["diff_var"] = noise_difference_variance(*pair, dt=task.dt, n_steps=T,
                                                noise_std=noise_std)[:, 0]
    return out
