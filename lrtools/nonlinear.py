r"""The nonlinear Gaussian limit under test: finite-N convergence and Gaussianity.

For ``phi`` nonlinear, the reduced theory (:mod:`lrtools.theory`) replaces
``v . phi(h) / N`` by its Gaussian value ``<phi'>(Delta) S_vx kappa`` (Stein's
lemma). That is exact for vectors whose entries ``(m_i, u_i, v_i, z_i)`` are
i.i.d. Gaussian rows and ``N -> infinity``. This module measures how well the
N-dimensional network follows the theory:

* :func:`convergence_study`: the error between N-dimensional training and the
  overlap map for several ``N`` and seeds (optionally on a
  :class:`concurrent.futures.Executor`, e.g. a dask client's), with
  :func:`fit_power_law` (slope and confidence interval) and :func:`fit_floor`
  (an ``N^-1/2`` term plus an ``N``-independent floor);
* :func:`gaussianity` (skewness, excess kurtosis, Kolmogorov-Smirnov distance of
  every vector's entries, Mardia's multivariate kurtosis of the rows) and
  :func:`qq_data`;
* how far learning leaves the Gaussian family: :func:`departure` (the fraction of
  the gradient-descent update that lies outside span{m, u, v, z}),
  :func:`closure_defect` (network loss minus the Gaussian-limit loss at the
  network's own overlaps) and :func:`train_projected` (gradient descent projected
  back onto the Gaussian family after every step: the control in which the
  theory must become exact);
* the runs and figures of the paper's Figures 4, 8 and 11 (right) for chapter 2
  and :mod:`lrtools.figures` (:func:`figure4`, :func:`figure8`,
  :func:`figure11_nonlinear`), and ``plot_*`` helpers;
* chapter 2's settings (:func:`convergence_settings`), key numbers
  (``*_numbers`` functions: plain dicts for :class:`lrtools.report.Numbers`) and
  whole figures (:func:`plot_convergence_study`, :func:`plot_departure_study`,
  :func:`plot_tanh_study`, :func:`plot_figure11_nonlinear`).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields

import numpy as np
from scipy import stats

from . import experiments, theory
from ._checks import shape_from_names
from .cache import cached_run
from .fits import PowerLaw, fit_floor, fit_power_law
from .history import History
from .network import LowRankRNN
from .overlaps import Overlaps, psd_sqrt
from .tasks import FlipFlop, Task, batches
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
    "Convergence",
    "convergence_study",
    "PowerLaw",
    "process_executor",
    "fit_power_law",
    "fit_floor",
    "plot_entries",
    "plot_gaussianity",
    "plot_convergence",
    "plot_departure",
    "plot_preconditioners",
    "flip_flop_settings",
    "flip_flop_runs",
    "optimizer_runs",
    "closure_summary",
    "plot_figure4",
    "plot_figure8",
    "figure8_data",
    "figure4",
    "figure8",
    "figure11_nonlinear",
    "convergence_settings",
    "settings_numbers",
    "gain_errors",
    "figure4_numbers",
    "figure8_numbers",
    "figure8_table",
    "preconditioner_numbers",
    "plot_figure11_nonlinear",
    "convergence_runs",
    "convergence_fits",
    "convergence_numbers",
    "plot_convergence_study",
    "plot_departure_study",
    "departure_numbers",
    "plot_tanh_study",
    "tanh_numbers",
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
    cache: str | None = None,
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
    cache : str, optional
        A label: cache the result (:func:`lrtools.cache.cached_run`, entry
        ``"convergence"``, keyed by every argument above except the executor, by
        the label and by the code), so a second call loads it.

    Returns
    -------
    Convergence
    """
    Ns = [int(n) for n in Ns]
    seeds = [int(s) for s in seeds]
    if not Ns or not seeds:
        raise ValueError("need at least one N and one seed")
    if min(Ns) < S0.k:
        raise ValueError(f"every N must be at least k={S0.k}, got {min(Ns)}")
    if cache is not None:
        return _cached_convergence(S0, task, Ns, seeds, int(epochs), float(eta), phi,
                                   projected=bool(projected), executor=executor,
                                   diagnostic_batch=int(diagnostic_batch), label=cache)
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



@cached_run("convergence", encode=lambda c: c.to_arrays(), decode=Convergence.from_arrays)
def _cached_convergence(S0, task, Ns, seeds, epochs, eta, phi, *, projected, executor,
                        diagnostic_batch, label):
    return convergence_study(S0, task, Ns, seeds, epochs, eta, phi, projected=projected,
                             executor=executor, diagnostic_batch=diagnostic_batch)


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


# ---------------------------------------------------------------------------
# Plots (chapter 2)
# ---------------------------------------------------------------------------


def _n_axis(ax, Ns: np.ndarray) -> None:
    """Log-scaled N axis with one plain label per simulated size."""
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    ax.set_xticks(Ns, [f"{int(n)}" for n in Ns])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("$N$")


def plot_entries(axes, X: np.ndarray, names: Sequence[str] = ("m", "u", "v", "z"),
                 kind: str = "hist", color=None):
    """Histograms (``kind="hist"``) or normal QQ plots (``"qq"``) of each vector's entries.

    ``axes`` holds one matplotlib axis per vector. Histograms show the Gaussian
    with the entries' mean and variance; QQ plots the identity line.
    """
    from .plotting import PALETTE

    X = np.asarray(X)
    color = PALETTE[0] if color is None else color
    for j, (ax, name) in enumerate(zip(axes, names, strict=True)):
        col = X[:, j]
        if kind == "hist":
            ax.hist(col, bins=40, density=True, color=color, alpha=0.6)
            grid = np.linspace(col.min(), col.max(), 200)
            ax.plot(grid, stats.norm.pdf(grid, col.mean(), col.std()), color="0.1", lw=1.2)
            ax.set_xlabel(f"entries of ${name}$")
        elif kind == "qq":
            q, s = qq_data(col)
            ax.plot(q, s, ".", ms=2.5, color=color)
            lim = max(abs(q).max(), abs(s).max())
            ax.plot([-lim, lim], [-lim, lim], color="0.1", lw=1.0, ls="--")
            ax.set_xlabel("normal quantile")
            ax.set_title(f"${name}$")
        else:
            raise ValueError(f"kind must be 'hist' or 'qq', got {kind!r}")
    axes[0].set_ylabel("density" if kind == "hist" else "standardised entry")
    return axes


def plot_gaussianity(ax, curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *,
                     ylabel: str = "Mardia excess kurtosis", noise: float | None = None):
    """A Gaussianity statistic against epoch, one line per labelled run.

    ``curves`` maps a label to ``(epochs, values)``; ``noise`` draws the sampling
    standard deviation of the statistic for Gaussian entries as a grey band.
    """
    from .plotting import PALETTE

    for i, (label, (ep, val)) in enumerate(curves.items()):
        ax.plot(ep, val, "o-", ms=3, lw=1.6, color=PALETTE[i % len(PALETTE)], label=label)
    if noise is not None:
        ax.axhspan(-2 * noise, 2 * noise, color="0.88", zorder=0, label="Gaussian, ±2 s.d.")
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax


def plot_convergence(ax, Ns: np.ndarray, series: Mapping[str, np.ndarray], *,
                     fits: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None,
                     ylabel: str = "max overlap error"):
    """Log-log error against N: every seed as a dot, the geometric mean as a line.

    ``series`` maps a label to errors of shape ``(n, s)``; ``fits`` maps a label to
    a callable ``N -> fitted error`` (e.g. a :class:`PowerLaw`), drawn dashed.
    """
    from .plotting import PALETTE

    Ns = np.asarray(Ns, dtype=np.float64)
    grid = np.geomspace(Ns.min() / 1.2, Ns.max() * 1.2, 50)
    for i, (label, err) in enumerate(series.items()):
        c = PALETTE[i % len(PALETTE)]
        err = np.asarray(err).reshape(Ns.size, -1)
        for j in range(err.shape[1]):
            ax.plot(Ns, err[:, j], "o", ms=3, color=c, alpha=0.45)
        ax.plot(Ns, np.exp(np.log(err).mean(axis=1)), "-", lw=1.8, color=c, label=label)
    for i, (label, fn) in enumerate((fits or {}).items()):
        ax.plot(grid, fn(grid), "--", lw=1.2, color="0.15" if i == 0 else "0.5", label=label)
    _n_axis(ax, Ns)
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax


def plot_departure(ax, Ns: np.ndarray, values: Mapping[str, np.ndarray], *,
                   ylabel: str = "update outside span", zero_line: bool = False):
    """A departure measure against N (log x), seeds as dots and their mean as a line.

    ``values`` maps a label to an array of shape ``(n, s)``; ``zero_line`` draws
    ``y = 0`` (for signed quantities such as :func:`closure_defect`).
    """
    from .plotting import PALETTE

    Ns = np.asarray(Ns, dtype=np.float64)
    for i, (label, val) in enumerate(values.items()):
        c = PALETTE[i % len(PALETTE)]
        val = np.asarray(val).reshape(Ns.size, -1)
        for j in range(val.shape[1]):
            ax.plot(Ns, val[:, j], "o", ms=3, color=c, alpha=0.45)
        ax.plot(Ns, val.mean(axis=1), "-", lw=1.8, color=c, label=label)
    if zero_line:
        ax.axhline(0.0, color="0.5", lw=0.8, zorder=0)
    _n_axis(ax, Ns)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax


def plot_preconditioners(axes, S: Overlaps, phis: Sequence[str] = ("linear", "erf")):
    """``|G(S)|`` once per nonlinearity, visible overlaps first and outlined.

    ``G`` itself depends only on ``S``; what changes with ``phi`` is which of its
    columns can meet a non-zero gradient (the loss-visible overlaps), hence which
    overlaps a gradient step moves (see :func:`lrtools.plotting.plot_preconditioner`).
    """
    from .plotting import plot_preconditioner

    for ax, phi in zip(axes, phis, strict=True):
        n_vis = len(S.visible(phi))
        plot_preconditioner(ax, S, phi=phi, title=f"{phi}: {n_vis} visible columns")
    return axes


# ---------------------------------------------------------------------------
# Paper Figures 4 and 8 (chapter 2): runs and figures
# ---------------------------------------------------------------------------


def flip_flop_settings(fast: bool = False) -> dict[str, float]:
    """Settings of Figures 4 and 8.

    Paper (Ger & Barak, 2026): ``N = 600``, ``dt = 0.025``, ``T = 20``, batch 10,
    ``eta = 5e-2``, 2000 epochs; large-step descent ``eta = 5e-1`` and Adam
    ``lr = 5e-3`` (300 epochs each here). ``fast=True``: ``N = 300``, ``dt = 0.1``,
    batch 4, 1000 epochs (the CI version of the same code).
    """
    s: dict[str, float] = (dict(N=300, dt=0.1, batch_size=4, epochs=1000) if fast
                           else dict(N=600, dt=0.025, batch_size=10, epochs=2000))
    s.update(eta=5e-2, seed=0, large_eta=5e-1, large_epochs=300, adam_lr=5e-3, adam_epochs=300)
    return s


def flip_flop_runs(
    *, N: int = 600, dt: float = 0.025, batch_size: int = 10, epochs: int = 2000,
    eta: float = 5e-2, seed: int = 0, t_max: float = 20.0, progress: bool | None = None,
    **_: float,
) -> tuple[FlipFlop, dict[str, History]]:
    """Figure 4 runs: an erf network on the flip-flop and its theory, from one start.

    Returns the task and ``{"network", "exact", "direct"}`` histories (the network's
    vectors kept 21 times), cached with :func:`lrtools.experiments.network_vs_theory`.
    Extra keyword arguments (the other entries of :func:`flip_flop_settings`) are
    ignored.
    """
    task = FlipFlop(dt=dt, t_max=t_max, batch_size=batch_size)
    net = LowRankRNN.random(N=N, rank=1, phi="erf", seed=seed)
    runs = experiments.network_vs_theory(
        net, task, epochs, eta, updates=("exact", "direct"), seed=seed,
        snapshot_every=max(1, epochs // 20), name="ch2-fig4", progress=progress)
    return task, runs


def optimizer_runs(
    *, N: int = 600, dt: float = 0.025, batch_size: int = 10, seed: int = 0,
    large_eta: float = 5e-1, large_epochs: int = 300, adam_lr: float = 5e-3,
    adam_epochs: int = 300, t_max: float = 20.0, progress: bool | None = None, **_: float,
) -> dict[str, dict[str, History]]:
    """Figure 8 runs besides the small-step one of :func:`flip_flop_runs`.

    Returns ``{"large": {"network", "exact", "first-order"}, "adam": {"network"}}``
    from the same initial network as Figure 4 (vectors kept 16 times).
    """
    task = FlipFlop(dt=dt, t_max=t_max, batch_size=batch_size)
    net = LowRankRNN.random(N=N, rank=1, phi="erf", seed=seed)
    large = experiments.network_vs_theory(
        net, task, large_epochs, large_eta, updates=("exact", "first-order"), seed=seed,
        snapshot_every=max(1, large_epochs // 15), name="ch2-fig8-gd", progress=progress)
    adam = experiments.network_vs_theory(
        net, task, adam_epochs, adam_lr, optimizer="adam", updates=(), seed=seed,
        snapshot_every=max(1, adam_epochs // 15), name="ch2-fig8-adam", progress=progress)
    return {"large": large, "adam": adam}


def closure_summary(hist: History, task: Task, seed: int = 0, tail: float = 0.1,
                    closure: np.ndarray | None = None) -> dict[str, float]:
    """Closure and Gaussianity at the end of an N-dimensional training run.

    Over the last ``tail`` fraction of the epochs: the mean loss, the closure defect
    (network loss minus :func:`closure_loss`) and the mean-field loss divided by the
    network loss; from the last vector snapshot: the largest |excess kurtosis| and KS
    distance and Mardia's statistic, in units of their Gaussian sampling spread.
    ``closure`` reuses a precomputed :func:`closure_loss`.
    """
    cl = closure_loss(hist, task, hist.info.get("phi", "erf"), seed=seed) if closure is None \
        else np.asarray(closure)
    n = max(1, int(round(tail * hist.epochs)))
    g = gaussianity(hist.vectors[-1], hist.names)
    nz = g.noise()
    return {"loss": float(hist.loss[-n:].mean()),
            "closure": float(np.mean(hist.loss[-n:] - cl[-n:])),
            "closure_ratio": float(np.mean(cl[-n:]) / np.mean(hist.loss[-n:])),
            "kurt": float(np.max(np.abs(g.excess_kurtosis)) / nz["excess_kurtosis"]),
            "ks": float(np.max(g.ks) / nz["ks"]),
            "mardia": float(g.mardia / nz["mardia"])}


def plot_figure4(task: FlipFlop, runs: Mapping[str, History], *, trial_seed: int = 123):
    """Paper Figure 4a-c from :func:`flip_flop_runs`.

    Top: a held-out trial after training (network and theory), the loss of the
    network, of the overlap map with ``G`` and of descent on the overlaps without
    ``G``, and the visible overlaps. Middle and bottom: histograms and normal QQ
    plots of the final vector entries.
    """
    import matplotlib.pyplot as plt

    from .plotting import PALETTE, SIM, THEORY, plot_loss, plot_overlaps

    sim, exact, direct = runs["network"], runs["exact"], runs["direct"]
    x, y_star, mask = task.sample(np.random.default_rng(trial_seed))
    y_net = _network(sim.vectors[-1], sim.names, "erf").run(x[:1], task.dt)[0, :, 0]
    y_th = theory.run(exact.final, x[:1], task.dt, "erf")[0, :, 0]
    fig = plt.figure(figsize=(13, 9.5))
    top, mid, bot = fig.subfigures(3, 1, height_ratios=[1.15, 1, 1])
    ax = top.subplots(1, 3)
    t = task.t
    ax[0].plot(t, x[0, :, 0], color="0.6", lw=1, label="input")
    ax[0].plot(t, np.where(mask[0, :, 0] > 0, y_star[0, :, 0], np.nan), color="0.1", lw=1.2,
               label="target (in mask)")
    ax[0].plot(t, y_net, color=PALETTE[0], label="network", **SIM)
    ax[0].plot(t, y_th, label="theory", **THEORY)
    ax[0].set(xlabel="time", title="a  a held-out trial after training")
    ax[0].legend(fontsize="x-small", ncol=2)
    plot_loss(ax[1], {"network": sim, "theory (with $G$)": exact, "direct (no $G$)": direct},
              styles={"theory (with $G$)": THEORY})
    ax[1].set_title("b  loss")
    plot_overlaps(ax[2], sim, exact.initial.visible("erf"), theory=exact, phi="erf")
    ax[2].set_title("c  visible overlaps: network (thick), theory (dashed)")
    plot_entries(mid.subplots(1, 4), sim.vectors[-1], sim.names, kind="hist")
    mid.suptitle("d  entries after training, with the fitted Gaussian", fontsize="medium")
    plot_entries(bot.subplots(1, 4), sim.vectors[-1], sim.names, kind="qq")
    bot.suptitle("e  normal QQ plots", fontsize="medium")
    return fig


def plot_figure8(histories: Mapping[str, History], closure: Mapping[str, np.ndarray], *,
                 theories: Mapping[str, Mapping[str, History]] | None = None,
                 titles: Mapping[str, str] | None = None):
    """Paper Figure 8: loss and Gaussianity under several optimizers.

    Parameters
    ----------
    histories : mapping
        Label to N-dimensional training history (with vector snapshots).
    closure : mapping
        Label to :func:`closure_loss` of that history.
    theories : mapping, optional
        Label to ``{"exact map": History, ...}`` overlap-theory runs drawn dashed
        (the first) or dotted (the others).
    titles : mapping, optional
        Panel titles.
    """
    import matplotlib.pyplot as plt

    from .plotting import PALETTE, SIM, THEORY

    theories, titles = theories or {}, titles or {}
    fig, axes = plt.subplots(2, len(histories), figsize=(4.4 * len(histories), 6.4),
                             squeeze=False)
    for j, (key, h) in enumerate(histories.items()):
        ax = axes[0, j]
        ep = np.arange(h.epochs)
        ax.plot(ep, h.loss, color=PALETTE[0], label="network", **SIM)
        ax.plot(ep, closure[key], color=PALETTE[3], lw=1.2,
                label="mean-field loss at the network's $S$")
        for i, (label, th) in enumerate(theories.get(key, {}).items()):
            style = THEORY if i == 0 else {"color": PALETTE[2], "lw": 1.2, "ls": ":"}
            ax.plot(np.arange(th.epochs), th.loss, label=label, **style)
        ax.set(yscale="log", xlabel="epoch", title=titles.get(key, key))
        ax.legend(fontsize="x-small")
        c = gaussianity_curve(h)
        ax = axes[1, j]
        sd = c["noise"]["excess_kurtosis"]
        ax.axhspan(-2 * sd, 2 * sd, color="0.88", zorder=0)
        for i, name in enumerate(h.names):
            ax.plot(c["epoch"], c["kurtosis"][:, i], "o-", ms=3, lw=1.4, color=PALETTE[i],
                    label=f"${name}$")
        ax.set(xlabel="epoch", ylabel="excess kurtosis")
        ax.legend(fontsize="x-small", ncol=4)
    axes[0, 0].set_ylabel("loss")
    return fig


def figure8_data(fast: bool = False, progress: bool | None = None) -> dict:
    """Everything :func:`plot_figure8` needs: histories, closure losses, theories, titles."""
    s = flip_flop_settings(fast)
    task, small = flip_flop_runs(**s, progress=progress)
    other = optimizer_runs(**s, progress=progress)
    hists = {"small": small["network"], "large": other["large"]["network"],
             "adam": other["adam"]["network"]}
    return {
        "task": task,
        "histories": hists,
        "closure": {k: closure_loss(h, task, "erf", seed=int(s["seed"])) for k, h in hists.items()},
        "theories": {"small": {"overlap map": small["exact"]},
                     "large": {"exact map": other["large"]["exact"],
                               "first-order (flow) map": other["large"]["first-order"]}},
        "titles": {"small": f"GD, $\\eta$ = {s['eta']:g}",
                   "large": f"GD, $\\eta$ = {s['large_eta']:g}",
                   "adam": f"Adam, lr = {s['adam_lr']:g}"},
        "runs": {"small": small, **other},
    }


def figure4(fast: bool = False, progress: bool | None = None):
    """Paper Figure 4a-c (flip-flop, erf, N = 600): for :mod:`lrtools.figures`."""
    task, runs = flip_flop_runs(**flip_flop_settings(fast), progress=progress)
    return plot_figure4(task, runs)


def figure8(fast: bool = False, progress: bool | None = None):
    """Paper Figure 8 (small steps, large steps, Adam): for :mod:`lrtools.figures`."""
    d = figure8_data(fast, progress)
    return plot_figure8(d["histories"], d["closure"], theories=d["theories"], titles=d["titles"])


def figure11_nonlinear(fast: bool = False, progress: bool | None = None):
    """Paper Figure 11 (right, with the linear case beside it) at the trained overlaps."""
    _, runs = flip_flop_runs(**flip_flop_settings(fast), progress=progress)
    return plot_figure11_nonlinear(runs["exact"].final, ("linear", "erf"))


# ---------------------------------------------------------------------------
# Chapter 2: settings, key numbers and the remaining figures
# ---------------------------------------------------------------------------


def _require(mapping: Mapping, keys: Sequence[str], what: str) -> None:
    missing = [k for k in keys if k not in mapping]
    if missing:
        raise ValueError(f"{what} lacks {missing}; it has {sorted(mapping)}")


def convergence_settings(fast: bool = False, paper_scale: bool = False) -> dict:
    """Settings of chapter 2's convergence study (beyond the paper).

    Flip-flop with ``dt = 0.1``, ``T = 20``, batch 4, ``eta = 0.1``, 50 epochs;
    ``N`` from 250 to 4000 with 5 seeds (``paper_scale``: up to 8000 with 8 seeds,
    about 4 times the time; ``fast``: up to 1000 with 3 seeds); the tanh
    comparison at two sizes.

    Parameters
    ----------
    fast : bool
        CI settings.
    paper_scale : bool
        Add ``N = 8000`` and use 8 seeds (ignored when ``fast``).

    Returns
    -------
    dict
        ``Ns``, ``seeds`` (lists), ``task`` (:class:`lrtools.tasks.FlipFlop`),
        ``eta``, ``epochs``, ``tanh_Ns``, ``tanh_seeds``.
    """
    Ns = ([250, 500, 1000] if fast
          else [250, 500, 1000, 2000, 4000] + ([8000] if paper_scale else []))
    seeds = list(range(3 if fast else (8 if paper_scale else 5)))
    tanh_Ns, tanh_seeds = ([250, 1000], [0, 1]) if fast else ([500, 2000], [0, 1, 2])
    return {"Ns": Ns, "seeds": seeds, "task": FlipFlop(dt=0.1, t_max=20.0, batch_size=4),
            "eta": 0.1, "epochs": 50, "tanh_Ns": tanh_Ns, "tanh_seeds": tanh_seeds}


def settings_numbers(flip_flop: Mapping[str, float], convergence: Mapping) -> dict:
    """The settings chapter 2 quotes, as key numbers.

    Parameters
    ----------
    flip_flop : mapping
        :func:`flip_flop_settings` (Figures 4 and 8).
    convergence : mapping
        :func:`convergence_settings`.

    Returns
    -------
    dict
        ``N, dt, batch, epochs, eta, large_eta, large_epochs, adam_lr, adam_epochs``
        and ``conv_eta, conv_epochs, conv_batch, conv_dt, conv_n_seeds, conv_N_min,
        conv_N_max, conv_time`` (learning time ``eta * epochs``).
    """
    _require(flip_flop, ("N", "dt", "batch_size", "epochs", "eta", "large_eta", "large_epochs",
                         "adam_lr", "adam_epochs"), "flip_flop settings")
    _require(convergence, ("Ns", "seeds", "task", "eta", "epochs"), "convergence settings")
    s, c = flip_flop, convergence
    out = {"N": s["N"], "dt": s["dt"], "batch": s["batch_size"], "epochs": s["epochs"],
           "eta": s["eta"]}
    out.update({k: s[k] for k in ("large_eta", "large_epochs", "adam_lr", "adam_epochs")})
    out.update(conv_eta=c["eta"], conv_epochs=c["epochs"], conv_batch=c["task"].batch_size,
               conv_dt=c["task"].dt, conv_n_seeds=len(c["seeds"]), conv_N_min=min(c["Ns"]),
               conv_N_max=max(c["Ns"]), conv_time=c["eta"] * c["epochs"])
    return out


def gain_errors(deltas: Sequence[float]) -> dict[str, float]:
    """Largest errors of :func:`lrtools.theory.gain` against :func:`gain_reference`.

    Parameters
    ----------
    deltas : sequence of float
        Positive variances ``Delta`` at which to compare.

    Returns
    -------
    dict
        ``tanh_gain_error`` and ``tanh_dgain_error`` (the tanh gain and its
        derivative against the 30-digit quadrature) and ``erf_gain_error`` (the erf
        closed form against the quadrature), maxima of absolute differences.
    """
    deltas = np.asarray(deltas, dtype=np.float64)
    if deltas.ndim != 1 or deltas.size == 0 or not np.all(deltas > 0):
        raise ValueError(f"deltas must be a non-empty 1-d array of positive values, got {deltas}")
    g_tanh, dg_tanh = theory.gain(deltas, "tanh")
    ref = np.array([gain_reference(d, "tanh") for d in deltas])
    g_erf, _ = theory.gain(deltas, "erf")
    ref_erf = np.array([gain_reference(d, "erf")[0] for d in deltas])
    return {"tanh_gain_error": np.max(np.abs(g_tanh - ref[:, 0])),
            "tanh_dgain_error": np.max(np.abs(dg_tanh - ref[:, 1])),
            "erf_gain_error": np.max(np.abs(g_erf - ref_erf))}


def _escape(loss: np.ndarray, threshold: float) -> int:
    below = loss < threshold
    return int(np.argmax(below)) if np.any(below) else -1


def figure4_numbers(runs: Mapping[str, History], *, tail: int = 50,
                    threshold: float = 0.05) -> dict:
    """Key numbers of Figure 4 from :func:`flip_flop_runs`.

    Parameters
    ----------
    runs : mapping
        ``{"network", "exact", "direct"}`` histories (the network's with vector
        snapshots).
    tail : int
        Final losses are means over the last ``tail`` epochs.
    threshold : float
        The escape epoch is the first with a loss below ``threshold`` (-1: never).

    Returns
    -------
    dict
        ``fig4_overlap_error`` and ``fig4_final_overlap_error`` (network vs exact
        map, largest over training and at the end, relative to the largest
        overlap), ``fig4_loss_{sim,theory,direct}``, ``escape_sim``,
        ``escape_theory`` and the Gaussianity of the final entries:
        ``fig4_kurtosis_max`` (largest |excess kurtosis|), ``fig4_ks_max``,
        ``fig4_mardia`` with their Gaussian sampling spreads ``fig4_kurtosis_sd``,
        ``fig4_ks_typical``, ``fig4_mardia_sd``.
    """
    _require(runs, ("network", "exact", "direct"), "runs")
    sim, exact, direct = runs["network"], runs["exact"], runs["direct"]
    if sim.vectors is None:
        raise ValueError("the network history has no vector snapshots")
    scale = np.max(np.abs(exact.overlaps))
    g_end = gaussianity(sim.vectors[-1], sim.names)
    noise = g_end.noise()
    return {
        "fig4_overlap_error": np.max(np.abs(sim.overlaps - exact.overlaps)) / scale,
        "fig4_final_overlap_error": np.max(np.abs(sim.overlaps[-1] - exact.overlaps[-1])) / scale,
        "fig4_loss_sim": sim.loss[-tail:].mean(), "fig4_loss_theory": exact.loss[-tail:].mean(),
        "fig4_loss_direct": direct.loss[-tail:].mean(),
        "escape_sim": _escape(sim.loss, threshold), "escape_theory": _escape(exact.loss, threshold),
        "fig4_kurtosis_max": np.max(np.abs(g_end.excess_kurtosis)),
        "fig4_kurtosis_sd": noise["excess_kurtosis"], "fig4_ks_max": np.max(g_end.ks),
        "fig4_ks_typical": noise["ks"], "fig4_mardia": g_end.mardia,
        "fig4_mardia_sd": noise["mardia"],
    }


def figure8_numbers(data: Mapping, *, tail: int = 30) -> dict:
    """Key numbers of Figure 8 from :func:`figure8_data`.

    Parameters
    ----------
    data : mapping
        :func:`figure8_data` (``task``, ``histories``, ``closure`` and ``runs``).
    tail : int
        The first-order map's final loss is the mean over the last ``tail`` epochs.

    Returns
    -------
    dict
        ``fig8_<run>_<stat>`` for every run (``small``, ``large``, ``adam``) and
        every statistic of :func:`closure_summary`; ``fig8_large_exact_error`` and
        ``fig8_large_first_order_error`` (final overlaps of the large-step network
        against the exact and first-order maps, relative to the largest overlap of
        the small-step exact map, as in Figure 4) and ``fig8_large_loss_first_order``.
    """
    _require(data, ("task", "histories", "closure", "runs"), "figure 8 data")
    _require(data["runs"], ("small", "large"), "figure 8 runs")
    scale = np.max(np.abs(data["runs"]["small"]["exact"].overlaps))
    out = {}
    for key, h in data["histories"].items():
        row = closure_summary(h, data["task"], closure=data["closure"][key])
        out.update({f"fig8_{key}_{name}": v for name, v in row.items()})
    big = data["runs"]["large"]
    final = big["network"].overlaps[-1]
    out.update(
        fig8_large_exact_error=np.max(np.abs(final - big["exact"].overlaps[-1])) / scale,
        fig8_large_first_order_error=np.max(np.abs(final - big["first-order"].overlaps[-1]))
        / scale,
        fig8_large_loss_first_order=big["first-order"].loss[-tail:].mean())
    return out


def figure8_table(numbers: Mapping[str, float]) -> str:
    """A text table of :func:`figure8_numbers`: one row per run, then the large-step errors.

    Parameters
    ----------
    numbers : mapping
        The output of :func:`figure8_numbers` (runs without a ``fig8_<run>_loss``
        entry are skipped; the last line needs the ``fig8_large_*_error`` entries).

    Returns
    -------
    str
        The table, lines joined by newlines.
    """
    lines = [f"{'run':6s} {'loss':>8s} {'L_net - L_mf(S_net)':>20s} {'L_mf/L_net':>11s} "
             f"{'max|kurt|/sd':>13s} {'max KS/typ':>11s} {'Mardia/sd':>10s}"]
    runs = [k for k in ("small", "large", "adam") if f"fig8_{k}_loss" in numbers]
    if not runs:
        raise ValueError("numbers has no fig8_<run>_loss entry (small, large or adam)")
    for k in runs:
        r = {name: numbers[f"fig8_{k}_{name}"]
             for name in ("loss", "closure", "closure_ratio", "kurt", "ks", "mardia")}
        lines.append(f"{k:6s} {r['loss']:8.4f} {r['closure']:20.5f} {r['closure_ratio']:11.1f} "
                     f"{r['kurt']:13.1f} {r['ks']:11.1f} {r['mardia']:10.1f}")
    lines.append(f"large steps, final overlaps: network vs exact map "
                 f"{numbers['fig8_large_exact_error']:.3f}, vs first-order map "
                 f"{numbers['fig8_large_first_order_error']:.2f} (relative)")
    return "\n".join(lines)


def preconditioner_numbers(S: Overlaps) -> dict[str, int]:
    """How many columns of ``G(S)`` are active, and how many invisible overlaps they move.

    Parameters
    ----------
    S : Overlaps
        Overlaps (rank 1) at which ``G`` is evaluated.

    Returns
    -------
    dict
        ``G_active_linear`` and ``G_active_erf`` (the number of loss-visible
        overlaps, i.e. of columns a gradient can feed), ``G_inv_erf`` (invisible
        overlaps of the erf network) and ``G_inv_driven_erf`` (how many of them have
        a non-zero entry of ``G`` in an active column).
    """
    G, names = theory.preconditioner(S)
    driven = {}
    for phi in ("linear", "erf"):
        cols = [names.index(n) for n in S.visible(phi)]
        moved = np.any(np.abs(G[:, cols]) > 0, axis=1)
        inv = [names.index(n) for n in S.invisible(phi)]
        driven[phi] = (len(cols), int(moved[inv].sum()), len(inv))
    return {"G_active_linear": driven["linear"][0], "G_active_erf": driven["erf"][0],
            "G_inv_driven_erf": driven["erf"][1], "G_inv_erf": driven["erf"][2]}


def plot_figure11_nonlinear(S: Overlaps, phis: Sequence[str] = ("linear", "erf")):
    """Paper Figure 11 (right, with the linear case beside it): ``|G(S)|`` per nonlinearity.

    Parameters
    ----------
    S : Overlaps
        Overlaps at which ``G`` is drawn (chapter 2: the trained ones).
    phis : sequence of str
        One panel per nonlinearity (:func:`plot_preconditioners`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(phis), figsize=(11, 4.6), squeeze=False)
    plot_preconditioners(axes[0], S, tuple(phis))
    return fig


def convergence_runs(S0: Overlaps, settings: Mapping, *,
                     workers: int = 2) -> dict[str, Convergence]:
    """Chapter 2's convergence studies, cached: erf plain and projected descent, and tanh.

    Parameters
    ----------
    S0 : Overlaps
        Initial overlaps.
    settings : mapping
        :func:`convergence_settings`.
    workers : int
        Processes of the :func:`process_executor` (0: serially in this process;
        results do not depend on it).

    Returns
    -------
    dict
        ``plain``, ``projected`` (erf, :func:`convergence_study` with
        ``projected=False/True``, cache ``"ch2-convergence"``) and ``tanh``
        (plain descent at ``tanh_Ns``, ``tanh_seeds``, cache
        ``"ch2-convergence-tanh"``).
    """
    _require(settings, ("Ns", "seeds", "task", "eta", "epochs", "tanh_Ns", "tanh_seeds"),
             "convergence settings")
    if int(workers) != workers or workers < 0:
        raise ValueError(f"workers must be a non-negative integer, got {workers}")
    c = settings

    def run(executor):
        out = {("projected" if proj else "plain"): convergence_study(
            S0, c["task"], c["Ns"], c["seeds"], c["epochs"], c["eta"], "erf", projected=proj,
            executor=executor, cache="ch2-convergence") for proj in (False, True)}
        out["tanh"] = convergence_study(S0, c["task"], c["tanh_Ns"], c["tanh_seeds"], c["epochs"],
                                        c["eta"], "tanh", executor=executor,
                                        cache="ch2-convergence-tanh")
        return out

    if workers == 0:
        return run(None)
    with process_executor(int(workers)) as pool:
        return run(pool)


def convergence_fits(plain: Convergence, projected: Convergence
                     ) -> tuple[dict[str, PowerLaw], dict[str, dict[str, float]]]:
    """Power laws and floors of the overlap and loss errors, plain and projected descent.

    Parameters
    ----------
    plain, projected : Convergence
        :func:`convergence_study` without and with the projection.

    Returns
    -------
    fits : dict
        :func:`fit_power_law` of the overlap errors (``plain``, ``proj``) and of the
        final loss differences (``plain_loss``, ``proj_loss``).
    floors : dict
        :func:`fit_floor` of the overlap errors (``plain``, ``proj``).
    """
    fits, floors = {}, {}
    for tag, c in (("plain", plain), ("proj", projected)):
        fits[tag] = fit_power_law(c.Ns, c.overlap_error)
        fits[tag + "_loss"] = fit_power_law(c.Ns, c.loss_error)
        floors[tag] = fit_floor(c.Ns, c.overlap_error)
    return fits, floors


def convergence_numbers(plain: Convergence, projected: Convergence,
                        fits: Mapping[str, PowerLaw], floors: Mapping[str, Mapping]) -> dict:
    """Key numbers of the convergence study from :func:`convergence_fits`.

    Parameters
    ----------
    plain, projected : Convergence
        :func:`convergence_study` without and with the projection.
    fits, floors : mapping
        :func:`convergence_fits` of the two.

    Returns
    -------
    dict
        For ``tag`` in ``plain``, ``proj``: ``slope_<tag>`` with its interval
        ``slope_<tag>_lo/_hi``, the same for the loss (``slope_<tag>_loss...``),
        the floor ``floor_<tag>`` with ``floor_<tag>_lo/_hi``, the mean overlap error
        at the largest and smallest ``N`` (``err_<tag>_Nmax``, ``err_<tag>_Nmin``);
        and ``crossover_plain``, the size at which the sampling term of plain
        descent falls below its floor (``1e9`` when there is no floor).
    """
    _require(fits, ("plain", "plain_loss", "proj", "proj_loss"), "fits")
    _require(floors, ("plain", "proj"), "floors")
    out = {}
    for tag, c in (("plain", plain), ("proj", projected)):
        f, fl, floor = fits[tag], fits[tag + "_loss"], floors[tag]
        out.update({f"slope_{tag}": f.slope, f"slope_{tag}_lo": f.ci[0], f"slope_{tag}_hi": f.ci[1],
                    f"slope_{tag}_loss": fl.slope, f"slope_{tag}_loss_lo": fl.ci[0],
                    f"slope_{tag}_loss_hi": fl.ci[1],
                    f"floor_{tag}": floor["b"], f"floor_{tag}_lo": floor["b_ci"][0],
                    f"floor_{tag}_hi": floor["b_ci"][1],
                    f"err_{tag}_Nmax": np.mean(c.overlap_error[-1]),
                    f"err_{tag}_Nmin": np.mean(c.overlap_error[0])})
    out["crossover_plain"] = min(floors["plain"]["crossover_N"], 1e9)  # inf without a floor
    return out


def plot_convergence_study(plain: Convergence, projected: Convergence,
                           fits: Mapping[str, PowerLaw], floors: Mapping[str, Mapping]):
    """Chapter 2's convergence figure: error against N, and along training.

    (a) Largest overlap error over training against ``N`` for plain and
    projected descent, with the projected power law and the plain
    ``sqrt(a^2 / N + b^2)`` fit; (b) final loss difference against ``N``; (c) the
    overlap error along training, mean over seeds, one colour per ``N``.

    Parameters
    ----------
    plain, projected : Convergence
        :func:`convergence_study` without and with the projection (same ``Ns``).
    fits, floors : mapping
        :func:`convergence_fits`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if not np.array_equal(plain.Ns, projected.Ns):
        raise ValueError(f"plain and projected runs have different N: {plain.Ns} vs {projected.Ns}")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    Ns = plain.Ns
    f = floors["plain"]

    def floor_fn(n):
        return np.sqrt(f["a"] ** 2 / n + f["b"] ** 2)

    plot_convergence(
        axes[0], Ns, {"gradient descent": plain.overlap_error,
                      "projected on the Gaussian family": projected.overlap_error},
        fits={f"fit $N^{{{fits['proj'].slope:.2f}}}$ (projected)": fits["proj"],
              "fit $\\sqrt{a^2/N + b^2}$ (plain)": floor_fn})
    axes[0].set_title("(a) max over training of the overlap error")
    plot_convergence(axes[1], Ns, {"gradient descent": plain.loss_error,
                                   "projected": projected.loss_error},
                     ylabel="final loss difference")
    axes[1].set_title("(b) $|L_N - L_\\mathrm{theory}|$ at the last epoch")
    ax = axes[2]
    cols = plt.cm.viridis(np.linspace(0, 0.9, len(Ns)))
    ep = np.arange(1, plain.error_curves.shape[2])  # epoch 0 is exact (prescribed overlaps)
    for i, n in enumerate(Ns):
        ax.plot(ep, plain.error_curves[i, :, 1:].mean(axis=0), color=cols[i], lw=1.6,
                label=f"N={n}")
        ax.plot(ep, projected.error_curves[i, :, 1:].mean(axis=0), color=cols[i], lw=1.0,
                ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("overlap error (mean over seeds)")
    ax.set_title("(c) solid: descent, dashed: projected")
    ax.legend(fontsize="x-small")
    return fig


def plot_departure_study(conv: Convergence):
    """Chapter 2's departure figure: update outside the span and closure defect against N.

    (a) :func:`departure` of every vector after training (solid) and at the start
    (dotted); (b) :func:`closure_defect` of the trained networks and of Gaussian
    vectors with the same overlaps.

    Parameters
    ----------
    conv : Convergence
        :func:`convergence_study` (plain descent).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .plotting import PALETTE

    c, Ns = conv, conv.Ns
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    plot_departure(axes[0], Ns, {f"${n}$": c.departure[:, :, 1, i] for i, n in enumerate("muvz")})
    for i in range(4):
        axes[0].plot(Ns, c.departure[:, :, 0, i].mean(axis=1), ":", color=PALETTE[i], lw=1.2)
    axes[0].set_title("(a) update outside span (dotted: initial)")
    axes[0].legend(fontsize="small", ncol=4, loc="upper center", bbox_to_anchor=(0.5, 0.93))
    plot_departure(axes[1], Ns, {"trained vectors": c.closure[:, :, 0],
                                 "Gaussian vectors, same $S$": c.closure[:, :, 1]},
                   ylabel="$L_N - L_\\mathrm{theory}(S)$", zero_line=True)
    axes[1].set_title("(b) closure defect on a held-out batch")
    return fig


def departure_numbers(conv: Convergence) -> dict:
    """Key numbers of the departure from the Gaussian family (plain descent).

    Parameters
    ----------
    conv : Convergence
        :func:`convergence_study` (plain descent).

    Returns
    -------
    dict
        ``departure_u_final`` and ``departure_u_initial`` (mean fraction of the
        update of ``u`` outside the span); for the closure defect of the trained
        networks (``closure_trained``) and of Gaussian vectors with the same
        overlaps (``closure_gauss``): the mean over all sizes and seeds, its
        standard deviation (``_sd``), the fraction of negative runs
        (``_negative``) and the power-law slope of its magnitude with interval
        (``_slope``, ``_slope_lo``, ``_slope_hi``); ``mardia_final_max``, the
        largest seed-averaged |Mardia excess| after training in units of its
        Gaussian sampling spread ``sqrt(8 k (k + 2) / N)``.
    """
    c, Ns = conv, conv.Ns
    k = c.departure.shape[-1]
    gauss_fit = fit_power_law(Ns, np.abs(c.closure[:, :, 1]))
    trained_fit = fit_power_law(Ns, np.abs(c.closure[:, :, 0]))
    return {
        "departure_u_final": c.departure[:, :, 1, 1].mean(),
        "departure_u_initial": c.departure[:, :, 0, 1].mean(),
        "closure_trained": c.closure[:, :, 0].mean(),
        "closure_trained_sd": c.closure[:, :, 0].std(),
        "closure_trained_negative": np.mean(c.closure[:, :, 0] < 0),
        "closure_gauss_negative": np.mean(c.closure[:, :, 1] < 0),
        "closure_gauss": c.closure[:, :, 1].mean(), "closure_gauss_sd": c.closure[:, :, 1].std(),
        "closure_gauss_slope": gauss_fit.slope, "closure_gauss_slope_lo": gauss_fit.ci[0],
        "closure_gauss_slope_hi": gauss_fit.ci[1], "closure_trained_slope": trained_fit.slope,
        "closure_trained_slope_lo": trained_fit.ci[0],
        "closure_trained_slope_hi": trained_fit.ci[1],
        "mardia_final_max": np.max(np.abs(c.mardia[:, :, 1].mean(axis=1))
                                   / np.sqrt(8 * k * (k + 2) / Ns)),
    }


def _erf_rows(tanh: Convergence, erf: Convergence) -> list[int]:
    known = [int(n) for n in erf.Ns]
    missing = [int(n) for n in tanh.Ns if int(n) not in known]
    if missing:
        raise ValueError(f"tanh sizes {missing} are not among the erf sizes {known}")
    if len(tanh.seeds) > len(erf.seeds):
        raise ValueError(f"the tanh study has {len(tanh.seeds)} seeds, "
                         f"the erf one only {len(erf.seeds)}")
    return [known.index(int(n)) for n in tanh.Ns]


def plot_tanh_study(tanh: Convergence, erf: Convergence, S0: Overlaps, eta: float):
    """Chapter 2's tanh figure: overlaps of the largest tanh network, and errors against N.

    (a) Visible overlaps of the tanh network at the largest ``N`` (first seed)
    with the tanh theory dashed; (b) largest overlap error for tanh and for erf at
    the same sizes and seeds.

    Parameters
    ----------
    tanh, erf : Convergence
        :func:`convergence_study` with ``phi="tanh"`` and ``"erf"`` (plain
        descent); every tanh size must be among the erf sizes.
    S0 : Overlaps
        The initial overlaps of both studies (names and visible overlaps).
    eta : float
        Learning rate (the histories' learning time).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .plotting import plot_overlaps

    ct = tanh
    rows = _erf_rows(ct, erf)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    i_big = len(ct.Ns) - 1
    time = eta * np.arange(ct.net_loss.shape[-1] + 1)
    hist_net = History(loss=ct.net_loss[i_big, 0], overlaps=ct.net_overlaps[i_big, 0],
                       names=S0.names, time=time)
    hist_th = History(loss=ct.theory_loss[0], overlaps=ct.theory_overlaps[0], names=S0.names,
                      time=time)
    plot_overlaps(axes[0], hist_net, S0.visible("tanh"), theory=hist_th, phi="tanh")
    axes[0].set_title(f"(a) tanh, N = {ct.Ns[i_big]}: network (thick), theory (dashed)")
    plot_convergence(axes[1], ct.Ns, {"tanh": ct.overlap_error,
                                      "erf": erf.overlap_error[rows, :len(ct.seeds)]})
    axes[1].set_title("(b) max overlap error, gradient descent")
    return fig


def tanh_numbers(tanh: Convergence, erf: Convergence) -> dict:
    """Key numbers of the tanh comparison.

    Parameters
    ----------
    tanh, erf : Convergence
        As in :func:`plot_tanh_study`.

    Returns
    -------
    dict
        Mean largest overlap error at the smallest and largest tanh size for tanh
        (``tanh_err_small``, ``tanh_err_large``) and erf at the same sizes and
        seeds (``erf_err_small``, ``erf_err_large``), the sizes ``tanh_N_small``,
        ``tanh_N_large`` and the theory's final tanh loss ``tanh_loss_final``.
    """
    rows = _erf_rows(tanh, erf)
    erf_same = erf.overlap_error[rows, :len(tanh.seeds)]
    return {"tanh_err_small": tanh.overlap_error[0].mean(),
            "tanh_err_large": tanh.overlap_error[-1].mean(),
            "erf_err_small": erf_same[0].mean(), "erf_err_large": erf_same[-1].mean(),
            "tanh_N_small": tanh.Ns[0], "tanh_N_large": tanh.Ns[-1],
            "tanh_loss_final": tanh.theory_loss[0, -1]}
