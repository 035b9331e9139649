r"""What a finite plasticity step adds to gradient flow: the modified equation in overlap space.

One gradient step of a linear network is exactly ``S' = (I - eta Gamma) S (I -
eta Gamma)`` (chapter 1); the gradient flow ``dS/dtau = -(Gamma S + S Gamma)``
is its ``eta -> 0`` limit at fixed learning time ``tau = eta * epochs``. Two
exact and one first-order statement about the difference:

* **Conserved quantities drift by ``eta^2`` per step, with a quadratic form of
  the gradient** (:func:`noether_step`). The flow conserves ``sigma_uu -
  sigma_vv`` and ``sigma_mm - sigma_zz`` (the rescalings ``u -> l u, v -> v/l``
  and ``m -> l m, z -> z/l``), so the ``O(eta)`` terms of a step cancel in them
  and

  .. math:: \Delta(\sigma_{uu} - \sigma_{vv}) = \eta^2\,[(\Gamma S\Gamma)_{uu}
            - (\Gamma S\Gamma)_{vv}], \qquad
            (\Gamma S\Gamma)_{aa} = N\,|\partial L/\partial x_a|^2 ,

  the same for ``mm - zz``; the ``N x N`` matrix ``K`` moves by ``eta^2 X Gamma
  J Gamma X^T``. Over a fixed learning time these add up to ``O(eta)``.
* **The modified equation** (:func:`modified_gamma`, :func:`flow_many`). Gradient
  descent with step ``h = N eta`` on the vectors follows, to ``O(eta^2)`` per unit
  learning time, the flow of ``L + (h/4)|grad_X L|^2 = L + (eta/4) tr(S Gamma^2)``.
  In overlap space that flow is the gradient flow with

  .. math:: \tilde\Gamma = \Gamma + \tfrac{\eta}{2}\bigl(\Gamma^2 - \dot\Gamma\bigr),

  ``dot Gamma`` the derivative of ``Gamma`` along the flow. For a linear network
  ``Gamma`` couples only left to right vectors, so its diagonal vanishes and
  ``tilde Gamma_aa = (eta/2) (Gamma^2)_aa >= 0``: the finite step acts as a weight
  decay on every vector, at the rate ``eta (Gamma^2)_aa`` per unit learning time,
  which is non-zero only while the network is not at a minimum.
  :func:`flow_many` integrates the flow (``eta_correction=0``) or the modified
  flow for many networks at once and records ``int (Gamma^2)_aa dtau``.
* **The reversal record against the step** (:func:`reversal_flow`,
  :func:`record_statistics`): the twins of :func:`lrtools.plasticity.reversal_cohort`
  under the exact flow and the modified flow, so that the record of a finite step
  ``r(eta) = r(0) + eta r_1 + O(eta^2)`` is split into its flow limit ``r(0)`` and
  its first-order coefficient ``r_1``.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from . import theory
from .tasks import SignedFilter, Task, batches

__all__ = [
    "noether_step",
    "modified_gamma",
    "flow_many",
    "reversal_flow",
    "relative_record",
    "binomial_interval",
    "record_statistics",
]

_M, _U, _V, _Z = range(4)


def noether_step(S: np.ndarray, Gamma: np.ndarray, eta: float) -> np.ndarray:
    r"""Exact change of ``(sigma_uu - sigma_vv, sigma_mm - sigma_zz)`` in one gradient step.

    ``eta^2 [(Gamma S Gamma)_uu - (Gamma S Gamma)_vv, (Gamma S Gamma)_mm -
    (Gamma S Gamma)_zz]``: the flow terms cancel because the flow conserves both
    (linear rank-1 networks; the first also for any ``phi``).

    Parameters
    ----------
    S, Gamma : numpy.ndarray, shape (..., 4, 4)
        Overlaps (order ``m, u, v, z``) and their ``Gamma``.
    eta : float
        Step.

    Returns
    -------
    numpy.ndarray, shape (..., 2)
        The two changes.
    """
    GSG = np.asarray(Gamma) @ np.asarray(S) @ np.asarray(Gamma)
    return eta**2 * np.stack([GSG[..., _U, _U] - GSG[..., _V, _V],
                              GSG[..., _M, _M] - GSG[..., _Z, _Z]], axis=-1)


def modified_gamma(Gamma: np.ndarray, Gamma_dot: np.ndarray, eta: float) -> np.ndarray:
    r"""``Gamma + (eta/2)(Gamma^2 - dot Gamma)``: the loss gradient of the modified equation.

    Parameters
    ----------
    Gamma, Gamma_dot : numpy.ndarray, shape (..., k, k)
        ``Gamma`` and its derivative along the flow ``dS/dtau = -(Gamma S + S Gamma)``.
    eta : float
        Step of the gradient descent the modified flow follows.

    Returns
    -------
    numpy.ndarray, shape (..., k, k)
    """
    Gamma = np.asarray(Gamma)
    return Gamma + 0.5 * eta * (Gamma @ Gamma - np.asarray(Gamma_dot))


def flow_many(
    S0: np.ndarray,
    task: Task,
    t_end: float,
    *,
    eta_correction: float = 0.0,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    fd_step: float = 1e-6,
) -> dict[str, np.ndarray]:
    r"""Gradient flow (or the modified flow of a finite step) of many rank-1 networks.

    Integrates ``dS/dtau = -(tilde Gamma S + S tilde Gamma)`` with ``tilde Gamma``
    from :func:`modified_gamma` at ``eta = eta_correction`` (``0``: the exact
    flow, as :func:`lrtools.theory.flow`) for all networks at once (SciPy's
    DOP853 on the stacked system; ``Gamma`` from the fused kernel
    :func:`lrtools.theory.loss_and_gamma_many`). ``dot Gamma`` is a central
    difference of ``Gamma`` along the flow velocity, step ``fd_step``.

    Parameters
    ----------
    S0 : numpy.ndarray, shape (n, 4, 4)
        Starting overlaps.
    task : Task
        A deterministic task.
    t_end : float
        Learning time ``eta * epochs``.
    eta_correction : float
        Step of the gradient descent whose modified equation is integrated.
    rtol, atol : float
        Tolerances of the integrator.
    fd_step : float
        Step of the central difference for ``dot Gamma``.

    Returns
    -------
    dict
        ``final (n, 4, 4)``; ``decay (n, 4)``: ``int_0^t_end (Gamma^2)_aa dtau``
        for ``a = m, u, v, z`` (the implicit decay of each vector is ``eta`` times
        it); ``loss (n,)``: final loss.
    """
    if not task.deterministic:
        raise ValueError(f"flow_many needs a deterministic task, got {type(task).__name__}")
    S0 = np.asarray(S0, dtype=np.float64)
    if S0.ndim != 3 or S0.shape[1:] != (4, 4):
        raise ValueError(f"S0 must have shape (n, 4, 4), got {S0.shape}")
    n = len(S0)
    batch = next(batches(task, None))
    w = task.loss_weights(batch[2])

    def gam(S):
        return theory.loss_and_gamma_many(np.ascontiguousarray(S), batch, w, task.dt)

    def rhs(_t, y):
        S = y[: 16 * n].reshape(n, 4, 4)
        S = 0.5 * (S + S.transpose(0, 2, 1))
        G = gam(S)[1]
        G2 = G @ G
        if eta_correction:
            V = -(G @ S + S @ G.transpose(0, 2, 1))
            Gd = (gam(S + fd_step * V)[1] - gam(S - fd_step * V)[1]) / (2 * fd_step)
            Gt = G + 0.5 * eta_correction * (G2 - Gd)
        else:
            Gt = G
        GS = Gt @ S
        dS = -(GS + GS.transpose(0, 2, 1))
        return np.concatenate([dS.ravel(), np.einsum("nii->ni", G2).ravel()])

    y0 = np.concatenate([S0.ravel(), np.zeros(4 * n)])
    sol = solve_ivp(rhs, (0.0, float(t_end)), y0, method="DOP853", rtol=rtol, atol=atol,
                    t_eval=[float(t_end)])
    if not sol.success:
        raise theory.DivergenceError(f"flow integration failed: {sol.message}")
    y = sol.y[:, -1]
    S = y[: 16 * n].reshape(n, 4, 4)
    S = 0.5 * (S + S.transpose(0, 2, 1))
    return {"final": S, "decay": y[16 * n:].reshape(n, 4), "loss": gam(S)[0]}


def reversal_flow(
    start: np.ndarray,
    *,
    learning_times: tuple[float, float, float] = (15.0, 5.0, 10.0),
    eta_correction: float = 0.0,
    c: float = 0.2,
    dt: float = 0.05,
    t_max: float = 20.0,
    rtol: float = 1e-9,
) -> dict[str, np.ndarray]:
    """The reversal experiment of :func:`lrtools.plasticity.reversal_cohort` under a flow.

    A for ``learning_times[0]``; then the direct twin A and the reversal twin B for
    ``learning_times[1]``; then both A for ``learning_times[2]``, each phase by
    :func:`flow_many` (the exact flow, or the modified flow of the step
    ``eta_correction``).

    Parameters
    ----------
    start : numpy.ndarray, shape (n, 4, 4)
        Starting overlaps of the animals.
    learning_times : tuple of float
        Learning time of each phase (``eta * epochs``).
    eta_correction : float
        As in :func:`flow_many`.
    c, dt, t_max : float
        The filter and its time grid.
    rtol : float
        Relative tolerance of the integrator.

    Returns
    -------
    dict
        ``direct``, ``reversal``: final overlaps ``(n, 4, 4)``; ``decay_direct``,
        ``decay_reversal`` ``(n, 4)``: ``int (Gamma^2)_aa dtau`` over the whole
        history; ``loss_direct``, ``loss_reversal`` ``(n,)``.
    """
    A = SignedFilter(c=c, dt=dt, t_max=t_max)
    B = SignedFilter(c=c, dt=dt, t_max=t_max, sign=-1.0)
    n = len(start)
    kw = dict(eta_correction=eta_correction, rtol=rtol)
    a = flow_many(start, A, learning_times[0], **kw)
    mid = [flow_many(a["final"], task, learning_times[1], **kw) for task in (A, B)]
    end = flow_many(np.concatenate([m["final"] for m in mid]), A, learning_times[2], **kw)
    decay = a["decay"][None] + np.stack([m["decay"] for m in mid]) + end["decay"].reshape(2, n, 4)
    return {"direct": end["final"][:n], "reversal": end["final"][n:],
            "decay_direct": decay[0], "decay_reversal": decay[1],
            "loss_direct": end["loss"][:n], "loss_reversal": end["loss"][n:]}


def relative_record(direct: np.ndarray, reversal: np.ndarray) -> np.ndarray:
    """Relative change of the synaptic totals, reversal twin against direct twin, per animal.

    Parameters
    ----------
    direct, reversal : numpy.ndarray, shape (..., 4, 4)
        Final overlaps of the twins.

    Returns
    -------
    numpy.ndarray, shape (..., 3)
        ``(T_rev - T_dir) / T_dir`` for the totals of
        :func:`lrtools.plasticity.synaptic_totals` (input, readout, recurrent).
    """
    from .plasticity import synaptic_totals

    Td, Tr = synaptic_totals(direct), synaptic_totals(reversal)
    return (Tr - Td) / Td


def binomial_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson (exact) interval of a proportion ``k / n``.

    Parameters
    ----------
    k, n : int
        Successes and trials (``0 <= k <= n``, ``n >= 1``).
    level : float
        Confidence level.

    Returns
    -------
    (float, float)
        Lower and upper bound.
    """
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def record_statistics(values: np.ndarray, level: float = 0.95) -> dict[str, np.ndarray]:
    """Per-animal spread of a record: fraction negative with its interval, median, range.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_animals, ...)
        One value per animal (and quantity).
    level : float
        Confidence level of the Clopper-Pearson interval of the fraction negative.

    Returns
    -------
    dict
        ``n``, ``negative`` (count), ``fraction``, ``low``, ``high`` (interval of
        the fraction), ``median``, ``min``, ``max``, ``mean``; each of the shape of
        ``values[0]``.
    """
    v = np.asarray(values, dtype=float)
    neg = (v < 0).sum(axis=0)
    lo, hi = np.vectorize(lambda k: binomial_interval(int(k), len(v), level))(neg)
    return {"n": np.array(len(v)), "negative": neg, "fraction": neg / len(v), "low": lo,
            "high": hi, "median": np.median(v, axis=0), "min": v.min(axis=0),
            "max": v.max(axis=0), "mean": v.mean(axis=0)}

