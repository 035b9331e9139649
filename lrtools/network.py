"""The N-dimensional low-rank recurrent network.

Discrete-time Euler dynamics with step ``dt`` (tau = 1), ``h[0] = 0``::

    h[t+1] = h[t] + dt * ( -h[t] + U V^T phi(h[t]) / N + M x[t] )
    y[t]   = Z^T phi(h[t+1]) / N

with input vectors ``M (N, n_in)``, recurrent factors ``U, V (N, R)`` and readout
``Z (N, n_out)``. The ``N x N`` matrix ``U V^T / N`` is never formed: one time
step costs ``O(N (n_in + R + n_out))``. Entries are O(1) (vectors of norm about
``sqrt(N)``), the scaling of the paper's large-N limit.
"""

from __future__ import annotations

import numpy as np

from . import _kernels as K
from ._checks import check_dt, check_input, phi_code, shape_from_names
from .overlaps import Overlaps, vector_names

__all__ = ["LowRankRNN", "squared_error"]


def squared_error(
    y: np.ndarray, target: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted squared error ``L = sum w (y - y*)^2`` and ``dL/dy = 2 w (y - y*)``."""
    if y.shape != target.shape or y.shape != weights.shape:
        raise ValueError(
            f"output {y.shape}, target {target.shape} and weights {weights.shape} differ in shape"
        )
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported by callers
        err = y - target
        return float(np.sum(weights * err * err)), 2.0 * weights * err


class LowRankRNN:
    """Rank-R recurrent network of N neurons with named connectivity vectors.

    Build one with :meth:`random`, :meth:`from_vectors` or :meth:`from_overlaps`.
    The vectors live in one float64 array :attr:`X` of shape ``(N, k)`` whose
    columns are named :attr:`names` (``m, u, v, z`` for rank 1; ``m, u1, u2,
    v1, v2, z`` for rank 2); :attr:`M`, :attr:`U`, :attr:`V`, :attr:`Z` are copies
    of the column blocks.

    Parameters
    ----------
    X : numpy.ndarray, shape (N, k)
        Connectivity vectors as columns, in the order of
        :func:`lrtools.overlaps.vector_names`.
    rank, n_in, n_out : int
        Rank ``R`` and the numbers of inputs and outputs (``k = n_in + 2R + n_out``).
    phi : {"linear", "erf", "tanh"}
        Single-neuron nonlinearity; ``"erf"`` is ``erf(sqrt(pi) x / 2)``.
    device : str, optional
        ``None`` or ``"cpu"``: compiled CPU kernels (numba, hand-written
        backpropagation). Any other torch device (``"cuda"``, ``"cuda:1"``): the
        PyTorch implementation of the same equations on that device, with autograd.
        The vectors stay a float64 NumPy array either way.
    row_weights : numpy.ndarray, shape (N,), optional
        Positive weights of the rows, summing to 1: every population average
        ``(1/N) sum_i`` becomes ``sum_i w_i``. Weighted rows are quadrature nodes of
        the distribution of rows, the population limit ``N -> infinity``
        (:func:`lrtools.theory.learn` with ``closure="population"``). Default: the
        network itself, all weights ``1/N``. CPU kernels only.
    """

    def __init__(
        self, X: np.ndarray, *, rank: int = 1, n_in: int = 1, n_out: int = 1,
        phi: str = "linear", device: str | None = None, row_weights: np.ndarray | None = None,
    ) -> None:
        self.phi = phi
        self.device = None if device in (None, "cpu") else str(device)
        if self.device is not None:
            from . import _torch

            _torch.device_of(self.device)  # fails early, and clearly, without CUDA
        self._code = phi_code(phi)
        self.names = vector_names(rank, n_in, n_out)
        X = np.array(X, dtype=np.float64, order="C")
        if X.ndim != 2 or X.shape[1] != len(self.names):
            raise ValueError(
                f"X must have shape (N, {len(self.names)}) for vectors {self.names}, got {X.shape}"
            )
        if X.shape[0] < len(self.names):
            raise ValueError(
                f"N={X.shape[0]} neurons is fewer than the number of vectors k={len(self.names)}"
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("connectivity vectors have non-finite entries")
        self.X = X
        self.row_weights = None
        if row_weights is not None:
            if self.device is not None:
                raise ValueError("weighted rows (a population) run on the CPU kernels only")
            w = np.array(row_weights, dtype=np.float64)
            if w.shape != (X.shape[0],) or not np.all(np.isfinite(w)) or np.any(w <= 0):
                raise ValueError(f"row_weights must be {X.shape[0]} positive finite numbers")
            if abs(w.sum() - 1.0) > 1e-9:
                raise ValueError(f"row_weights must sum to 1, got {w.sum():.12g}")
            self.row_weights = w
        self.rank, self.n_in, self.n_out = rank, n_in, n_out
        c = np.cumsum([0, n_in, rank, rank, n_out])
        self._idx = tuple(np.arange(c[i], c[i + 1], dtype=np.int64) for i in range(4))

    def __cache_key__(self) -> dict:
        """Everything that sets what the network computes (for :mod:`lrtools.cache`)."""
        return {"X": self.X, "rank": self.rank, "n_in": self.n_in, "n_out": self.n_out,
                "phi": self.phi, "device": self.device, "row_weights": self.row_weights}

    # --- construction ----------------------------------------------------
    @classmethod
    def random(
        cls,
        N: int,
        rank: int = 1,
        phi: str = "linear",
        seed: np.random.Generator | int | None = None,
        *,
        n_in: int = 1,
        n_out: int = 1,
        device: str | None = None,
    ) -> LowRankRNN:
        """Gaussian vectors, each rescaled to norm ``sqrt(N)`` (so ``sigma_aa = 1``)."""
        k = n_in + 2 * rank + n_out
        if int(N) != N or N < k:
            raise ValueError(f"N={N} must be an integer >= the number of vectors k={k}")
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((int(N), k))
        X *= np.sqrt(N) / np.linalg.norm(X, axis=0)
        return cls(X, rank=rank, n_in=n_in, n_out=n_out, phi=phi, device=device)

    @classmethod
    def balanced(
        cls,
        N: int,
        phi: str = "linear",
        seed: np.random.Generator | int | None = None,
        *,
        tol: float = 1e-3,
        max_draws: int = 1_000_000,
        device: str | None = None,
    ) -> LowRankRNN:
        """A rank-1 start drawn as :meth:`random` until it is *balanced* (the paper's Figures 4, 8).

        Balanced: ``sigma_zu`` and ``sigma_vm`` agree to ``tol`` with the same sign,
        and so do ``sigma_mu`` and ``sigma_zv`` (rejection sampling; unit norms).
        The acceptance rate falls like ``tol^2 N``, so ``max_draws`` bounds the
        search; exceeding it raises ``RuntimeError``.
        """
        if int(N) != N or N < 4:
            raise ValueError(f"N={N} must be an integer >= 4")
        if not (np.isfinite(tol) and tol > 0):
            raise ValueError(f"tol must be positive, got {tol}")
        rng = np.random.default_rng(seed)
        N, chunk, drawn = int(N), 256, 0
        while drawn < max_draws:
            X = rng.standard_normal((chunk, N, 4))
            X *= np.sqrt(N) / np.linalg.norm(X, axis=1, keepdims=True)
            S = np.einsum("bni,bnj->bij", X, X) / N
            pairs = ((S[:, 3, 1], S[:, 2, 0]), (S[:, 0, 1], S[:, 3, 2]))  # (zu, vm), (mu, zv)
            ok = np.logical_and.reduce([(np.abs(a - b) < tol) & (a * b > 0) for a, b in pairs])
            if ok.any():
                return cls(X[int(np.argmax(ok))], rank=1, phi=phi, device=device)
            drawn += chunk
        raise RuntimeError(f"no balanced start in {max_draws} draws at N={N}, tol={tol}")

    @classmethod
    def from_vectors(
        cls,
        *,
        m: np.ndarray,
        u: np.ndarray,
        v: np.ndarray,
        z: np.ndarray,
        phi: str = "linear",
        device: str | None = None,
    ) -> LowRankRNN:
        """Network from its vectors: each ``(N,)`` or ``(N, count)``."""
        blocks = [np.asarray(a, dtype=np.float64) for a in (m, u, v, z)]
        blocks = [a[:, None] if a.ndim == 1 else a for a in blocks]
        N = blocks[0].shape[0]
        for name, a in zip("muvz", blocks, strict=True):
            if a.ndim != 2 or a.shape[0] != N:
                raise ValueError(f"vector {name} has shape {a.shape}; expected ({N},) or ({N}, n)")
        if blocks[1].shape[1] != blocks[2].shape[1]:
            raise ValueError(
                f"u and v must have the same rank, got {blocks[1].shape} and {blocks[2].shape}"
            )
        return cls(
            np.concatenate(blocks, axis=1),
            rank=blocks[1].shape[1],
            n_in=blocks[0].shape[1],
            n_out=blocks[3].shape[1],
            phi=phi,
            device=device,
        )

    @classmethod
    def from_overlaps(
        cls,
        S: Overlaps,
        N: int,
        phi: str = "linear",
        seed: np.random.Generator | int | None = None,
        device: str | None = None,
    ) -> LowRankRNN:
        """Random vectors whose overlaps are exactly ``S`` (see :meth:`Overlaps.vectors`)."""
        rank, n_in, n_out = shape_from_names(S.names)
        return cls(S.vectors(N, seed), rank=rank, n_in=n_in, n_out=n_out, phi=phi, device=device)

    def copy(self) -> LowRankRNN:
        """Independent copy (training one leaves the other untouched)."""
        return LowRankRNN(self.X, rank=self.rank, n_in=self.n_in, n_out=self.n_out, phi=self.phi,
                          device=self.device, row_weights=self.row_weights)

    # --- views -----------------------------------------------------------
    @property
    def N(self) -> int:
        """Number of neurons."""
        return self.X.shape[0]

    @property
    def M(self) -> np.ndarray:
        """Input vectors, ``(N, n_in)``."""
        return self.X[:, self._idx[0]]

    @property
    def U(self) -> np.ndarray:
        """Left recurrent factors, ``(N, R)``."""
        return self.X[:, self._idx[1]]

    @property
    def V(self) -> np.ndarray:
        """Right recurrent factors, ``(N, R)``."""
        return self.X[:, self._idx[2]]

    @property
    def Z(self) -> np.ndarray:
        """Readout vectors, ``(N, n_out)``."""
        return self.X[:, self._idx[3]]

    def vector(self, name: str) -> np.ndarray:
        """One connectivity vector by name, ``(N,)``."""
        return self.X[:, self.names.index(name)]

    def overlaps(self) -> Overlaps:
        """``S = X^T X / N`` (weighted rows: ``X^T diag(w) X``) as :class:`~lrtools.Overlaps`."""
        if self.row_weights is not None:
            return Overlaps(self.X.T @ (self.row_weights[:, None] * self.X), self.names)
        return Overlaps.from_vectors(self.X, self.names)

    @property
    def _w(self) -> np.ndarray:
        # the kernels' weight argument: empty for a plain network
        return np.zeros(0) if self.row_weights is None else self.row_weights

    def __repr__(self) -> str:
        return (
            f"LowRankRNN(N={self.N}, rank={self.rank}, n_in={self.n_in}, "
            f"n_out={self.n_out}, phi={self.phi!r})"
        )

    # --- dynamics ----------------------------------------------------------
    def run(
        self,
        x: np.ndarray,
        dt: float,
        *,
        noise_std: float = 0.0,
        rng: np.random.Generator | int | None = None,
        return_activity: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Simulate the N-dimensional network.

        Parameters
        ----------
        x : array_like, shape (B, T, n_in)
            Input.
        dt : float
            Euler step.
        noise_std : float
            Standard deviation of i.i.d. Gaussian noise added to every neuron's
            activity at every step, ``h[t+1] += noise_std * xi`` (needs ``rng``).
        rng : numpy.random.Generator or int, optional
            Source of the activity noise.
        return_activity : bool
            Also return the activity ``h``, shape ``(B, T+1, N)``.

        Returns
        -------
        y : numpy.ndarray, shape (B, T, n_out)
            Output, ``y[t] = Z^T phi(h[t+1]) / N``.
        h : numpy.ndarray, shape (B, T+1, N)
            Only when ``return_activity``.
        """
        dt = check_dt(dt)
        x = check_input(x, self.n_in)
        if noise_std < 0 or not np.isfinite(noise_std):
            raise ValueError(f"noise_std must be non-negative, got {noise_std}")
        if noise_std > 0:
            if rng is None:
                raise ValueError("activity noise needs an rng (a numpy Generator or a seed)")
            noise = noise_std * np.random.default_rng(rng).standard_normal(
                (x.shape[0], x.shape[1], self.N)
            )
        else:
            noise = np.zeros((0, 0, 0))
        if self.device is not None:
            from . import _torch

            y, H = _torch.network_run(self.X, self._idx, x, dt, self.phi, self.device,
                                      noise if noise_std > 0 else None, return_activity)
        else:
            y, H = K.net_simulate(self.X, *self._idx, x, dt, self._code, noise, return_activity,
                                  self._w)
        return (y, H) if return_activity else y

    def loss_and_gradient(
        self, batch: tuple[np.ndarray, np.ndarray, np.ndarray], weights: np.ndarray, dt: float
    ) -> tuple[float, np.ndarray]:
        """Loss ``sum w (y - y*)^2`` on one batch and its gradient ``dL/dX`` (``(N, k)``).

        Backpropagation through time, written out by hand (``O(N k)`` per step).
        """
        x, target, _ = batch
        dt = check_dt(dt)
        x = check_input(x, self.n_in)
        if self.device is not None:
            from . import _torch

            return _torch.network_loss_and_gradient(self.X, self._idx, x, target, weights, dt,
                                                    self.phi, self.device)
        B, T = x.shape[:2]
        work = B * T * self.N
        # phi(h) and phi'(h) are recomputed in the backward pass: with the vectorised
        # kernels that is faster than keeping them (measured at N=600, B=10, T=800,
        # one thread: erf 220 vs 273 ms, tanh 176 vs 233 ms per loss and gradient)
        A = P = np.zeros((0, 0, 0))
        y, kap, rec = K.net_forward(self.X, *self._idx, x, dt, self._code, A, P, self._w,
                                    work=work)
        loss, gy = squared_error(y, target, weights)
        grad = K.net_backward(self.X, *self._idx, x, kap, rec, gy, dt, self._code, A, P,
                              self._w, work=work)
        return loss, grad
