r"""Noise buries the invisible memory; weight decay erases it.

Two networks with different training histories (chapter 4) end with the same
behaviour and different loss-invisible overlaps. Synaptic noise leaves the mean
difference between two groups of such individuals intact and spreads the
individuals diffusively (:func:`noise_burial`, :func:`burial_runs`), so the memory
stays readable (``d' >= 1``) for

.. math:: t^* = \frac{D_0^2 N}{4 s^2\, e^\top S e}\ \text{epochs}

(:func:`diffusion_rate`, :func:`lifetime_fit`): exponent ``-2`` in the noise
amplitude ``s`` and ``+1`` in ``N``. Weight decay instead erases it exponentially
at the rate of chapter 4 (:func:`weight_decay_erasure`).

The noise is simulated exactly in overlap space
(:func:`lrtools.theory.learn_many` with ``weight_noise``), so a large ``N`` costs
what a small one does.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Mapping, Sequence

import numpy as np

from . import theory
from ._parallel import run_jobs
from .fits import fit_rate
from .overlaps import vector_names
from .plasticity import _stack, behaviour_features
from .tasks import ExponentialFilter, Task

__all__ = [
    "INVISIBLE",
    "invisible_values",
    "diffusion_rate",
    "memory_pair",
    "noise_burial",
    "burial_runs",
    "pool_runs",
    "lifetime_fit",
    "weight_decay_erasure",
    "crossover_lifetime",
    "decay_noise_lifetimes",
]

_NAMES = vector_names()  # ("m", "u", "v", "z"): rank 1, one input, one readout

#: Loss-invisible overlaps of a linear rank-1 network (order of ``Overlaps.invisible``).
INVISIBLE = ("zv", "mu", "zz", "vv", "mm", "uu")
_INV_IDX = [(_NAMES.index(k[0]), _NAMES.index(k[1])) for k in INVISIBLE]


def invisible_values(S: np.ndarray) -> np.ndarray:
    """The six invisible overlaps (:data:`INVISIBLE`) of ``S`` ``(..., 4, 4)`` -> ``(..., 6)``.

    Parameters
    ----------
    S : numpy.ndarray, shape (..., 4, 4)
        Overlaps in the order ``m, u, v, z``.

    Returns
    -------
    numpy.ndarray, shape (..., 6)
        The invisible overlaps.
    """
    S = np.asarray(S, dtype=float)
    return np.stack([S[..., i, j] for i, j in _INV_IDX], axis=-1)


def _direction_matrix(e: np.ndarray) -> np.ndarray:
    """Symmetric ``E`` with ``tr(E S) = e . invisible_values(S)``."""
    E = np.zeros((4, 4))
    for w, (i, j) in zip(np.asarray(e, dtype=float), _INV_IDX, strict=True):
        if i == j:
            E[i, i] += w
        else:
            E[i, j] += w / 2
            E[j, i] += w / 2
    return E


def diffusion_rate(S: np.ndarray, e: np.ndarray, s: float, N: int) -> float:
    r"""Variance added per epoch to ``p = e . invisible(S)`` by synaptic noise ``s``.

    Noise ``s xi`` on the vectors changes ``S`` by ``(s/N)(X^T xi + xi^T X) +
    O(s^2)``, so ``p = tr(E S)`` changes by ``(2 s / N) tr(E X^T xi)``, of variance

    .. math:: \frac{4 s^2}{N}\, \operatorname{tr}(E S E).

    This ignores how learning reacts to the noise (it restores the visible
    overlaps, which may move the invisible ones too); the chapter compares it
    with the measured rate.

    Parameters
    ----------
    S : numpy.ndarray, shape (4, 4)
        Overlaps.
    e : numpy.ndarray, shape (6,)
        Direction in the invisible overlaps (:data:`INVISIBLE`).
    s : float
        Noise per vector entry and epoch.
    N : int
        Neurons.

    Returns
    -------
    float
        The variance per epoch.
    """
    E = _direction_matrix(e)
    return float(4.0 * s * s / N * np.trace(E @ np.asarray(S, dtype=float) @ E))


def memory_pair(
    S0: np.ndarray,
    *,
    c: tuple[float, float] = (0.2, 0.4),
    epochs: tuple[int, int, int] = (3000, 1000, 1000),
    eta: float = 5e-3,
    dt: float = 0.05,
    t_max: float = 20.0,
) -> dict[str, np.ndarray]:
    """The histories A, A, A and A, B, A from ``S0`` (exact map), as in chapter 4.

    Parameters
    ----------
    S0 : numpy.ndarray, shape (4, 4)
        The start.
    c : tuple of float
        Decay rates of the filters A and B.
    epochs : tuple of int
        Epochs of the three phases.
    eta, dt, t_max : float
        Rate and time grid.

    Returns
    -------
    dict
        ``aaa``, ``aba``: final overlaps ``(4, 4)``; ``D0``: the distance of their
        invisible overlaps (Euclidean); ``function_gap``: largest difference of
        :func:`lrtools.plasticity.behaviour_features`.
    """
    tA, tB = (ExponentialFilter(c=ci, dt=dt, t_max=t_max) for ci in c)
    S = theory.learn_many(np.asarray(S0, dtype=float)[None], tA, epochs[0], eta)["final"]
    mid = np.concatenate([theory.learn_many(S, tA, epochs[1], eta)["final"],
                          theory.learn_many(S, tB, epochs[1], eta)["final"]])
    end = theory.learn_many(mid, tA, epochs[2], eta)["final"]
    return {"aaa": end[0], "aba": end[1],
            "D0": np.array(np.linalg.norm(invisible_values(end[1]) - invisible_values(end[0]))),
            "function_gap": np.array(np.max(np.abs(behaviour_features(end[1])
                                                   - behaviour_features(end[0]))))}


def _burial_job(S_a, S_b, s, N, n_rep, task, eta, horizon, n_points, seed):
    d = invisible_values(S_b) - invisible_values(S_a)
    D0 = float(np.linalg.norm(d))
    e = d / D0
    rate = diffusion_rate(0.5 * (S_a + S_b), e, s, N)
    every = max(int(np.ceil(horizon * D0**2 / rate / n_points)), 1)
    S = np.concatenate([np.repeat(S_a[None], n_rep, 0), np.repeat(S_b[None], n_rep, 0)])
    r = theory.learn_many(S, task, every * n_points, eta, weight_noise=s, N=N,
                          noise_seed=[seed, N, int(round(s * 1e9))], record_every=every)
    p = invisible_values(r["overlaps"]) @ e  # (n_rec, 2 n_rep)
    return {"epoch": r["epoch"], "proj": p.reshape(len(p), 2, n_rep), "rate": np.array(rate)}


def noise_burial(
    S_a: np.ndarray,
    S_b: np.ndarray,
    stds: Sequence[float],
    *,
    N: int | Sequence[int] = 500,
    n_rep: int = 64,
    task: Task | None = None,
    eta: float = 5e-3,
    horizon: float = 4.0,
    n_points: int = 60,
    seed: int = 0,
    executor: concurrent.futures.Executor | None = None,
) -> dict[str, np.ndarray]:
    """Two memories under synaptic noise: ``n_rep`` individuals per history keep learning A.

    Both groups start from their history's end state (``S_a``, ``S_b``) and keep
    learning ``task`` (default: the filter ``c = 0.2``) with synaptic noise ``s``
    per vector entry and epoch, simulated exactly in overlap space
    (:func:`lrtools.theory.learn_many`), each individual with its own noise. The
    record is read along ``e``, the unit vector of the initial invisible
    difference. Each run lasts ``horizon`` times the predicted lifetime
    ``D0^2 / diffusion_rate``.

    Parameters
    ----------
    S_a, S_b : numpy.ndarray, shape (4, 4)
        End states of the two histories (:func:`memory_pair`).
    stds : sequence of float
        Noise amplitudes ``s``.
    N : int or sequence of int
        Neurons; a sequence (one per ``s``) scans ``N``.
    n_rep : int
        Individuals per history and noise level.
    task : Task, optional
        The task practised under noise.
    eta, horizon, n_points, seed
        Rate, length in predicted lifetimes, recorded points and noise seed.
    executor : concurrent.futures.Executor, optional
        Runs the noise levels in parallel.

    Returns
    -------
    dict
        ``std (n_s,)``, ``N (n_s,)``, ``epoch (n_s, n_points + 1)``, ``proj (n_s,
        n_points + 1, 2, n_rep)`` (group 0: ``S_a``), ``rate (n_s,)`` (predicted
        variance per epoch), ``D0``, ``direction (6,)``.
    """
    task = task or ExponentialFilter(c=0.2)
    S_a, S_b = np.asarray(S_a, dtype=float), np.asarray(S_b, dtype=float)
    stds = [float(s) for s in stds]
    Ns = [int(N)] * len(stds) if np.ndim(N) == 0 else [int(x) for x in N]
    if len(Ns) != len(stds):
        raise ValueError(f"{len(stds)} noise levels need {len(stds)} values of N, got {len(Ns)}")
    res = run_jobs(_burial_job, [(S_a, S_b, s, n, n_rep, task, eta, horizon, n_points, seed)
                                 for s, n in zip(stds, Ns, strict=True)], executor)
    d = invisible_values(S_b) - invisible_values(S_a)
    return {"std": np.array(stds), "N": np.array(Ns), **_stack(res),
            "D0": np.array(np.linalg.norm(d)), "direction": d / np.linalg.norm(d)}


def _burial_seed_job(S_a, S_b, stds, seed, kw):
    return noise_burial(S_a, S_b, stds, seed=seed, **kw)


def burial_runs(
    S_a: np.ndarray,
    S_b: np.ndarray,
    stds: Sequence[float],
    *,
    seeds: Sequence[int] = (0, 1, 2),
    executor: concurrent.futures.Executor | None = None,
    **kw,
) -> dict[str, np.ndarray]:
    """:func:`noise_burial` with independent noise for each seed; arrays stacked (seed axis first).

    Parameters
    ----------
    S_a, S_b, stds
        As in :func:`noise_burial`.
    seeds : sequence of int
        One independent replication per seed.
    executor : concurrent.futures.Executor, optional
        Runs the seeds in parallel.
    **kw
        Keyword settings of :func:`noise_burial` (``N``, ``n_rep``, ...; an unknown
        name raises ``TypeError`` there).

    Returns
    -------
    dict
        The arrays of :func:`noise_burial` with a first axis over ``seeds``;
        :func:`pool_runs` merges the individuals of all seeds.
    """
    return _stack(run_jobs(_burial_seed_job, [(S_a, S_b, stds, s, kw) for s in seeds],
                           executor))


def pool_runs(runs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The individuals of all seeds of :func:`burial_runs` as one :func:`noise_burial` result.

    Parameters
    ----------
    runs : mapping
        :func:`burial_runs`.

    Returns
    -------
    dict
        The first seed's arrays, with ``proj`` holding the individuals of every seed.
    """
    out = {k: np.asarray(v)[0] for k, v in runs.items()}
    out["proj"] = np.concatenate(list(np.asarray(runs["proj"])), axis=-1)
    return out


def _lifetimes(proj: np.ndarray, epoch: np.ndarray, D0: float) -> np.ndarray:
    """Lifetime ``D0^2 / v1`` from the pooled within-group variance ``v(t) ~ v1 t``."""
    var = 0.5 * (proj[..., 0, :].var(axis=-1, ddof=1) + proj[..., 1, :].var(axis=-1, ddof=1))
    v1 = (var @ epoch) / (epoch @ epoch)
    return D0**2 / v1


def lifetime_fit(data: Mapping[str, np.ndarray], *, n_boot: int = 200,
                 seed: int = 0) -> dict[str, np.ndarray]:
    r"""Lifetimes of the memory in :func:`noise_burial` runs, with bootstrap samples.

    Within each group the record spreads as ``v(t) = v_1 t``; ``v_1`` is fitted
    by least squares through the origin, and the lifetime is the time at which
    the spread reaches the initial record, ``t* = D_0^2 / v_1`` (``d' = 1`` if
    the mean difference stays ``D_0``). Bootstrap: individuals resampled with
    replacement within each group.

    Parameters
    ----------
    data : mapping
        :func:`noise_burial` (or :func:`pool_runs`).
    n_boot : int
        Bootstrap samples.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    dict
        ``t_star (n_s,)``, ``t_boot (n_boot, n_s)``, ``t_pred (n_s,)``
        (``D_0^2`` over the predicted rate), ``signal (n_s, n_rec)``: mean
        difference over ``D_0``; ``dprime (n_s, n_rec)``; ``retention (n_s,)``:
        mean of ``signal`` over the second half of each run.
    """
    proj, epoch, D0 = data["proj"], data["epoch"], float(data["D0"])
    n_s, n_rec, _, n_rep = proj.shape
    t_star = np.array([_lifetimes(proj[i], epoch[i], D0) for i in range(n_s)])
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, n_s))
    for b in range(n_boot):
        idx = rng.integers(0, n_rep, size=(2, n_rep))
        for i in range(n_s):
            p = np.stack([proj[i][:, 0, idx[0]], proj[i][:, 1, idx[1]]], axis=1)
            boot[b, i] = _lifetimes(p, epoch[i], D0)
    signal = (proj[:, :, 1].mean(axis=-1) - proj[:, :, 0].mean(axis=-1)) / D0
    sd = np.sqrt(0.5 * (proj[:, :, 0].var(axis=-1, ddof=1) + proj[:, :, 1].var(axis=-1, ddof=1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        dprime = np.where(sd > 0, signal * D0 / sd, np.inf)
    late = slice(n_rec // 2, None)
    return {"t_star": t_star, "t_boot": boot, "t_pred": D0**2 / data["rate"],
            "signal": signal, "dprime": dprime, "retention": signal[:, late].mean(axis=1)}


def weight_decay_erasure(
    S_a: np.ndarray,
    S_b: np.ndarray,
    weight_decays: Sequence[float],
    *,
    task: Task | None = None,
    eta: float = 5e-3,
    e_folds: float = 6.0,
    n_points: int = 100,
) -> dict[str, np.ndarray]:
    """The invisible distance of two histories while both keep learning with weight decay.

    Each run lasts ``e_folds`` predicted e-foldings, ``-2 log(1 - eta w)`` per
    epoch (chapter 4, :func:`lrtools.memory.predicted_decay_rate`); the fitted
    rate uses the second half of each run.

    Parameters
    ----------
    S_a, S_b : numpy.ndarray, shape (4, 4)
        End states of the two histories (:func:`memory_pair`).
    weight_decays : sequence of float
        Weight decays ``w``.
    task : Task, optional
        The task (default: the filter ``c = 0.2``).
    eta, e_folds, n_points
        Rate, run length in predicted e-foldings and recorded points.

    Returns
    -------
    dict
        ``weight_decay (n_w,)``, ``epoch (n_w, n_points + 1)``, ``distance (n_w,
        n_points + 1)``, ``predicted_rate (n_w,)`` and ``fitted_rate (n_w,)``
        (per epoch).
    """
    task = task or ExponentialFilter(c=0.2)
    S = np.stack([np.asarray(S_a, dtype=float), np.asarray(S_b, dtype=float)])
    out: dict[str, list] = {"epoch": [], "distance": [], "predicted_rate": [], "fitted_rate": []}
    for w in weight_decays:
        rate = float(-2.0 * np.log1p(-eta * w))
        every = max(int(np.ceil(e_folds / rate / n_points)), 1)
        r = theory.learn_many(S, task, every * n_points, eta, weight_decay=w, record_every=every)
        inv = invisible_values(r["overlaps"])
        dist = np.linalg.norm(inv[:, 1] - inv[:, 0], axis=-1)
        late = slice(n_points // 2, None)
        fitted = fit_rate(r["epoch"][late], dist[late])
        out["epoch"].append(r["epoch"])
        out["distance"].append(dist)
        out["predicted_rate"].append(rate)
        out["fitted_rate"].append(fitted)
    return {"weight_decay": np.asarray(weight_decays, dtype=float),
            **{k: np.array(v) for k, v in out.items()}}


def crossover_lifetime(t0: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    r"""Lifetime of the record under noise and decay: ``ln(1 + 2 kappa t0) / (2 kappa)``.

    With the mean difference decaying as ``D_0 e^{-kappa t}`` and the spread of an
    Ornstein-Uhlenbeck process, ``v(t) = (D / 2 kappa)(1 - e^{-2 kappa t})``,
    ``d' = 1`` is reached at this time (``t0 = D_0^2 / D``, the lifetime without
    decay; ``kappa -> 0`` gives ``t0``). For ``kappa t0 >> 1`` it is
    ``ln(2 kappa t0) / (2 kappa)``: set by the decay, with the noise and ``N``
    only in a logarithm.

    Parameters
    ----------
    t0 : numpy.ndarray
        Lifetime without decay (epochs).
    kappa : numpy.ndarray
        Decay rate of the record per epoch (``-2 ln(1 - eta w)`` for weight decay ``w``).

    Returns
    -------
    numpy.ndarray
    """
    t0, kappa = np.asarray(t0, dtype=float), np.asarray(kappa, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(kappa > 0, np.log1p(2 * kappa * t0) / (2 * np.where(kappa > 0, kappa, 1)),
                        t0)


def _dprime(proj: np.ndarray) -> np.ndarray:
    """``d'`` along the record of ``proj (n_rec, 2, n_rep)``: mean difference over pooled sd."""
    diff = proj[:, 1].mean(axis=-1) - proj[:, 0].mean(axis=-1)
    sd = np.sqrt(0.5 * (proj[:, 0].var(axis=-1, ddof=1) + proj[:, 1].var(axis=-1, ddof=1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, np.abs(diff) / sd, np.inf)


def _fitted_lifetime(proj: np.ndarray, epoch: np.ndarray) -> tuple[float, float, float]:
    """``(t*, kappa_fit, D_fit)`` from ``proj (n_rec, 2, n_rep)``: fitted mean decay and spread.

    The mean difference is fitted as ``m_0 e^{-kappa t}`` (least squares on its
    logarithm, weighted by ``m^2``, points where it exceeds twice its standard
    error), the pooled within-group variance as ``D (1 - e^{-2 kappa t}) /
    (2 kappa)`` (``D`` by least squares), and ``d' = 1`` is solved in closed form.
    """
    n_rep = proj.shape[-1]
    m = proj[:, 1].mean(axis=-1) - proj[:, 0].mean(axis=-1)
    v = 0.5 * (proj[:, 0].var(axis=-1, ddof=1) + proj[:, 1].var(axis=-1, ddof=1))
    m = m * np.sign(m[0])
    ok = m > 2 * np.sqrt(2 * v / n_rep)
    ok[0] = True
    t, y, wt = epoch[ok], np.log(m[ok]), m[ok] ** 2
    A = np.stack([np.ones_like(t), -t], axis=1) * np.sqrt(wt)[:, None]
    (log_m0, kappa), *_ = np.linalg.lstsq(A, y * np.sqrt(wt), rcond=None)
    kappa = max(float(kappa), 1e-12)
    shape = -np.expm1(-2 * kappa * epoch) / (2 * kappa)
    D = float(v @ shape / (shape @ shape))
    t_star = float(crossover_lifetime(np.exp(2 * log_m0) / D, kappa))
    return t_star, kappa, D


def decay_noise_lifetimes(
    S_a: np.ndarray,
    S_b: np.ndarray,
    weight_decays: Sequence[float],
    *,
    std: float = 4e-3,
    N: int = 500,
    n_rep: int = 64,
    task: Task | None = None,
    eta: float = 5e-3,
    horizon: float = 3.0,
    n_boot: int = 100,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    r"""Lifetime of the record under synaptic noise ``std`` and weight decay (or turnover) ``w``.

    For each ``w`` (``0`` included by the caller for the pure-noise lifetime),
    ``n_rep`` individuals per history keep learning the task with noise and decay
    (:func:`lrtools.theory.learn_many`); the record is read along the initial
    invisible difference, ``d'`` is recorded every epoch and the lifetime is its
    ``d' = 1`` crossing of the fitted mean decay and spread (:func:`_fitted_lifetime`;
    bootstrap over individuals). Each run lasts ``horizon``
    times the predicted lifetime :func:`crossover_lifetime` (with ``t0`` from
    :func:`diffusion_rate`).

    Parameters
    ----------
    S_a, S_b : numpy.ndarray, shape (4, 4)
        End states of the two histories.
    weight_decays : sequence of float
        Weight decays ``w``.
    std, N, n_rep, task, eta, horizon, n_boot, seed
        Noise per entry and epoch, neurons, individuals per history, task (default
        the filter ``c = 0.2``), rate, run length, bootstrap samples, seed.

    Returns
    -------
    dict
        ``weight_decay (n_w,)``; ``kappa (n_w,)``: ``-2 ln(1 - eta w)``;
        ``t_star (n_w,)``, ``t_low``, ``t_high`` (95 % bootstrap interval);
        ``kappa_fit``, ``D_fit``: the fitted decay rate of the mean difference and
        diffusion rate of the spread;
        ``t0_pred``: ``D_0^2`` over the predicted diffusion rate; ``epoch``,
        ``dprime``: the ``d'`` curves (``(n_w, n_rec)``, padded with ``nan``).
    """
    task = task or ExponentialFilter(c=0.2)
    S_a, S_b = np.asarray(S_a, dtype=float), np.asarray(S_b, dtype=float)
    d = invisible_values(S_b) - invisible_values(S_a)
    D0 = float(np.linalg.norm(d))
    e = d / D0
    t0 = D0**2 / diffusion_rate(0.5 * (S_a + S_b), e, std, N)
    rng = np.random.default_rng([seed, 1])
    rows = []
    for i, w in enumerate(weight_decays):
        kappa = float(-2.0 * np.log1p(-eta * w))
        epochs = max(int(np.ceil(horizon * crossover_lifetime(t0, kappa))), 10)
        S = np.concatenate([np.repeat(S_a[None], n_rep, 0), np.repeat(S_b[None], n_rep, 0)])
        r = theory.learn_many(S, task, epochs, eta, weight_noise=std, N=N, weight_decay=float(w),
                              noise_seed=[seed, i, N], record_every=1)
        proj = (invisible_values(r["overlaps"]) @ e).reshape(-1, 2, n_rep)
        ep = r["epoch"].astype(float)
        t_star, k_fit, D_fit = _fitted_lifetime(proj, ep)
        boot = []
        for _ in range(n_boot):
            idx = rng.integers(0, n_rep, size=(2, n_rep))
            pb = np.stack([proj[:, 0, idx[0]], proj[:, 1, idx[1]]], axis=1)
            boot.append(_fitted_lifetime(pb, ep)[0])
        lo, hi = np.quantile(boot, [0.025, 0.975])
        rows.append({"kappa": kappa, "t_star": t_star, "t_low": lo, "t_high": hi,
                     "kappa_fit": k_fit, "D_fit": D_fit, "epoch": ep, "dprime": _dprime(proj)})
    n_rec = max(len(x["epoch"]) for x in rows)

    def pad(a):
        return np.r_[a, np.full(n_rec - len(a), np.nan)]

    return {"weight_decay": np.asarray(weight_decays, dtype=float),
            **{k: np.array([x[k] for x in rows]) for k in ("kappa", "t_star", "t_low", "t_high",
                                                        "kappa_fit", "D_fit")},
            "epoch": np.array([pad(x["epoch"]) for x in rows]),
            "dprime": np.array([pad(x["dprime"]) for x in rows]),
            "t0_pred": np.array(t0), "std": np.array(std), "N": np.array(N)}
