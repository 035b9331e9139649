r"""Functionally equivalent networks: their construction, sampling and learning speed.

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
  = \eta \operatorname{tr}(\Gamma S \Gamma)` (:func:`initial_speed`, affine in the
  invisible overlaps: :func:`speed_linearity_residual`), and measures how long it
  takes (:func:`learning_curves`, :func:`epochs_to_criterion`,
  :func:`rank_correlation`; a whole family: :func:`family_summary`).

The response of equivalent networks to activity noise injected into every neuron
(a closed form in the overlaps for linear networks) is in
:mod:`lrtools.noise_response`.

**The construction (minimal change).** The ``keep`` vectors of ``theta_1``
(default: inputs ``m`` and readouts ``z``, so every neuron keeps its input and
readout weight) are copied. The others are re-solved one at a time, in the order
``m, u, v, z``: each is the vector *closest* to its ``theta_1`` version that has
the prescribed overlaps with the vectors already placed (all visible overlaps,
the ``targets``) and, if prescribed, its norm. For the paper's example (linear
rank 1, ``uu=2.048, mu=0.8``) this re-solves ``u``, then corrects ``v`` within
``span{m, u}`` so that ``vm, vu`` keep their values; unprescribed invisible
overlaps (``vv, zv``) change only as much as the vectors must. The paper's own
construction, a random completion with the same targets, is
:func:`random_completion`.

Fallback: when the prescribed norm of a vector is below what its prescribed
overlaps with the placed vectors allow, although other values of the earlier
vectors' unprescribed overlaps would make room, those overlaps are set to the
values nearest to ``theta_1``'s that make ``S`` positive semidefinite (Dykstra's
alternating projections). A target for which no positive semidefinite overlap
matrix exists raises ``ValueError`` naming the conflict. The construction uses
inner products only, so :func:`equivalent_overlaps` runs it on Gram coordinates
of ``S_1`` and returns exactly the overlaps :func:`equivalent_network` realises.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from . import theory
from .fits import rank_correlation, speed_linearity_residual
from .history import DivergenceError, History
from .network import LowRankRNN
from .overlaps import Overlaps, invisible_pairs, psd_sqrt, visible_pairs
from .tasks import Task

__all__ = [
    "PAPER_TARGETS",
    "MIN_EIG",
    "equivalent_overlaps",
    "equivalent_network",
    "random_completion",
    "free_overlaps",
    "sample_equivalent",
    "initial_speed",
    "epochs_to_criterion",
    "learning_curves",
    "rank_correlation",
    "rank_correlation_curve",
    "speed_linearity_residual",
    "family_members",
    "family_summary",
]

#: The paper's Figure 2 example: theta_2 has |u|^2/N = 2.048 and sigma_mu = 0.8.
PAPER_TARGETS = {"uu": 2.048, "mu": 0.8}

#: Smallest eigenvalue of a sampled member's overlap matrix (:func:`sample_equivalent`).
MIN_EIG = 1e-2

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


def random_completion(
    net: LowRankRNN, *, uu: float, mu: float, seed: np.random.Generator | int | None = None
) -> LowRankRNN:
    """The paper's construction of ``theta_2``: a random completion with ``uu`` and ``mu`` set.

    Linear rank 1 only. ``m`` and ``z`` are copied. ``u`` keeps its part in
    ``span{v, z}`` (so ``sigma_vu, sigma_zu`` hold); its part outside that span is
    ``r (c e_1 + s e_2)``, with ``e_1`` the direction of ``m`` outside the span and
    ``e_2`` a random direction orthogonal to both, ``r`` and ``c`` set by the norm
    ``uu`` and the overlap ``mu``, ``s = sqrt(1 - c^2)``. Then ``v`` keeps its part
    outside ``span{m, u}`` and its part inside is re-solved so that ``sigma_vm,
    sigma_vu`` keep their values. Unlike :func:`equivalent_network` (the vector
    closest to ``theta_1``'s), ``sigma_vv`` and ``sigma_zv`` change by a random
    amount that depends on ``e_2``.
    """
    if not isinstance(net, LowRankRNN) or net.rank != 1 or net.phi != "linear" or \
            net.X.shape[1] != 4:
        raise ValueError("random_completion builds linear rank-1 networks (m, u, v, z)")
    rng = np.random.default_rng(seed)
    N = net.N
    m, u, v, z = (net.X[:, i].copy() for i in range(4))
    Q, _ = np.linalg.qr(np.column_stack([v, z]))
    inside = Q @ (Q.T @ u)
    m_out = m - Q @ (Q.T @ m)
    e1 = m_out / np.linalg.norm(m_out)
    e2 = rng.standard_normal(N)
    B = np.column_stack([Q, e1])
    e2 -= B @ (B.T @ e2)
    e2 /= np.linalg.norm(e2)
    r2 = uu * N - inside @ inside
    rc = (mu * N - m @ inside) / (m @ e1)
    if r2 <= rc * rc:
        raise ValueError(f"no vector u has |u|^2/N = {uu} and sigma_mu = {mu} with these "
                         "sigma_vu, sigma_zu")
    u2 = inside + rc * e1 + np.sqrt(r2 - rc * rc) * e2
    P = np.column_stack([u2, m])
    coef = np.linalg.solve(P.T @ P, P.T @ v)
    v_out = v - P @ coef
    a = np.linalg.solve(P.T @ P, np.array([v @ u, v @ m]) - P.T @ v_out)
    return LowRankRNN(np.column_stack([m, u2, v_out + P @ a, z]), rank=1, phi="linear")


def sample_equivalent(
    theta: Overlaps | LowRankRNN,
    n: int,
    phi: str | None = None,
    *,
    keep: Sequence[str] | None = None,
    free: Sequence[str] | None = None,
    norm_range: tuple[float, float] = (0.5, 3.0),
    corr_range: tuple[float, float] = (-0.9, 0.9),
    min_eig: float = MIN_EIG,
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


def epochs_to_criterion(
    loss: History | np.ndarray, criterion: float, *, interpolate: bool = False
) -> np.ndarray | float:
    """Number of updates before the loss first falls to ``criterion`` (``inf`` if never).

    ``loss[..., i]`` is the loss before update ``i``, so the answer is the first
    ``i`` with ``loss[..., i] <= criterion``. With ``interpolate=True`` the
    crossing is placed between epochs instead: if the loss first falls to the
    criterion at ``i > 0``, by linear interpolation of ``log L`` between ``i - 1``
    and ``i`` (a fractional epoch in ``[i - 1, i]``); ``0`` if it starts below.

    Parameters
    ----------
    loss : History or numpy.ndarray, shape (..., epochs)
        One loss curve or a stack of them (NaN entries never count as reached).
    criterion : float
        Loss level (positive when ``interpolate``).
    interpolate : bool
        Fractional epochs (log-linear interpolation) instead of whole ones.

    Returns
    -------
    float or numpy.ndarray, shape (...)
        A float for one curve, an array for a stack.

    Raises
    ------
    ValueError
        With ``interpolate``, if ``criterion`` is not positive.
    """
    loss = loss.loss if isinstance(loss, History) else np.asarray(loss, dtype=float)
    if interpolate:
        out = _interpolated_crossing(loss, criterion)
    else:
        with np.errstate(invalid="ignore"):
            hit = loss <= criterion
        first = np.argmax(hit, axis=-1).astype(float)
        out = np.where(hit.any(axis=-1), first, np.inf)
    return float(out) if out.ndim == 0 else out


def _interpolated_crossing(loss: np.ndarray, criterion: float) -> np.ndarray:
    """First crossing of ``criterion``, log-linearly interpolated between epochs."""
    if not criterion > 0:
        raise ValueError(f"criterion must be positive, got {criterion}")
    with np.errstate(invalid="ignore"):
        hit = loss <= criterion
    i = np.argmax(hit, axis=-1)
    reached = hit.any(axis=-1)
    prev = np.take_along_axis(loss, np.maximum(i - 1, 0)[..., None], axis=-1)[..., 0]
    cur = np.take_along_axis(loss, i[..., None], axis=-1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (np.log(prev) - np.log(criterion)) / (np.log(prev) - np.log(cur))
    t = np.where(i > 0, i - 1 + np.clip(np.nan_to_num(frac, nan=1.0), 0.0, 1.0), 0.0)
    return np.where(reached, t, np.inf)


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


def rank_correlation_curve(
    speed: np.ndarray, loss: np.ndarray, criteria: np.ndarray
) -> np.ndarray:
    """:func:`rank_correlation` of speed and epochs to each criterion (loss curves ``(n, E)``)."""
    return np.array([rank_correlation(speed, epochs_to_criterion(loss, c)) for c in criteria])


def family_members(data: Mapping[str, np.ndarray]) -> list[Overlaps]:
    """The members of a family stored as arrays (``members``, ``names``), as Overlaps."""
    names = tuple(str(x) for x in data["names"])
    return [Overlaps(M, names) for M in data["members"]]


def family_summary(
    data: Mapping[str, np.ndarray], criterion: float, fractions: np.ndarray | None = None
) -> dict:
    """Epochs to a loss criterion and rank correlations of one family of equivalent networks.

    Parameters
    ----------
    data : dict
        The family's ``members (n, k, k)`` and ``names`` (:func:`family_members`)
        and its :func:`learning_curves` (``loss``, ``speed``, ``diverged``), e.g.
        :func:`lrtools.studies.probe.family_runs`.
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
