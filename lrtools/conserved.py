r"""What learning conserves, and what weight decay does to it (chapter 4).

With ``J = diag(+1 on z, v; -1 on m, u)`` the linear loss gradient anticommutes
with ``J`` (``J Gamma = -Gamma J``), so under the gradient flow ``d(JS)/dtau =
[Gamma, JS]``: the eigenvalues of ``JS`` (:func:`lrtools.theory.invariants`) and
the ``N x N`` matrix ``K = Z Z^T + V V^T - M M^T - U U^T`` (:func:`k_entries`,
:func:`k_drift`) are conserved. The rescaling ``u -> l u``, ``v -> v / l`` leaves
every rank-1 network unchanged (for any ``phi``), which conserves one more
quantity under the flow, the balance ``sigma_uu - sigma_vv`` (:func:`balance`;
``U^T U - V^T V`` for rank ``R``). :func:`conserved` stacks the five. One discrete
step of size ``eta`` changes them by ``O(eta^2)``; Adam and noise break them.

Weight decay multiplies them by ``exp(-2 wd tau)`` exactly (flow) and drives every
history to the minimum-norm state of its visible overlaps
(:func:`min_norm_overlaps`), erasing the memory at the rate
:func:`predicted_decay_rate` (:func:`decay_under_weight_decay` measures it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import theory
from .history import History
from .overlaps import Overlaps, left_right, psd_sqrt, vector_names
from .tasks import Task

__all__ = [
    "balance",
    "conserved",
    "k_entries",
    "k_drift",
    "min_norm_overlaps",
    "predicted_decay_rate",
    "decay_under_weight_decay",
]

_NAMES = vector_names(1, 1, 1)  # ("m", "u", "v", "z"), as lrtools.memory.NAMES
_M, _U, _V, _Z = range(4)


def _mats(S: Overlaps | History | np.ndarray, names: Sequence[str] | None):
    if isinstance(S, Overlaps):
        return S.matrix, S.names
    if isinstance(S, History):
        return S.overlaps, S.names
    return np.asarray(S, dtype=np.float64), tuple(_NAMES if names is None else names)


def balance(S: Overlaps | History | np.ndarray, names: Sequence[str] | None = None) -> np.ndarray:
    r"""The rescaling invariant ``U^T U / N - V^T V / N`` (``sigma_uu - sigma_vv`` at rank 1).

    The network depends on ``U, V`` only through ``U V^T``, so ``U -> U A``,
    ``V -> V A^{-T}`` changes nothing; the gradient flow then conserves
    ``U^T U - V^T V`` (for every ``phi``, visible or not). Discrete steps change it
    by ``O(eta^2)`` per step.

    Parameters
    ----------
    S : Overlaps, History or numpy.ndarray of shape (..., k, k)
        The overlaps (a trajectory or a stack of matrices for arrays).
    names : sequence of str, optional
        Vector names for arrays (default ``m, u, v, z``).

    Returns
    -------
    numpy.ndarray
        Shape ``(...)`` at rank 1, ``(..., R, R)`` at rank ``R > 1``.
    """
    mats, names = _mats(S, names)
    iu = [i for i, n in enumerate(names) if n[0] == "u"]
    iv = [i for i, n in enumerate(names) if n[0] == "v"]
    Buu = mats[..., iu, :][..., :, iu]
    Bvv = mats[..., iv, :][..., :, iv]
    out = Buu - Bvv
    return out[..., 0, 0] if len(iu) == 1 else out


def conserved(S: Overlaps | History | np.ndarray, names: Sequence[str] | None = None) -> np.ndarray:
    """Quantities the linear rank-1 gradient flow conserves: eigenvalues of ``JS``, the balance.

    Parameters
    ----------
    S : Overlaps, History or numpy.ndarray of shape (..., k, k)
        The overlaps.
    names : sequence of str, optional
        Vector names for arrays (default ``m, u, v, z``).

    Returns
    -------
    numpy.ndarray, shape (..., 5)
        The four :func:`lrtools.theory.invariants` (ascending), then :func:`balance`.
    """
    mats, names = _mats(S, names)
    inv = theory.invariants(mats, names)
    return np.concatenate([inv, np.asarray(balance(mats, names))[..., None]], axis=-1)


def k_entries(hist: History, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """Entries ``K_ij`` of ``K = X J X^T`` at the vector snapshots of a network history.

    ``K = Z Z^T + V V^T - M M^T - U U^T`` (``N x N``), conserved by the linear
    gradient flow.

    Parameters
    ----------
    hist : History
        From :func:`lrtools.train` with ``snapshot_every``.
    pairs : sequence of (i, j)
        Neuron index pairs.

    Returns
    -------
    numpy.ndarray, shape (n_snapshots, len(pairs))
        The entries at every snapshot.
    """
    if hist.vectors is None:
        raise ValueError("this history has no vector snapshots; train with snapshot_every=")
    J = left_right(hist.names)
    i, j = np.asarray(pairs).T
    X = hist.vectors
    return np.einsum("sna,a,sna->sn", X[:, i, :], J, X[:, j, :])


def k_drift(hist: History, reference: np.ndarray | None = None) -> np.ndarray:
    """``max_ij |K_ij(t) - K_ij(ref)|`` at every vector snapshot (``ref``: first snapshot).

    Parameters
    ----------
    hist : History
        With vector snapshots.
    reference : numpy.ndarray, shape (N, k), optional
        Vectors of the reference state (default: the first snapshot).

    Returns
    -------
    numpy.ndarray, shape (n_snapshots,)
        The largest change of an entry of ``K`` at every snapshot.
    """
    if hist.vectors is None:
        raise ValueError("this history has no vector snapshots; train with snapshot_every=")
    J = left_right(hist.names)
    X0 = hist.vectors[0] if reference is None else np.asarray(reference)
    K0 = (X0 * J) @ X0.T
    return np.array([np.max(np.abs((X * J) @ X.T - K0)) for X in hist.vectors])


# ---------------------------------------------------------------------------
# weight decay
# ---------------------------------------------------------------------------


def min_norm_overlaps(S: Overlaps) -> Overlaps:
    r"""The unique overlaps with ``K = 0`` and the same visible block (linear networks).

    With ``C = S_{LR}`` (rows ``v, z``, columns ``m, u``), the vectors of smallest
    total norm ``tr S`` that realise ``C`` are balanced (``K = 0``), and then
    ``S_{RR} = (C^T C)^{1/2}``, ``S_{LL} = (C C^T)^{1/2}``: the invisible overlaps
    are functions of the visible ones. Weight decay drives every history there.

    Parameters
    ----------
    S : Overlaps
        Rank-1 overlaps ``(m, u, v, z)``.

    Returns
    -------
    Overlaps
        The same visible block ``C``, the minimum-norm invisible overlaps.
    """
    if S.names != _NAMES:
        raise ValueError(f"rank-1 overlaps (m, u, v, z) expected, got {S.names}")
    R, L = [_M, _U], [_V, _Z]
    C = S.matrix[np.ix_(L, R)]
    M = np.array(S.matrix)
    M[np.ix_(R, R)] = psd_sqrt(C.T @ C)
    M[np.ix_(L, L)] = psd_sqrt(C @ C.T)
    return Overlaps(M, _NAMES)


def predicted_decay_rate(eta: float, weight_decay: float) -> float:
    r"""Predicted decay rate, per epoch, of the memory under weight decay (linear networks).

    With ``Gamma -> Gamma + w I`` the flow obeys ``d(JS)/dtau = [Gamma, JS] -
    2 w JS``: every invariant decays as ``exp(-2 w tau)`` and ``K -> 0``. At
    ``K = 0`` the invisible overlaps are fixed by the visible block ``C``
    (:func:`min_norm_overlaps`); there ``Gamma_LR = -w P R^T`` for ``C = P s R^T``.
    A perturbation ``(a, b)`` of ``(S_RR, S_LL)`` at fixed ``C`` obeys, in the
    singular basis, ``a' = -w (a + b) - 2 w a``, ``b' = -w (a + b) - 2 w b``: ``a + b``
    decays at ``4 w``, ``a - b`` at ``2 w``, so the memory dies at ``2 w`` per unit
    learning time (valid for ``w`` small against the loss curvature). Per epoch of
    gradient descent: ``-2 log(1 - eta w) ~ 2 eta w``.

    Parameters
    ----------
    eta : float
        Learning rate.
    weight_decay : float
        The weight decay ``w``.

    Returns
    -------
    float
        ``-2 log(1 - eta w)``.
    """
    if not (0 <= eta * weight_decay < 1):
        raise ValueError("need 0 <= eta * weight_decay < 1")
    return float(-2.0 * np.log1p(-eta * weight_decay))


def decay_under_weight_decay(
    S1: Overlaps,
    S2: Overlaps,
    task: Task,
    eta: float,
    weight_decay: float,
    epochs: int,
    *,
    record_every: int = 100,
) -> dict[str, np.ndarray]:
    """Continue two histories on the same task with weight decay; follow their memory.

    Parameters
    ----------
    S1, S2 : Overlaps
        End states of the two histories.
    task : Task
        The task both continue on.
    eta, weight_decay : float
        Learning rate and weight decay of the exact overlap map.
    epochs : int
        Epochs of the continuation.
    record_every : int
        Epochs between recorded gaps.

    Returns
    -------
    dict
        ``epoch`` (recorded epochs), ``invisible`` (largest invisible gap between
        the two), ``invariants`` (largest ``|I_i|`` of :func:`lrtools.theory.invariants`,
        first history), ``predicted_rate`` (:func:`predicted_decay_rate`, per epoch),
        ``min_norm_gap`` (final distance of the first history's invisible overlaps
        from :func:`min_norm_overlaps` of its visible ones).
    """
    from .memory import gaps  # lrtools.memory imports this module

    h1 = theory.learn(S1, task, epochs, eta, weight_decay=weight_decay)
    h2 = theory.learn(S2, task, epochs, eta, weight_decay=weight_decay)
    idx = np.arange(0, epochs + 1, record_every)
    inv = np.array([gaps(h1.at(i), h2.at(i))["invisible"] for i in idx])
    inv_size = np.max(np.abs(theory.invariants(h1.overlaps[idx], h1.names)), axis=1)
    final = h1.final
    return {"epoch": idx, "invisible": inv, "invariants": inv_size,
            "predicted_rate": np.array(predicted_decay_rate(eta, weight_decay)),
            "min_norm_gap": np.array(gaps(final, min_norm_overlaps(final))["invisible"])}
