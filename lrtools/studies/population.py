"""Chapter 2 studies beyond the paper: the exact large-N limit of nonlinear learning.

The Gaussian theory closes the network's averages with Stein's lemma, which
assumes Gaussian rows ``(m_i, u_i, v_i, z_i)``. Gradient descent moves each row
by a nonlinear function of itself, so the rows leave the Gaussian family, and
the true ``N -> infinity`` limit is the population of rows
(:mod:`lrtools.population`). These studies measure

* :class:`LimitSettings`, :func:`limit_runs`: the network at ``N`` from 250 to
  16000 against the population limit (which it approaches like ``N^-1/2``) and
  against the Gaussian theory (whose distance levels off at a floor); along the
  population run, what the closure assumes and what fails (row cumulants, the
  Stein values of the drive and the output, the out-of-span part of each step);
* :class:`GaussianErrorSettings`, :func:`gaussian_error_runs`: the Gaussian
  theory's error in the limit, ``b(tau)``, over learning time for several step
  sizes at fixed learning time, erf and tanh;
* :class:`TrustSettings`, :func:`trust_runs`: where the Gaussian theory can be
  trusted, as a map over the size of the overlaps and the learning time;
* :func:`population_figure_runs`: the population limit next to the network and
  the Gaussian theory for paper Figures 4 and 8.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import theory
from .._parallel import run_jobs
from ..cache import cached_run
from ..closure import common_rows, out_of_span, row_cumulants, stein_gap
from ..fits import fit_floor, fit_power_law, loglog_slope, step_extrapolation
from ..history import History
from ..network import LowRankRNN
from ..overlaps import Overlaps
from ..population import population_nodes
from ..tasks import FlipFlop
from ..training import train
from . import Settings
from .nonlinear import CONVERGENCE_START, FlipFlopSettings

__all__ = [
    "LimitSettings",
    "GaussianErrorSettings",
    "TrustSettings",
    "limit_runs",
    "gaussian_error_runs",
    "trust_runs",
    "population_figure_runs",
    "with_population",
    "figure_population_numbers",
    "limit_numbers",
    "gaussian_error_numbers",
    "failure_numbers",
    "trust_numbers",
]


def _start(start: tuple[tuple[str, float], ...], scale: float = 1.0) -> Overlaps:
    return Overlaps(scale * np.eye(4)).replace(**{k: scale * v for k, v in start})


@dataclass(frozen=True, kw_only=True)
class LimitSettings(Settings):
    """The network against the population limit and the Gaussian theory.

    The convergence setting of chapter 2 (flip-flop, ``dt = 0.1``, ``T = 20``,
    batch 4, ``eta = 0.1``, 50 epochs, erf) from the start :data:`CONVERGENCE_START`.
    Every run sees the same batches (seed ``batch_seed``), and the networks of one
    seed share their random numbers across ``N``
    (:func:`lrtools.closure.common_rows`), so the differences are the sampling of
    the rows alone.

    Parameters
    ----------
    Ns, seeds : tuple of int
        Network sizes and independent draws of the rows.
    task : FlipFlop
        Training task.
    eta, epochs : float, int
        Rate and number of updates.
    nodes : int
        Gauss-Hermite nodes per dimension of the population limit (``nodes**4``).
    check_nodes : int
        A smaller population, to show the limit has converged in the nodes.
    batch_seed : int
        Seed of the batches.
    phi : str
        Nonlinearity.
    start : tuple of (str, float)
        Initial overlaps besides unit norms.
    snapshot_every : int
        Epochs between the population's recorded states (moments, Stein gaps).
    figure_nodes : int
        Nodes per dimension of the population drawn in paper Figures 4 and 8
        (:func:`population_figure_runs`).
    """

    Ns: tuple[int, ...] = (250, 500, 1000, 2000, 4000, 8000, 16000)
    seeds: tuple[int, ...] = tuple(range(8))
    task: FlipFlop = FlipFlop(dt=0.1, t_max=20.0, batch_size=4)
    eta: float = 0.1
    epochs: int = 50
    nodes: int = 12
    check_nodes: int = 9
    batch_seed: int = 0
    phi: str = "erf"
    start: tuple[tuple[str, float], ...] = CONVERGENCE_START
    snapshot_every: int = 5
    figure_nodes: int = 5

    @classmethod
    def fast(cls) -> LimitSettings:
        """``N`` from 250 to 1000, 3 seeds, 7 nodes per dimension (4 for the figures)."""
        return cls(Ns=(250, 500, 1000), seeds=(0, 1, 2), nodes=7, check_nodes=5,
                   figure_nodes=4)

    def start_overlaps(self) -> Overlaps:
        """The initial overlaps."""
        return _start(self.start)


def _limit_job(X: np.ndarray, settings: LimitSettings, pop: np.ndarray,
               gauss: np.ndarray) -> dict[str, float]:
    # one (N, seed) network: its largest distance to the population and to the theory
    s = settings
    net = LowRankRNN(X, phi=s.phi)
    h = train(net, s.task, s.epochs, s.eta, seed=s.batch_seed, progress=False)
    return {"population": float(np.max(np.abs(h.overlaps - pop))),
            "gaussian": float(np.max(np.abs(h.overlaps - gauss))),
            "final_population": float(np.max(np.abs(h.overlaps[-1] - pop[-1]))),
            "final_gaussian": float(np.max(np.abs(h.overlaps[-1] - gauss[-1])))}


@cached_run("ch2-limit")
def limit_runs(settings: LimitSettings, *, executor: concurrent.futures.Executor | None = None,
               progress: bool | None = None) -> dict[str, np.ndarray]:
    """The network, the population limit and the Gaussian theory from the same start (cached).

    Returns
    -------
    dict
        ``population``, ``gaussian`` (overlaps ``(epochs + 1, 4, 4)``), their losses,
        ``population_check`` (the smaller population), ``error_population`` and
        ``error_gaussian`` ``(len(Ns), len(seeds))`` (largest entrywise distance of
        the network's overlaps over training), the same at the end
        (``final_error_*``), and, at the population's recorded epochs ``epoch``,
        the row cumulants, Stein gaps and out-of-span parts (``excess_kurtosis``,
        ``max_cumulant``, ``stein_drive``, ``stein_output``, ``span_fraction``,
        ``span_first``, ``span_second``) with the same for a network of the
        largest ``N`` (``net_*``).
    """
    s = settings
    S0 = s.start_overlaps()
    X, w, _ = population_nodes(S0, s.nodes)
    pnet = LowRankRNN(X, phi=s.phi, row_weights=w)
    pop = train(pnet.copy(), s.task, s.epochs, s.eta, seed=s.batch_seed,
                snapshot_every=s.snapshot_every, progress=progress)
    check = theory.learn(S0, s.task, s.epochs, s.eta, s.phi, seed=s.batch_seed,
                         closure="population", nodes=s.check_nodes, progress=progress)
    gauss = theory.learn(S0, s.task, s.epochs, s.eta, s.phi, seed=s.batch_seed,
                         progress=progress)
    rows = {seed: common_rows(S0, s.Ns, seed) for seed in s.seeds}
    jobs = [(rows[seed][N], s, pop.overlaps, gauss.overlaps) for seed in s.seeds for N in s.Ns]
    res = run_jobs(_limit_job, jobs, executor)
    shape = (len(s.seeds), len(s.Ns))
    out = {"population": pop.overlaps, "population_loss": pop.loss,
           "population_check": check.overlaps, "gaussian": gauss.overlaps,
           "gaussian_loss": gauss.loss}
    for key in ("population", "gaussian", "final_population", "final_gaussian"):
        out[f"{'error' if not key.startswith('final') else 'final_error'}_"
            f"{key.removeprefix('final_')}"] = np.array([r[key] for r in res]).reshape(shape).T
    # what fails, along the population run and along the largest network
    probe = s.task.sample(np.random.default_rng([s.batch_seed, 101]))
    pw = s.task.loss_weights(probe[2])
    big = LowRankRNN(rows[s.seeds[0]][max(s.Ns)], phi=s.phi)
    big_hist = train(big.copy(), s.task, s.epochs, s.eta, seed=s.batch_seed,
                     snapshot_every=s.snapshot_every, progress=False)
    for prefix, hist, weights in (("", pop, w), ("net_", big_hist, None)):
        rows = {k: [] for k in ("excess_kurtosis", "max_cumulant", "stein_drive",
                                "stein_output", "span_fraction", "span_first", "span_second")}
        for Xs in hist.vectors:
            net = LowRankRNN(Xs, phi=s.phi, row_weights=weights)
            cum, gap = row_cumulants(net), stein_gap(net, probe[0], s.task.dt)
            span = out_of_span(net, probe, pw, s.task.dt)
            rows["excess_kurtosis"].append(cum["excess_kurtosis"])
            rows["max_cumulant"].append(cum["max_cumulant"])
            rows["stein_drive"].append(gap["drive"])
            rows["stein_output"].append(gap["output"])
            rows["span_fraction"].append(span["fraction"])
            rows["span_first"].append(span["first"])
            rows["span_second"].append(span["second"])
        out.update({prefix + k: np.array(v) for k, v in rows.items()})
    out["epoch"] = pop.vector_epochs
    return out


@dataclass(frozen=True, kw_only=True)
class GaussianErrorSettings(Settings):
    """The Gaussian theory's error in the limit, ``b(tau)``, over learning time and step size.

    Parameters
    ----------
    etas : tuple of float
        Step sizes, each run to the same learning time ``tau_max``.
    tau_max : float
        Learning time ``eta * epochs``.
    phis : tuple of str
        Nonlinearities.
    nodes : int
        Nodes per dimension of the population.
    task, start, batch_seed
        As in :class:`LimitSettings`.
    n_points : int
        Points of the recorded curves in ``tau``.
    """

    etas: tuple[float, ...] = (0.1, 0.05, 0.025, 0.0125)
    tau_max: float = 20.0
    phis: tuple[str, ...] = ("erf", "tanh")
    nodes: int = 8
    task: FlipFlop = FlipFlop(dt=0.1, t_max=20.0, batch_size=4)
    start: tuple[tuple[str, float], ...] = CONVERGENCE_START
    batch_seed: int = 0
    n_points: int = 41

    @classmethod
    def fast(cls) -> GaussianErrorSettings:
        """Two step sizes to ``tau = 5``, 5 nodes per dimension."""
        return cls(etas=(0.1, 0.05), tau_max=5.0, nodes=5, n_points=21)


@cached_run("ch2-gaussian-error")
def gaussian_error_runs(settings: GaussianErrorSettings, *,
                        progress: bool | None = None) -> dict[str, np.ndarray]:
    """``b(tau)``: the Gaussian theory against the population limit (cached).

    Returns
    -------
    dict
        ``tau (n_points,)`` and ``error (len(phis), len(etas), n_points)``, the
        largest entrywise distance of the two overlap trajectories up to ``tau``
        (a running maximum), and ``final (len(phis), len(etas))`` at ``tau_max``.
    """
    s = settings
    S0 = _start(s.start)
    tau = np.linspace(0.0, s.tau_max, s.n_points)
    err = np.empty((len(s.phis), len(s.etas), s.n_points))
    for i, phi in enumerate(s.phis):
        for j, eta in enumerate(s.etas):
            epochs = int(round(s.tau_max / eta))
            pop = theory.learn(S0, s.task, epochs, eta, phi, seed=s.batch_seed,
                               closure="population", nodes=s.nodes, progress=progress)
            gauss = theory.learn(S0, s.task, epochs, eta, phi, seed=s.batch_seed)
            d = np.maximum.accumulate(np.max(np.abs(pop.overlaps - gauss.overlaps), axis=(1, 2)))
            err[i, j] = np.interp(tau, eta * np.arange(epochs + 1), d)
    return {"tau": tau, "error": err, "final": err[:, :, -1],
            "etas": np.array(s.etas), "phis": np.array(s.phis)}


@dataclass(frozen=True, kw_only=True)
class TrustSettings(Settings):
    """Where to trust the Gaussian theory: its error over overlap size and learning time.

    The start :data:`CONVERGENCE_START` with every overlap (norms included)
    multiplied by ``scale``; the Gaussian theory against the population limit up
    to ``tau_max``.

    Parameters
    ----------
    scales : tuple of float
        Factors on the start's overlaps (small overlaps: weakly nonlinear).
    taus : tuple of float
        Learning times at which the error is read.
    eta, nodes, task, start, batch_seed, phi
        As in :class:`LimitSettings`.
    """

    scales: tuple[float, ...] = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0)
    taus: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0)
    eta: float = 0.1
    nodes: int = 7
    task: FlipFlop = FlipFlop(dt=0.1, t_max=20.0, batch_size=4)
    start: tuple[tuple[str, float], ...] = CONVERGENCE_START
    batch_seed: int = 0
    phi: str = "erf"

    @classmethod
    def fast(cls) -> TrustSettings:
        """Three scales, learning time up to 2, 5 nodes per dimension."""
        return cls(scales=(0.25, 1.0, 4.0), taus=(0.5, 1.0, 2.0), nodes=5)


@cached_run("ch2-trust")
def trust_runs(settings: TrustSettings, *, progress: bool | None = None) -> dict[str, np.ndarray]:
    """The Gaussian theory's error on a grid of overlap sizes and learning times (cached).

    Returns
    -------
    dict
        ``error (len(scales), len(taus))``: the largest entrywise distance to the
        population limit up to each learning time, relative to the largest
        overlap of the start; ``scales``, ``taus``.
    """
    s = settings
    epochs = int(round(max(s.taus) / s.eta))
    err = np.empty((len(s.scales), len(s.taus)))
    for i, scale in enumerate(s.scales):
        S0 = _start(s.start, scale)
        pop = theory.learn(S0, s.task, epochs, s.eta, s.phi, seed=s.batch_seed,
                           closure="population", nodes=s.nodes, progress=progress)
        gauss = theory.learn(S0, s.task, epochs, s.eta, s.phi, seed=s.batch_seed)
        d = np.maximum.accumulate(np.max(np.abs(pop.overlaps - gauss.overlaps), axis=(1, 2)))
        err[i] = np.interp(s.taus, s.eta * np.arange(epochs + 1), d) / np.max(np.abs(S0.matrix))
    return {"error": err, "scales": np.array(s.scales), "taus": np.array(s.taus)}


def _histories(runs: Mapping[str, History]) -> dict[str, np.ndarray]:
    out = {"runs": np.array(list(runs))}
    for k, h in runs.items():
        out.update(h.to_arrays(f"{k}/"))
    return out


@cached_run("ch2-population-figures",
            decode=lambda d: {str(k): History.from_arrays(d, f"{k}/") for k in d["runs"]})
def _population_figure_runs(settings: FlipFlopSettings, nodes: int = 5, *,
                            progress: bool | None = None) -> dict[str, np.ndarray]:
    s = settings
    S0 = s.network().overlaps()
    kw = {"seed": s.seed, "closure": "population", "nodes": nodes, "progress": progress}
    return _histories({
        "small": theory.learn(S0, s.task, s.epochs, s.eta, "erf", **kw),
        "large": theory.learn(S0, s.task, s.large_epochs, s.large_eta, "erf", **kw),
        "adam": theory.learn(S0, s.task, s.adam_epochs, s.adam_lr, "erf", optimizer="adam",
                             **kw),
    })


def population_figure_runs(settings: FlipFlopSettings, *, nodes: int = 5,
                           progress: bool | None = None) -> dict[str, History]:
    """The population limit for paper Figures 4 and 8 from the network's start (cached).

    ``small`` (Figure 4's descent), ``large`` (large-step descent) and ``adam``
    (Adam, each node keeping its own moments), on the same batches as the network.
    """
    return _population_figure_runs(settings, nodes, progress=progress)


def with_population(figure8: Mapping, population: Mapping[str, History]) -> dict:
    """Figure 8's overlap theories with the population limit added to every panel."""
    theories = {k: dict(v) for k, v in figure8["theories"].items()}
    for key, hist in population.items():
        theories.setdefault(key, {})["population limit"] = hist
    return theories


# ---------------------------------------------------------------------------
# Key numbers
# ---------------------------------------------------------------------------


def figure_population_numbers(figure8: Mapping, population: Mapping[str, History]) -> dict:
    """The networks of Figures 4 and 8 against the population limit and the Gaussian theory.

    For each run (``small``: Figure 4's descent, ``large``, ``adam``):
    ``popfig_<run>_pop`` is the largest entrywise distance of the network's
    overlaps to the population limit over training, ``popfig_<run>_gauss`` to the
    Gaussian theory's exact map (none for Adam), and ``popfig_<run>_loss`` the
    ratio of the population's final loss to the network's.
    """
    out = {}
    for key, net in figure8["histories"].items():
        pop = population[key]
        out[f"popfig_{key}_pop"] = float(np.max(np.abs(net.overlaps - pop.overlaps)))
        out[f"popfig_{key}_loss"] = float(pop.loss[-1] / net.loss[-1])
        exact = figure8["theories"].get(key, {})
        exact = exact.get("overlap map", exact.get("exact map"))
        if exact is not None:
            out[f"popfig_{key}_gauss"] = float(np.max(np.abs(net.overlaps - exact.overlaps)))
    return out


def limit_numbers(runs: Mapping[str, np.ndarray], settings: LimitSettings) -> dict:
    """The network's convergence to the population limit, and the Gaussian floor.

    ``limit_slope`` (with ``limit_slope_lo``, ``limit_slope_hi``, its 95% interval
    over the (N, seed) points) of the distance to the population against ``N``;
    ``gauss_floor`` (with its interval) and ``gauss_slope``: the fit
    ``err^2 = a^2 / N + b^2`` of the distance to the Gaussian theory and its
    log-log slope; ``limit_half`` ("includes" or "excludes": whether the slope's
    interval contains -1/2) and ``gauss_floor_zero`` (whether the floor's interval
    contains zero); the mean distances at the largest ``N``; ``pop_vs_gauss``, the
    population's own distance to the Gaussian theory; ``node_error``, the
    population against a smaller one; the sizes and counts.
    """
    s = settings
    ep, eg = np.asarray(runs["error_population"]), np.asarray(runs["error_gaussian"])
    fit = fit_power_law(s.Ns, ep)
    floor = fit_floor(s.Ns, eg)
    return {
        "limit_slope": fit.slope, "limit_slope_lo": fit.ci[0], "limit_slope_hi": fit.ci[1],
        "gauss_slope": loglog_slope(s.Ns, eg.mean(axis=1)),
        "gauss_floor": floor["b"], "gauss_floor_lo": floor["b_ci"][0],
        "gauss_floor_hi": floor["b_ci"][1],
        "limit_err_Nmax": float(ep[-1].mean()), "gauss_err_Nmax": float(eg[-1].mean()),
        "limit_err_Nmin": float(ep[0].mean()), "gauss_err_Nmin": float(eg[0].mean()),
        "pop_vs_gauss": float(np.max(np.abs(runs["population"] - runs["gaussian"]))),
        "node_error": float(np.max(np.abs(runs["population"] - runs["population_check"]))),
        "limit_half": "includes" if fit.ci[0] <= -0.5 <= fit.ci[1] else "excludes",
        "gauss_floor_zero": "excludes" if floor["b_ci"][0] > 0 else "includes",
        "limit_N_min": min(s.Ns), "limit_N_max": max(s.Ns), "limit_n_seeds": len(s.seeds),
        "limit_nodes": s.nodes, "limit_n_nodes": s.nodes**4, "limit_check_nodes": s.check_nodes,
    }


def failure_numbers(runs: Mapping[str, np.ndarray]) -> dict:
    """What the closure assumes, at the start and the end of the population run.

    Row cumulants (``kurtosis_end``, ``cumulant_end``), the Stein gaps of the
    recurrent drive and the output (``stein_drive_start``, ``stein_drive_end``,
    ``stein_output_end``), the out-of-span fraction of the step (``span_start``,
    ``span_end``, the largest over vectors) and the ratio of the out-of-span
    second-order term to the first-order change (``span_ratio_end``), with the
    network of the largest ``N`` beside them (``net_*``).
    """
    out = {}
    for p in ("", "net_"):
        out.update({
            f"{p}kurtosis_end": float(runs[p + "excess_kurtosis"][-1]),
            f"{p}cumulant_end": float(runs[p + "max_cumulant"][-1]),
            f"{p}stein_drive_start": float(runs[p + "stein_drive"][0]),
            f"{p}stein_drive_end": float(runs[p + "stein_drive"][-1]),
            f"{p}stein_output_end": float(runs[p + "stein_output"][-1]),
            f"{p}span_start": float(np.max(runs[p + "span_fraction"][0])),
            f"{p}span_end": float(np.max(runs[p + "span_fraction"][-1])),
            f"{p}span_ratio_end": float(runs[p + "span_second"][-1] / runs[p + "span_first"][-1]),
        })
    out["kurtosis_start"] = float(runs["excess_kurtosis"][0])
    return out


def gaussian_error_numbers(runs: Mapping[str, np.ndarray], settings: GaussianErrorSettings,
                           tau: float = 5.0) -> dict:
    """``b(tau)`` at ``tau`` for each nonlinearity and step size, and its ``eta -> 0`` part.

    ``b_<phi>_<i>`` is the error at ``tau`` for ``etas[i]``; a straight-line fit in
    ``eta`` gives the part that remains as ``eta -> 0`` (``b0_<phi>``, the
    intercept) and the part proportional to ``eta`` (``b_slope_<phi>``);
    ``b_share_<phi>`` is the intercept's share of the error at the largest step;
    ``b_tau`` the learning time read, ``b_final_<phi>_<i>`` the error at ``tau_max``.
    """
    s = settings
    t = np.asarray(runs["tau"])
    if not t[0] <= tau <= t[-1]:
        tau = float(t[-1])
    out = {"b_tau": float(tau), "b_tau_max": float(s.tau_max)}
    etas = np.asarray(s.etas)
    for i, phi in enumerate(s.phis):
        b = np.array([np.interp(tau, t, runs["error"][i, j]) for j in range(len(etas))])
        for j in range(len(etas)):
            out[f"b_{phi}_{j}"] = float(b[j])
            out[f"b_final_{phi}_{j}"] = float(runs["final"][i, j])
        slope, intercept = step_extrapolation(etas, b)
        out[f"b0_{phi}"] = float(intercept)
        out[f"b_slope_{phi}"] = float(slope)
        out[f"b_share_{phi}"] = float(intercept / b[np.argmax(etas)])
    return out


def trust_numbers(runs: Mapping[str, np.ndarray], tolerance: float = 0.01) -> dict:
    """The largest learning time at which the Gaussian theory stays within ``tolerance``.

    ``trust_tau_<i>`` for each scale ``i`` (relative error, 0 if never), the error
    at the smallest and largest scale at the longest time, and ``trust_tolerance``.
    """
    err, taus = np.asarray(runs["error"]), np.asarray(runs["taus"])
    out = {"trust_tolerance": tolerance, "trust_small": float(err[0, -1]),
           "trust_large": float(err[-1, -1]), "trust_tau_max": float(taus[-1])}
    for i in range(err.shape[0]):
        ok = err[i] <= tolerance
        out[f"trust_tau_{i}"] = float(taus[ok].max()) if ok.any() else 0.0
    return out
