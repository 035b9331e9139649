r"""Learning as a probe of functionally equivalent networks.

Two low-rank networks are *functionally equivalent* when they share every
loss-visible overlap: they produce the same output for every input, so no
behavioural test tells them apart. They may still differ in their
loss-invisible overlaps (linear rank 1: ``mu, mm, uu, vv, zv, zz``; erf in the
Gaussian limit: ``vv, zv, zz``), and those shape how they learn and how they
respond to perturbations of their activity (Ger & Barak, 2026). This module

* builds equivalent networks with prescribed invisible overlaps
  (:func:`equivalent_network`, :func:`equivalent_overlaps`) and samples whole
  families of them (:func:`sample_equivalent`);
* predicts how fast each one starts to learn a new task,
  :math:`-dL/d\text{epoch} = \eta\, \nabla_\sigma L \cdot G\, \nabla_\sigma L
  = \eta \operatorname{tr}(\Gamma S \Gamma)` (:func:`initial_speed`), and
  measures how long it takes (:func:`learning_curves`, :func:`epochs_to_criterion`);
* predicts the output variance caused by activity noise injected into every
  neuron, a closed form in the overlaps for linear networks
  (:func:`output_noise_variance`, :func:`stationary_noise_variance`), and
  estimates it by simulation (:func:`sampled_noise_variance`).

**The construction (minimal change).** The ``keep`` vectors of ``theta_1``
(default for networks: the inputs ``m`` and readouts ``z``, so every neuron
keeps its input and readout weight, as in the paper) are copied. The other
vectors are re-solved one at a time, in the order ``m, u, v, z``: each is the
vector *closest* to its ``theta_1`` version that has the prescribed overlaps
with the vectors already placed (all visible overlaps, the ``targets``) and,
if prescribed, its norm. Without a prescribed norm the correction lies in the
span of the placed vectors (a least-squares correction); with one, the part
orthogonal to them is rescaled. For the paper's example (linear rank 1,
``uu=2.048, mu=0.8``) this re-solves ``u`` with the new norm and overlap with
``m``, then corrects ``v`` within ``span{m, u}`` so that ``vm, vu`` keep their
values ("v re-solved to keep vm, vu"). Unprescribed invisible overlaps (there:
``vv, zv``) thus change only as much as the vectors must; vectors whose
constraints already hold stay identical.

Fallback: when the prescribed norm of a vector is below what its prescribed
overlaps with the placed vectors allow, although other (unprescribed) values of
the earlier vectors' overlaps would make room, the unprescribed invisible
overlaps are instead set to the values nearest to ``theta_1``'s (least squares)
that make ``S`` positive semidefinite (Dykstra's alternating projections), and
the vectors are built for that ``S``. A target for which no positive
semidefinite overlap matrix exists raises ``ValueError`` naming the conflict.

The construction uses inner products only, so :func:`equivalent_overlaps` runs
it on Gram coordinates of ``S_1`` and returns exactly the overlaps that
:func:`equivalent_network` realises with N-dimensional vectors.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from . import theory
from ._checks import check_dt
from .cache import cached_run
from .history import DivergenceError, History
from .network import LowRankRNN
from .overlaps import Overlaps, invisible_pairs, psd_sqrt, visible_pairs
from .tasks import Task

__all__ = [
    "equivalent_overlaps",
    "equivalent_network",
    "free_overlaps",
    "sample_equivalent",
    "initial_speed",
    "epochs_to_criterion",
    "learning_curves",
    "rank_correlation",
    "rank_correlation_curve",
    "output_noise_variance",
    "stationary_noise_variance",
    "sampled_noise_variance",
    "noise_difference_variance",
    "plot_overlap_bars",
    "plot_family_map",
    "plot_speed_vs_epochs",
    "plot_noise_variance",
    "plot_rank_curve",
    "PAPER_TARGETS",
    "figure2_runs",
    "plot_figure2",
    "figure2",
    "family_runs",
    "family_members",
    "noise_runs",
    "equivalence_gaps",
    "equivalence_numbers",
    "figure2_numbers",
    "speed_errors",
    "speed_numbers",
    "family_summary",
    "speed_linearity_residual",
    "family_numbers",
    "family_check",
    "noise_numbers",
    "extreme_members",
    "erf_numbers",
    "plot_family_speed",
    "plot_noise_response",
    "plot_erf_probe",
]

# Relative tolerance (to the largest overlap) below which an eigenvalue or a
# residual still counts as zero: float64 round-off, as in overlaps.py.
_TOL = 1e-10
# Smallest eigenvalue (relative) given to a completion moved onto the PSD cone.
_FLOOR_RTOL = 1e-9


class _Blocked(ValueError):
    """The minimal-change construction cannot meet the targets."""


# ---------------------------------------------------------------------------
# Building equivalent networks
# ---------------------------------------------------------------------------


def _resolve(theta: Overlaps | LowRankRNN, phi: str | None) -> tuple[Overlaps, str]:
    if isinstance(theta, LowRankRNN):
        return theta.overlaps(), theta.phi if phi is None else phi
    if isinstance(theta, Overlaps):
        return theta, "linear" if phi is None else phi
    raise TypeError(f"expected an Overlaps or a LowRankRNN, got {type(theta).__name__}")


def _keep_indices(S: Overlaps, keep: Sequence[str]) -> list[int]:
    if isinstance(keep, str):
        raise TypeError(f"keep must be a sequence of vector names, e.g. ('m', 'z'), got {keep!r}")
    return sorted({S.index(name) for name in keep})


def _default_keep(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(n for n in names if n[0] in "mz")


def free_overlaps(
    theta: Overlaps | LowRankRNN, phi: str | None = None, *, keep: Sequence[str] | None = None
) -> list[str]:
    """Invisible overlaps an equivalent network may change, given the kept vectors.

    Parameters
    ----------
    theta : Overlaps or LowRankRNN
        The reference network ``theta_1`` (its ``phi`` is used for a network).
    phi : {"linear", "erf", "tanh"}, optional
        Nonlinearity deciding what is visible (default: the network's, or linear).
    keep : sequence of str, optional
        Vectors shared with ``theta_1``; overlaps among them are fixed. Default:
        the inputs and readouts (as in :func:`equivalent_network`).

    Returns
    -------
    list of str
        In the paper's order and spelling, e.g. ``["zv", "mu", "vv", "uu"]`` for
        a linear rank-1 network with ``keep=("m", "z")``; ``["zv", "vv"]`` for erf.
    """
    S, phi = _resolve(theta, phi)
    keep = _default_keep(S.names) if keep is None else keep
    kept = {S.names[i] for i in _keep_indices(S, keep)}
    return [a + b for a, b in invisible_pairs(S.names, phi) if not (a in kept and b in kept)]


def _pair(i: int, j: int) -> tuple[int, int]:
    return (i, j) if i <= j else (j, i)


def _specified(
    S1: Overlaps, phi: str, keep_idx: list[int], targets: Mapping[str, float]
) -> tuple[dict, dict]:
    """Values and reasons of the prescribed overlaps, keyed by index pairs (i <= j)."""
    spec, why = {}, {}
    M = S1.matrix
    for a, b in visible_pairs(S1.names, phi):
        p = _pair(S1.index(a), S1.index(b))
        spec[p], why[p] = float(M[p]), "visible"
    for i, j in itertools.combinations_with_replacement(keep_idx, 2):
        if (i, j) not in spec:
            spec[(i, j)], why[(i, j)] = float(M[i, j]), "kept vectors"
    for key, value in targets.items():
        a, b = S1.split(key)
        p = _pair(S1.index(a), S1.index(b))
        if why.get(p) == "visible":
            raise ValueError(
                f"sigma_{key} is loss-visible for phi={phi!r}: equivalent networks share it; "
                f"the invisible overlaps are {S1.invisible(phi)}"
            )
        if p in spec:
            raise ValueError(
                f"sigma_{key} is an overlap between kept vectors ({a}, {b}); "
                "leave them out of keep to change it"
            )
        value = float(value)
        if not np.isfinite(value):
            raise ValueError(f"target sigma_{key} must be finite, got {value}")
        spec[p], why[p] = value, "prescribed"
    return spec, why


def _check_fixed_blocks(spec: dict, why: dict, names: Sequence[str]) -> None:
    """Raise if some group of vectors has all its overlaps fixed and not PSD."""
    k = len(names)
    scale = max([1.0] + [abs(v) for v in spec.values()])
    for size in range(1, k + 1):
        for g in itertools.combinations(range(k), size):
            pairs = list(itertools.combinations_with_replacement(g, 2))
            if not all(p in spec for p in pairs):
                continue
            B = np.empty((size, size))
            for (i, j) in pairs:
                B[g.index(i), g.index(j)] = B[g.index(j), g.index(i)] = spec[(i, j)]
            w = float(np.linalg.eigvalsh(B)[0])
            if w < -_TOL * scale:
                entries = ", ".join(
                    f"sigma_{names[i]}{names[j]} = {spec[(i, j)]:.4g} ({why[(i, j)]})"
                    for i, j in pairs
                )
                raise ValueError(
                    "infeasible target: the fixed overlaps of the vectors "
                    f"({', '.join(names[i] for i in g)}) are not positive semidefinite "
                    f"(smallest eigenvalue {w:.3g}), so no real vectors have them: {entries}"
                )


def _orthogonalize(basis: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Remove from ``cols`` their component in span(basis) (orthonormal columns), twice."""
    for _ in range(2):
        cols = cols - basis @ (basis.T @ cols)
    return cols


def _span(P: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column span of ``P`` (rank-revealing SVD)."""
    if P.shape[1] == 0:
        return P
    U, s, _ = np.linalg.svd(P, full_matrices=False)
    return U[:, s > _TOL * max(float(s[0]), 1e-300)]


def _construct(
    Y1: np.ndarray,
    names: Sequence[str],
    spec: dict,
    why: dict,
    keep_idx: list[int],
    rng: np.random.Generator,
) -> np.ndarray:
    """The minimal-change construction on coordinates ``Y`` (``Y^T Y = S``)."""
    k = len(names)
    scale = max([1.0] + [abs(v) for v in spec.values()])
    Y2 = np.array(Y1)
    placed = list(keep_idx)
    for b in [i for i in range(k) if i not in keep_idx]:
        cons = [a for a in placed if _pair(a, b) in spec]
        P = Y2[:, cons]
        c = np.array([spec[_pair(a, b)] for a in cons])
        y = Y1[:, b]
        if cons:
            # least-squares correction inside span(P): P^T (y + P w) = c
            Gm = P.T @ P
            rhs = c - P.T @ y
            if np.max(np.abs(rhs)) > 1e-13 * scale:  # else the constraints hold already
                w = np.linalg.lstsq(Gm, rhs, rcond=None)[0]
                if np.max(np.abs(Gm @ w - rhs)) > 1e-8 * scale:
                    raise _Blocked(
                        f"infeasible target: the overlaps prescribed for {names[b]} with "
                        f"({', '.join(names[a] for a in cons)}) contradict each other "
                        "(those vectors are linearly dependent)"
                    )
                y = y + P @ w
        if (b, b) in spec:
            Q = _span(P)
            p = Q @ (Q.T @ y)
            r = _orthogonalize(Q, y - p)
            rho2 = spec[(b, b)] - float(p @ p)
            if rho2 < -_TOL * scale:
                open_ = [names[i] + names[j] for i, j in
                         itertools.combinations_with_replacement(sorted(cons), 2)
                         if (i, j) not in spec]
                hint = (f"; the overlaps {open_} among those vectors were left to the "
                        "construction: prescribing them too may make room") if open_ else ""
                raise _Blocked(
                    f"infeasible target: sigma_{names[b]}{names[b]} = {spec[(b, b)]:.6g} "
                    f"({why[(b, b)]}) is below {float(p @ p):.6g}, the smallest norm allowed "
                    f"by its overlaps with ({', '.join(names[a] for a in cons)}){hint}"
                )
            rho = np.sqrt(max(rho2, 0.0))
            nr = float(np.linalg.norm(r))
            if nr <= _TOL * np.sqrt(scale) and rho > 0:
                # theta_1's vector lies in span(P): take a new direction orthogonal to
                # every vector of both networks (the same overlaps for any choice)
                basis = _span(np.concatenate([Y1, Y2[:, placed]], axis=1))
                if basis.shape[1] >= Y1.shape[0]:
                    raise ValueError(
                        f"no room for a new direction of {names[b]}: need more neurons "
                        f"than {Y1.shape[0]}"
                    )
                r = _orthogonalize(basis, rng.standard_normal(Y1.shape[0]))
                nr = float(np.linalg.norm(r))
            y = p + (rho / nr) * r if rho > 0 else p
        Y2[:, b] = y
        placed.append(b)
    return Y2


def _nearest_completion(M0: np.ndarray, free: np.ndarray, max_iter: int = 100_000):
    """Nearest PSD matrix to ``M0`` differing only in the ``free`` entries, or None.

    Dykstra's alternating projections between the PSD cone (eigenvalues floored
    at a tiny positive margin) and the affine set of matrices with ``M0``'s
    other entries; converges to the projection of ``M0`` onto their intersection.
    """
    scale = max(1.0, float(np.max(np.abs(M0))))
    floor = _FLOOR_RTOL * scale
    fixed = ~free
    X = M0.copy()
    P = np.zeros_like(M0)
    Q = np.zeros_like(M0)
    for _ in range(max_iter):
        w, V = np.linalg.eigh(X + P)
        Y = (V * np.maximum(w, floor)) @ V.T
        P = X + P - Y
        Xn = Y + Q
        Xn[fixed] = M0[fixed]
        Xn = 0.5 * (Xn + Xn.T)
        Q = Y + Q - Xn
        step = float(np.max(np.abs(Xn - X)))
        X = Xn
        if step < 1e-13 * scale and np.linalg.eigvalsh(X)[0] > 0.0:
            return X
    return X if np.linalg.eigvalsh(X)[0] > 0.0 else None


def _build(Y1, S1: Overlaps, spec: dict, why: dict, keep_idx: list[int],
           rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Minimal-change construction, with the nearest-completion fallback."""
    try:
        return _construct(Y1, S1.names, spec, why, keep_idx, rng), spec
    except _Blocked as err:
        blocked = err
    k = S1.k
    M0 = np.array(S1.matrix)
    free = np.ones((k, k), dtype=bool)
    for (i, j), v in spec.items():
        M0[i, j] = M0[j, i] = v
        free[i, j] = free[j, i] = False
    M = _nearest_completion(M0, free)
    if M is None:
        raise ValueError(f"{blocked}; and no values of the free overlaps make the overlap "
                         "matrix positive semidefinite") from None
    full = {(i, j): float(M[i, j]) for i in range(k) for j in range(i, k)}
    reasons = {p: why.get(p, "completed") for p in full}
    return _construct(Y1, S1.names, full, reasons, keep_idx, rng), full


def _gram_coordinates(S: Overlaps) -> np.ndarray:
    """``Y`` of shape ``(2k, k)`` with ``Y^T Y = S`` (room for ``k`` new directions)."""
    root = psd_sqrt(S.matrix)
    return np.concatenate([root, np.zeros_like(root)], axis=0)


def equivalent_overlaps(
    theta: Overlaps | LowRankRNN,
    phi: str | None = None,
    *,
    keep: Sequence[str] | None = None,
    **targets: float,
) -> Overlaps:
    """Overlaps of a network functionally equivalent to ``theta`` with prescribed invisible ones.

    The result ``S_2`` has every loss-visible overlap of ``S_1``, the
    ``targets``, and the overlaps among the ``keep`` vectors; the other
    invisible overlaps follow from the minimal-change construction (module
    docstring), run on Gram coordinates of ``S_1``. It equals
    ``equivalent_network(theta, keep=keep, **targets).overlaps()`` to round-off.

    Parameters
    ----------
    theta : Overlaps or LowRankRNN
        The reference network ``theta_1``.
    phi : {"linear", "erf", "tanh"}, optional
        Nonlinearity deciding what is visible (default: the network's, or linear).
    keep : sequence of str, optional
        Vectors shared with ``theta_1``. Default: the inputs and readouts.
    **targets : float
        Invisible overlaps to set, by name, e.g. ``uu=2.048, mu=0.8``.

    Returns
    -------
    Overlaps
        ``S_2``; prescribed and visible entries hold to ``~1e-15``.

    Raises
    ------
    ValueError
        If a target names a visible overlap or one between kept vectors, or if the
        targets are infeasible (the message names the conflicting overlaps).

    Examples
    --------
    >>> S2 = equivalent_overlaps(S1, uu=2.048, mu=0.8)   # keeps m, z
    """
    S1, phi = _resolve(theta, phi)
    keep = _default_keep(S1.names) if keep is None else keep
    keep_idx = _keep_indices(S1, keep)
    spec, why = _specified(S1, phi, keep_idx, targets)
    _check_fixed_blocks(spec, why, S1.names)
    Y2, spec = _build(_gram_coordinates(S1), S1, spec, why, keep_idx, np.random.default_rng(0))
    return _exact(Overlaps(Y2.T @ Y2, S1.names), spec)


def _exact(S: Overlaps, spec: dict) -> Overlaps:
    """Write the prescribed values in exactly (they hold to round-off already)."""
    M = np.array(S.matrix)
    for (i, j), v in spec.items():
        M[i, j] = M[j, i] = v
    return Overlaps(M, S.names)


def equivalent_network(
    net: LowRankRNN,
    *,
    keep: Sequence[str] | None = None,
    seed: np.random.Generator | int | None = None,
    **targets: float,
) -> LowRankRNN:
    """A network functionally equivalent to ``net`` with prescribed invisible overlaps.

    The ``keep`` vectors (default: inputs ``m`` and readouts ``z``) are copied;
    the others are re-solved one by one, each as the vector closest to
    ``net``'s that has the prescribed overlaps (visible ones and ``targets``)
    with the vectors placed before it (module docstring). Its overlaps equal
    :func:`equivalent_overlaps` to round-off (``~1e-15``), so for a linear
    network its output equals ``net``'s for every input.

    Parameters
    ----------
    net : LowRankRNN
        The reference network ``theta_1``.
    keep : sequence of str, optional
        Vectors to copy. Default: every input and readout vector.
    seed : int or numpy.random.Generator, optional
        Only used when a re-solved vector needs a direction outside the span of
        all vectors (``net``'s vector lay in the span of those it must overlap);
        any such direction gives the same overlaps.
    **targets : float
        Invisible overlaps to set, e.g. ``uu=2.048, mu=0.8``.

    Returns
    -------
    LowRankRNN
        Same ``N``, rank and ``phi`` as ``net``.
    """
    if not isinstance(net, LowRankRNN):
        raise TypeError(f"net must be a LowRankRNN, got {type(net).__name__}")
    S1 = net.overlaps()
    keep = _default_keep(net.names) if keep is None else keep
    keep_idx = _keep_indices(S1, keep)
    spec, why = _specified(S1, net.phi, keep_idx, targets)
    _check_fixed_blocks(spec, why, net.names)
    sqrtN = np.sqrt(net.N)
    Y1 = net.X / sqrtN
    Y2, _ = _build(Y1, S1, spec, why, keep_idx, np.random.default_rng(0 if seed is None else seed))
    X2 = sqrtN * Y2
    same = [i for i in range(net.X.shape[1]) if np.array_equal(Y2[:, i], Y1[:, i])]
    X2[:, same] = net.X[:, same]  # kept and unchanged vectors: bit-identical copies
    return LowRankRNN(X2, rank=net.rank, n_in=net.n_in, n_out=net.n_out, phi=net.phi)


def sample_equivalent(
    theta: Overlaps | LowRankRNN,
    n: int,
    phi: str | None = None,
    *,
    keep: Sequence[str] | None = None,
    free: Sequence[str] | None = None,
    norm_range: tuple[float, float] = (0.5, 3.0),
    corr_range: tuple[float, float] = (-0.9, 0.9),
    min_eig: float = 1e-2,
    seed: np.random.Generator | int | None = None,
) -> list[Overlaps]:
    """A family of ``n`` networks equivalent to ``theta``, spread over the free invisible overlaps.

    Each free norm ``sigma_aa`` is drawn uniformly from ``norm_range``; each
    free cross overlap as ``rho sqrt(sigma_aa sigma_bb)`` with the correlation
    ``rho`` uniform in ``corr_range`` (norms of the two vectors as drawn or as
    fixed). The member is :func:`equivalent_overlaps` with these targets. Draws
    that are infeasible or whose overlap matrix has an eigenvalue below
    ``min_eig`` are rejected, so the family is uniform over the feasible part of
    the box (in norms and correlations), away from its singular boundary.

    Parameters
    ----------
    theta : Overlaps or LowRankRNN
        Reference network.
    n : int
        Family size.
    phi : {"linear", "erf", "tanh"}, optional
        Nonlinearity deciding what is visible.
    keep : sequence of str, optional
        Vectors shared with ``theta`` (default: inputs and readouts), whose
        mutual overlaps stay fixed.
    free : sequence of str, optional
        Invisible overlaps to draw (default: all of :func:`free_overlaps`).
    norm_range, corr_range : (float, float)
        Sampling box.
    min_eig : float
        Smallest admissible eigenvalue of a member's overlap matrix.
    seed : int or numpy.random.Generator, optional
        Random source.

    Returns
    -------
    list of Overlaps
        ``n`` members, each with exactly ``theta``'s visible overlaps.
    """
    S1, phi = _resolve(theta, phi)
    keep = _default_keep(S1.names) if keep is None else keep
    allowed = free_overlaps(S1, phi, keep=keep)
    allowed_pairs = {_pair(*map(S1.index, S1.split(f))) for f in allowed}
    free = allowed if free is None else list(free)
    pairs = []
    for key in free:
        p = _pair(*map(S1.index, S1.split(key)))
        if p not in allowed_pairs:
            raise ValueError(f"sigma_{key} is not a free invisible overlap; free ones: {allowed}")
        pairs.append(p)
    if int(n) != n or n < 1:
        raise ValueError(f"family size n must be a positive integer, got {n}")
    lo, hi = norm_range
    if not 0 <= lo < hi:
        raise ValueError(f"norm_range must satisfy 0 <= low < high, got {norm_range}")
    rlo, rhi = corr_range
    if not -1 <= rlo < rhi <= 1:
        raise ValueError(f"corr_range must lie in [-1, 1], got {corr_range}")
    rng = np.random.default_rng(seed)
    diag = [i for i, j in pairs if i == j]
    off = [(i, j) for i, j in pairs if i != j]
    names = S1.names
    out: list[Overlaps] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 1000 * n:
            raise ValueError(
                f"only {len(out)} of {n} draws were feasible after {tries - 1} tries; "
                "widen norm_range or corr_range, or lower min_eig"
            )
        norms = np.diag(S1.matrix).copy()
        draw = {}
        for i in diag:
            norms[i] = draw[names[i] + names[i]] = rng.uniform(lo, hi)
        for i, j in off:
            draw[names[i] + names[j]] = rng.uniform(rlo, rhi) * np.sqrt(norms[i] * norms[j])
        try:
            S2 = equivalent_overlaps(S1, phi, keep=keep, **draw)
        except ValueError:
            continue
        if float(np.linalg.eigvalsh(S2.matrix)[0]) >= min_eig:
            out.append(S2)
    return out


# ---------------------------------------------------------------------------
# Learning speed
# ---------------------------------------------------------------------------


def initial_speed(
    S: Overlaps,
    task: Task,
    phi: str = "linear",
    *,
    eta: float = 1.0,
    seed: np.random.Generator | int | None = None,
) -> float:
    r"""Initial rate of loss decrease predicted from the overlaps.

    .. math:: -\frac{dL}{d\,\text{epoch}} = \eta\, \nabla_\sigma L \cdot G(\sigma)\,
        \nabla_\sigma L = \eta \operatorname{tr}(\Gamma S \Gamma) ,

    with ``G`` from :func:`lrtools.theory.preconditioner`. One gradient step
    lowers the loss by this amount up to ``O(eta^2)``. Equivalent networks share
    ``Gamma`` (it depends on visible overlaps only) but not ``S``'s invisible
    entries, so the speed is a linear function of the invisible overlaps.

    Parameters
    ----------
    S : Overlaps
        Overlaps at the start of learning.
    task : Task
        Task (random tasks: the first batch drawn from ``seed``).
    phi : {"linear", "erf", "tanh"}
        Nonlinearity.
    eta : float
        Learning rate; ``eta=1`` gives the rate per unit learning time.

    Returns
    -------
    float
        ``-dL/d epoch`` (non-negative).
    """
    Gam = theory.gamma(S, task, phi, seed=seed)
    g = theory.overlap_gradient(Gam)[np.triu_indices(S.k)]
    G, _ = theory.preconditioner(S)
    return float(eta * g @ G @ g)


def epochs_to_criterion(loss: History | np.ndarray, criterion: float) -> np.ndarray | float:
    """Number of updates before the loss first falls to ``criterion`` (``inf`` if never).

    ``loss[..., i]`` is the loss before update ``i``, so the answer is the first
    ``i`` with ``loss[..., i] <= criterion``.

    Parameters
    ----------
    loss : History or numpy.ndarray, shape (..., epochs)
        One loss curve or a stack of them (NaN entries never count as reached).
    criterion : float
        Loss level.

    Returns
    -------
    float or numpy.ndarray, shape (...)
    """
    loss = loss.loss if isinstance(loss, History) else np.asarray(loss, dtype=float)
    with np.errstate(invalid="ignore"):
        hit = loss <= criterion
    first = np.argmax(hit, axis=-1).astype(float)
    out = np.where(hit.any(axis=-1), first, np.inf)
    return float(out) if out.ndim == 0 else out


def learning_curves(
    family: Sequence[Overlaps],
    task: Task,
    eta: float,
    epochs: int,
    phi: str = "linear",
) -> dict[str, np.ndarray]:
    """Loss curves of every member learning ``task``, by the exact overlap map.

    Each member runs :func:`lrtools.theory.learn` (``update="exact"``). For
    linear networks this is the N-dimensional gradient-descent result at any
    ``N`` (to round-off), without simulating a network.

    Parameters
    ----------
    family : sequence of Overlaps
        Starting points.
    task : Task
        Task (random tasks: every member sees the same batches, seed 0).
    eta : float
        Learning rate.
    epochs : int
        Number of updates.
    phi : {"linear", "erf", "tanh"}
        Nonlinearity.

    Returns
    -------
    dict
        ``loss (n, epochs)`` (NaN after a divergence), ``speed (n,)``
        :func:`initial_speed` with ``eta``, ``diverged (n,)`` bool and
        ``final (n, k, k)`` the final overlaps (NaN if diverged).
    """
    n = len(family)
    k = family[0].k if n else 0
    loss = np.full((n, epochs), np.nan)
    final = np.full((n, k, k), np.nan)
    speed = np.empty(n)
    diverged = np.zeros(n, dtype=bool)
    for i, S in enumerate(family):
        speed[i] = initial_speed(S, task, phi, eta=eta, seed=0)
        try:
            h = theory.learn(S, task, epochs, eta, phi, seed=0, progress=False)
        except DivergenceError:
            diverged[i] = True
            continue
        loss[i] = h.loss
        final[i] = h.overlaps[-1]
    return {"loss": loss, "speed": speed, "diverged": diverged, "final": final}


def rank_correlation(speed: np.ndarray, epochs: np.ndarray) -> float:
    """Spearman rank correlation between predicted speed and epochs to criterion.

    Members that never reach the criterion (``inf``) rank last, tied. A perfect
    prediction (faster start, fewer epochs) gives ``-1``.
    """
    from scipy.stats import spearmanr

    speed = np.asarray(speed, dtype=float)
    epochs = np.asarray(epochs, dtype=float)
    if speed.shape != epochs.shape or speed.ndim != 1:
        raise ValueError(f"speed {speed.shape} and epochs {epochs.shape} must be equal 1-d shapes")
    if np.all(epochs == epochs[0]):
        return float("nan")
    return float(spearmanr(speed, epochs).statistic)


def rank_correlation_curve(
    speed: np.ndarray, loss: np.ndarray, criteria: np.ndarray
) -> np.ndarray:
    """:func:`rank_correlation` of speed and epochs to each criterion (loss curves ``(n, E)``)."""
    return np.array([rank_correlation(speed, epochs_to_criterion(loss, c)) for c in criteria])


# ---------------------------------------------------------------------------
# Response to activity noise (linear networks)
# ---------------------------------------------------------------------------


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
    G = W.T @ W / net1.N
    n_out = net1.n_out
    q = np.empty((n_steps, n_out))
    for o in range(n_out):
        e = np.zeros((n_steps, n_out))
        e[:, o] = an
        coef = np.concatenate([-e, -b1[:, :, o], e, b2[:, :, o]], axis=1)  # (n, 2 (n_out + R))
        q[:, o] = np.einsum("ni,ij,nj->n", coef, G, coef)
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


# ---------------------------------------------------------------------------
# Experiments of chapter 3 (cached) and the paper's Figure 2
# ---------------------------------------------------------------------------

#: The paper's Figure 2 example: theta_2 has |u|^2/N = 2.048 and sigma_mu = 0.8.
PAPER_TARGETS = {"uu": 2.048, "mu": 0.8}


def _responses(pair: tuple[LowRankRNN, LowRankRNN], task: Task, *, noise_std: float,
               noise_seed: int, neurons: Sequence[int]) -> dict[str, np.ndarray]:
    """Outputs, single-neuron activity and noisy outputs of a pair on the impulse."""
    x = task.sample()[0]
    T = task.n_steps
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


def figure2_runs(
    *,
    N: int = 500,
    c: float = 0.2,
    c_new: float = 0.4,
    dt: float = 0.05,
    t_max: float = 20.0,
    eta: float = 5e-3,
    epochs: int = 1000,
    epochs_new: int = 500,
    after: int = 300,
    targets: Mapping[str, float] | None = None,
    noise_std: float = 0.5,
    seed: int = 0,
    progress: bool | None = None,
) -> dict:
    """Data of the paper's Figure 2 for two pairs of equivalent networks.

    ``theta_1`` is the network of Figure 1 (:func:`lrtools.studies.linear.filter_runs`,
    same settings and seed) at its random start (pair ``"start"``) and after
    its 2000 epochs on the filter ``c`` (pair ``"trained"``, which solves it);
    ``theta_2`` is :func:`equivalent_network` with ``targets`` (default: the
    paper's ``uu=2.048, mu=0.8``; ``m, z`` kept). The start pair learns the
    filter ``c`` for ``epochs`` epochs, the trained pair a new filter ``c_new``
    for ``epochs_new`` (network and exact theory, cached, vectors kept every
    ``after`` epochs).

    Returns
    -------
    dict
        ``pairs[name] = (theta_1, theta_2)``; ``learn[name] = (runs_1, runs_2)``
        (:func:`lrtools.experiments.network_vs_theory` dicts);
        ``responses[name]`` with ``y (2, T)``, ``h (2, T+1, 3)`` (three neurons),
        ``y_noisy (2, T)`` (same injected noise), ``noise_var (2, T)`` (formula),
        ``y_after (2, T)`` (output after ``after`` epochs); ``tasks[name]``; the
        settings.
    """
    from . import experiments
    from .studies.linear import FilterSettings, filter_runs
    from .tasks import ExponentialFilter

    targets = dict(PAPER_TARGETS if targets is None else targets)
    task = ExponentialFilter(c=c, dt=dt, t_max=t_max)
    task_new = ExponentialFilter(c=c_new, dt=dt, t_max=t_max)
    fig1 = filter_runs(FilterSettings(N=N, epochs=2000, eta=eta, c=c, dt=dt, t_max=t_max,
                                      seed=seed), progress=progress)["network"]
    starts = {"start": LowRankRNN(fig1.vectors[0]), "trained": LowRankRNN(fig1.vectors[-1])}
    plan = {"start": (task, epochs), "trained": (task_new, epochs_new)}
    neurons = np.random.default_rng(seed).choice(N, 3, replace=False)
    out = {"pairs": {}, "learn": {}, "responses": {}, "tasks": {}, "targets": targets,
           "after": after, "noise_std": noise_std, "eta": eta, "neurons": neurons}
    for name, net1 in starts.items():
        pair = (net1, equivalent_network(net1, **targets))
        learn_task, n_epochs = plan[name]
        runs = tuple(experiments.network_vs_theory(net, learn_task, n_epochs, eta,
                                                   snapshot_every=after, name="ch3-fig2",
                                                   progress=progress) for net in pair)
        resp = _responses(pair, task, noise_std=noise_std, noise_seed=seed + 1, neurons=neurons)
        x = learn_task.sample()[0]
        resp["y_after"] = np.array([LowRankRNN(r["network"].vectors[1]).run(x, dt)[0, :, 0]
                                    for r in runs])
        out["pairs"][name], out["learn"][name] = pair, runs
        out["responses"][name], out["tasks"][name] = resp, learn_task
    return out


def plot_figure2(data: dict):
    """Paper Figure 2 for both pairs: overlaps, output and activity, noise, learning."""
    import matplotlib.pyplot as plt

    from .plotting import PALETTE, SIM, THEORY

    fig, axes = plt.subplot_mosaic(
        [["a", "b", "c", "d"], ["a", "b", "c2", "d"], ["e", "f", "g", "h"], ["e", "f", "g2", "h"]],
        figsize=(16, 8.4), height_ratios=[2.3, 1, 2.3, 1])
    colors = (PALETTE[0], PALETTE[3])
    labels = (r"$\theta_1$", r"$\theta_2$")
    rows = {"start": ("a", "b", "c", "d"), "trained": ("e", "f", "g", "h")}
    titles = {"start": "random start", "trained": "trained on the filter"}
    for name, (pa, pb, pc, pd) in rows.items():
        pair, runs, resp = data["pairs"][name], data["learn"][name], data["responses"][name]
        learn_task = data["tasks"][name]
        t = learn_task.t
        plot_overlap_bars(axes[pa], dict(zip(labels, (p.overlaps() for p in pair), strict=True)))
        axes[pa].set_title(f"{pa}  overlaps ({titles[name]})")

        ax = axes[pb]
        if name == "start":
            ax.plot(t, learn_task.sample()[1][0, :, 0], color="0.1", lw=1.3, label="target")
            for i in range(2):
                ax.plot(t, resp["y"][i], color=colors[i], lw=(3.0, 1.3)[i], ls=("-", "--")[i],
                        alpha=(0.45, 1)[i], label=f"{labels[i]} before")
                ax.plot(t, resp["y_after"][i], color=colors[i], lw=1.8,
                        label=f"{labels[i]} after {data['after']} epochs")
            ax.set(xlabel="time", ylabel="output", title=f"{pb}  impulse response")
            ax.legend(fontsize="x-small")
        else:
            for j in range(resp["h"].shape[2]):
                for i in range(2):
                    ax.plot(np.arange(len(resp["h"][i])) * learn_task.dt, resp["h"][i][:, j],
                            color=PALETTE[2 + j], ls=("-", "--")[i], lw=1.4,
                            label=f"{labels[i]}" if j == 0 else None)
            ax.set(xlabel="time", ylabel="activity $h_i$",
                   title=f"{pb}  three neurons; inset: the output")
            ax.legend(fontsize="x-small", loc="upper right")
            inset = ax.inset_axes([0.55, 0.06, 0.42, 0.34])
            for i in range(2):
                inset.plot(t, resp["y"][i], color=colors[i], lw=(3.0, 1.3)[i],
                           ls=("-", "--")[i], alpha=(0.45, 1)[i])
            inset.tick_params(labelsize="x-small")

        ax = axes[pc]
        for i in range(2):
            sd = 2 * np.sqrt(resp["noise_var"][i])
            ax.plot(t, resp["y_noisy"][i], color=colors[i], lw=1.0, label=labels[i])
            for sign in (-1, 1):
                ax.plot(t, resp["y"][i] + sign * sd, color=colors[i], lw=0.9, ls="--")
        ax.set(ylabel="output", title=f"{pc}  same noise injected (dashed: $\\pm 2$ sd theory)")
        ax.tick_params(labelbottom=False)
        ax.legend(fontsize="x-small", loc="upper right", ncol=2)
        ax = axes[pc + "2"]
        sd = 2 * np.sqrt(resp["diff_var"])
        ax.fill_between(t, -sd, sd, color="0.85", lw=0, label=r"$\pm 2$ sd theory")
        ax.plot(t, resp["y_noisy"][1] - resp["y_noisy"][0], color="0.2", lw=0.9)
        ax.set(xlabel="time", ylabel=r"$y_{\theta_2} - y_{\theta_1}$")
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        ax.legend(fontsize="x-small", loc="upper right")

        ax = axes[pd]
        for i in range(2):
            ax.plot(runs[i]["network"].loss, color=colors[i], label=f"{labels[i]} network", **SIM)
            ax.plot(runs[i]["exact"].loss, **THEORY | {"label": "theory" if i else None})
        ax.axvline(data["after"], color="0.7", lw=0.8, ls=":")
        ax.set(yscale="log", xlabel="epoch", ylabel="loss",
               title=f"{pd}  learning $c$ = {learn_task.c:g}")
        ax.legend(fontsize="x-small")
    return fig


def figure2(fast: bool = False, progress: bool | None = None):
    """Paper Figure 2: functionally equivalent networks told apart by noise and learning."""
    return plot_figure2(figure2_runs(**({"N": 100} if fast else {}), progress=progress))


@cached_run("ch3-family")
def family_runs(
    S1: Overlaps,
    task: Task,
    *,
    n: int,
    epochs: int,
    eta: float,
    phi: str = "linear",
    keep: Sequence[str] | None = None,
    seed: int = 0,
    name: str = "ch3-family",
) -> dict[str, np.ndarray]:
    """Sample a family (:func:`sample_equivalent`) and learn ``task`` from each member (cached).

    Returns
    -------
    dict
        ``members (n, k, k)``, ``names``, and :func:`learning_curves`'s
        ``loss (n, epochs)``, ``speed (n,)``, ``diverged (n,)``, ``final (n, k, k)``.
    """
    keep = _default_keep(S1.names) if keep is None else tuple(keep)
    family = sample_equivalent(S1, n, phi, keep=keep, seed=seed)
    res = learning_curves(family, task, eta, epochs, phi)
    return {"members": np.array([S.matrix for S in family]), "names": np.array(S1.names), **res}


def family_members(data: Mapping[str, np.ndarray]) -> list[Overlaps]:
    """The members of :func:`family_runs` as :class:`~lrtools.Overlaps`."""
    names = tuple(str(x) for x in data["names"])
    return [Overlaps(M, names) for M in data["members"]]


@cached_run("ch3-noise")
def noise_runs(
    net1: LowRankRNN,
    family: Sequence[Overlaps],
    *,
    dt: float,
    n_steps: int,
    noise_std: float,
    n_trials: int,
    seed: int = 0,
    name: str = "ch3-noise",
) -> dict[str, np.ndarray]:
    """Noise response of networks equivalent to ``net1``: formula and simulation (cached).

    Each member is realised with :func:`equivalent_network` (``m, z`` kept) by
    prescribing all its free overlaps.

    Returns
    -------
    dict
        ``predicted (n, n_steps)`` (:func:`output_noise_variance`) and
        ``sampled (n, n_steps)`` (:func:`sampled_noise_variance`, ``n_trials``).
    """
    free = free_overlaps(net1)
    pred, samp = [], []
    for i, S in enumerate(family):
        net = equivalent_network(net1, **{k: S[k] for k in free})
        pred.append(output_noise_variance(net.overlaps(), N=net.N, dt=dt, n_steps=n_steps,
                                          noise_std=noise_std)[:, 0])
        samp.append(sampled_noise_variance(net, dt=dt, n_steps=n_steps, noise_std=noise_std,
                                           n_trials=n_trials, seed=[seed, i])[:, 0])
    return {"predicted": np.array(pred), "sampled": np.array(samp)}


# ---------------------------------------------------------------------------
# Key numbers of chapter 3 (from the cached runs above)
# ---------------------------------------------------------------------------


def equivalence_gaps(
    pairs: Mapping[str, tuple[LowRankRNN, LowRankRNN]],
    x: np.ndarray,
    dt: float,
    *,
    targets: Mapping[str, float] | None = None,
) -> dict[str, dict]:
    """How exactly each pair ``(theta_1, theta_2)`` is functionally equivalent.

    Parameters
    ----------
    pairs : mapping of str to (LowRankRNN, LowRankRNN)
        Pairs built with :func:`equivalent_network` (e.g. ``figure2_runs()["pairs"]``).
    x : numpy.ndarray, shape (B, T, n_in)
        Test inputs on which the two outputs are compared.
    dt : float
        Euler step.
    targets : mapping, optional
        The prescribed invisible overlaps of ``theta_2`` (default :data:`PAPER_TARGETS`).

    Returns
    -------
    dict
        ``gaps[name]`` with ``"visible"`` (largest difference of a visible overlap),
        ``"targets"`` (largest miss of a target), ``"output"`` (largest output
        difference on ``x``) and ``"vectors m, z identical"`` (bool: bit-identical).
    """
    if not pairs:
        raise ValueError("pairs is empty: give at least one (theta_1, theta_2)")
    targets = PAPER_TARGETS if targets is None else targets
    gaps = {}
    for name, (net1, net2) in pairs.items():
        S1, S2 = net1.overlaps(), net2.overlaps()
        gaps[name] = {
            "visible": max(abs(S2[k] - S1[k]) for k in S1.visible(net1.phi)),
            "targets": max(abs(S2[k] - v) for k, v in targets.items()),
            "output": np.max(np.abs(net1.run(x, dt) - net2.run(x, dt))),
            "vectors m, z identical": bool(np.array_equal(net1.M, net2.M)
                                           and np.array_equal(net1.Z, net2.Z)),
        }
    return gaps


def equivalence_numbers(gaps: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Largest gaps over all pairs of :func:`equivalence_gaps`.

    Returns
    -------
    dict
        ``visible_gap``, ``target_gap`` and ``output_gap``.
    """
    if not gaps:
        raise ValueError("gaps is empty")
    return {"visible_gap": max(g["visible"] for g in gaps.values()),
            "target_gap": max(g["targets"] for g in gaps.values()),
            "output_gap": max(g["output"] for g in gaps.values())}


def figure2_numbers(data: Mapping) -> dict[str, float]:
    """Key numbers of Figure 2 (both pairs) from :func:`figure2_runs`.

    For each pair ``name`` in ``("start", "trained")``: ``activity_gap_<name>``
    (relative root-mean-square difference of the three neurons' activity),
    ``noise_var1_<name>``, ``noise_var2_<name>`` (long-time output noise
    variance of ``theta_1``, ``theta_2``, formula), ``noise_diff_sd_<name>``
    (long-time sd of ``y_2 - y_1`` under the same noise), ``noise_sd_<name>``
    (``sqrt(noise_var1)``), ``loss1_<name>``, ``loss2_<name>`` (network loss
    after ``after`` epochs) and ``theory_gap_<name>`` (largest relative gap of
    the exact overlap map to the network's loss curve, both networks).

    Parameters
    ----------
    data : dict
        The result of :func:`figure2_runs`.

    Returns
    -------
    dict
        The numbers above and ``loss_ratio_start`` (``loss1 / loss2``, random start),
        ``noise_ratio_trained`` (``noise_var1 / noise_var2``, trained pair),
        ``after`` and ``c_new`` (the trained pair's new filter).
    """
    resp, learn, after = data["responses"], data["learn"], data["after"]
    out: dict[str, float] = {}
    for name in ("start", "trained"):
        H = resp[name]["h"]
        out[f"activity_gap_{name}"] = np.sqrt(np.mean((H[1] - H[0]) ** 2) / np.mean(H[0] ** 2))
        out[f"noise_var1_{name}"] = resp[name]["noise_var"][0][-1]
        out[f"noise_var2_{name}"] = resp[name]["noise_var"][1][-1]
        out[f"noise_diff_sd_{name}"] = np.sqrt(resp[name]["diff_var"][-1])
        out[f"noise_sd_{name}"] = np.sqrt(resp[name]["noise_var"][0][-1])
        out[f"loss1_{name}"] = learn[name][0]["network"].loss[after]
        out[f"loss2_{name}"] = learn[name][1]["network"].loss[after]
        out[f"theory_gap_{name}"] = max(
            np.max(np.abs(r["network"].loss - r["exact"].loss) / r["exact"].loss)
            for r in learn[name])
    # ratios of the plain floats the notebook records (as it always computed them)
    out["loss_ratio_start"] = float(out["loss1_start"]) / float(out["loss2_start"])
    out["noise_ratio_trained"] = (float(out["noise_var1_trained"])
                                  / float(out["noise_var2_trained"]))
    out["after"] = after
    out["c_new"] = data["tasks"]["trained"].c
    return out


def speed_errors(
    pairs: Mapping[str, tuple[LowRankRNN, LowRankRNN]],
    tasks: Mapping[str, Task],
    etas: Sequence[float],
) -> dict[str, np.ndarray]:
    """Relative error of :func:`initial_speed` against the first epoch's loss drop.

    For each network of each pair, one step of the exact overlap map (which is
    one step of the linear network) is taken at every learning rate of
    ``etas``; its loss drop is compared with the first-order prediction.

    Parameters
    ----------
    pairs : mapping of str to (LowRankRNN, LowRankRNN)
        Linear networks, e.g. ``figure2_runs()["pairs"]``.
    tasks : mapping of str to Task
        The task each pair learns (same keys as ``pairs``).
    etas : sequence of float
        Positive learning rates.

    Returns
    -------
    dict
        ``errors["<pair> theta_1"]``, ``errors["<pair> theta_2"]``: arrays of
        ``|drop - predicted| / predicted``, one per learning rate.
    """
    etas = np.asarray(etas, dtype=float)
    if etas.ndim != 1 or etas.size == 0 or not np.all(etas > 0):
        raise ValueError(f"etas must be a non-empty 1-d sequence of positive rates, got {etas}")
    out = {}
    for name, (net1, net2) in pairs.items():
        learn_task = tasks[name]
        for label, net in (("theta_1", net1), ("theta_2", net2)):
            S = net.overlaps()
            errs = []
            for e in etas:
                h = theory.learn(S, learn_task, 1, e)
                drop = h.loss[0] - theory.loss(h.final, learn_task)
                predicted = initial_speed(S, learn_task, eta=e)
                errs.append(abs(drop - predicted) / predicted)
            out[f"{name} {label}"] = np.array(errs)
    return out


def speed_numbers(errors: Mapping[str, np.ndarray], etas: Sequence[float]) -> dict[str, float]:
    """Key numbers of the initial-speed check from :func:`speed_errors`.

    Returns
    -------
    dict
        ``speed_error_start`` and ``speed_error_trained`` (largest error at
        ``etas[0]`` over the networks of the ``"start"`` / ``"trained"`` pair),
        ``speed_error_trained_small`` (the trained pair at ``etas[-1]``),
        ``speed_error_halving`` (mean ratio of the errors at ``etas[-2]`` and
        ``etas[-1]``, over all networks) and ``eta_small`` (``etas[-1]``).
    """
    if len(etas) < 2:
        raise ValueError(f"need at least two learning rates, got {len(etas)}")
    for prefix in ("start", "trained"):
        if not any(k.startswith(prefix) for k in errors):
            raise ValueError(f"errors has no entry of the {prefix!r} pair: {list(errors)}")
    return {
        "speed_error_start": max(v[0] for k, v in errors.items() if k.startswith("start")),
        "speed_error_trained": max(v[0] for k, v in errors.items() if k.startswith("trained")),
        "speed_error_trained_small": max(v[-1] for k, v in errors.items()
                                         if k.startswith("trained")),
        "speed_error_halving": np.mean([v[-2] / v[-1] for v in errors.values()]),
        "eta_small": etas[-1],
    }


def family_summary(
    data: Mapping[str, np.ndarray], criterion: float, fractions: np.ndarray | None = None
) -> dict:
    """Epochs to a loss criterion and rank correlations of one family (:func:`family_runs`).

    Parameters
    ----------
    data : dict
        A :func:`family_runs` result.
    criterion : float
        Loss level that counts as learned.
    fractions : numpy.ndarray, optional
        Criteria, as fractions of the first member's initial loss, at which the
        rank correlation curve is evaluated (default: 25 points from 0.5 to 1e-4,
        log-spaced).

    Returns
    -------
    dict
        ``members`` (list of Overlaps), ``speed``, ``loss``, ``diverged`` (from
        ``data``), ``loss0`` (first member's initial loss; equivalent networks
        share it), ``criterion``, ``epochs`` (:func:`epochs_to_criterion`),
        ``rho`` (:func:`rank_correlation` of speed and epochs), ``fractions`` and
        ``rho_curve`` (:func:`rank_correlation_curve` at ``fractions * loss0``).
    """
    if not (np.isfinite(criterion) and criterion > 0):
        raise ValueError(f"criterion must be a positive loss level, got {criterion}")
    loss = np.asarray(data["loss"])
    if loss.ndim != 2 or loss.shape[0] == 0:
        raise ValueError(f"data['loss'] must have shape (members, epochs), got {loss.shape}")
    fractions = np.geomspace(0.5, 1e-4, 25) if fractions is None else np.asarray(fractions)
    loss0 = loss[0, 0]
    epochs = epochs_to_criterion(loss, criterion)
    return {"members": family_members(data), "speed": data["speed"], "loss": loss,
            "diverged": data["diverged"], "loss0": loss0, "criterion": criterion,
            "epochs": epochs, "rho": rank_correlation(data["speed"], epochs),
            "fractions": fractions,
            "rho_curve": rank_correlation_curve(data["speed"], loss, fractions * loss0)}


def speed_linearity_residual(
    members: Sequence[Overlaps], speed: np.ndarray, free: Sequence[str]
) -> float:
    """Residual of the best affine fit of ``speed`` in the ``free`` overlaps of the members.

    The initial speed of equivalent linear networks is exactly affine in their
    invisible overlaps, so the residual is round-off.

    Returns
    -------
    float
        Largest absolute residual divided by the largest speed.
    """
    speed = np.asarray(speed, dtype=float)
    if len(members) != speed.shape[0]:
        raise ValueError(f"{len(members)} members but {speed.shape[0]} speeds")
    if len(members) <= len(free) + 1:
        raise ValueError(f"an affine fit in {len(free)} overlaps needs more than "
                         f"{len(free) + 1} members, got {len(members)}")
    design = np.array([[1.0] + [S[k] for k in free] for S in members])
    coef, *_ = np.linalg.lstsq(design, speed, rcond=None)
    return np.max(np.abs(design @ coef - speed)) / np.max(speed)


def _reached(epochs: np.ndarray, what: str) -> np.ndarray:
    ok = epochs[np.isfinite(epochs)]
    if ok.size == 0:
        raise ValueError(f"no member of the {what} family reaches the loss criterion")
    return ok


def _rank(a, b) -> float:
    return rank_correlation(np.asarray(a, float), np.asarray(b, float))


def family_numbers(start: Mapping, trained: Mapping, *, theta1_loss) -> dict[str, float]:
    """Key numbers of the two linear families (random and trained start).

    Parameters
    ----------
    start, trained : dict
        :func:`family_summary` of the family around the random start and around
        the trained network.
    theta1_loss : History or numpy.ndarray
        Loss curve of the paper's ``theta_1`` from the random start.

    Returns
    -------
    dict
        ``n_family``, ``rho_start``, ``rho_trained``, ``crit_start``,
        ``crit_trained``, ``epochs_start_min``, ``epochs_start_max`` (over members
        that reach it), ``epochs_start_theta1``, ``n_not_reached``,
        ``epochs_trained_min``, ``epochs_trained_max``, ``speed_spread_start``
        (max / min speed), ``linear_residual`` (:func:`speed_linearity_residual`),
        ``n_members``, ``n_diverged``; rank correlations over the random-start
        family ``rho_speed_mu`` (speed with ``sigma_mu``), ``rho_epochs_uu``,
        ``rho_epochs_mu``, ``rho_epochs_vv``, ``rho_epochs_zv`` (epochs with each
        overlap); ``rho_trained_early`` and ``rho_trained_late`` (trained family's
        rank curve at a criterion of 1e-2 and of the last fraction of the initial
        loss) and ``rho_start_best`` (largest ``|rho|`` of the random-start curve).
    """
    e_start, e_trained = start["epochs"], trained["epochs"]
    members = start["members"]
    free = free_overlaps(members[0], "linear")
    out = {
        "n_family": len(members), "rho_start": start["rho"], "rho_trained": trained["rho"],
        "crit_start": start["criterion"], "crit_trained": trained["criterion"],
        "epochs_start_min": np.min(e_start),
        "epochs_start_max": np.max(_reached(e_start, "random-start")),
        "epochs_start_theta1": epochs_to_criterion(theta1_loss, start["criterion"]),
        "n_not_reached": int(np.sum(~np.isfinite(e_start))),
        "epochs_trained_min": np.min(e_trained),
        "epochs_trained_max": np.max(_reached(e_trained, "trained")),
        "speed_spread_start": np.max(start["speed"]) / np.min(start["speed"]),
        "linear_residual": speed_linearity_residual(members, start["speed"], free),
        "n_members": len(members) + len(trained["members"]),
        "n_diverged": int(start["diverged"].sum() + trained["diverged"].sum()),
    }
    o = {k: [S[k] for S in members] for k in ("mu", "uu", "vv", "zv")}
    fractions = trained["fractions"]
    out.update(
        rho_speed_mu=_rank(o["mu"], start["speed"]),
        rho_epochs_uu=_rank(o["uu"], e_start),
        rho_epochs_mu=_rank(o["mu"], e_start),
        rho_epochs_vv=_rank(o["vv"], e_start),
        rho_epochs_zv=_rank(o["zv"], e_start),
        rho_trained_early=trained["rho_curve"][np.argmin(np.abs(fractions - 1e-2))],
        rho_trained_late=trained["rho_curve"][-1],
        rho_start_best=np.nanmax(np.abs(start["rho_curve"])),
    )
    return out


def family_check(
    net1: LowRankRNN,
    summary: Mapping,
    task: Task,
    *,
    n: int,
    epochs: int,
    eta: float,
    name: str = "ch3-family-check",
) -> dict[str, np.ndarray]:
    """Train the first ``n`` family members as N-dimensional networks and compare with the map.

    Each member is realised with :func:`equivalent_network` (``m, z`` kept, all
    free overlaps prescribed) and trained with
    :func:`lrtools.experiments.network_vs_theory` (cached as ``name``).

    Parameters
    ----------
    net1 : LowRankRNN
        The family's reference network.
    summary : dict
        :func:`family_summary` of the family (its loss curves come from the map).
    task : Task
        The task the family learned.
    n, epochs : int
        Number of members, number of epochs (at most the family's).
    eta : float
        Learning rate of the family.

    Returns
    -------
    dict
        ``gap (n,)`` largest relative loss difference of network and map,
        ``epochs_network (n,)`` and ``epochs_theory (n,)`` epochs to the
        summary's criterion.
    """
    from . import experiments

    loss = summary["loss"]
    if int(n) != n or not 1 <= n <= len(summary["members"]):
        raise ValueError(f"n must be between 1 and {len(summary['members'])}, got {n}")
    if int(epochs) != epochs or not 1 <= epochs <= loss.shape[1]:
        raise ValueError(f"epochs must be between 1 and {loss.shape[1]}, got {epochs}")
    free = free_overlaps(net1)
    crit = summary["criterion"]
    gap, e_net, e_th = [], [], []
    for i in range(n):
        targets = {k: summary["members"][i][k] for k in free}
        net_i = equivalent_network(net1, **targets)
        run_i = experiments.network_vs_theory(net_i, task, epochs, eta, updates=(),
                                              name=name)["network"]
        ref = loss[i, :epochs]
        gap.append(np.max(np.abs(run_i.loss - ref) / ref))
        e_net.append(epochs_to_criterion(run_i.loss, crit))
        e_th.append(epochs_to_criterion(ref, crit))
    return {"gap": np.array(gap), "epochs_network": np.array(e_net),
            "epochs_theory": np.array(e_th)}


def noise_numbers(
    noise: Mapping[str, np.ndarray], stationary: np.ndarray, task: Task, *, n_trials: int
) -> dict[str, float]:
    """Key numbers of the noise check (:func:`noise_runs`) and of the family's noise spread.

    Parameters
    ----------
    noise : dict
        :func:`noise_runs` result: ``predicted`` and ``sampled``, shape ``(n, T)``.
    stationary : numpy.ndarray
        :func:`stationary_noise_variance` of every member of the family.
    task : Task
        Gives the time grid; the "late" half is ``t >= t_max / 2``.
    n_trials : int
        Trials behind each sampled variance.

    Returns
    -------
    dict
        ``n_noise``, ``n_trials``, ``noise_rms_rel`` and ``noise_mean_rel``
        (root mean square and mean of ``sampled / predicted - 1`` over all networks
        and times after the first), ``noise_rms_expected`` (``sqrt(2 / (n_trials -
        1))``, sampling error alone), ``noise_late_ratio`` (mean ratio over the late
        half), ``noise_late_se`` (its standard error over networks) and
        ``noise_spread`` (max / min of ``stationary``).
    """
    if int(n_trials) != n_trials or n_trials < 2:
        raise ValueError(f"n_trials must be an integer >= 2, got {n_trials}")
    pred, samp = np.asarray(noise["predicted"]), np.asarray(noise["sampled"])
    if pred.shape != samp.shape or pred.ndim != 2 or pred.shape[1] != task.n_steps:
        raise ValueError(f"predicted {pred.shape} and sampled {samp.shape} must both have "
                         f"shape (networks, {task.n_steps})")
    n_noise = pred.shape[0]
    if n_noise < 2:
        raise ValueError("the standard error over networks needs at least 2 networks")
    rel = samp[:, 1:] / pred[:, 1:] - 1
    late = task.t[1:] >= task.t_max / 2  # second half: the variance has settled
    return {"n_noise": n_noise, "n_trials": n_trials,
            "noise_rms_rel": np.sqrt(np.mean(rel**2)),
            "noise_rms_expected": np.sqrt(2 / (n_trials - 1)),
            "noise_mean_rel": np.mean(rel),
            "noise_late_ratio": 1 + np.mean(rel[:, late]),
            "noise_late_se": np.std(np.mean(rel[:, late], axis=1), ddof=1) / np.sqrt(n_noise),
            "noise_spread": np.max(stationary) / np.min(stationary)}


def extreme_members(
    net: LowRankRNN,
    summary: Mapping,
    task: Task,
    *,
    epochs: int,
    eta: float,
    keep: Sequence[str] = ("m",),
    name: str = "ch3-erf-check",
) -> dict:
    """The fastest and the slowest member of a family, built and trained as N-dimensional networks.

    Members are ranked by their epochs to the summary's criterion and realised
    with :func:`equivalent_network` (``keep`` copied, every free overlap
    prescribed); both are trained on ``task`` for ``epochs`` epochs with
    :func:`lrtools.experiments.network_vs_theory` (cached as ``name``).

    Parameters
    ----------
    net : LowRankRNN
        The family's reference network.
    summary : dict
        :func:`family_summary` of the family.
    task : Task
        The task the family learned.
    epochs : int
        Training epochs of the two networks.
    eta : float
        Learning rate.
    keep : sequence of str
        Vectors shared with ``net`` (as when the family was sampled).

    Returns
    -------
    dict
        ``free`` (the prescribed overlaps), ``y_fast``, ``y_slow``, ``y_start``
        (outputs of the two members and of ``net`` on one task input),
        ``y_theory`` (the reduced theory's output, the same for all),
        ``runs`` (the two ``network_vs_theory`` results), ``epochs`` and ``N``.
    """
    from . import experiments

    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs}")
    members = summary["members"]
    free = free_overlaps(net.overlaps(), net.phi, keep=keep)
    order = np.argsort(summary["epochs"])
    pair = [equivalent_network(net, keep=keep, **{k: members[i][k] for k in free})
            for i in (order[0], order[-1])]
    x = task.sample()[0]
    y_fast, y_slow = (n.run(x, task.dt)[0, :, 0] for n in pair)
    return {
        "free": free, "y_fast": y_fast, "y_slow": y_slow,
        "y_theory": theory.run(members[order[0]], x, task.dt, net.phi)[0, :, 0],
        "y_start": net.run(x, task.dt)[0, :, 0],
        "runs": [experiments.network_vs_theory(n, task, epochs, eta, name=name) for n in pair],
        "epochs": epochs, "N": net.N,
    }


def erf_numbers(summary: Mapping, check: Mapping) -> dict[str, float]:
    """Key numbers of the erf family (:func:`family_summary`) and its extremes.

    Parameters
    ----------
    summary : dict
        :func:`family_summary` of the erf family.
    check : dict
        :func:`extreme_members` of that family.

    Returns
    -------
    dict
        ``n_erf``, ``rho_erf`` (speed against epochs to criterion),
        ``erf_epochs_min``, ``erf_epochs_max`` (over members that reach it),
        ``erf_output_gap`` (fastest vs slowest member's output),
        ``erf_output_scale`` (largest theory output), ``erf_theory_gap`` (largest
        gap of the two members and the reference network to the theory),
        ``erf_loss_fast``, ``erf_loss_slow`` (final network losses),
        ``erf_check_epochs``, ``rho_erf_early`` and ``erf_frac_early`` (rank curve
        at its first criterion fraction), ``rho_erf_speed_zz`` and
        ``rho_erf_epochs_zz``, ``rho_erf_epochs_vv``, ``rho_erf_epochs_zv`` (rank
        correlations of speed / epochs with the free overlaps).
    """
    epochs, members = summary["epochs"], summary["members"]
    o = {k: np.array([S[k] for S in members]) for k in ("zz", "zv", "vv")}
    y_a, y_b, y_th = check["y_fast"], check["y_slow"], check["y_theory"]
    runs = check["runs"]
    return {
        "n_erf": len(members), "rho_erf": summary["rho"], "erf_epochs_min": np.min(epochs),
        "erf_epochs_max": np.max(_reached(epochs, "erf")),
        "erf_output_gap": np.max(np.abs(y_a - y_b)), "erf_output_scale": np.max(np.abs(y_th)),
        "erf_theory_gap": max(np.max(np.abs(y - y_th)) for y in (y_a, y_b, check["y_start"])),
        "erf_loss_fast": runs[0]["network"].loss[-1], "erf_loss_slow": runs[1]["network"].loss[-1],
        "erf_check_epochs": check["epochs"], "rho_erf_early": summary["rho_curve"][0],
        "erf_frac_early": summary["fractions"][0],
        "rho_erf_speed_zz": _rank(o["zz"], summary["speed"]),
        "rho_erf_epochs_zz": _rank(o["zz"], epochs),
        "rho_erf_epochs_vv": _rank(o["vv"], epochs),
        "rho_erf_epochs_zv": _rank(o["zv"], epochs),
    }


# ---------------------------------------------------------------------------
# Plots (matplotlib is imported inside, as in lrtools.plotting)
# ---------------------------------------------------------------------------


def plot_overlap_bars(
    ax, overlaps: Mapping[str, Overlaps], phi: str = "linear", *, keys: Sequence[str] | None = None
):
    """Grouped bars of the overlaps of several networks; invisible ones on a shaded band.

    Bars use the book's overlap colours (visible blue-green, invisible
    orange-red); the second network's bars are hatched.
    """
    from .plotting import overlap_colors

    first = next(iter(overlaps.values()))
    keys = list(keys) if keys is not None else first.visible(phi) + first.invisible(phi)
    colors = overlap_colors(first, phi)
    n = len(overlaps)
    width = 0.8 / n
    hatches = ["", "////", "....", "xx"]
    for j, (label, S) in enumerate(overlaps.items()):
        pos = np.arange(len(keys)) + (j - (n - 1) / 2) * width
        ax.bar(pos, [S[k] for k in keys], width, color=[colors[k] for k in keys],
               edgecolor="0.25", linewidth=0.5, hatch=hatches[j % len(hatches)], label=label)
    vis = set(first.visible(phi))
    n_vis = sum(k in vis for k in keys)
    ax.axvspan(n_vis - 0.5, len(keys) - 0.5, color="0.94", zorder=0)
    ax.axhline(0, color="0.3", lw=0.6)
    ax.set_xticks(range(len(keys)), [rf"$\sigma_{{{k}}}$" for k in keys], rotation=90,
                  fontsize="small")
    ax.text((n_vis - 1) / 2, 0.98, "visible", transform=ax.get_xaxis_transform(),
            ha="center", va="top", fontsize="x-small")
    ax.text((n_vis + len(keys) - 1) / 2, 0.98, "invisible", transform=ax.get_xaxis_transform(),
            ha="center", va="top", fontsize="x-small")
    ax.set_ylabel("overlap")
    ax.legend(fontsize="x-small", loc="center left")
    return ax


def plot_family_map(ax, x, y, values, *, xlabel: str, ylabel: str, label: str,
                    log: bool = True, cmap: str = "viridis", marker_size: float = 16.0):
    """Scatter of a family over two invisible overlaps, coloured by ``values``.

    Members with a non-finite value (criterion not reached) are grey crosses.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    values = np.asarray(values, dtype=float)
    x, y = np.asarray(x), np.asarray(y)
    ok = np.isfinite(values)
    norm = mpl.colors.LogNorm() if log else None
    sc = ax.scatter(x[ok], y[ok], c=values[ok], s=marker_size, cmap=cmap, norm=norm,
                    edgecolors="none")
    if (~ok).any():
        ax.scatter(x[~ok], y[~ok], marker="x", color="0.6", s=marker_size, label="not reached")
        ax.legend(fontsize="x-small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    plt.colorbar(sc, ax=ax, label=label, shrink=0.85)
    return ax


def plot_speed_vs_epochs(ax, speed, epochs, *, rho: float | None = None, color=None,
                         label: str | None = None):
    """Predicted initial speed against epochs to criterion (log-log), one family."""
    from .plotting import PALETTE

    speed = np.asarray(speed, dtype=float)
    epochs = np.asarray(epochs, dtype=float)
    ok = np.isfinite(epochs) & (epochs > 0)
    if rho is not None and label is not None:
        label = rf"{label} ($\rho$ = {rho:.2f})"
    ax.scatter(speed[ok], epochs[ok], s=10, alpha=0.6, color=color or PALETTE[0],
               edgecolors="none", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"predicted initial speed $\eta\,\nabla L\cdot G\,\nabla L$")
    ax.set_ylabel("epochs to criterion")
    if label is not None:
        ax.legend(fontsize="x-small")
    return ax


def plot_noise_variance(ax, t, predicted, sampled, *, max_curves: int = 8):
    """Output noise variance over time: simulation (thick) and formula (dashed), per network."""
    from .plotting import PALETTE, SIM, THEORY

    for i in range(min(len(predicted), max_curves)):
        ax.plot(t, sampled[i], color=PALETTE[i % len(PALETTE)], **SIM)
        ax.plot(t, predicted[i], **THEORY | {"label": "formula" if i == 0 else None})
    ax.set_xlabel("time")
    ax.set_ylabel("output noise variance")
    ax.legend(fontsize="x-small")
    return ax


def plot_rank_curve(ax, curves: Mapping[str, tuple[np.ndarray, np.ndarray]]):
    """Spearman correlation of predicted speed and epochs against the loss criterion.

    ``curves`` maps a label to ``(criterion / initial loss, rho)``.
    """
    from .plotting import PALETTE

    for i, (label, (frac, rho)) in enumerate(curves.items()):
        ax.plot(frac, rho, color=PALETTE[i % len(PALETTE)], lw=1.8, marker="o", ms=3,
                label=label)
    ax.axhline(0, color="0.5", lw=0.6)
    ax.axhline(-1, color="0.8", lw=0.6, ls=":")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("criterion (fraction of the initial loss)")
    ax.set_ylabel(r"Spearman $\rho$(speed, epochs)")
    ax.legend(fontsize="x-small")
    return ax


def plot_family_speed(start: Mapping, trained: Mapping, *, c_start: float, c_trained: float):
    """Chapter 3 figure: what the initial speed predicts about a family's learning.

    Panels: (a) epochs to criterion and (b) predicted initial speed of the
    random-start family over ``sigma_mu, sigma_uu``; (c) speed against epochs for
    both families; (d) their rank correlation as a function of the criterion.

    Parameters
    ----------
    start, trained : dict
        :func:`family_summary` of the random-start and of the trained family.
    c_start, c_trained : float
        Filter constants the two families learn (for the legend).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .plotting import PALETTE

    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    mu = np.array([S["mu"] for S in start["members"]])
    uu = np.array([S["uu"] for S in start["members"]])
    crit_start, crit_trained = start["criterion"], trained["criterion"]
    plot_family_map(axes[0], mu, uu, start["epochs"], xlabel=r"$\sigma_{mu}$",
                    ylabel=r"$\sigma_{uu}$", label=f"epochs to loss {crit_start:g}")
    axes[0].set_title("a  measured (random start)")
    plot_family_map(axes[1], mu, uu, start["speed"], xlabel=r"$\sigma_{mu}$",
                    ylabel=r"$\sigma_{uu}$", label=r"$-\Delta L$ in the first epoch", cmap="magma")
    axes[1].set_title("b  predicted initial speed")
    plot_speed_vs_epochs(axes[2], start["speed"], start["epochs"], rho=start["rho"],
                         label=f"random start, L ≤ {crit_start:g}")
    plot_speed_vs_epochs(axes[2], trained["speed"], trained["epochs"], rho=trained["rho"],
                         color=PALETTE[1], label=f"trained, L ≤ {crit_trained:g}")
    axes[2].set_title("c  prediction vs outcome")
    plot_rank_curve(axes[3], {
        f"random start, c = {c_start:g}": (start["fractions"], start["rho_curve"]),
        f"trained, c = {c_trained:g}": (trained["fractions"], trained["rho_curve"]),
    })
    axes[3].set_title("d  how far ahead the start predicts")
    return fig


def plot_noise_response(t, noise: Mapping[str, np.ndarray], members: Sequence[Overlaps],
                        stationary, *, n_trials: int):
    """Chapter 3 figure: noise variance predicted and sampled, and over a whole family.

    Parameters
    ----------
    t : numpy.ndarray
        Time grid of the task.
    noise : dict
        :func:`noise_runs` result (``predicted``, ``sampled``).
    members : sequence of Overlaps
        The family (panel b: ``sigma_zv, sigma_vv``).
    stationary : numpy.ndarray
        :func:`stationary_noise_variance` of each member.
    n_trials : int
        Trials behind each sampled variance (for the title).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    plot_noise_variance(axes[0], t, noise["predicted"], noise["sampled"])
    axes[0].set_title(f"a  {len(noise['predicted'])} equivalent networks, {n_trials} trials each")
    vv = np.array([S["vv"] for S in members])
    zv = np.array([S["zv"] for S in members])
    plot_family_map(axes[1], zv, vv, stationary, xlabel=r"$\sigma_{zv}$", ylabel=r"$\sigma_{vv}$",
                    label=r"long-time output variance", log=False, cmap="cividis")
    axes[1].set_title("b  noise response over the trained family")
    return fig


def plot_erf_probe(erf: Mapping, linear: Mapping, check: Mapping):
    """Chapter 3 figure: the probe for erf networks.

    Panels: (a) the erf family's epochs to criterion over ``sigma_zv, sigma_vv``;
    (b) its rank-correlation curve next to the linear random-start family's;
    (c) loss of the fastest and the slowest member as N-dimensional networks,
    with the reduced theory.

    Parameters
    ----------
    erf, linear : dict
        :func:`family_summary` of the erf family and of the linear random-start family.
    check : dict
        :func:`extreme_members` of the erf family.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .plotting import PALETTE, SIM, THEORY

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    zv = np.array([S["zv"] for S in erf["members"]])
    vv = np.array([S["vv"] for S in erf["members"]])
    plot_family_map(axes[0], zv, vv, erf["epochs"], xlabel=r"$\sigma_{zv}$",
                    ylabel=r"$\sigma_{vv}$", label=f"epochs to loss {erf['criterion']:g}")
    axes[0].set_title("a  erf family (random start)")
    plot_rank_curve(axes[1], {"erf, random start": (erf["fractions"], erf["rho_curve"]),
                              "linear, random start": (linear["fractions"], linear["rho_curve"])})
    axes[1].set_title("b  how far ahead the start predicts")
    ax = axes[2]
    for i, (r, label) in enumerate(zip(check["runs"], ("fastest member", "slowest member"),
                                       strict=True)):
        ax.plot(r["network"].loss, color=PALETTE[i], label=f"{label}, N = {check['N']}", **SIM)
        ax.plot(r["exact"].loss, **THEORY | {"label": "theory" if i else None})
    ax.set(yscale="log", xlabel="epoch", ylabel="loss", title="c  N-dimensional erf networks")
    ax.legend(fontsize="x-small")
    return fig
