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
from scipy.stats import binomtest

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
from ..history import History
from ..network import LowRankRNN
from ..overlaps import Overlaps, vector_names
from ..tasks import FlipFlop, Task
from . import Settings
from .convergence_numbers import (
    convergence_fits,
    convergence_loss_numbers,
    convergence_numbers,
    departure_numbers,
    erf_rows,
    tanh_numbers,
)

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
    "init_plateau",
    "ESCAPE_LOSS",
    "figure4_verdicts",
    "figure8_numbers",
    "figure8_verdicts",
    "FOLLOWS",
    "figure8_table",
    "preconditioner_numbers",
    "convergence_fits",
    "convergence_numbers",
    "convergence_loss_numbers",
    "departure_numbers",
    "erf_rows",
    "tanh_numbers",
]


# --- Settings ---


@dataclass(frozen=True, kw_only=True)
class FlipFlopSettings(Settings):
    """Paper Figures 4 and 8: a rank-1 erf network learns the flip-flop.

    Paper (Ger & Barak, 2026): ``N = 600``, ``dt = 0.025``, ``T = 20``, batch 10,
    ``eta = 5e-2``, 2000 epochs; large-step descent ``eta = 5e-1`` and Adam
    ``lr = 5e-3``, 2000 epochs each; the balanced start; an 80 s test trial.

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
    init : {"balanced", "random"}
        The start: :meth:`LowRankRNN.balanced` (the paper's: ``sigma_zu ~ sigma_vm``,
        ``sigma_mu ~ sigma_zv``) or plain :meth:`LowRankRNN.random`.
    large_eta, large_epochs : float, int
        Rate and epochs of the large-step descent (Figure 8).
    adam_lr, adam_epochs : float, int
        Rate and epochs of Adam (Figure 8).
    test_t_max : float
        Length of the held-out test trial of Figure 4a (the paper: 4 trial lengths).
    """

    N: int = 600
    dt: float = 0.025
    batch_size: int = 10
    epochs: int = 2000
    eta: float = 5e-2
    seed: int = 0
    t_max: float = 20.0
    init: str = "balanced"
    large_eta: float = 5e-1
    large_epochs: int = 2000
    adam_lr: float = 5e-3
    adam_epochs: int = 2000
    test_t_max: float = 80.0
    _choices = {"init": ("balanced", "random")}

    @classmethod
    def fast(cls) -> FlipFlopSettings:
        """``N = 300``, ``dt = 0.1``, batch 4, 1500 epochs, 300 for Figure 8 (the CI version)."""
        return cls(N=300, dt=0.1, batch_size=4, epochs=1500, large_epochs=300, adam_epochs=300)

    @property
    def task(self) -> FlipFlop:
        """The flip-flop task."""
        return FlipFlop(dt=self.dt, t_max=self.t_max, batch_size=self.batch_size)

    @property
    def test_task(self) -> FlipFlop:
        """The flip-flop of Figure 4a's held-out trial, ``test_t_max`` long."""
        return FlipFlop(dt=self.dt, t_max=self.test_t_max, batch_size=1)

    def network(self) -> LowRankRNN:
        """The start (``init``): unit-norm Gaussian vectors, erf (seed ``seed``)."""
        if self.init == "balanced":
            return LowRankRNN.balanced(N=self.N, phi="erf", seed=self.seed)
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


# --- Runs ---


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


def convergence_runs(settings: ConvergenceSettings | None = None, *, workers: int = 2,
                     executor: concurrent.futures.Executor | None = None
                     ) -> dict[str, Convergence]:
    """Chapter 2's convergence studies, cached: erf plain and projected descent, and tanh.

    Parameters
    ----------
    settings : ConvergenceSettings
        The study (default: the paper's).
    workers : int
        Processes of the :func:`lrtools.closure.process_executor` (0: serially in
        this process; results do not depend on it).
    executor : concurrent.futures.Executor, optional
        Run the seeds there instead (e.g. :func:`lrtools.make_executor`); then
        ``workers`` is not used.

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

    if executor is not None:
        return run(executor)
    if workers == 0:
        return run(None)
    with process_executor(int(workers)) as pool:
        return run(pool)


# --- Key numbers: settings, gains, Figures 4, 8 and 11 ---


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


#: Loss below which the flip-flop counts as learned (the end of the plateau).
ESCAPE_LOSS = 0.05


def _escape(loss: np.ndarray, threshold: float) -> int:
    below = loss < threshold
    return int(np.argmax(below)) if np.any(below) else -1


def figure4_numbers(runs: Mapping[str, History], *, tail: int = 50,
                    threshold: float = ESCAPE_LOSS) -> dict:
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
        ``fig4_ks_typical``, ``fig4_mardia_sd``; and the verdicts of
        :func:`figure4_verdicts`.
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
    } | figure4_verdicts(sim.loss, exact.loss, direct.loss, tail=tail, threshold=threshold)


#: A map "follows" a network when their final overlaps differ by at most this
#: fraction of the largest overlap (the verdicts of Figures 4 and 8).
FOLLOWS = 0.1


def figure4_verdicts(sim_loss: np.ndarray, theory_loss: np.ndarray, direct_loss: np.ndarray,
                     *, tail: int = 50, threshold: float = ESCAPE_LOSS) -> dict[str, str]:
    """What the text of Figure 4 may say about the escape, computed from the losses.

    Returns
    -------
    dict
        ``fig4_escape_verdict`` (whether network and theory leave the plateau
        within a tenth of the network's escape epoch of each other, or which is
        first, or that one never does) and ``fig4_direct_verdict`` (whether descent
        without ``G`` is still above the escape threshold at the end).
    """
    e_sim, e_th = _escape(sim_loss, threshold), _escape(theory_loss, threshold)
    if e_sim < 0 or e_th < 0:
        who = [n for n, e in (("the network", e_sim), ("the theory", e_th)) if e < 0]
        escape = f"{' and '.join(who)} never leave{'s' if len(who) == 1 else ''} the plateau"
    elif abs(e_sim - e_th) <= 0.1 * max(e_sim, e_th):
        escape = "network and theory leave the long initial plateau together"
    else:
        first = "network" if e_sim < e_th else "theory"
        escape = f"the {first} leaves the long initial plateau first"
    final = float(np.mean(direct_loss[-tail:]))
    direct = ("is still on the plateau" if final >= threshold
              else "has left the plateau as well, more slowly")
    return {"fig4_escape_verdict": escape, "fig4_direct_verdict": direct}


def figure8_verdicts(exact_error: float, first_order_error: float) -> dict[str, str]:
    """What the text of Figure 8 may say about the large-step maps, from their errors.

    ``exact_error`` and ``first_order_error``: final overlaps of the large-step
    network against the exact and the first-order map, relative to the largest
    overlap. A map follows the network when its error is at most :data:`FOLLOWS`.

    Returns
    -------
    dict
        ``fig8_large_verdict`` (a clause for the body) and ``fig8_large_summary``
        (for the summary).
    """
    e, f = float(exact_error), float(first_order_error)
    if e <= FOLLOWS and f > FOLLOWS:
        body = (f"the *exact* map still follows the network, to {e:.3f} (relative) in its "
                f"final overlaps, whereas the first-order map misses by {f:.2f}")
        summary = "the exact map (not the first-order flow) still follows the network"
    elif e <= FOLLOWS:
        body = (f"both the *exact* map and the first-order map follow the network "
                f"(final overlaps within {e:.3f} and {f:.3f}, relative)")
        summary = "both the exact map and the first-order flow still follow the network"
    else:
        closer = "the exact map is the closer" if e < f else "the first-order map is the closer"
        body = (f"neither overlap map follows the network to the end: their final overlaps "
                f"miss the network's by {e:.2f} (exact map) and {f:.2f} (first-order map), "
                f"relative; {closer}")
        summary = "neither the exact map nor the first-order flow follows the network"
    return {"fig8_large_verdict": body, "fig8_large_summary": summary}


def init_plateau(settings: FlipFlopSettings, *, n_seeds: int = 6,
                 threshold: float = ESCAPE_LOSS) -> dict[str, float]:
    """Escape epochs of the overlap map from ``n_seeds`` balanced and random starts (same batches).

    Returns the median escape epoch of each (``plateau_balanced``, ``plateau_random``;
    loss below ``threshold``, ``epochs`` if never), ``plateau_earlier`` (seeds whose
    balanced start escapes first), ``n_plateau``, ``plateau_p`` (two-sided sign test
    over the seeds that differ) and ``plateau_verdict``.
    """
    s = settings
    seeds = range(s.seed, s.seed + n_seeds)
    out = {}
    for init in ("balanced", "random"):
        S0 = [s.replace(init=init, seed=k).network().overlaps() for k in seeds]
        loss = theory.learn_many(S0, s.task, s.epochs, s.eta, "erf", seed=s.seed)["loss"]
        esc = np.array([_escape(col, threshold) for col in loss.T], dtype=float)
        out[init] = np.where(esc < 0, s.epochs, esc)
    earlier = int(np.sum(out["balanced"] < out["random"]))
    later = int(np.sum(out["balanced"] > out["random"]))
    p = binomtest(earlier, earlier + later).pvalue if earlier + later else 1.0
    verdict = ("neither start leaves the plateau systematically earlier at this number "
               "of seeds" if p >= 0.05 else
               f"the {'balanced' if earlier > later else 'random'} start leaves it "
               "systematically earlier")
    return {"plateau_balanced": float(np.median(out["balanced"])),
            "plateau_random": float(np.median(out["random"])),
            "plateau_earlier": earlier, "n_plateau": n_seeds, "plateau_p": float(p),
            "plateau_verdict": verdict}


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
        ``loss``, ``closure``, ``closure_ratio``, ``kurt``, ``ks``, ``mardia``, and
        ``tails``: ``"leptokurtic"`` or ``"platykurtic"`` by the sign of the most
        extreme excess kurtosis, ``"Gaussian-tailed"`` when it is within 2 s.d.
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
            "mardia": float(g.mardia / nz["mardia"]),
            "tails": _tails(g.excess_kurtosis, nz["excess_kurtosis"])}


def _tails(kurtosis: np.ndarray, sd: float) -> str:
    """"leptokurtic", "platykurtic" or "Gaussian-tailed": the entries' most extreme kurtosis.

    Gaussian-tailed when every |excess kurtosis| is within 2 sampling s.d.;
    otherwise the sign of the most extreme one.
    """
    k = np.asarray(kurtosis, dtype=float)
    worst = k.flat[np.argmax(np.abs(k))]
    if abs(worst) <= 2 * sd:
        return "Gaussian-tailed"
    return "leptokurtic" if worst > 0 else "platykurtic"


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
        the small-step exact map, as in Figure 4), ``fig8_large_loss_first_order``
        and ``fig8_large_loss_exact`` (means over the last ``tail`` epochs), and the
        verdicts of :func:`figure8_verdicts`.
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
        fig8_large_loss_first_order=big["first-order"].loss[-tail:].mean(),
        fig8_large_loss_exact=big["exact"].loss[-tail:].mean())
    out.update(figure8_verdicts(out["fig8_large_exact_error"],
                                out["fig8_large_first_order_error"]))
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
