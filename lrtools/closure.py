r"""The Gaussian closure of nonlinear low-rank networks, and how learning breaks it.

For ``phi`` nonlinear, the reduced theory (:mod:`lrtools.theory`) replaces
``v . phi(h) / N`` by its Gaussian value ``<phi'>(Delta) S_vx kappa`` (Stein's
lemma). That is exact for vectors whose entries ``(m_i, u_i, v_i, z_i)`` are
i.i.d. Gaussian rows and ``N -> infinity``. This module measures how well the
N-dimensional network follows the theory:

* :func:`gain_reference`: an independent high-precision value of the gain;
* :func:`gaussianity` (skewness, excess kurtosis, Kolmogorov-Smirnov distance of
  every vector's entries, Mardia's multivariate kurtosis of the rows),
  :func:`gaussianity_curve` and :func:`qq_data`;
* how far learning leaves the Gaussian family: :func:`departure` (the fraction of
  the gradient-descent update that lies outside span{m, u, v, z}),
  :func:`closure_defect` (network loss minus the Gaussian-limit loss at the
  network's own overlaps), :func:`closure_loss` (that loss along a recorded run)
  and :func:`train_projected` (gradient descent projected back onto the Gaussian
  family after every step: the control in which the theory must become exact);
* :func:`convergence_study`: the error between N-dimensional training and the
  overlap map for several ``N`` and seeds (optionally on a
  :class:`concurrent.futures.Executor`, e.g. :func:`process_executor` or a dask
  client's), whose errors :func:`lrtools.fits.fit_power_law` and
  :func:`lrtools.fits.fit_floor` fit.

The cached runs, settings and key numbers of chapter 2 are in
:mod:`lrtools.studies.nonlinear`, its figures in :mod:`lrtools.figures.nonlinear`.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

import numpy as np
from scipy import stats

from . import theory
from ._checks import phi_code, shape_from_names
from .history import History
from .network import LowRankRNN
from .overlaps import Overlaps, psd_sqrt
from .tasks import Task, batches
from .training import train

__all__ = [
    "gain_reference",
    "Gaussianity",
    "gaussianity_curve",
    "gaussianity",
    "qq_data",
    "departure",
    "closure_defect",
    "closure_loss",
    "train_projected",
    "common_rows",
    "row_cumulants",
    "stein_gap",
    "out_of_span",
    "Convergence",
    "convergence_study",
    "process_executor",
]


# ---------------------------------------------------------------------------
# Gains: an independent high-precision reference
# ---------------------------------------------------------------------------


def gain_reference(delta: float, phi: str = "tanh", digits: int = 30) -> tuple[float, float]:
    """``E[phi'(h)]`` and its derivative ``E[phi^(3)(h)] / 2`` in ``Delta``, by mpmath.

    ``h ~ N(0, delta)``; adaptive tanh-sinh quadrature at ``digits`` significant
    digits, independent of the float64 quadratures of :func:`lrtools.theory.gain`
    (used to check them).
    """
    import mpmath

    if not delta > 0:
        raise ValueError(f"delta must be positive, got {delta}")
    if phi not in ("erf", "tanh"):
        raise ValueError(f"phi must be 'erf' or 'tanh', got {phi!r}")
    with mpmath.workdps(digits):
        D = mpmath.mpf(delta)

        def d1(s):
            if phi == "erf":
                return mpmath.exp(-mpmath.pi * s * s / 4)
            return mpmath.sech(s) ** 2

        def d3(s):
            if phi == "erf":
                return (mpmath.pi**2 * s * s / 4 - mpmath.pi / 2) * d1(s)
            return d1(s) * (6 * mpmath.tanh(s) ** 2 - 2)

        norm = 1 / mpmath.sqrt(2 * mpmath.pi * D)
        pts = [-mpmath.inf, -5, -1, 0, 1, 5, mpmath.inf]
        g = mpmath.quad(lambda s: d1(s) * mpmath.exp(-s * s / (2 * D)), pts) * norm
        g3 = mpmath.quad(lambda s: d3(s) * mpmath.exp(-s * s / (2 * D)), pts) * norm
        return float(g), float(g3 / 2)


# ---------------------------------------------------------------------------
# Gaussianity of the vector entries
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Gaussianity:
    """Normality statistics of the entries of the connectivity vectors.

    Attributes
    ----------
    names : tuple of str
        Vector names (columns of ``X``).
    skewness, excess_kurtosis : numpy.ndarray, shape (k,)
        Sample skewness and excess kurtosis of each vector's entries (0 for a
        Gaussian; sampling standard deviations ``sqrt(6/N)`` and ``sqrt(24/N)``).
    ks : numpy.ndarray, shape (k,)
        Kolmogorov-Smirnov distance between each vector's entries and the Gaussian
        with their mean and standard deviation (about ``0.87 / sqrt(N)`` typical
        for Gaussian samples).
    mardia : float
        Mardia's multivariate excess kurtosis of the rows ``(m_i, u_i, v_i, z_i)``,
        ``mean_i (r_i^T C^-1 r_i)^2 - k (k + 2)`` with ``r_i`` the centred rows and
        ``C`` their covariance: 0 for jointly Gaussian rows (standard deviation
        ``sqrt(8 k (k + 2) / N)``), sensitive to dependence that marginals miss.
    N : int
        Number of entries per vector.
    """

    names: tuple[str, ...]
    skewness: np.ndarray
    excess_kurtosis: np.ndarray
    ks: np.ndarray
    mardia: float
    N: int

    def noise(self) -> dict[str, float]:
        """Sampling standard deviations of the statistics for Gaussian entries."""
        k = len(self.names)
        return {"skewness": math.sqrt(6.0 / self.N), "excess_kurtosis": math.sqrt(24.0 / self.N),
                "ks": 0.87 / math.sqrt(self.N), "mardia": math.sqrt(8.0 * k * (k + 2) / self.N)}


def gaussianity(X: np.ndarray, names: Sequence[str] = ("m", "u", "v", "z")) -> Gaussianity:
    """Normality statistics of the columns (and rows) of ``X`` (shape ``(N, k)``)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != len(names):
        raise ValueError(f"X must have shape (N, {len(names)}), got {X.shape}")
    N, k = X.shape
    if N < 8:
        raise ValueError(f"need at least 8 entries per vector, got N={N}")
    ks = np.empty(k)
    for j in range(k):
        col = X[:, j]
        ks[j] = stats.kstest(col, "norm", args=(col.mean(), col.std())).statistic
    R = X - X.mean(axis=0)
    C = R.T @ R / N
    d2 = np.einsum("ij,ij->i", R @ np.linalg.pinv(C), R)
    return Gaussianity(
        names=tuple(names),
        skewness=stats.skew(X, axis=0),
        excess_kurtosis=stats.kurtosis(X, axis=0, fisher=True),
        ks=ks,
        mardia=float(np.mean(d2**2) - k * (k + 2)),
        N=N,
    )


def gaussianity_curve(hist: History) -> dict[str, np.ndarray]:
    """Gaussianity statistics at the vector snapshots of a training history.

    Returns
    -------
    dict
        ``epoch (n,)``, ``mardia (n,)``, ``kurtosis (n, k)``, ``ks (n, k)`` and
        ``noise`` (the Gaussian sampling standard deviations, as a dict).
    """
    if hist.vectors is None:
        raise ValueError("the history has no vector snapshots (train with snapshot_every)")
    g = [gaussianity(X, hist.names) for X in hist.vectors]
    return {"epoch": np.asarray(hist.vector_epochs), "mardia": np.array([x.mardia for x in g]),
            "kurtosis": np.array([x.excess_kurtosis for x in g]),
            "ks": np.array([x.ks for x in g]), "noise": g[0].noise()}


def qq_data(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normal QQ data: theoretical quantiles and the sorted standardised sample.

    Returns ``(q, s)``, both ``(N,)``: ``q_i = Phi^-1((i - 1/2) / N)`` and ``s`` the
    sorted ``(x - mean) / std``. Gaussian entries lie on the line ``s = q``.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    q = stats.norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    return q, np.sort((x - x.mean()) / x.std())


# ---------------------------------------------------------------------------
# Departure from the Gaussian family
# ---------------------------------------------------------------------------


def departure(net: LowRankRNN, batch: tuple, weights: np.ndarray, dt: float) -> np.ndarray:
    """Fraction of the gradient-descent update outside span{m, u, v, z}, per vector.

    For a loss that depends on the vectors through their overlaps only (the
    Gaussian limit, and every linear network) the gradient is ``X Gamma / N`` and
    lies in the span of the vectors, which keeps Gaussian rows Gaussian. A finite
    nonlinear network's gradient for ``v`` is ``sum_t c_t phi(h_t) / N``, a
    nonlinear function of ``(m_i, u_i)``: its part outside the span adds
    non-Gaussian structure to the entries.

    Returns
    -------
    numpy.ndarray, shape (k,)
        ``|(I - P) g_a| / |g_a|`` for each vector ``a`` (``P`` the orthogonal
        projector on the columns of ``X``, ``g_a`` the gradient of the loss with
        respect to vector ``a``).
    """
    _, grad = net.loss_and_gradient(batch, weights, dt)
    Q, _ = np.linalg.qr(net.X)
    resid = grad - Q @ (Q.T @ grad)
    norm = np.linalg.norm(grad, axis=0)
    return np.linalg.norm(resid, axis=0) / np.where(norm > 0, norm, 1.0)


def closure_defect(net: LowRankRNN, batch: tuple, weights: np.ndarray, dt: float) -> float:
    """Network loss minus the Gaussian-limit loss at the network's own overlaps.

    ``L_N(X) - L_theory(X^T X / N)`` on one batch: of order ``N^-1/2`` for
    Gaussian vectors, of order 1 once learning has made the entries
    non-Gaussian.
    """
    x, target, _ = batch
    L_net = float(np.sum(weights * (net.run(x, dt) - target) ** 2))  # forward pass only
    L_th = float(np.sum(weights * (theory.run(net.overlaps(), x, dt, net.phi) - target) ** 2))
    return L_net - L_th


def closure_loss(hist: History, task: Task, phi: str, seed: int | None = 0) -> np.ndarray:
    """Gaussian-limit loss along a recorded trajectory, on the training batches.

    Entry ``i`` is ``L_theory(S_i)`` on batch ``i`` of :func:`lrtools.tasks.batches`
    (``task``, ``seed``), the batch on which ``hist.loss[i]`` was measured. For an
    N-dimensional training history (any optimizer) ``hist.loss - closure_loss``
    is the closure defect along training. Shape ``(hist.epochs,)``.
    """
    stream = batches(task, seed)
    out = np.empty(hist.epochs)
    for i in range(hist.epochs):
        b = next(stream)
        out[i] = theory.loss_and_gamma(hist.at(i), b, task.loss_weights(b[2]), task.dt, phi)[0]
    return out


def _polar_basis(N: int, k: int, rng: np.random.Generator) -> np.ndarray:
    G = rng.standard_normal((N, k))
    W, _, Pt = np.linalg.svd(G, full_matrices=False)
    return math.sqrt(N) * (W @ Pt)


def _network(X: np.ndarray, names: Sequence[str], phi: str) -> LowRankRNN:
    rank, n_in, n_out = shape_from_names(names)
    return LowRankRNN(X, rank=rank, n_in=n_in, n_out=n_out, phi=phi)


def train_projected(
    S0: Overlaps,
    N: int,
    task: Task,
    epochs: int,
    eta: float,
    phi: str = "erf",
    *,
    seed: int = 0,
    vector_seed: np.random.Generator | int | Sequence[int] | None = None,
) -> History:
    """Gradient descent projected back onto the Gaussian family after every step.

    The vectors are ``X = Q S^{1/2}`` with a fixed ``Q`` (``N x k``, orthogonal
    columns of norm ``sqrt(N)``, the polar factor of a Gaussian matrix, as in
    :meth:`Overlaps.vectors`). Each epoch takes the plain step ``X' = X - N eta
    dL/dX`` of :func:`lrtools.train`, computes ``S' = X'^T X' / N`` and resets
    ``X = Q S'^{1/2}``: same overlaps, rows Gaussian again. This is the control in
    which the only difference from the Gaussian-limit theory is finite-N
    sampling, so its error must vanish like ``N^-1/2``.

    Parameters
    ----------
    S0 : Overlaps
        Initial overlaps (rank 1).
    N : int
        Number of neurons.
    task, epochs, eta : as in :func:`lrtools.train` (batches from ``seed``).
    phi : {"erf", "tanh", "linear"}
        Nonlinearity.
    vector_seed : seed of ``Q`` (default: ``seed``).

    Returns
    -------
    History
        ``loss (epochs,)`` and ``overlaps (epochs + 1, k, k)``.
    """
    rng = np.random.default_rng(seed if vector_seed is None else vector_seed)
    Q = _polar_basis(int(N), S0.k, rng)
    net = _network(Q @ psd_sqrt(S0.matrix), S0.names, phi)
    return train(net, task, epochs, eta, seed=seed, project=Q)


# ---------------------------------------------------------------------------
# What the closure assumes, measured on a population or a network
# ---------------------------------------------------------------------------


def _weights(net: LowRankRNN) -> np.ndarray:
    return net.row_weights if net.row_weights is not None else np.full(net.N, 1.0 / net.N)


def common_rows(S: Overlaps, Ns: Sequence[int], seed: int) -> dict[int, np.ndarray]:
    """Vectors with exactly the overlaps ``S`` at several sizes, from common random numbers.

    One Gaussian matrix of ``max(Ns)`` rows is drawn per ``seed``; the network of
    size ``N`` uses its first ``N`` rows, made exactly orthogonal (polar factor,
    columns of norm ``sqrt(N)``) and mapped by ``S^{1/2}``. The networks of one
    seed therefore share their randomness, and the difference between sizes is
    the sampling of the rows alone.
    """
    Ns = [int(N) for N in Ns]
    if min(Ns) < S.k:
        raise ValueError(f"every N must be at least k={S.k}, got {min(Ns)}")
    G = np.random.default_rng([int(seed), 17]).standard_normal((max(Ns), S.k))
    root = psd_sqrt(S.matrix)
    out = {}
    for N in Ns:
        W, _, Pt = np.linalg.svd(G[:N], full_matrices=False)
        out[N] = np.ascontiguousarray(math.sqrt(N) * (W @ Pt) @ root)
    return out


def row_cumulants(net: LowRankRNN) -> dict[str, float]:
    """Fourth-order cumulants of the rows: zero for Gaussian rows, which the closure assumes.

    With ``E`` the (weighted) average over rows and ``S = E[x x^T]``, the joint
    cumulant ``k_abcd = E[x_a x_b x_c x_d] - (S_ab S_cd + S_ac S_bd + S_ad S_bc)``,
    made dimensionless by ``sqrt(S_aa S_bb S_cc S_dd)``.

    Returns
    -------
    dict
        ``excess_kurtosis`` (the largest ``|k_aaaa| / S_aa^2`` over vectors),
        ``max_cumulant`` (the largest dimensionless ``|k_abcd|``) and
        ``third_moment`` (the largest dimensionless ``|E[x_a x_b x_c]|``).
    """
    X, w = net.X, _weights(net)
    S = X.T @ (w[:, None] * X)
    d = np.sqrt(np.diag(S))
    Y = X / d
    C = S / np.outer(d, d)
    M4 = np.einsum("q,qa,qb,qc,qd->abcd", w, Y, Y, Y, Y)
    gauss = (np.einsum("ab,cd->abcd", C, C) + np.einsum("ac,bd->abcd", C, C)
             + np.einsum("ad,bc->abcd", C, C))
    K4 = M4 - gauss
    M3 = np.einsum("q,qa,qb,qc->abc", w, Y, Y, Y)
    k = X.shape[1]
    return {"excess_kurtosis": float(max(abs(K4[a, a, a, a]) for a in range(k))),
            "max_cumulant": float(np.max(np.abs(K4))),
            "third_moment": float(np.max(np.abs(M3)))}


def stein_gap(net: LowRankRNN, x: np.ndarray, dt: float) -> dict[str, float]:
    """How far the averages the network computes are from their Stein (Gaussian) values.

    Along the activity ``h = m kappa_m + u kappa_u`` of input ``x``, the network's
    recurrent drive ``E[v phi(h)]`` and output ``E[z phi(h)]`` (averages over
    rows) against ``<phi'>(Delta) (S_am kappa_m + S_au kappa_u)``, ``a = v, z``,
    with ``Delta = kappa^T S_xx kappa``: equal for Gaussian rows. Rank 1, one input
    and one output.

    Returns
    -------
    dict
        ``drive`` and ``output``: the largest difference over trials and time,
        relative to the largest Stein value.
    """
    if net.names != ("m", "u", "v", "z"):
        raise ValueError(f"stein_gap needs a rank-1 network with vectors m, u, v, z, "
                         f"got {net.names}")
    _, H = net.run(x, dt, return_activity=True)
    w = _weights(net)
    S = net.overlaps().matrix
    m, u, v, z = net.X.T
    # kappa from h = m kappa_m + u kappa_u (exact: the activity stays in the span)
    A = np.stack([m, u], axis=1)
    kap = np.linalg.lstsq(A, H.reshape(-1, net.N).T, rcond=None)[0].T
    Sx = S[:2, :2]
    delta = np.einsum("ti,ij,tj->t", kap, Sx, kap)
    g, _ = theory.gain(np.maximum(delta, 0.0), net.phi)
    a = _phi_values(net, H.reshape(-1, net.N))
    out = {}
    for name, vec, row in (("drive", v, 2), ("output", z, 3)):
        actual = a @ (w * vec)
        stein = g * (kap @ S[row, :2])
        out[name] = float(np.max(np.abs(actual - stein)) / max(np.max(np.abs(stein)), 1e-300))
    return out


def _phi_values(net: LowRankRNN, h: np.ndarray) -> np.ndarray:
    # phi(h) of the network's nonlinearity, elementwise
    from . import _kernels as K

    return K.phi_array(phi_code(net.phi), np.ascontiguousarray(h, dtype=np.float64))


def out_of_span(net: LowRankRNN, batch: tuple, weights: np.ndarray, dt: float
                ) -> dict[str, np.ndarray | float]:
    """The part of a gradient step that the overlap map cannot represent.

    A gradient step moves row ``q`` by ``-eta g_q`` with ``g_q = (dL/dx_q) / w_q``
    (``N dL/dx_i`` for a network). Regressing ``g`` on the rows, ``g_q = A x_q +
    r_q`` with ``E[x r^T] = 0`` (``E`` the average over rows). When the loss is a
    function of ``S`` alone (linear networks, the Gaussian limit) ``A = Gamma``,
    ``r = 0`` and the step is the overlap map ``S' = (I - eta Gamma) S (I - eta
    Gamma)``. Otherwise the residual ``r`` lies outside span{m, u, v, z}: it does
    not enter the overlaps at first order but adds ``eta^2 E[r r^T]`` per step (for
    a network, ``N eta^2 |g_perp|^2`` with ``g_perp = dL/dX`` outside the span).

    Returns
    -------
    dict
        ``fraction (k,)``: ``sqrt(E|r_a|^2 / E|g_a|^2)`` per vector; ``first``:
        ``|E[x g^T + g x^T]|`` (the overlap change per unit ``eta``, largest entry);
        ``second``: ``|E[r r^T]|`` (per unit ``eta^2``, largest entry).
    """
    _, grad = net.loss_and_gradient(batch, weights, dt)
    X, w = net.X, _weights(net)
    g = grad / w[:, None]
    S = X.T @ (w[:, None] * X)
    A = np.linalg.solve(S, X.T @ (w[:, None] * g)).T  # g ~ X A^T
    r = g - X @ A.T
    gg = np.sum(w[:, None] * g * g, axis=0)
    first = X.T @ (w[:, None] * g)
    return {"fraction": np.sqrt(np.sum(w[:, None] * r * r, axis=0) / np.where(gg > 0, gg, 1.0)),
            "first": float(np.max(np.abs(first + first.T))),
            "second": float(np.max(np.abs(r.T @ (w[:, None] * r))))}


# ---------------------------------------------------------------------------
# Finite-N convergence
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Convergence:
    """Result of :func:`convergence_study` (arrays indexed ``[N, seed, ...]``).

    Attributes
    ----------
    Ns, seeds : numpy.ndarray
        Network sizes ``(n,)`` and seeds ``(s,)``.
    overlap_error : numpy.ndarray, shape (n, s)
        ``max_epoch max_ab |S_net - S_theory|``, the largest overlap error over
        training.
    loss_error : numpy.ndarray, shape (n, s)
        ``|L_net - L_theory|`` at the last epoch (same batch).
    error_curves : numpy.ndarray, shape (n, s, epochs + 1)
        ``max_ab |S_net - S_theory|`` at every epoch.
    net_overlaps : numpy.ndarray, shape (n, s, epochs + 1, k, k)
    net_loss : numpy.ndarray, shape (n, s, epochs)
    theory_overlaps : numpy.ndarray, shape (s, epochs + 1, k, k)
    theory_loss : numpy.ndarray, shape (s, epochs)
    departure : numpy.ndarray, shape (n, s, 2, k)
        :func:`departure` at the initial (``[..., 0, :]``) and final network.
    closure : numpy.ndarray, shape (n, s, 2)
        :func:`closure_defect` of the final network and of Gaussian vectors with
        the same final overlaps (``[..., 0]`` and ``[..., 1]``), on a fresh batch
        of ``diagnostic_batch`` trials.
    mardia : numpy.ndarray, shape (n, s, 2)
        Mardia's excess kurtosis (:func:`gaussianity`) initially and finally.
    settings : dict
        Task, epochs, eta, phi, projected.
    """

    Ns: np.ndarray
    seeds: np.ndarray
    overlap_error: np.ndarray
    loss_error: np.ndarray
    error_curves: np.ndarray
    net_overlaps: np.ndarray
    net_loss: np.ndarray
    theory_overlaps: np.ndarray
    theory_loss: np.ndarray
    departure: np.ndarray
    closure: np.ndarray
    mardia: np.ndarray
    settings: dict = field(default_factory=dict)

    def to_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Flat dict of plain arrays (for the cache); inverse :meth:`from_arrays`."""
        out = {f"{prefix}{f.name}": getattr(self, f.name) for f in fields(self)
               if f.name != "settings"}
        out[f"{prefix}settings"] = np.array(repr(self.settings))
        return out

    @classmethod
    def from_arrays(cls, data: Mapping[str, np.ndarray], prefix: str = "") -> Convergence:
        """Inverse of :meth:`to_arrays` (``settings`` comes back as its repr string)."""
        kw = {f.name: np.asarray(data[f"{prefix}{f.name}"]) for f in fields(cls)
              if f.name != "settings"}
        return cls(**kw, settings={"repr": str(data[f"{prefix}settings"])})


def _convergence_job(S0: np.ndarray, names: tuple[str, ...], task: Task, N: int, seed: int,
                     epochs: int, eta: float, phi: str, projected: bool,
                     diagnostic_batch: int = 16) -> dict[str, np.ndarray]:
    """One (N, seed) run; module-level so that process and dask executors can pickle it."""
    S = Overlaps(S0, names)
    th = theory.learn(S, task, epochs, eta, phi=phi, seed=seed, progress=False)
    vec_seed = [int(seed), int(N)]
    if projected:
        net_hist = train_projected(S, N, task, epochs, eta, phi, seed=seed, vector_seed=vec_seed)
        Q = _polar_basis(N, S.k, np.random.default_rng(vec_seed))  # the same Q as in training
        net0 = _network(Q @ psd_sqrt(S.matrix), names, phi)
        net1 = _network(Q @ psd_sqrt(net_hist.final.matrix), names, phi)
    else:
        net0 = LowRankRNN.from_overlaps(S, N, phi=phi, seed=np.random.default_rng(vec_seed))
        net1 = net0.copy()
        net_hist = train(net1, task, epochs, eta, seed=seed, progress=False)
    err = np.max(np.abs(net_hist.overlaps - th.overlaps), axis=(1, 2))
    # diagnostics on batches not used in training: the departure on a batch of the
    # training size, the closure defect (forward passes only) on a larger one
    rng = np.random.default_rng([int(seed), 7919])
    b = task.sample(rng)
    w = task.loss_weights(b[2])
    big = task
    if "batch_size" in {f.name for f in fields(task)} and task.batch_size < diagnostic_batch:
        big = dataclasses.replace(task, batch_size=int(diagnostic_batch))
    bb = big.sample(rng)
    wb = big.loss_weights(bb[2])
    gauss1 = LowRankRNN.from_overlaps(net1.overlaps(), N, phi=phi, seed=[int(seed), int(N), 2])
    return {
        "error_curve": err,
        "overlap_error": err.max(),
        "loss_error": abs(net_hist.loss[-1] - th.loss[-1]) if epochs else 0.0,
        "net_overlaps": net_hist.overlaps,
        "net_loss": net_hist.loss,
        "theory_overlaps": th.overlaps,
        "theory_loss": th.loss,
        "departure": np.stack([departure(net0, b, w, task.dt), departure(net1, b, w, task.dt)]),
        "closure": np.array([closure_defect(net1, bb, wb, task.dt),
                             closure_defect(gauss1, bb, wb, task.dt)]),
        "mardia": np.array([gaussianity(net0.X, names).mardia,
                            gaussianity(net1.X, names).mardia]),
    }


def convergence_study(
    S0: Overlaps,
    task: Task,
    Ns: Sequence[int],
    seeds: Sequence[int],
    epochs: int,
    eta: float,
    phi: str = "erf",
    *,
    projected: bool = False,
    executor: concurrent.futures.Executor | None = None,
    diagnostic_batch: int = 16,
) -> Convergence:
    """N-dimensional training against the overlap map, for several ``N`` and seeds.

    For each ``N`` and ``seed``: vectors with exactly the overlaps ``S0``
    (:meth:`Overlaps.vectors`, seeded by ``(seed, N)``) are trained with plain
    gradient descent (:func:`lrtools.train`; with ``projected=True``,
    :func:`train_projected`) for ``epochs`` steps of rate ``eta`` on the batches
    of ``seed``; :func:`lrtools.theory.learn` (``update="exact"``) runs from
    ``S0`` on the same batches. Only the vectors differ between sizes, so the
    error isolates the finite-N and non-Gaussian effects.

    Parameters
    ----------
    S0 : Overlaps
        Initial overlaps.
    task : Task
        Training task (random tasks: one batch per epoch from ``seed``).
    Ns, seeds : sequence of int
        Network sizes and seeds.
    epochs : int
        Number of updates.
    eta : float
        Learning rate.
    phi : {"erf", "tanh"}
        Nonlinearity.
    projected : bool
        Use :func:`train_projected` (the Gaussian-family control).
    executor : concurrent.futures.Executor, optional
        Runs the ``len(Ns) * len(seeds)`` independent jobs (e.g.
        ``dask.distributed.Client(...).get_executor()`` or a
        ``ProcessPoolExecutor``, see :func:`process_executor`); default: serially in
        this process. Results do not depend on it.
    diagnostic_batch : int
        Trials in the held-out batch of the closure defect (tasks with a
        ``batch_size`` field; the departure uses a batch of the training size).

    Returns
    -------
    Convergence

    Notes
    -----
    Not cached: :func:`lrtools.studies.nonlinear.cached_convergence` is the same
    study stored on disk (keyed by every argument but the executor).
    """
    Ns = [int(n) for n in Ns]
    seeds = [int(s) for s in seeds]
    if not Ns or not seeds:
        raise ValueError("need at least one N and one seed")
    if min(Ns) < S0.k:
        raise ValueError(f"every N must be at least k={S0.k}, got {min(Ns)}")
    jobs = [(np.array(S0.matrix), S0.names, task, N, s, int(epochs), float(eta), phi,
             bool(projected), int(diagnostic_batch)) for N in Ns for s in seeds]
    if executor is None:
        results = [_convergence_job(*job) for job in jobs]
    else:
        futures = [executor.submit(_convergence_job, *job) for job in jobs]
        results = [f.result() for f in futures]
    n, s = len(Ns), len(seeds)

    def stack(key: str) -> np.ndarray:
        arr = np.array([r[key] for r in results])
        return arr.reshape((n, s) + arr.shape[1:])

    return Convergence(
        Ns=np.array(Ns), seeds=np.array(seeds),
        overlap_error=stack("overlap_error"), loss_error=stack("loss_error"),
        error_curves=stack("error_curve"), net_overlaps=stack("net_overlaps"),
        net_loss=stack("net_loss"), theory_overlaps=stack("theory_overlaps")[0],
        theory_loss=stack("theory_loss")[0], departure=stack("departure"),
        closure=stack("closure"), mardia=stack("mardia"),
        settings={"task": repr(task), "epochs": epochs, "eta": eta, "phi": phi,
                  "projected": projected},
    )


def _single_thread() -> None:
    import numba

    numba.set_num_threads(1)


def process_executor(workers: int = 2) -> concurrent.futures.ProcessPoolExecutor:
    """A process pool for :func:`convergence_study`: one numba thread per worker.

    Uses the ``spawn`` start method (numba's thread pool is not fork-safe). With
    2 cores, two single-threaded workers keep both busy even for small ``N``,
    where the batch-parallel kernels run serially.
    """
    import multiprocessing

    return concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_single_thread)

