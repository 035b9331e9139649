r"""The predictions in measurable quantities: synapses, stimulation patterns, noisy connectomes.

* **The balance law in synaptic units, with unequal learning rates**
  (:func:`synaptic_strengths`, :func:`rate_balance`, :func:`rate_free_relation`,
  :func:`rate_runs`). A rank-1 network has input weights ``m_i``, readout
  weights ``z_i / N`` and recurrent weights ``W_ij = u_i v_j / N``. A connectome
  measures the squared input and readout weights and the row and column sums of
  squared recurrent weights, ``r_i = sum_j W_ij^2 = u_i^2 sigma_vv / N`` (into
  neuron ``i``) and ``c_i = sum_j W_ji^2 = v_i^2 sigma_uu / N`` (out of it), but
  not the split of ``W`` into ``u`` and ``v``. With the normalised recurrent
  strengths ``R_i = N r_i / |W|_F`` and ``C_i = N c_i / |W|_F`` (``|W|_F^2 =
  sigma_uu sigma_vv``) one has ``R_i = u_i^2 (sigma_vv / sigma_uu)^{1/2}``,
  ``C_i = v_i^2 (sigma_uu / sigma_vv)^{1/2}``.

  If each vector ``a`` learns with its own rate ``eta_a`` (``x_a`` moves by
  ``-N eta_a dL/dx_a``), the flow is ``dX/dtau = -X Gamma H`` with ``H =
  diag(eta_a)``, and since ``H`` commutes with ``J``, ``K_H = X J H^{-1} X^T =
  sum_a J_a x_a x_a^T / eta_a`` is conserved. Its diagonal is the law with rates,

  .. math:: \Delta\Bigl(\frac{z_i^2}{\eta_z} + \frac{v_i^2}{\eta_v}\Bigr)
            = \Delta\Bigl(\frac{m_i^2}{\eta_m} + \frac{u_i^2}{\eta_u}\Bigr),

  and the rescaling charge becomes ``sigma_uu / eta_u - sigma_vv / eta_v``. A
  start with that charge zero keeps ``sigma_uu / sigma_vv = eta_u / eta_v``, and
  the law reads, in measured quantities,
  ``Delta(z_i^2/eta_z + C_i/eta_r) = Delta(m_i^2/eta_m + R_i/eta_r)`` with
  ``eta_r = (eta_u eta_v)^{1/2}``. Whatever the rates, the four per-neuron
  changes ``(Delta z_i^2, Delta C_i, Delta m_i^2, Delta R_i)`` then obey one
  linear relation, the same for every neuron, with positive weights on the
  outgoing side and negative weights on the incoming side
  (:func:`rate_free_relation` finds it from the changes alone).

  Rates with ``eta_u eta_v = eta_m eta_z = eta^2`` are exactly plain gradient
  descent at rate ``eta`` on ``y_a = x_a / d_a``, ``d_a^2 = eta_a / eta``: the
  loss only sees ``u v^T`` and ``z m^T``-type products, which the rescaling keeps.
  :func:`rate_runs` uses this to train with unequal rates on the core's learner.
* **Patterned stimulation** (:func:`pattern_noise_variance`). Noise ``s xi_t p``
  along one pattern ``p`` (one scalar ``xi_t`` per step) gives a linear
  network the stationary output variance of
  :func:`lrtools.noise_response.stationary_noise_variance` with ``sigma_zz ->
  sigma_zp^2``, ``sigma_zv -> sigma_zp sigma_vp``, ``sigma_vv -> sigma_vp^2``
  and without the factor ``1/N``: an ``O(s^2)`` effect at any ``N``. Along the
  readout pattern ``p = z`` it reads the invisible ``sigma_zv``.
  :func:`sampled_pattern_variance` simulates it.
* **A noisy connectome** (:func:`noisy_speed_correlation`): the rank correlation
  of the predicted initial speed, computed from overlaps measured with relative
  noise, with the time to criterion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from . import theory
from .network import LowRankRNN
from .tasks import ExponentialFilter, Task, batches
from .training import train_many

__all__ = [
    "synaptic_strengths",
    "rate_balance",
    "rate_free_relation",
    "emulated_rates",
    "rate_runs",
    "pattern_noise_variance",
    "sampled_pattern_variance",
    "measured_overlaps",
    "initial_speeds",
    "noisy_speed_correlation",
    "noisy_value_correlation",
]

_M, _U, _V, _Z = range(4)


# ---------------------------------------------------------------------------
# the balance law in synaptic units
# ---------------------------------------------------------------------------


def synaptic_strengths(X: np.ndarray) -> dict[str, np.ndarray]:
    r"""Per-neuron quantities a connectome measures in a rank-1 network with vectors ``X``.

    Parameters
    ----------
    X : numpy.ndarray, shape (N, 4)
        Columns ``m, u, v, z``.

    Returns
    -------
    dict
        ``input``: ``m_i^2``; ``readout``: ``z_i^2`` (``N^2`` times the squared
        readout weight ``z_i / N``); ``rec_in``: ``R_i = N sum_j W_ij^2 / |W|_F``;
        ``rec_out``: ``C_i = N sum_j W_ji^2 / |W|_F``; ``W_norm``: ``|W|_F`` (all
        from ``W = u v^T / N``, never from ``u`` and ``v`` apart).
    """
    X = np.asarray(X, dtype=float)
    N = len(X)
    W = np.outer(X[:, _U], X[:, _V]) / N
    fro = float(np.sqrt((W * W).sum()))
    return {"input": X[:, _M] ** 2, "readout": X[:, _Z] ** 2,
            "rec_in": N * (W * W).sum(axis=1) / fro, "rec_out": N * (W * W).sum(axis=0) / fro,
            "W_norm": np.array(fro)}


def _changes(X0: np.ndarray, X1: np.ndarray) -> np.ndarray:
    """``(N, 4)``: per-neuron changes of readout, outgoing, input, incoming strengths."""
    a, b = synaptic_strengths(X0), synaptic_strengths(X1)
    return np.stack([b[k] - a[k] for k in ("readout", "rec_out", "input", "rec_in")], axis=1)


def rate_balance(X0: np.ndarray, X1: np.ndarray,
                 rates: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> dict[str, float]:
    r"""The balance law in synaptic units, weighted by the rates ``(eta_m, eta_u, eta_v, eta_z)``.

    ``d_out_i = Delta z_i^2 / eta_z + Delta C_i / eta_r`` and ``d_in_i = Delta
    m_i^2 / eta_m + Delta R_i / eta_r`` (:func:`synaptic_strengths`, ``eta_r =
    (eta_u eta_v)^{1/2}``); equal rates give the law of
    :func:`lrtools.plasticity.neuron_balance` in synaptic units.

    Parameters
    ----------
    X0, X1 : numpy.ndarray, shape (N, 4)
        Vectors before and after learning.
    rates : sequence of float
        Relative rates of ``m, u, v, z`` (only their ratios matter).

    Returns
    -------
    dict
        ``violation``: ``sum_i |d_out_i - d_in_i| / sum_i |d_in_i|``; ``slope``
        (through the origin) and ``correlation`` of ``d_out`` on ``d_in``.
    """
    em, eu, ev, ez = (float(r) for r in rates)
    er = np.sqrt(eu * ev)
    d = _changes(X0, X1)
    d_out = d[:, 0] / ez + d[:, 1] / er
    d_in = d[:, 2] / em + d[:, 3] / er
    return {"violation": float(np.abs(d_out - d_in).sum() / np.abs(d_in).sum()),
            "slope": float(d_out @ d_in / (d_in @ d_in)),
            "correlation": float(np.corrcoef(d_out, d_in)[0, 1])}


def rate_free_relation(X0: np.ndarray, X1: np.ndarray) -> dict[str, np.ndarray]:
    r"""The one linear relation among the per-neuron changes, found without knowing the rates.

    The ``N x 4`` matrix of changes ``(Delta z_i^2, Delta C_i, Delta m_i^2, Delta
    R_i)``, each column scaled to unit root mean square, is decomposed by SVD. The
    law predicts a (near) null vector, with weights proportional to ``(1/eta_z,
    1/eta_r, -1/eta_m, -1/eta_r)``: positive on the outgoing side, negative on the
    incoming side.

    Parameters
    ----------
    X0, X1 : numpy.ndarray, shape (N, 4)
        Vectors before and after learning.

    Returns
    -------
    dict
        ``residual``: smallest over largest singular value (0 if the relation is
        exact); ``weights (4,)``: the relation in the original units, normalised
        to ``weights[0] = 1``; ``signs_ok``: whether the signs are ``(+, +, -, -)``.
    """
    d = _changes(X0, X1)
    scale = np.sqrt((d * d).mean(axis=0))
    _, sv, vt = np.linalg.svd(d / scale, full_matrices=False)
    w = vt[-1] / scale
    w = w / w[0]
    return {"residual": np.array(sv[-1] / sv[0]), "weights": w,
            "signs_ok": np.array(bool(w[1] > 0 and w[2] < 0 and w[3] < 0))}


def emulated_rates(mu: float, lam: float, eta: float = 1.0) -> np.ndarray:
    """Rates ``(eta_m, eta_u, eta_v, eta_z) = eta (mu^2, lam^2, 1/lam^2, 1/mu^2)``."""
    return eta * np.array([mu**2, lam**2, lam**-2, mu**-2])


def rate_runs(
    gains: Mapping[str, tuple[float, float]],
    *,
    seeds: Sequence[int] = (0, 1, 2),
    N: int = 500,
    eta: float = 5e-3,
    learning_time: float = 5.0,
    task: Task | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    r"""Gradient learning with unequal rates per vector type; the law with and without the rates.

    For ``(mu, lam)`` the rates are :func:`emulated_rates`. Each seed's random
    network ``Y_0`` (:meth:`LowRankRNN.random`) is the start in the scaled
    coordinates, ``X_0 = Y_0 D`` with ``D = diag(mu, lam, 1/lam, 1/mu)`` (so the
    rescaling charge ``sigma_uu / eta_u - sigma_vv / eta_v`` is zero); plain
    gradient descent on ``Y`` (:func:`lrtools.training.train_many`, rate ``eta``,
    ``learning_time / eta`` epochs) is gradient descent on ``X`` with the rates.

    Parameters
    ----------
    gains : mapping
        ``{label: (mu, lam)}``.
    seeds, N, eta, learning_time
        Networks, neurons, base rate, ``eta * epochs``.
    task : Task, optional
        Default: the filter ``c = 0.2``.

    Returns
    -------
    dict
        ``{label: {...}}`` with, per seed, ``equal``: :func:`rate_balance` violation
        with equal rates; ``weighted``: with the true rates; ``factor_equal``:
        :func:`lrtools.plasticity.neuron_balance` violation in factor units;
        ``residual``, ``weights (n_seeds, 4)``, ``signs_ok`` of
        :func:`rate_free_relation`; ``true_weights (4,)``; ``rates (4,)``.
    """
    from .plasticity import neuron_balance

    task = task or ExponentialFilter(c=0.2, dt=0.05, t_max=20.0)
    epochs = int(round(learning_time / eta))
    out = {}
    for label, (mu, lam) in gains.items():
        d = np.array([mu, lam, 1 / lam, 1 / mu])
        rates = emulated_rates(mu, lam)
        Y0 = np.array([LowRankRNN.random(N, 1, "linear", seed=s).X for s in seeds])
        Y1 = train_many(Y0, task, epochs, eta, seeds=list(seeds))["X"]
        rows: dict[str, list] = {k: [] for k in ("equal", "weighted", "factor_equal",
                                                 "residual", "weights", "signs_ok")}
        for y0, y1 in zip(Y0, Y1, strict=True):
            x0, x1 = y0 * d, y1 * d
            rows["equal"].append(rate_balance(x0, x1)["violation"])
            rows["weighted"].append(rate_balance(x0, x1, rates)["violation"])
            rows["factor_equal"].append(neuron_balance(x0, x1).violation)
            rel = rate_free_relation(x0, x1)
            for k in ("residual", "weights", "signs_ok"):
                rows[k].append(rel[k])
        er = np.sqrt(rates[1] * rates[2])
        true = np.array([1 / rates[3], 1 / er, -1 / rates[0], -1 / er]) * rates[3]
        out[label] = {**{k: np.array(v) for k, v in rows.items()}, "true_weights": true,
                      "rates": rates}
    return out


# ---------------------------------------------------------------------------
# patterned stimulation
# ---------------------------------------------------------------------------


def pattern_noise_variance(S: np.ndarray, sigma_zp: np.ndarray, sigma_vp: np.ndarray, *,
                           dt: float, noise_std: float) -> np.ndarray:
    r"""Stationary output variance of linear rank-1 networks under noise along a pattern ``p``.

    ``h[t+1] = h + dt(-h + u v^T h / N) + s xi_t p`` with scalar ``xi_t``: ``h =
    a p + b u`` with ``a' = a_0 a + s xi``, ``b' = lambda b + dt sigma_vp a`` and
    ``y = sigma_zp a + sigma_zu b``, so (``a_0 = 1 - dt``, ``lambda = a_0 + dt
    sigma_vu``, ``r = 1 - a_0^2``, ``q = 1 - a_0 lambda``, ``p = 1 - lambda^2``)

    .. math:: \operatorname{Var} y_\infty = s^2 \Bigl[\frac{\sigma_{zp}^2}{r}
        + \frac{2 a_0 dt\, \sigma_{zu}\sigma_{zp}\sigma_{vp}}{q r}
        + \frac{dt^2 \sigma_{zu}^2 \sigma_{vp}^2 (1 + a_0\lambda)}{p q r}\Bigr].

    Parameters
    ----------
    S : numpy.ndarray, shape (..., 4, 4)
        Overlaps (order ``m, u, v, z``).
    sigma_zp, sigma_vp : numpy.ndarray, shape (...)
        ``z.p / N`` and ``v.p / N``.
    dt, noise_std : float
        Time step and ``s``.

    Returns
    -------
    numpy.ndarray, shape (...)
    """
    S = np.asarray(S, dtype=float)
    a = 1.0 - dt
    lam = a + dt * S[..., _V, _U]
    if np.any(np.abs(lam) >= 1) or not abs(a) < 1:
        raise ValueError("no stationary variance: lambda = 1 - dt + dt sigma_vu must be in (-1, 1)")
    r, q, p = 1 - a * a, 1 - a * lam, 1 - lam * lam
    zu = S[..., _Z, _U]
    zp, vp = np.asarray(sigma_zp, dtype=float), np.asarray(sigma_vp, dtype=float)
    return noise_std**2 * (zp**2 / r + 2 * a * dt * zu * zp * vp / (q * r)
                           + dt**2 * zu**2 * vp**2 * (1 + a * lam) / (p * q * r))


def sampled_pattern_variance(X: np.ndarray, p: np.ndarray, *, dt: float, noise_std: float,
                             n_steps: int, n_trials: int, seed: int = 0) -> np.ndarray:
    """Output variance over trials of the ``N``-dimensional linear network under patterned noise.

    Simulates ``h[t+1] = h + dt(-h + u (v.h)/N) + s xi_t p`` from ``h = 0`` (no
    input) and returns the variance over trials (``ddof=1``) of ``y = z.h / N``
    after every step.

    Parameters
    ----------
    X : numpy.ndarray, shape (N, 4)
        Vectors ``m, u, v, z``.
    p : numpy.ndarray, shape (N,)
        Stimulation pattern.
    dt, noise_std, n_steps, n_trials, seed
        Time step, ``s``, trial length, trials and seed.

    Returns
    -------
    numpy.ndarray, shape (n_steps,)
    """
    X = np.asarray(X, dtype=float)
    N = len(X)
    u, v, z = X[:, _U], X[:, _V], X[:, _Z]
    xi = np.random.default_rng(seed).standard_normal((n_steps, n_trials))
    h = np.zeros((n_trials, N))
    out = np.empty(n_steps)
    for t in range(n_steps):
        h = h + dt * (-h + np.outer(h @ v / N, u)) + noise_std * np.outer(xi[t], p)
        out[t] = np.var(h @ z / N, ddof=1)
    return out


# ---------------------------------------------------------------------------
# a noisy connectome
# ---------------------------------------------------------------------------


def measured_overlaps(S: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Overlaps measured with relative noise: every ``sigma_ab`` times ``1 + noise xi_ab``.

    Parameters
    ----------
    S : numpy.ndarray, shape (..., k, k)
        True overlaps.
    noise : float
        Relative sd of each measured overlap.
    rng : numpy.random.Generator
        Source of ``xi`` (symmetric, independent entries).

    Returns
    -------
    numpy.ndarray, shape (..., k, k)
    """
    S = np.asarray(S, dtype=float)
    xi = rng.standard_normal(S.shape)
    xi = np.triu(xi) + np.swapaxes(np.triu(xi, 1), -1, -2)
    return S * (1 + noise * xi)


def initial_speeds(S: np.ndarray, task: Task, eta: float) -> np.ndarray:
    """``eta tr(Gamma S Gamma)`` of many rank-1 networks (as :func:`equivalence.initial_speed`).

    Parameters
    ----------
    S : numpy.ndarray, shape (n, 4, 4)
        Overlaps.
    task : Task
        Deterministic task.
    eta : float
        Rate.

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    batch = next(batches(task, None))
    G = theory.loss_and_gamma_many(np.ascontiguousarray(S, dtype=float), batch,
                                   task.loss_weights(batch[2]), task.dt)[1]
    return eta * np.einsum("nij,njk,nki->n", G, np.asarray(S, dtype=float), G)


def noisy_speed_correlation(
    members: np.ndarray,
    time: np.ndarray,
    task: Task,
    noise_levels: Sequence[float],
    *,
    eta: float = 5e-3,
    n_draws: int = 10,
    seed: int = 0,
    visible_exact: bool = False,
) -> dict[str, np.ndarray]:
    """Spearman correlation of the speed predicted from noisy overlaps with the time to criterion.

    Parameters
    ----------
    members : numpy.ndarray, shape (n_families, n, 4, 4)
        Overlaps of every member of every family.
    time : numpy.ndarray, shape (n_families, n)
        Epochs to the criterion of each member.
    task : Task
        The new task.
    noise_levels : sequence of float
        Relative measurement noise of every overlap (:func:`measured_overlaps`).
    eta : float
        Rate.
    n_draws : int
        Measurement draws per level.
    seed : int
        Seed of the measurement noise.
    visible_exact : bool
        Keep the loss-visible overlaps ``zm, zu, vm, vu`` exact (known from the
        behaviour, which the family shares): only the invisible ones are noisy.

    Returns
    -------
    dict
        ``noise (n_levels,)``; ``rho (n_levels, n_families)``: Spearman
        correlation averaged over the draws.
    """
    from scipy.stats import spearmanr

    members, time = np.asarray(members, dtype=float), np.asarray(time, dtype=float)
    rng = np.random.default_rng(seed)
    nf, n = members.shape[:2]
    rho = np.zeros((len(noise_levels), nf))
    for i, eps in enumerate(noise_levels):
        S = measured_overlaps(np.repeat(members[None], n_draws, 0), float(eps), rng)
        if visible_exact:
            for a, b in ((_Z, _M), (_Z, _U), (_V, _M), (_V, _U)):
                S[..., a, b] = S[..., b, a] = members[None, ..., a, b]
        speed = initial_speeds(S.reshape(-1, 4, 4), task, eta).reshape(n_draws, nf, n)
        rho[i] = [np.mean([spearmanr(speed[d, f], time[f]).statistic for d in range(n_draws)])
                  for f in range(nf)]
    return {"noise": np.asarray(noise_levels, dtype=float), "rho": rho}


def noisy_value_correlation(values: np.ndarray, time: np.ndarray, noise_levels: Sequence[float],
                            *, n_draws: int = 10, seed: int = 1) -> np.ndarray:
    """Spearman correlation of values measured with relative noise with the time to criterion.

    Parameters
    ----------
    values, time : numpy.ndarray, shape (n_families, n)
        The true values (e.g. output variance under stimulation) and the epochs to
        the criterion.
    noise_levels : sequence of float
        Relative sd of the measurement.
    n_draws, seed
        Measurement draws per level and their seed.

    Returns
    -------
    numpy.ndarray, shape (n_levels, n_families)
        The correlation averaged over draws.
    """
    from scipy.stats import spearmanr

    values, time = np.asarray(values, dtype=float), np.asarray(time, dtype=float)
    rng = np.random.default_rng(seed)
    out = np.zeros((len(noise_levels), len(values)))
    for i, eps in enumerate(noise_levels):
        for f in range(len(values)):
            out[i, f] = np.mean([spearmanr(values[f] * (1 + eps * rng.standard_normal(
                values.shape[1])), time[f]).statistic for _ in range(n_draws)])
    return out
