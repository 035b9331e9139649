r"""Overlap matrices: the coordinates in which low-rank learning is exact.

Stack the connectivity vectors of a low-rank network as the columns of
``X`` (shape ``(N, k)``). The overlap matrix is

.. math:: S = X^\top X / N ,

a symmetric positive semidefinite ``(k, k)`` matrix whose entries are the
pairwise overlaps :math:`\sigma_{ab} = a \cdot b / N` (Ger & Barak, 2026).
:class:`Overlaps` holds ``S`` together with the names of the vectors and gives
order-free access by name: ``S["zm"] == S["mz"] == S["z", "m"]``.

Vector names follow the paper: rank 1 with one input and one output uses
``("m", "u", "v", "z")``; rank ``R > 1`` numbers the recurrent factors
(``u1, u2, v1, v2``); several inputs or outputs are numbered the same way
(``m1, m2``, ``z1, z2``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Overlaps",
    "vector_names",
    "left_right",
    "visible_pairs",
    "invisible_pairs",
    "vectors_with_overlaps",
    "pair_name",
    "psd_sqrt",
]

# Relative tolerance on the smallest eigenvalue of S below which a matrix is
# still accepted as positive semidefinite (round-off of a float64 Gram matrix).
_PSD_RTOL = 1e-10
_SYM_RTOL = 1e-12


def _numbered(letter: str, count: int) -> tuple[str, ...]:
    if count < 1:
        raise ValueError(f"need at least one '{letter}' vector, got {count}")
    if count == 1:
        return (letter,)
    return tuple(f"{letter}{i + 1}" for i in range(count))


def vector_names(rank: int = 1, n_in: int = 1, n_out: int = 1) -> tuple[str, ...]:
    """Names of the connectivity vectors, in the canonical column order.

    The order is inputs ``m``, left factors ``u``, right factors ``v``,
    readouts ``z``: ``("m", "u", "v", "z")`` for rank 1 and
    ``("m", "u1", "u2", "v1", "v2", "z")`` for rank 2.

    Parameters
    ----------
    rank : int
        Rank ``R`` of the recurrent connectivity ``U V^T / N``.
    n_in, n_out : int
        Number of input vectors (columns of ``M``) and readout vectors
        (columns of ``Z``).
    """
    return (
        _numbered("m", n_in)
        + _numbered("u", rank)
        + _numbered("v", rank)
        + _numbered("z", n_out)
    )


def _role(name: str) -> str:
    role = name[0]
    if role not in "muvz" or not (len(name) == 1 or name[1:].isdigit()):
        raise ValueError(
            f"vector name {name!r} is not of the form m, u, v, z followed by an optional number"
        )
    return role


def left_right(names: Sequence[str]) -> np.ndarray:
    """The sign matrix ``J`` of the linear invariants, as its diagonal.

    ``+1`` for the "left" vectors (readouts ``z`` and right factors ``v``,
    which multiply the activity from the left) and ``-1`` for the "right"
    vectors (inputs ``m`` and left factors ``u``, which span the activity).

    Returns
    -------
    numpy.ndarray
        Shape ``(k,)``, entries ``+1.0`` or ``-1.0``.
    """
    return np.array([1.0 if _role(n) in "vz" else -1.0 for n in names])


_PHIS = ("linear", "erf", "tanh")
_ROLE_ORDER = {"z": 0, "v": 1, "m": 2, "u": 3}  # the paper writes sigma_zm, sigma_vu, sigma_mu


def _key(name: str) -> tuple[int, str]:
    return (_ROLE_ORDER[_role(name)], name)


def pair_name(a: str, b: str) -> str:
    """Name of the overlap of vectors ``a`` and ``b`` in the paper's order (``"zm"``, ``"vu"``)."""
    first, second = sorted((a, b), key=_key)
    return first + second


def _sorted_pairs(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    ordered = [tuple(sorted(p, key=_key)) for p in pairs]
    return sorted(ordered, key=lambda p: (p[0] == p[1], _key(p[0]), _key(p[1])))


def visible_pairs(names: Sequence[str], phi: str = "linear") -> list[tuple[str, str]]:
    """Pairs of vectors whose overlap the loss depends on (loss-visible).

    Linear networks: readout/recurrent-output vectors (``z``, ``v``) against
    the activity vectors (``m``, ``u``): ``zm, zu, vm, vu`` for rank 1.
    Nonlinear networks in the Gaussian limit add the overlaps among the
    activity vectors, which set the variance of the activity: ``mu, mm, uu``.
    Pairs are returned in the paper's order and spelling (``("z", "m")``).
    """
    if phi not in _PHIS:
        raise ValueError(f"unknown nonlinearity {phi!r}; expected one of {_PHIS}")
    pairs = []
    for i, a in enumerate(names):
        for b in names[i:]:
            ra, rb = _role(a), _role(b)
            cross = (ra in "zv" and rb in "mu") or (rb in "zv" and ra in "mu")
            activity = ra in "mu" and rb in "mu"
            if cross or (phi != "linear" and activity):
                pairs.append((a, b))
    return _sorted_pairs(pairs)


def invisible_pairs(names: Sequence[str], phi: str = "linear") -> list[tuple[str, str]]:
    """Pairs of vectors whose overlap the loss does not depend on (loss-invisible)."""
    vis = set(visible_pairs(names, phi))
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i:]]
    return [p for p in _sorted_pairs(pairs) if p not in vis]


def psd_sqrt(S: np.ndarray) -> np.ndarray:
    """The symmetric square root of a positive semidefinite matrix, or of a stack of them.

    ``S`` of shape ``(..., k, k)`` is symmetrised, then ``S^{1/2} = Q diag(sqrt(w))
    Q^T`` from its eigendecomposition, with round-off negative eigenvalues set to 0.
    """
    S = np.asarray(S, dtype=np.float64)
    if S.ndim < 2 or S.shape[-1] != S.shape[-2]:
        raise ValueError(f"psd_sqrt needs square matrices, got shape {S.shape}")
    w, Q = np.linalg.eigh(0.5 * (S + np.swapaxes(S, -1, -2)))
    w = np.sqrt(np.clip(w, 0.0, None))
    if S.ndim == 2:
        return (Q * w) @ Q.T
    return (Q * w[..., None, :]) @ np.swapaxes(Q, -1, -2)


def _check_psd(S: np.ndarray, what: str = "overlap matrix") -> None:
    w = np.linalg.eigvalsh(S)
    scale = max(1.0, float(np.max(np.abs(w))))
    if w[0] < -_PSD_RTOL * scale:
        raise ValueError(
            f"{what} is not positive semidefinite (smallest eigenvalue {w[0]:.3g}): "
            "no set of real vectors has these overlaps"
        )


def vectors_with_overlaps(
    S: np.ndarray, N: int, rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """Random vectors whose overlap matrix is exactly ``S``.

    Draws ``G`` with i.i.d. standard normal entries, shape ``(N, k)``, and
    returns ``X = G C^{-1/2} S^{1/2}`` with ``C = G^T G / N``. Then
    ``X^T X / N = S`` to round-off, and for large ``N`` the rows of ``X`` are
    close to i.i.d. Gaussian with covariance ``S`` (``C`` is close to the
    identity), which is the ensemble of the paper's Gaussian limit.

    Parameters
    ----------
    S : array_like, shape (k, k)
        Symmetric positive semidefinite target overlaps.
    N : int
        Number of neurons; must be at least ``k``.
    rng : numpy.random.Generator or int or None
        Random generator or seed.

    Returns
    -------
    numpy.ndarray
        ``X``, shape ``(N, k)``, float64.
    """
    S = np.asarray(S, dtype=np.float64)
    k = S.shape[0]
    if S.ndim != 2 or S.shape != (k, k):
        raise ValueError(f"overlap matrix must be square, got shape {S.shape}")
    if int(N) != N or N < k:
        raise ValueError(
            f"N={N} is smaller than the number of vectors k={k}: "
            "k vectors with prescribed overlaps need N >= k neurons"
        )
    if not np.allclose(S, S.T, rtol=_SYM_RTOL, atol=_SYM_RTOL * np.max(np.abs(S))):
        raise ValueError("overlap matrix is not symmetric")
    _check_psd(S)
    rng = np.random.default_rng(rng)
    G = rng.standard_normal((int(N), k))
    # G C^{-1/2} / sqrt(N) is the polar factor W P^T of G = W diag(s) P^T: columns
    # orthonormal to round-off however ill-conditioned G is.
    W, _, Pt = np.linalg.svd(G, full_matrices=False)
    return np.sqrt(N) * (W @ Pt) @ psd_sqrt(S)


@dataclass(frozen=True, eq=False)
class Overlaps:
    """Symmetric overlap matrix ``S = X^T X / N`` with named vectors.

    Parameters
    ----------
    matrix : array_like, shape (k, k)
        Symmetric overlap matrix (float64 copy is stored, symmetrised).
    names : sequence of str, length k
        Vector names in column order, e.g. ``("m", "u", "v", "z")``.

    Examples
    --------
    >>> S = Overlaps(np.eye(4), names=("m", "u", "v", "z"))
    >>> S2 = S.replace(uu=2.048, mu=0.8)
    >>> S2["um"]
    0.8
    """

    matrix: np.ndarray
    names: tuple[str, ...] = ("m", "u", "v", "z")

    def __post_init__(self) -> None:
        M = np.array(self.matrix, dtype=np.float64)
        names = tuple(self.names)
        k = len(names)
        if M.shape != (k, k):
            raise ValueError(f"matrix shape {M.shape} does not match {k} names {names}")
        if len(set(names)) != k:
            raise ValueError(f"vector names must be distinct, got {names}")
        for n in names:
            _role(n)
        if not np.all(np.isfinite(M)):
            raise ValueError("overlap matrix has non-finite entries")
        scale = max(1.0, float(np.max(np.abs(M))))
        if np.max(np.abs(M - M.T)) > 1e-10 * scale:
            raise ValueError("overlap matrix is not symmetric")
        M = 0.5 * (M + M.T)
        M.setflags(write=False)
        object.__setattr__(self, "matrix", M)
        object.__setattr__(self, "names", names)

    # --- construction -------------------------------------------------
    @classmethod
    def from_vectors(cls, X: np.ndarray, names: Sequence[str]) -> Overlaps:
        """Overlaps of the columns of ``X`` (shape ``(N, k)``): ``X^T X / N``."""
        X = np.asarray(X, dtype=np.float64)
        return cls(X.T @ X / X.shape[0], names)

    @classmethod
    def from_dict(cls, values: Mapping[str, float], names: Sequence[str]) -> Overlaps:
        """Build from named entries; entries not given are zero."""
        return cls(np.zeros((len(names), len(names))), names).replace(**values)

    # --- access --------------------------------------------------------
    @property
    def k(self) -> int:
        """Number of vectors."""
        return len(self.names)

    def index(self, name: str) -> int:
        """Column index of vector ``name``."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no vector named {name!r}; vectors are {self.names}") from None

    def split(self, key: str | tuple[str, str]) -> tuple[str, str]:
        """Split an overlap name such as ``"zm"`` or ``"v1u2"`` into two vector names."""
        if isinstance(key, tuple):
            if len(key) != 2:
                raise KeyError(f"overlap key must name two vectors, got {key!r}")
            self.index(key[0])
            self.index(key[1])
            return key
        matches = [
            (key[:i], key[i:])
            for i in range(1, len(key))
            if key[:i] in self.names and key[i:] in self.names
        ]
        if len(matches) != 1:
            raise KeyError(
                f"{key!r} does not name an overlap of two of the vectors {self.names}"
                if not matches
                else f"{key!r} is ambiguous: {matches}"
            )
        return matches[0]

    def __getitem__(self, key: str | tuple[str, str]) -> float:
        a, b = self.split(key)
        return float(self.matrix[self.index(a), self.index(b)])

    def replace(self, **entries: float) -> Overlaps:
        """New :class:`Overlaps` with the named entries changed (both triangles)."""
        M = np.array(self.matrix)
        for key, value in entries.items():
            a, b = self.split(key)
            i, j = self.index(a), self.index(b)
            M[i, j] = M[j, i] = float(value)
        return Overlaps(M, self.names)

    # --- named views -----------------------------------------------------
    @property
    def pairs(self) -> list[tuple[str, str]]:
        """All unordered pairs ``(a, b)`` in upper-triangle order."""
        return [(a, b) for i, a in enumerate(self.names) for b in self.names[i:]]

    @property
    def pair_names(self) -> list[str]:
        """Overlap names in upper-triangle order, paper spelling: ``["mm", "mu", "vm", ...]``."""
        return [pair_name(a, b) for a, b in self.pairs]

    def values(self, pairs: Iterable[tuple[str, str] | str] | None = None) -> np.ndarray:
        """The overlaps as a flat vector (default: all pairs, upper triangle)."""
        pairs = self.pairs if pairs is None else pairs
        return np.array([self[p] for p in pairs])

    def as_dict(self) -> dict[str, float]:
        """``{"mm": ..., "mu": ..., ...}`` over the upper triangle."""
        return dict(zip(self.pair_names, self.values(), strict=True))

    def visible(self, phi: str = "linear") -> list[str]:
        """Names of the loss-visible overlaps for nonlinearity ``phi``."""
        return [a + b for a, b in visible_pairs(self.names, phi)]

    def invisible(self, phi: str = "linear") -> list[str]:
        """Names of the loss-invisible overlaps for nonlinearity ``phi``."""
        return [a + b for a, b in invisible_pairs(self.names, phi)]

    # --- checks and vectors ----------------------------------------------------
    def is_psd(self) -> bool:
        """Whether some set of real vectors has these overlaps."""
        try:
            _check_psd(self.matrix)
        except ValueError:
            return False
        return True

    def vectors(self, N: int, seed: np.random.Generator | int | None = None) -> np.ndarray:
        """Vectors ``X`` (shape ``(N, k)``) with exactly these overlaps.

        See :func:`vectors_with_overlaps`.
        """
        return vectors_with_overlaps(self.matrix, N, seed)

    def __repr__(self) -> str:
        body = ", ".join(f"{n}={v:.4g}" for n, v in self.as_dict().items())
        return f"Overlaps({body})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Overlaps):
            return NotImplemented
        return self.names == other.names and np.array_equal(self.matrix, other.matrix)

    __hash__ = None  # type: ignore[assignment]
