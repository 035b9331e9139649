"""Chapter 2 studies: the nonlinear Gaussian limit, where the overlap map is a closure.

* :class:`FlipFlopSettings`, :func:`flip_flop_runs`: paper Figure 4, an erf network
  on the flip-flop next to the exact map and descent on the overlaps without ``G``;
* :func:`optimizer_runs`, :func:`figure8_data`: paper Figure 8, large-step descent
  and Adam from the same network, with the Gaussian-limit loss at the network's
  own overlaps;
* :class:`ConvergenceSettings`, :func:`convergence_runs` (on the cached
  :func:`cached_convergence`): beyond the paper, N-dimensional training against the
  overlap map for several ``N`` and seeds, plain and projected descent, erf and tanh;
* the key numbers of each (``*_numbers``, :func:`convergence_fits`,
  :func:`closure_summary`, :func:`figure8_table`).

The science (Gaussianity, departure, closure defect, the projected control, the
convergence study itself) is in :mod:`lrtools.closure`.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .. import experiments, theory
from .._checks import require_keys
from ..cache import cached_run
from ..closure import (
    Convergence,
    closure_loss,
    convergence_study,
    gain_reference,
    gaussianity,
    process_executor,
)
from ..fits import PowerLaw, fit_floor, fit_power_law, loglog_slope
from ..history import History
from ..network import LowRankRNN
from ..overlaps import Overlaps, vector_names
from ..tasks import FlipFlop, Task
from . import Settings

__all__ = [
    "FlipFlopSettings",
    "ConvergenceSettings",
    "CONVERGENCE_START",
    "flip_flop_runs",
    "optimizer_runs",
    "figure8_data",
    "cached_convergence",
    "convergence_runs",
    "closure_summary",
    "settings_numbers",
    "gain_errors",
    "figure4_numbers",
    "figure8_numbers",
    "figure8_table",
    "preconditioner_numbers",
    "convergence_fits",
    "convergence_numbers",
    "convergence_loss_numbers",
    "departure_numbers",
    "erf_rows",
    "tanh_numbers",
]


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FlipFlopSettings(Settings):
    """Paper Figures 4 and 8: a rank-1 erf network learns the flip-flop.

    Paper (Ger & Barak, 2026): ``N = 600``, ``dt = 0.025``, ``T = 20``, batch 10,
    ``eta = 5e-2``, 2000 epochs; large-step descent ``eta = 5e-1`` and Adam
    ``lr = 5e-3`` (300 epochs each here).

    Parameters
    ----------
    N : int
        Neurons.
    dt, t_max : float
        Euler step and trial length of the flip-flop.
    batch_size : int
        Trials per epoch (a fresh seeded batch each epoch).
    epochs, eta : int, float
        Epochs and rate of the small-step descent (Figure 4).
    seed : int
        Seed of the random unit-norm start and of the batches.
    large_eta, large_epochs : float, int
        Rate and epochs of the large-step descent (Figure 8).
    adam_lr, adam_epochs : float, int
        Rate and epochs of Adam (Figure 8).
    """

    N: int = 600
    dt: float = 0.025
    batch_size: int = 10
    epochs: int = 2000
    eta: float = 5e-2
    seed: int = 0
    t_max: float = 20.0
    large_eta: float = 5e-1
    large_epochs: int = 300
    adam_lr: float = 5e-3
    adam_epochs: int = 300

    @classmethod
    def fast(cls) -> FlipFlopSettings:
        """``N = 300``, ``dt = 0.1``, batch 4, 1000 epochs (the CI version of the same code)."""
        return cls(N=300, dt=0.1, batch_size=4, epochs=1000)

    @property
    def task(self) -> FlipFlop:
        """The flip-flop task."""
        return FlipFlop(dt=self.dt, t_max=self.t_max, batch_size=self.batch_size)

    def network(self) -> LowRankRNN:
        """The random start: unit-norm Gaussian vectors, erf (seed ``seed``)."""
        return LowRankRNN.random(N=self.N, rank=1, phi="erf", seed=self.seed)


#: Off-diagonal overlaps of the convergence study's start (unit norms, others zero).
CONVERGENCE_START = (("vu", 0.8), ("zu", 0.3), ("vm", 0.2), ("zm", 0.2), ("mu", 0.1))


@dataclass(frozen=True, kw_only=True)
class ConvergenceSettings(Settings):
    """Chapter 2's convergence study (beyond the paper): the network against the map.

    Flip-flop with ``dt = 0.1``, ``T = 20``, batch 4, ``eta = 0.1``, 50 epochs;
    ``N`` from 250 to 4000 with 5 seeds (:meth:`large`: up to 8000 with 8 seeds,
    about 4 times the time; :meth:`fast`: up to 1000 with 3 seeds); the tanh
    comparison at two sizes.

    Parameters
    ----------
    Ns, seeds : tuple of int
        Network sizes and seeds of the erf studies (plain and projected descent).
    task : FlipFlop
        Training task.
    eta, epochs : float, int
        Learning rate and number of updates.
    tanh_Ns, tanh_seeds : tuple of int
        Sizes and seeds of the tanh study (sizes among ``Ns``, at most as many
        seeds).
    start : tuple of (str, float)
        Overlaps of the start besides unit norms (the others zero):
        ``sigma_vu = 0.8`` (a recurrent loop just below the bistability threshold),
        ``sigma_zu = 0.3``, ``sigma_vm = sigma_zm = 0.2``, ``sigma_mu = 0.1``.
    diagnostic_batch : int
        Trials of the held-out batch of the closure defect.
    """

    Ns: tuple[int, ...] = (250, 500, 1000, 2000, 4000)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    task: FlipFlop = FlipFlop(dt=0.1, t_max=20.0, batch_size=4)
    eta: float = 0.1
    epochs: int = 50
    tanh_Ns: tuple[int, ...] = (500, 2000)
    tanh_seeds: tuple[int, ...] = (0, 1, 2)
    start: tuple[tuple[str, float], ...] = CONVERGENCE_START
    diagnostic_batch: int = 16

    @classmethod
    def fast(cls) -> ConvergenceSettings:
        """``N`` up to 1000 with 3 seeds; tanh at 250 and 1000 with 2 seeds."""
        return cls(Ns=(250, 500, 1000), seeds=(0, 1, 2), tanh_Ns=(250, 1000), tanh_seeds=(0, 1))

    @classmethod
    def large(cls) -> ConvergenceSettings:
        """The paper scale: ``N = 8000`` added and 8 seeds (about 4 times the time)."""
        return cls(Ns=(250, 500, 1000, 2000, 4000, 8000), seeds=tuple(range(8)))

    @classmethod
    def for_mode(cls, fast: bool, paper_scale: bool = False) -> ConvergenceSettings:
        """:meth:`fast` if ``fast``, else :meth:`large` if ``paper_scale``, else :meth:`paper`."""
        if fast:
            return cls.fast()
        return cls.large() if paper_scale else cls.paper()

    def start_overlaps(self) -> Overlaps:
        """The initial overlaps: unit norms and the entries of ``start``."""
        return Overlaps(np.eye(4), vector_names()).replace(**dict(self.start))


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------


def flip_flop_runs(settings: FlipFlopSettings | None = None, *,
                   progress: bool | None = None) -> dict[str, History]:
    """Figure 4 runs: an erf network on the flip-flop and its theory, from one start.

    Returns the ``{"network", "exact", "direct"}`` histories (the network's vectors
    kept 21 times), cached with :func:`lrtools.experiments.network_vs_theory`; the
    task is ``settings.task``.
    """
    s = FlipFlopSettings() if settings is None else settings
    return experiments.network_vs_theory(
        s.network(), s.task, s.epochs, s.eta, updates=("exact", "direct"), seed=s.seed,
        snapshot_every=max(1, s.epochs // 20), name="ch2-fig4", progress=progress)


def optimizer_runs(settings: FlipFlopSettings | None = None, *,
                   progress: bool | None = None) -> dict[str, dict[str, History]]:
    """Figure 8 runs besides the small-step one of :func:`flip_flop_runs` (cached).

    Returns ``{"large": {"network", "exact", "first-order"}, "adam": {"network"}}``
    from the same initial network as Figure 4 (vectors kept 16 times).
    """
    s = FlipFlopSettings() if settings is None else settings
    task, net = s.task, s.network()
    large = experiments.network_vs_theory(
        net, task, s.large_epochs, s.large_eta, updates=("exact", "first-order"), seed=s.seed,
        snapshot_every=max(1, s.large_epochs // 15), name="ch2-fig8-gd", progress=progress)
    adam = experiments.network_vs_theory(
        net, task, s.adam_epochs, s.adam_lr, optimizer="adam", updates=(), seed=s.seed,
        snapshot_every=max(1, s.adam_epochs // 15), name="ch2-fig8-adam", progress=progress)
    return {"large": large, "adam": adam}


def figure8_data(settings: FlipFlopSettings | None = None, *,
                 progress: bool | None = None) -> dict:
    """Everything Figure 8 needs: histories, closure losses, theories, titles.

    Returns
    -------
    dict
        ``task``; ``histories`` (the networks ``small``, ``large``, ``adam``);
        ``closure`` (their :func:`lrtools.closure.closure_loss`); ``theories``
        (overlap-theory runs by label, where one exists); ``titles`` (panel
        titles); ``runs`` (:func:`flip_flop_runs` as ``small`` and
        :func:`optimizer_runs`).
    """
    s = FlipFlopSettings() if settings is None else settings
    task = s.task
    small = flip_flop_runs(s, progress=progress)
    other = optimizer_runs(s, progress=progress)
    hists = {"small": small["network"], "large": other["large"]["network"],
             "adam": other["adam"]["network"]}
    return {
        "task": task,
        "histories": hists,
        "closure": {k: closure_loss(h, task, "erf", seed=int(s.seed)) for k, h in hists.items()},
        "theories": {"small": {"overlap map": small["exact"]},
                     "large": {"exact map": other["large"]["exact"],
                               "first-order (flow) map": other["large"]["first-order"]}},
        "titles": {"small": f"GD, $\\eta$ = {s.eta:g}",
                   "large": f"GD, $\\eta$ = {s.large_eta:g}",
                   "adam": f"Adam, lr = {s.adam_lr:g}"},
        "runs": {"small": small, **other},
    }


def _convergence_to_arrays(conv: Convergence) -> dict[str, np.ndarray]:
    return conv.to_arrays()


@cached_run("ch2-convergence", encode=_convergence_to_arrays, decode=Convergence.from_arrays)
def cached_convergence(
    S0: Overlaps,
    task: Task,
    Ns: Sequence[int],
    seeds: Sequence[int],
    epochs: int,
    eta: float,
    phi: str = "erf",
    *,
    projected: bool = False,
    diagnostic_batch: int = 16,
    executor: concurrent.futures.Executor | None = None,
) -> Convergence:
    """:func:`lrtools.closure.convergence_study`, cached on disk.

    Entry ``"ch2-convergence"`` of :func:`lrtools.cache.cached_run`, keyed by every
    argument but ``executor`` (results do not depend on where the jobs run) and by
    the code. The arguments are those of the study.

    Returns
    -------
    Convergence
        Its ``settings`` come back as their repr (``{"repr": ...}``).
    """
    return convergence_study(S0, task, Ns, seeds, epochs, eta, phi, projected=projected,
                             executor=executor, diagnostic_batch=diagnostic_batch)


def convergence_runs(settings: ConvergenceSettings | None = None, *,
                     workers: int = 2) -> dict[str, Convergence]:
    """Chapter 2's convergence studies, cached: erf plain and projected descent, and tanh.

    Parameters
    ----------
    settings : ConvergenceSettings
        The study (default: the paper's).
    workers : int
        Processes of the :func:`lrtools.closure.process_executor` (0: serially in
        this process; results do not depend on it).

    Returns
    -------
    dict
        ``plain``, ``projected`` (erf, :func:`cached_convergence` with
        ``projected=False/True``) and ``tanh`` (plain descent at ``tanh_Ns``,
        ``tanh_seeds``), all from :meth:`ConvergenceSettings.start_overlaps`.
    """
    c = ConvergenceSettings() if settings is None else settings
    if int(workers) != workers or workers < 0:
        raise ValueError(f"workers must be a non-negative integer, got {workers}")
    S0 = c.start_overlaps()

    def run(executor):
        out = {("projected" if proj else "plain"): cached_convergence(
            S0, c.task, list(c.Ns), list(c.seeds), c.epochs, c.eta, "erf", projected=proj,
            diagnostic_batch=c.diagnostic_batch, executor=executor) for proj in (False, True)}
        out["tanh"] = cached_convergence(S0, c.task, list(c.tanh_Ns), list(c.tanh_seeds),
                                         c.epochs, c.eta, "tanh",
                                         diagnostic_batch=c.diagnostic_batch, executor=executor)
        return out

    if workers == 0:
        return run(None)
    with process_executor(int(workers)) as pool:
        return run(pool)


# ---------------------------------------------------------------------------
# Key numbers: settings, gains, Figures 4, 8 and 11
# ---------------------------------------------------------------------------


def settings_numbers(flip_flop: FlipFlopSettings, convergence: ConvergenceSettings) -> dict:
    """The settings chapter 2 quotes, as key numbers.

    Parameters
    ----------
    flip_flop : FlipFlopSettings
        Figures 4 and 8.
    convergence : ConvergenceSettings
        The convergence study.

    Returns
    -------
    dict
        ``N, dt, batch, epochs, eta, large_eta, large_epochs, adam_lr, adam_epochs``
        and ``conv_eta, conv_epochs, conv_batch, conv_dt, conv_n_seeds, conv_N_min,
        conv_N_max, conv_time`` (learning time ``eta * epochs``).
    """
    for value, cls in ((flip_flop, FlipFlopSettings), (convergence, ConvergenceSettings)):
        if not isinstance(value, cls):
            raise TypeError(f"expected a {cls.__name__}, got {type(value).__qualname__}")
    s, c = flip_flop, convergence
    out = {"N": s.N, "dt": s.dt, "batch": s.batch_size, "epochs": s.epochs, "eta": s.eta}
    out.update({k: getattr(s, k) for k in ("large_eta", "large_epochs", "adam_lr",
                                            "adam_epochs")})
    out.update(conv_eta=c.eta, conv_epochs=c.epochs, conv_batch=c.task.batch_size,
               conv_dt=c.task.dt, conv_n_seeds=len(c.seeds), conv_N_min=min(c.Ns),
               conv_N_max=max(c.Ns), conv_time=c.eta * c.epochs)
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
    require_keys(runs, ("network", "exact", "direct"), "runs")
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


def closure_summary(hist: History, task: Task, seed: int = 0, tail: float = 0.1,
                    closure: np.ndarray | None = None) -> dict[str, float]:
    """Closure and Gaussianity at the end of an N-dimensional training run.

    Over the last ``tail`` fraction of the epochs: the mean loss, the closure defect
    (network loss minus :func:`lrtools.closure.closure_loss`) and the mean-field
    loss divided by the network loss; from the last vector snapshot: the largest
    |excess kurtosis| and KS distance and Mardia's statistic, in units of their
    Gaussian sampling spread. ``closure`` reuses a precomputed
    :func:`lrtools.closure.closure_loss`.

    Returns
    -------
    dict
        ``loss``, ``closure``, ``closure_ratio``, ``kurt``, ``ks``, ``mardia``.
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
    require_keys(data, ("task", "histories", "closure", "runs"), "figure 8 data")
    require_keys(data["runs"], ("small", "large"), "figure 8 runs")
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


# ---------------------------------------------------------------------------
# Key numbers: the convergence study
# ---------------------------------------------------------------------------


def convergence_fits(plain: Convergence, projected: Convergence
                     ) -> tuple[dict[str, PowerLaw], dict[str, dict[str, float]]]:
    """Power laws and floors of the overlap and loss errors, plain and projected descent.

    Parameters
    ----------
    plain, projected : Convergence
        :func:`lrtools.closure.convergence_study` without and with the projection.

    Returns
    -------
    fits : dict
        :func:`lrtools.fits.fit_power_law` of the overlap errors (``plain``,
        ``proj``) and of the final loss differences (``plain_loss``, ``proj_loss``).
    floors : dict
        :func:`lrtools.fits.fit_floor` of the overlap errors (``plain``, ``proj``).
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
        :func:`lrtools.closure.convergence_study` without and with the projection.
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
    require_keys(fits, ("plain", "plain_loss", "proj", "proj_loss"), "fits")
    require_keys(floors, ("plain", "proj"), "floors")
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


def convergence_loss_numbers(conv: Convergence) -> dict:
    """The theory loss at the start and the end of the convergence study.

    Parameters
    ----------
    conv : Convergence
        :func:`lrtools.closure.convergence_study`.

    Returns
    -------
    dict
        ``conv_loss_start`` and ``conv_loss_end``: the theory's first and last loss,
        means over seeds.
    """
    return {"conv_loss_start": conv.theory_loss[:, 0].mean(),
            "conv_loss_end": conv.theory_loss[:, -1].mean()}


def departure_numbers(conv: Convergence) -> dict:
    """Key numbers of the departure from the Gaussian family (plain descent).

    Parameters
    ----------
    conv : Convergence
        :func:`lrtools.closure.convergence_study` (plain descent).

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


def erf_rows(tanh: Convergence, erf: Convergence) -> list[int]:
    """The rows of the erf study at the sizes of the tanh study.

    Parameters
    ----------
    tanh, erf : Convergence
        The tanh and erf studies (plain descent).

    Returns
    -------
    list of int
        For every tanh size, its index in ``erf.Ns``.

    Raises
    ------
    ValueError
        If a tanh size is not among the erf sizes, or the tanh study has more seeds.
    """
    known = [int(n) for n in erf.Ns]
    missing = [int(n) for n in tanh.Ns if int(n) not in known]
    if missing:
        raise ValueError(f"tanh sizes {missing} are not among the erf sizes {known}")
    if len(tanh.seeds) > len(erf.seeds):
        raise ValueError(f"the tanh study has {len(tanh.seeds)} seeds, "
                         f"the erf one only {len(erf.seeds)}")
    return [known.index(int(n)) for n in tanh.Ns]


def tanh_numbers(tanh: Convergence, erf: Convergence) -> dict:
    """Key numbers of the tanh comparison.

    Parameters
    ----------
    tanh, erf : Convergence
        The tanh and erf studies (plain descent); every tanh size must be among the
        erf sizes (:func:`erf_rows`).

    Returns
    -------
    dict
        Mean largest overlap error at the smallest and largest tanh size for tanh
        (``tanh_err_small``, ``tanh_err_large``) and erf at the same sizes and
        seeds (``erf_err_small``, ``erf_err_large``), the sizes ``tanh_N_small``,
        ``tanh_N_large``, the log-log slopes between the two sizes
        (``tanh_slope``, ``erf_slope``) and the theory's final tanh loss
        ``tanh_loss_final``.
    """
    rows = erf_rows(tanh, erf)
    erf_same = erf.overlap_error[rows, :len(tanh.seeds)]
    sizes = [tanh.Ns[0], tanh.Ns[-1]]
    t_err = [tanh.overlap_error[0].mean(), tanh.overlap_error[-1].mean()]
    e_err = [erf_same[0].mean(), erf_same[-1].mean()]
    return {"tanh_err_small": t_err[0], "tanh_err_large": t_err[1],
            "erf_err_small": e_err[0], "erf_err_large": e_err[1],
            "tanh_N_small": tanh.Ns[0], "tanh_N_large": tanh.Ns[-1],
            "tanh_slope": loglog_slope(sizes, t_err), "erf_slope": loglog_slope(sizes, e_err),
            "tanh_loss_final": tanh.theory_loss[0, -1]}
