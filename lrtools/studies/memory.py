"""Chapter 4 studies: invisible overlaps as memory in linear networks.

* :class:`LinearMemorySettings`, :func:`linear_memory_runs`: paper Figures 3 and 6,
  A, B, A, B, A from ``theta_2`` (network and exact map), and the conserved
  quantities along it; :func:`one_step_numbers`, :func:`span_at_theta2`: their
  drift in one step and the flow directions' brackets at ``theta_2``;
* :class:`AdamMemorySettings`, :func:`adam_memory_runs`: paper Figure 7, the same
  schedule under Adam;
* :class:`FlowScanSettings`, :func:`flow_memory_scans`: "Does gradient flow
  remember?" (step size, many starts, loop size);
* :class:`ConditionsSettings`, :func:`conditions_runs`: the conditions map (noise,
  weight decay, optimiser);
* the key numbers of each (``*_numbers``).

The nonlinear twins (paper Figures 9, 10, 4d-f) are in :mod:`lrtools.studies.twins`.
Every expensive run is cached with :func:`lrtools.cache.cached_run`.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import memory
from ..cache import cached_run
from ..conserved import conserved, k_entries
from ..fits import fit_rate, loglog_slope
from ..memory import (
    NAMES,
    Phase,
    filter_phases,
    gaps,
    join,
    paper_theta2,
    phases_from_arrays,
    phases_to_arrays,
    run_phases,
)
from ..network import LowRankRNN
from ..overlaps import Overlaps
from ..tasks import ExponentialFilter
from ..twins import random_overlaps
from . import Settings

__all__ = [
    "LinearMemorySettings",
    "AdamMemorySettings",
    "FlowScanSettings",
    "ConditionsSettings",
    "linear_memory_runs",
    "adam_memory_runs",
    "span_at_theta2",
    "flow_memory_scans",
    "conditions_runs",
    "gd_flow_deviation",
    "linear_memory_numbers",
    "conserved_drift_numbers",
    "one_step_numbers",
    "adam_memory_numbers",
    "horizontal_span_numbers",
    "flow_memory_numbers",
    "flow_loop_numbers",
    "holonomy_numbers",
    "conditions_numbers",
]


# ---------------------------------------------------------------------------
# settings
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LinearMemorySettings(Settings):
    """Paper Figures 3 and 6: A, B, A, B, A from ``theta_2``, network and exact map.

    Parameters
    ----------
    N : int
        Neurons of the network (the overlap map is exact at any ``N``; ``theta_2``
        itself is drawn at ``N = 500``, :func:`lrtools.memory.paper_theta2`).
    epochs : tuple of int
        Epochs of each phase; phases alternate A (``c[0]``) and B (``c[1]``).
    eta : float
        Learning rate (the last phase runs at ``2 eta``).
    c : (float, float)
        Decay rates of the filters A and B.
    target_noise : float
        Target noise of the last phase.
    seed : int
        Seed of ``theta_2``, of the network's vectors and of the noise.
    step_etas : tuple of float
        Step sizes of the one-step drift of the conserved quantities
        (:func:`one_step_numbers`; must include ``eta``).
    """

    N: int = 500
    epochs: tuple[int, ...] = (3000, 1000, 1000, 1000, 4000)
    eta: float = 5e-3
    c: tuple[float, float] = (0.2, 0.4)
    target_noise: float = 0.1
    seed: int = 0
    step_etas: tuple[float, ...] = (1e-2, 5e-3, 2.5e-3, 1.25e-3)

    @classmethod
    def fast(cls) -> LinearMemorySettings:
        """``N = 100`` (the overlap map is exact at any ``N``)."""
        return cls(N=100)


@dataclass(frozen=True, kw_only=True)
class AdamMemorySettings(Settings):
    """Paper Figure 7: A, B, A, B, A with Adam (network) and gradient descent (exact map).

    Parameters
    ----------
    N : int
        Neurons of the network.
    epochs : int
        Epochs of every phase.
    lr : float
        Adam's learning rate.
    eta_gd : float
        Learning rate of gradient descent (exact overlap map).
    c : (float, float)
        Decay rates of the filters A and B.
    seed : int
        Seed of ``theta_2`` and of the network's vectors.
    """

    N: int = 500
    epochs: int = 4000
    lr: float = 1e-3
    eta_gd: float = 5e-3
    c: tuple[float, float] = (0.2, 0.4)
    seed: int = 0

    @classmethod
    def fast(cls) -> AdamMemorySettings:
        """``N = 100``, 1000-epoch phases."""
        return cls(N=100, epochs=1000)


@dataclass(frozen=True, kw_only=True)
class FlowScanSettings(Settings):
    """The scans of "Does gradient flow remember?": step size, many starts, loop size.

    Parameters
    ----------
    etas : tuple of float
        Step sizes of the memory against step size from ``theta_2`` (must include
        ``eta``).
    n_unit, n_broad : int
        Unit-norm random starts (:meth:`LowRankRNN.random`, ``N_unit`` neurons) and
        broad starts (:func:`lrtools.twins.random_overlaps`) of the exact flow.
    dcs : tuple of float
        Loop sizes ``c_B - c_A``.
    c_A : float
        Decay rate of task A in the loop-size scan.
    eta : float
        The paper's step size (gradient descent in the loop-size scan).
    seed : int
        Seed of ``theta_2`` and of the broad starts.
    N_unit : int
        Neurons of the unit-norm random starts.
    loop_dcs : tuple of float
        Loop sizes of the holonomy scan from ``theta_2`` under the exact flow
        (:func:`lrtools.memory.flow_loops`), increasing.
    """

    etas: tuple[float, ...] = (1.5e-2, 1e-2, 5e-3, 2.5e-3, 1.25e-3)
    n_unit: int = 4
    n_broad: int = 7
    dcs: tuple[float, ...] = (0.025, 0.05, 0.1, 0.2, 0.4)
    c_A: float = 0.2
    eta: float = 5e-3
    seed: int = 0
    N_unit: int = 500
    loop_dcs: tuple[float, ...] = (0.003, 0.006, 0.0125, 0.025, 0.05, 0.1, 0.2, 0.4)

    @classmethod
    def fast(cls) -> FlowScanSettings:
        """Two step sizes, three starts, two loop sizes, four loops in the holonomy scan."""
        return cls(etas=(5e-3, 2.5e-3), n_unit=1, n_broad=2, dcs=(0.05, 0.1),
                   loop_dcs=(0.0125, 0.025, 0.05, 0.1))


@dataclass(frozen=True, kw_only=True)
class ConditionsSettings(Settings):
    """The conditions map: memory of A, B, A vs A, A, A under noise, weight decay, Adam.

    Parameters
    ----------
    target_stds : tuple of float
        Target noise levels (exact map; must start with 0 and include 0.1).
    weight_stds : tuple of float
        Weight noise levels (network of ``N_noise`` neurons).
    N_noise : int
        Neurons of the networks (weight noise, Adam).
    wds : tuple of float
        Weight decays.
    pair_epochs : tuple of int
        Epochs of A, B, A in the comparison of Adam with gradient descent.
    eta : float
        Learning rate of gradient descent.
    seed : int
        Seed of ``theta_2``, of the networks and of the noise.
    c_A : float
        Decay rate of task A (the task continued under weight decay).
    """

    target_stds: tuple[float, ...] = (0.0, 0.01, 0.03, 0.1, 0.3)
    weight_stds: tuple[float, ...] = (0.002, 0.01)
    N_noise: int = 150
    wds: tuple[float, ...] = (0.01, 0.03, 0.1)
    pair_epochs: tuple[int, ...] = (3000, 1000, 1000)
    eta: float = 5e-3
    seed: int = 0
    c_A: float = 0.2

    @classmethod
    def fast(cls) -> ConditionsSettings:
        """Fewer noise levels and weight decays, ``N_noise = 100``, shorter Adam phases."""
        return cls(target_stds=(0.0, 0.01, 0.1), weight_stds=(0.01,), N_noise=100,
                   wds=(0.03, 0.1), pair_epochs=(1000, 500, 500))


# ---------------------------------------------------------------------------
# cached runs (every argument enters the key)
# ---------------------------------------------------------------------------


@cached_run("ch4-phases", decode=phases_from_arrays)
def _cached_phases(start: LowRankRNN, phases: Sequence[Phase], *,
                   snapshot_every: int | None = None,
                   progress: bool | None = None) -> dict[str, np.ndarray]:
    # run_phases of a network, stored as arrays (the figures' N-dimensional runs)
    return phases_to_arrays(run_phases(start, phases, snapshot_every=snapshot_every,
                                       progress=progress))


_cached_history_pair = cached_run("ch4-pair")(memory.history_pair)
_cached_memory_vs_eta = cached_run("ch4-eta-scan")(memory.memory_vs_eta)
_cached_flow_memory = cached_run("ch4-flow-starts")(memory.flow_memory)
_cached_memory_vs_loop_size = cached_run("ch4-dc-scan")(memory.memory_vs_loop_size)
_cached_noise_memory_map = cached_run("ch4-noise")(memory.noise_memory_map)
_cached_weight_decay_map = cached_run("ch4-decay")(memory.weight_decay_map)
_cached_optimizer_pair = cached_run("ch4-adam-vs-gd")(memory.optimizer_pair)
_cached_flow_loops = cached_run("ch4-flow-loops")(memory.flow_loops)
_cached_loop_holonomy = cached_run("ch4-loop-holonomy")(memory.loop_holonomy)


# ---------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------


def linear_memory_runs(settings: LinearMemorySettings | None = None, *,
                       progress: bool | None = None) -> dict:
    """Data of the paper's Figures 3 and 6: A, B, A, ... from ``theta_2``, network and map.

    The network (``N`` neurons, overlaps of :func:`lrtools.memory.paper_theta2`)
    learns the filters ``c[0]`` (A) and ``c[1]`` (B) in turn for ``epochs[i]``
    epochs at rate ``eta``; the last phase has target noise ``target_noise`` and
    rate ``2 eta``. Its vectors are kept every 50 epochs (cache entry
    ``"ch4-phases"``); the exact overlap map runs from the same overlaps on the
    same noise draws.

    Parameters
    ----------
    settings : LinearMemorySettings, optional
        Default: the paper's.
    progress : bool, optional
        Progress bars.

    Returns
    -------
    dict
        ``S0`` (``theta_2``), ``phases``, ``labels``, ``net_runs`` and ``map_runs``
        (one History per phase), ``network`` and ``exact`` (joined), ``bounds``
        (:func:`lrtools.memory.join`), ``pairs`` ``(4, 2)`` (neuron pairs), ``K``
        ``(n, 4)`` (their entries of ``K`` at ``k_epochs``), ``Q`` ``(epochs + 1, 5)``
        (:func:`lrtools.conserved.conserved` of the network).
    """
    s = LinearMemorySettings() if settings is None else settings
    N, epochs, eta, c, seed = s.N, s.epochs, s.eta, s.c, s.seed
    n = len(epochs)
    S0 = paper_theta2(N=500, seed=seed)
    net0 = LowRankRNN.from_overlaps(S0, N=N, seed=seed)
    phases = filter_phases(epochs, [c[i % 2] for i in range(n)], [eta] * (n - 1) + [2 * eta],
                           target_noise=[0] * (n - 1) + [s.target_noise], seed=seed)
    labels = ["AB"[i % 2] for i in range(n)]
    labels[-1] += " + noise, 2$\\eta$"
    net_runs = _cached_phases(net0, phases, snapshot_every=50, progress=progress)
    map_runs = run_phases(net0.overlaps(), phases, progress=progress)
    sim, bounds = join(net_runs)
    exact, _ = join(map_runs)
    pairs = np.random.default_rng(seed).choice(N, size=(4, 2), replace=False)
    K = np.concatenate([k_entries(h, pairs)[(1 if i else 0):] for i, h in enumerate(net_runs)])
    k_epochs = np.concatenate([h.vector_epochs[(1 if i else 0):] + bounds[i]
                               for i, h in enumerate(net_runs)])
    return {"S0": S0, "phases": phases, "labels": labels, "net_runs": net_runs,
            "map_runs": map_runs, "network": sim, "exact": exact, "bounds": bounds,
            "pairs": pairs, "K": K, "k_epochs": k_epochs, "Q": conserved(sim)}


def adam_memory_runs(settings: AdamMemorySettings | None = None, *,
                     progress: bool | None = None) -> dict:
    """Data of the paper's Figure 7: A, B, A, B, A with Adam, and gradient descent.

    The network (``N`` neurons, overlaps of :func:`lrtools.memory.paper_theta2`)
    learns the filters ``c[0], c[1], c[0], c[1], c[0]`` for ``epochs`` epochs each
    with Adam at rate ``lr`` (cache entry ``"ch4-phases"``); the exact overlap map
    (gradient descent at ``eta_gd``) runs the same schedule from ``theta_2``.

    Parameters
    ----------
    settings : AdamMemorySettings, optional
        Default: the paper's.
    progress : bool, optional
        Progress bars.

    Returns
    -------
    dict
        ``S0``, ``labels``, ``adam_runs`` and ``gd_runs`` (one History per phase),
        ``adam`` and ``gd`` (joined), ``bounds``, ``eta_gd``.
    """
    s = AdamMemorySettings() if settings is None else settings
    S0 = paper_theta2(N=500, seed=s.seed)
    net = LowRankRNN.from_overlaps(S0, N=s.N, seed=s.seed)
    cs = [s.c[i % 2] for i in range(5)]
    phases = filter_phases([s.epochs] * 5, cs, s.lr, optimizer="adam", seed=s.seed)
    adam_runs = _cached_phases(net, phases, progress=progress)
    gd_runs = run_phases(S0, filter_phases([s.epochs] * 5, cs, s.eta_gd, seed=s.seed),
                         progress=progress)
    adam_hist, bounds = join(adam_runs)
    gd_hist, _ = join(gd_runs)
    return {"S0": S0, "labels": ["A", "B", "A", "B", "A"], "adam_runs": adam_runs,
            "gd_runs": gd_runs, "adam": adam_hist, "gd": gd_hist, "bounds": bounds,
            "eta_gd": s.eta_gd}


def span_at_theta2(settings: LinearMemorySettings | None = None) -> dict:
    """:func:`lrtools.memory.horizontal_span` at ``theta_2`` (seed ``settings.seed``).

    Parameters
    ----------
    settings : LinearMemorySettings, optional
        Default: the paper's.

    Returns
    -------
    dict
        The singular values of the flow directions and their brackets, the level
        set's dimension (see :func:`lrtools.memory.horizontal_span`).
    """
    s = LinearMemorySettings() if settings is None else settings
    return memory.horizontal_span(paper_theta2(N=500, seed=s.seed))


def flow_memory_scans(settings: FlowScanSettings | None = None, *,
                      executor: concurrent.futures.Executor | None = None) -> dict:
    """The three scans of "Does gradient flow remember?" (chapter 4), cached.

    (i) :func:`lrtools.memory.memory_vs_eta` from ``theta_2`` (entry
    ``"ch4-eta-scan"``); (ii) :func:`lrtools.memory.flow_memory` from ``n_unit``
    unit-norm random networks (:meth:`LowRankRNN.random` with ``N_unit`` neurons,
    seeds ``1..n_unit``) and ``n_broad`` broad starts
    (:func:`lrtools.twins.random_overlaps`, seed ``[seed, 5]``) (entry
    ``"ch4-flow-starts"``); (iii) :func:`lrtools.memory.memory_vs_loop_size` from
    the first broad start (entry ``"ch4-dc-scan"``); (iv) the holonomy of the flow
    from ``theta_2``, :func:`lrtools.memory.flow_loops` (entry ``"ch4-flow-loops"``),
    and its prediction as curvature x enclosed area,
    :func:`lrtools.memory.loop_holonomy` (entry ``"ch4-loop-holonomy"``).

    Parameters
    ----------
    settings : FlowScanSettings, optional
        Default: the paper's.
    executor : concurrent.futures.Executor, optional
        Runs the step sizes of (i) and the starts of (ii) as independent jobs
        (:func:`lrtools.make_executor`); the results do not depend on it.

    Returns
    -------
    dict
        ``eta_scan``, ``flows``, ``dc_scan``, ``loops``, ``holonomy`` (the five
        results), ``starts``
        ``(n_unit + n_broad, 4, 4)``, and the settings ``etas``, ``dcs``, ``n_unit``,
        ``eta``.
    """
    s = FlowScanSettings() if settings is None else settings
    if s.n_unit < 1 or s.n_broad < 1:
        raise ValueError("need at least one unit-norm and one broad start")
    S = paper_theta2(N=500, seed=s.seed)
    eta_scan = _cached_memory_vs_eta(S, s.etas, executor=executor)
    unit_starts = np.array([LowRankRNN.random(s.N_unit, 1, seed=k).overlaps().matrix
                            for k in range(1, s.n_unit + 1)])
    broad_starts = random_overlaps(s.n_broad, [s.seed, 5])
    starts = np.concatenate([unit_starts, broad_starts])
    flows = _cached_flow_memory(starts, executor=executor)
    S_broad = Overlaps(broad_starts[0], NAMES)
    dc_scan = _cached_memory_vs_loop_size(S_broad, s.dcs, c_A=s.c_A, eta=s.eta)
    loops = _cached_flow_loops(S, dcs=s.loop_dcs, c_A=s.c_A)
    holonomy = _cached_loop_holonomy(S, dcs=s.loop_dcs, c_A=s.c_A)
    return {"eta_scan": eta_scan, "flows": flows, "dc_scan": dc_scan, "starts": starts,
            "etas": s.etas, "dcs": s.dcs, "n_unit": s.n_unit, "eta": s.eta, "loops": loops,
            "holonomy": holonomy}


def conditions_runs(settings: ConditionsSettings | None = None) -> dict:
    """The runs of chapter 4's conditions map, cached.

    From ``theta_2``: the history pair A, B, A vs A, A, A
    (:func:`lrtools.memory.history_pair`, entry ``"ch4-pair"``), its memory under
    noise (:func:`lrtools.memory.noise_memory_map`, ``"ch4-noise"``) and under
    weight decay on task A (:func:`lrtools.memory.weight_decay_map`,
    ``"ch4-decay"``), and Adam against gradient descent
    (:func:`lrtools.memory.optimizer_pair`, ``"ch4-adam-vs-gd"``).

    Parameters
    ----------
    settings : ConditionsSettings, optional
        Default: the paper's.

    Returns
    -------
    dict
        ``pair``, ``noise``, ``decay``, ``optim`` (the four results) and the settings
        ``wds`` and ``N_noise``.
    """
    s = ConditionsSettings() if settings is None else settings
    S = paper_theta2(N=500, seed=s.seed)
    task = ExponentialFilter(c=s.c_A)
    pair = _cached_history_pair(S, eta=s.eta)
    noise = _cached_noise_memory_map(S, pair["aaa"], s.target_stds, s.weight_stds, N=s.N_noise,
                                     eta=s.eta, seed=s.seed)
    decay = _cached_weight_decay_map(pair, task, s.wds, s.eta)
    optim = _cached_optimizer_pair(S, N=s.N_noise, epochs=s.pair_epochs, eta=s.eta, seed=s.seed)
    return {"pair": pair, "noise": noise, "decay": decay, "optim": optim, "wds": s.wds,
            "N_noise": s.N_noise}


def gd_flow_deviation(eta_scan: dict) -> np.ndarray:
    """Distance of the gradient-descent end state (A, B, A) from the flow's, per step size.

    Parameters
    ----------
    eta_scan : dict
        :func:`lrtools.memory.memory_vs_eta` with the flow (``flow_scans["eta_scan"]``).

    Returns
    -------
    numpy.ndarray, shape (n_eta,)
        Largest absolute difference of an overlap.
    """
    return np.max(np.abs(eta_scan["aba"] - eta_scan["flow_aba"]), axis=(1, 2))


# ---------------------------------------------------------------------------
# key numbers
# ---------------------------------------------------------------------------


def linear_memory_numbers(data: dict) -> dict[str, float]:
    """Key numbers of the chapter's Figure 3 from :func:`linear_memory_runs`.

    Returns
    -------
    dict
        ``fig3_map_error`` (largest difference between the network's overlaps and the
        exact map's), ``fig3_function_gap``, ``fig3_visible_gap``,
        ``fig3_invisible_gap`` (:func:`gaps` between the ends of the first two A
        phases of the network), ``fig3_loss_A1``, ``fig3_loss_A2`` (their final losses),
        and the same gaps between the end of A1 and the end of the last, noisy A
        phase (``fig3_a3_*``).
    """
    runs, sim, exact = data["net_runs"], data["network"], data["exact"]
    if len(runs) < 3:
        raise ValueError(f"need at least three phases (A, B, A), got {len(runs)}")
    g12 = gaps(runs[0].final, runs[2].final)
    g13 = gaps(runs[0].final, runs[-1].final)
    return {"fig3_map_error": np.max(np.abs(sim.overlaps - exact.overlaps)),
            "fig3_function_gap": g12["function"], "fig3_visible_gap": g12["visible"],
            "fig3_invisible_gap": g12["invisible"], "fig3_loss_A1": runs[0].loss[-1],
            "fig3_loss_A2": runs[2].loss[-1], "fig3_a3_visible_gap": g13["visible"],
            "fig3_a3_invisible_gap": g13["invisible"], "fig3_a3_function_gap": g13["function"]}


def conserved_drift_numbers(data: dict) -> dict[str, float]:
    """Drift of ``K`` and of the conserved quantities in Figure 3 (:func:`linear_memory_runs`).

    The clean part is every epoch up to the end of the fourth phase (the last one has
    target noise).

    Returns
    -------
    dict
        ``K_scale`` (largest of the shown entries of ``K`` at the start),
        ``K_drift_clean`` and ``K_drift_noise`` (their largest change over the clean
        phases and over the noisy phase, relative to ``K_scale``), ``Q_drift_clean``
        and ``Q_drift_noise`` (the same for :func:`conserved`, absolute).
    """
    K, k_epochs, Q, bounds = data["K"], data["k_epochs"], data["Q"], data["bounds"]
    if len(bounds) < 6:
        raise ValueError(f"need five phases (four clean, one noisy), got {len(bounds) - 1}")
    K0 = np.max(np.abs(K[0]))
    clean = k_epochs <= bounds[4]
    Qd = np.max(np.abs(Q - Q[0]), axis=1)
    return {"K_scale": K0,
            "K_drift_clean": np.max(np.abs(K[clean] - K[0])) / K0,
            "K_drift_noise": np.max(np.abs(K[~clean] - K[clean][-1])) / K0,
            "Q_drift_clean": Qd[bounds[4]],
            "Q_drift_noise": np.max(np.abs(Q[-1] - Q[bounds[4]]))}


def adam_memory_numbers(data: dict) -> dict[str, float]:
    """Key numbers of Figure 7 from :func:`adam_memory_runs`: gaps between the A phases.

    Returns
    -------
    dict
        ``adam_function_gap``, ``adam_visible_gap``, ``adam_invisible_gap``: the
        largest :func:`gaps` between the end of the first A phase and the ends of the
        later ones under Adam; ``gd7_invisible_gap``: the same for gradient descent;
        ``adam_Q_drift``, ``gd7_Q_drift``: final change of :func:`conserved` from the
        start; ``adam_loss``: the largest final loss of the A phases under Adam.
    """
    adam_runs, gd_runs, S0 = data["adam_runs"], data["gd_runs"], data["S0"]
    if len(adam_runs) != 5 or len(gd_runs) != 5:
        raise ValueError("need five phases (A, B, A, B, A) for both optimisers")
    ends = [adam_runs[i].final for i in (0, 2, 4)]
    gd_ends = [gd_runs[i].final for i in (0, 2, 4)]
    g_adam = [gaps(ends[0], e) for e in ends[1:]]
    g_gd = [gaps(gd_ends[0], e) for e in gd_ends[1:]]
    return {
        "adam_function_gap": max(g["function"] for g in g_adam),
        "adam_visible_gap": max(g["visible"] for g in g_adam),
        "adam_invisible_gap": max(g["invisible"] for g in g_adam),
        "gd7_invisible_gap": max(g["invisible"] for g in g_gd),
        "adam_Q_drift": np.max(np.abs(conserved(data["adam"])[-1] - conserved(S0))),
        "gd7_Q_drift": np.max(np.abs(conserved(data["gd"])[-1] - conserved(S0))),
        "adam_loss": max(adam_runs[i].loss[-1] for i in (0, 2, 4)),
    }


def horizontal_span_numbers(span: dict, rel: float = 1e-8) -> dict[str, float]:
    """Ranks of :func:`horizontal_span`'s fields and brackets, and the dimension of the level set.

    Parameters
    ----------
    span : dict
        From :func:`horizontal_span`.
    rel : float
        A singular value counts if it exceeds ``rel`` times the largest.

    Returns
    -------
    dict
        ``level_set_dim``, ``fields_rank``, ``brackets_rank`` and
        ``bracket_sv_theta2`` (fifth singular value of fields and brackets relative to
        the first).
    """
    f, b = np.asarray(span["fields"]), np.asarray(span["brackets"])
    if len(b) < 5:
        raise ValueError(f"need the 6 singular values of fields and brackets, got {len(b)}")
    return {"level_set_dim": span["level_set_dim"],
            "fields_rank": int(np.sum(f > rel * f[0])),
            "brackets_rank": int(np.sum(b > rel * b[0])),
            "bracket_sv_theta2": b[4] / b[0]}


def one_step_numbers(settings: LinearMemorySettings | None = None) -> dict[str, float]:
    """Drift of the conserved quantities in one exact step from ``theta_2`` on task A.

    :func:`lrtools.memory.one_step_drift` at each of ``settings.step_etas`` (task A:
    the filter ``c[0]``).

    Parameters
    ----------
    settings : LinearMemorySettings, optional
        Default: the paper's.

    Returns
    -------
    dict
        ``step_slope`` (log-log slope of the drift against the step size) and
        ``step_drift`` (the drift at ``eta``).
    """
    s = LinearMemorySettings() if settings is None else settings
    if s.eta not in s.step_etas:
        raise ValueError(f"eta = {s.eta:g} is not among the step sizes {s.step_etas}")
    etas = np.array(s.step_etas)
    drift = memory.one_step_drift(paper_theta2(N=500, seed=s.seed), ExponentialFilter(c=s.c[0]),
                                  etas)
    return {"step_slope": loglog_slope(etas, drift),
            "step_drift": drift[list(s.step_etas).index(s.eta)]}


def flow_memory_numbers(scans: dict, *, eta_fit_max: float = 5e-3,
                        dc_fit_max: float = 0.1) -> dict[str, float]:
    """Key numbers of the flow-memory scans (:func:`flow_memory_scans`).

    Parameters
    ----------
    scans : dict
        From :func:`flow_memory_scans`; its ``eta`` (the paper's step size) must be
        one of its ``etas``.
    eta_fit_max : float
        Step sizes up to this enter the slope of the GD-minus-flow deviation.
    dc_fit_max : float
        Loop sizes up to this (small loops, the asymptotic regime) enter the slopes
        of the memory against ``c_B - c_A``.

    Returns
    -------
    dict
        ``flow_memory_theta2``, ``flow_function_theta2`` (the flow's gaps),
        ``gd_memory_theta2`` (GD's invisible gap at ``eta``), ``gd_flow_ratio``,
        ``dev_slope`` (log-log slope of GD minus flow against ``eta``),
        ``flow_unit_median``, ``flow_broad_median``, ``flow_broad_min``,
        ``flow_max_conserved_drift``, ``flow_max_function``, ``flow_max_loss`` (flow
        from many starts), ``dc_slope_flow``, ``dc_slope_gd`` (log-log slopes against
        the loop size) and ``n_starts``.
    """
    eta_scan, flows, dc_scan = scans["eta_scan"], scans["flows"], scans["dc_scan"]
    etas, dcs, n_unit = scans["etas"], scans["dcs"], scans["n_unit"]
    if scans["eta"] not in list(etas):
        raise ValueError(f"eta = {scans['eta']:g} is not among the scanned step sizes {etas}")
    dev = gd_flow_deviation(eta_scan)
    small_dc = np.asarray(dcs) <= dc_fit_max
    small = np.asarray(etas) <= eta_fit_max
    if small.sum() < 2 or small_dc.sum() < 2:
        raise ValueError(f"a slope needs two points: {small.sum()} step sizes <= {eta_fit_max:g} "
                         f"in {list(etas)}, {small_dc.sum()} loop sizes <= {dc_fit_max:g} in "
                         f"{list(dcs)}")
    i_eta = list(etas).index(scans["eta"])
    return {
        "flow_memory_theta2": float(eta_scan["flow_invisible"]),
        "flow_function_theta2": float(eta_scan["flow_function"]),
        "gd_memory_theta2": eta_scan["invisible"][i_eta],
        "gd_flow_ratio": eta_scan["invisible"][i_eta] / float(eta_scan["flow_invisible"]),
        "dev_slope": loglog_slope(np.asarray(etas)[small], dev[small]),
        "flow_unit_median": np.median(flows["invisible"][:n_unit]),
        "flow_broad_median": np.median(flows["invisible"][n_unit:]),
        "flow_broad_min": np.min(flows["invisible"][n_unit:]),
        "flow_max_conserved_drift": np.max(flows["conserved_drift"]),
        "flow_max_function": np.max(flows["function"]),
        "flow_max_loss": np.max(flows["loss"]),
        "dc_slope_flow": loglog_slope(np.asarray(dcs)[small_dc], dc_scan["flow"][small_dc]),
        "dc_slope_gd": loglog_slope(np.asarray(dcs)[small_dc], dc_scan["gd"][small_dc]),
        "n_starts": len(scans["starts"]),
    }


def conditions_numbers(cond: dict, *, noise_std: float = 0.1) -> dict[str, float]:
    """Key numbers of chapter 4's conditions map from :func:`conditions_runs`.

    Parameters
    ----------
    cond : dict
        From :func:`conditions_runs`; its target noise levels start with 0 and
        include ``noise_std``.
    noise_std : float
        The target noise level of ``noise_memory_01`` and ``noise_floor_01``.

    Returns
    -------
    dict
        Target noise: ``noise_memory_01``, ``noise_floor_01`` (at ``noise_std``),
        ``noise_memory_001``, ``noise_floor_001`` (second level), ``noise_memory_0``
        (no noise); weight noise: ``wnoise_memory``, ``wnoise_floor``, ``wnoise_std``
        (largest level), ``wnoise_memory_0``; weight decay: ``wd_rate_ratio_min``,
        ``wd_rate_ratio_max``, ``wd_rate_ratio_small``, ``wd_rate_ratio_large``
        (fitted late-time rate over the predicted one), ``wd_small``, ``wd_large``,
        ``wd_min_norm_gap``; optimiser: ``adam_pair_invisible``,
        ``gd_pair_invisible``, ``adam_pair_function``; and ``N_noise``.
    """
    noise_map, decay, optim, wds = cond["noise"], cond["decay"], cond["optim"], cond["wds"]
    stds = list(noise_map["target/std"])
    if noise_std not in stds or stds[0] != 0.0:
        raise ValueError(f"target noise levels {stds} must start with 0 and include {noise_std}")
    fitted = {}
    for w in wds:
        ep, m = decay[f"{w}/epoch"], decay[f"{w}/invisible"]
        late = ep >= ep[-1] / 2
        fitted[w] = fit_rate(ep[late], m[late]) / float(decay[f"{w}/predicted_rate"])
    ti = stds.index(noise_std)
    return {
        "noise_memory_01": noise_map["target/invisible"][ti],
        "noise_floor_01": noise_map["target/floor_invisible"][ti],
        "noise_memory_001": noise_map["target/invisible"][1],
        "noise_floor_001": noise_map["target/floor_invisible"][1],
        "noise_memory_0": noise_map["target/invisible"][0],
        "wnoise_memory": noise_map["weight/invisible"][-1],
        "wnoise_floor": noise_map["weight/floor_invisible"][-1],
        "wnoise_std": noise_map["weight/std"][-1],
        "wnoise_memory_0": float(noise_map["weight/invisible0"]),
        "wd_rate_ratio_min": min(fitted.values()), "wd_rate_ratio_max": max(fitted.values()),
        "wd_small": wds[0], "wd_large": wds[-1],
        "wd_rate_ratio_small": fitted[wds[0]], "wd_rate_ratio_large": fitted[wds[-1]],
        "wd_min_norm_gap": max(float(decay[f"{w}/min_norm_gap"]) for w in wds[1:]),
        "adam_pair_invisible": float(optim["adam/invisible"]),
        "gd_pair_invisible": float(optim["gd/invisible"]),
        "adam_pair_function": float(optim["adam/function"]), "N_noise": cond["N_noise"],
    }


def flow_loop_numbers(scans: dict) -> dict[str, float]:
    """The holonomy of the flow (:func:`lrtools.memory.flow_loops`).

    ``loop_slope_small`` and ``loop_slope_large`` (the local log-log slopes of the
    memory against the loop size at the smallest and the largest loops),
    ``loop_dc_min``, ``loop_orientation_cosine`` (the two orientations'
    invisible displacements; -1 would be a reversal), ``loop_orientation``
    ("reverses" or "does not reverse"), ``flow_d_zu``, ``flow_d_vm``,
    ``flow_d_product`` and ``flow_d_invisible_max`` (the shifts of the largest loop).
    """
    r = scans["loops"]
    cos = float(r["cosine"])
    return {"loop_slope_small": float(r["local_slope"][0]),
            "loop_slope_large": float(r["local_slope"][-1]),
            "loop_dc_min": float(r["dcs"][0]), "loop_orientation_cosine": cos,
            "loop_orientation": "reverses" if cos < -0.5 else "does not reverse",
            "flow_d_zu": float(r["d_zu"]), "flow_d_vm": float(r["d_vm"]),
            "flow_d_product": float(r["d_product"]),
            "flow_d_invisible_max": float(r["d_invisible_max"])}


#: Loops up to this size count as small in :func:`holonomy_numbers`.
SMALL_LOOP = 0.1


def holonomy_numbers(scans: dict) -> dict[str, float | str]:
    """Flow memory against curvature x enclosed area (:func:`lrtools.memory.loop_holonomy`).

    ``holonomy_dc_min`` and ``holonomy_ratio_small`` (norm of the prediction over
    the measured displacement at the smallest loop), ``holonomy_misalignment_small``
    (1 minus the smallest cosine between them over the loops up to
    :data:`SMALL_LOOP`: a residual of the expansion and the integrator),
    ``holonomy_error_slope`` (log-log slope of ``|1 - ratio|`` against the loop
    size over those loops: 1 for a second-order expansion whose next term is one
    order higher), ``holonomy_dc_max``, ``holonomy_ratio_large`` and
    ``holonomy_cosine_large`` (the largest loop), ``holonomy_large_verdict`` (what
    the prediction does there, in words) and ``holonomy_max_chord`` (the largest
    opening of a loop in function space).
    """
    r = scans["holonomy"]
    dcs, ratio, cos = np.asarray(r["dcs"]), np.asarray(r["ratio"]), np.asarray(r["cosine"])
    small = dcs <= SMALL_LOOP + 1e-12
    if small.sum() < 2:
        raise ValueError(f"need at least two loops of size <= {SMALL_LOOP}, got {dcs.tolist()}")
    slope = float(np.polyfit(np.log(dcs[small]), np.log(np.abs(1.0 - ratio[small])), 1)[0])
    if cos[-1] < 0:
        verdict = "fails: the displacement points the other way"
    elif abs(ratio[-1] - 1.0) > 0.1:
        verdict = "is off by more than 10%"
    else:
        verdict = "still holds"
    return {"holonomy_dc_min": float(dcs[0]), "holonomy_ratio_small": float(ratio[0]),
            "holonomy_misalignment_small": float(1.0 - cos[small].min()),
            "holonomy_error_slope": slope, "holonomy_dc_max": float(dcs[-1]),
            "holonomy_ratio_large": float(ratio[-1]), "holonomy_cosine_large": float(cos[-1]),
            "holonomy_large_verdict": verdict,
            "holonomy_max_chord": float(np.max(r["chord"]))}
