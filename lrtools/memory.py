r"""Invisible overlaps as memory of the training history (chapter 4).

Train a network on task A, then B, then A again. The loss-visible overlaps
return to an A solution; the loss-invisible ones need not, so the connectivity
remembers a history that the behaviour cannot show (Ger & Barak, 2026). This
module runs those multi-phase experiments (:class:`Phase`, :func:`run_phases`,
:func:`filter_phases`, :func:`history_pair`) and measures the memory
(:func:`gaps`, :func:`gap_series`), under noise, step size, weight decay and the
optimiser (:func:`memory_vs_noise`, :func:`memory_vs_eta`,
:func:`memory_vs_loop_size`, :func:`noise_memory_map`, :func:`weight_decay_map`,
:func:`optimizer_pair`).

**Memory under the flow is a holonomy.** For linear rank-1 networks the loss is a
function of three numbers, ``(sigma_zm, sigma_vu, sigma_zu sigma_vm)``, so the
flow moves along a three-dimensional (horizontal) distribution inside the
five-dimensional level set of the conserved quantities
(:func:`lrtools.conserved.conserved`). Its Lie brackets span the whole level set
(:func:`horizontal_span`): the distribution is not integrable, and a closed loop
in the loss-relevant coordinates (A -> B -> A) lifts to an open path, a geometric
phase that remains when ``eta -> 0`` (:func:`flow_memory`, :func:`flow_loops`).
The geometry (horizontal lifts, their curvature, the holonomy of small loops as
curvature x enclosed area) lives in :mod:`lrtools.holonomy`.

The conserved quantities and weight decay are in :mod:`lrtools.conserved`, the
nonlinear twins in :mod:`lrtools.twins`, the decoders in :mod:`lrtools.decoding`;
the chapter's studies (settings, cached runs, key numbers) in
:mod:`lrtools.studies.memory` and :mod:`lrtools.studies.twins`, its figures in
:mod:`lrtools.figures.memory`.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import theory
from ._parallel import run_jobs
from .conserved import (  # predicted_decay_rate: re-exported here, its home is conserved
    conserved,
    decay_under_weight_decay,
    predicted_decay_rate,
)
from .equivalence import equivalent_overlaps
from .history import History
from .holonomy import (  # re-exported here; their home is lrtools.holonomy
    horizontal_lifts,
    horizontal_span,
    lift_curvature,
    loop_holonomy,
)
from .network import LowRankRNN
from .overlaps import Overlaps
from .tasks import Task
from .training import train
from .twins import random_overlaps  # re-exported here; its home is lrtools.twins

__all__ = [
    "NAMES",
    "Phase",
    "paper_theta2",
    "random_overlaps",
    "run_phases",
    "join",
    "phases_to_arrays",
    "phases_from_arrays",
    "filter_phases",
    "history_pair",
    "memory_vs_noise",
    "memory_vs_eta",
    "flow_memory",
    "gaps",
    "horizontal_span",
    "horizontal_lifts",
    "lift_curvature",
    "loop_holonomy",
    "predicted_decay_rate",
    "gap_series",
    "outside_span",
    "one_step_drift",
    "memory_vs_loop_size",
    "flow_loops",
    "noise_memory_map",
    "weight_decay_map",
    "optimizer_pair",
]

#: Vector order of rank-1 overlaps (one input, one output).
NAMES = ("m", "u", "v", "z")


# ---------------------------------------------------------------------------
# starting points
# ---------------------------------------------------------------------------


def paper_theta2(N: int = 500, seed: int = 0, *, uu: float = 2.048, mu: float = 0.8) -> Overlaps:
    """The paper's ``theta_2``: a random unit-norm start re-solved to ``sigma_uu``, ``sigma_mu``.

    ``theta_1`` is :meth:`LowRankRNN.random` (``N``, ``seed``); ``theta_2`` keeps
    its visible overlaps and its ``m``, ``z``, re-solves ``u`` with the new norm
    and overlap and ``v`` to keep ``sigma_vm, sigma_vu``
    (:func:`lrtools.equivalence.equivalent_overlaps`, as in chapter 3).

    Returns
    -------
    Overlaps
        Rank-1 overlaps ``(m, u, v, z)``.
    """
    S1 = LowRankRNN.random(N=N, rank=1, phi="linear", seed=seed).overlaps()
    return equivalent_overlaps(S1, "linear", uu=uu, mu=mu)


# ---------------------------------------------------------------------------
# multi-phase learning
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Phase:
    """One training phase: a task, a number of epochs and the optimiser settings.

    Parameters
    ----------
    task : Task
        Task of this phase.
    epochs : int
        Number of updates.
    eta : float
        Learning rate (GD: vectors move by ``-N eta dL/dx``; Adam: its own rate).
    optimizer : {"gd", "adam"}
        Adam needs the N-dimensional network.
    weight_decay, weight_noise : float
        As in :func:`lrtools.train` (weight noise needs the network).
    seed : int, optional
        Seed of the batches (random tasks) and of the weight noise.
    label : str
        Name in figures (``"A"``, ``"B"``).
    """

    task: Task
    epochs: int
    eta: float
    optimizer: str = "gd"
    weight_decay: float = 0.0
    weight_noise: float = 0.0
    seed: int | None = None
    label: str = ""


def run_phases(
    start: LowRankRNN | Overlaps,
    phases: Sequence[Phase],
    *,
    mode: str | None = None,
    phi: str = "linear",
    snapshot_every: int | None = None,
    flow_points: int = 2,
    progress: bool | None = None,
) -> list[History]:
    """Run consecutive training phases; each starts where the previous ended.

    Parameters
    ----------
    start : LowRankRNN or Overlaps
        A network (trained as a copy, ``mode="network"``) or overlaps.
    phases : sequence of Phase
    mode : {"network", "map", "flow"}, optional
        ``"network"``: :func:`lrtools.train`; ``"map"``: the exact overlap map
        :func:`lrtools.theory.learn`; ``"flow"``: :func:`lrtools.theory.flow`
        over the learning time ``eta * epochs`` of each phase (deterministic
        tasks). Default: ``"network"`` for a network, ``"map"`` for overlaps.
    phi : str
        Nonlinearity of the overlap theory (a network uses its own).
    snapshot_every : int, optional
        Network mode: keep the vectors every this many epochs (for ``K``).
    flow_points : int
        Flow mode: output points per phase.

    Returns
    -------
    list of History
        One per phase.
    """
    if mode is None:
        mode = "network" if isinstance(start, LowRankRNN) else "map"
    if mode not in ("network", "map", "flow"):
        raise ValueError(f"unknown mode {mode!r}; expected 'network', 'map' or 'flow'")
    if mode == "network" and not isinstance(start, LowRankRNN):
        raise TypeError("mode='network' needs a LowRankRNN start")
    if mode != "network":
        S = start.overlaps() if isinstance(start, LowRankRNN) else start
        for p in phases:
            if p.optimizer != "gd" or p.weight_noise:
                raise ValueError(
                    f"phase {p.label or p.task!r}: Adam and weight noise act on the vectors, "
                    "not through Gamma; run them with a LowRankRNN (mode='network')"
                )
    out: list[History] = []
    if mode == "network":
        net = start.copy()
        for p in phases:
            out.append(train(net, p.task, p.epochs, p.eta, p.optimizer, seed=p.seed,
                             weight_decay=p.weight_decay, weight_noise=p.weight_noise,
                             snapshot_every=snapshot_every, progress=progress))
        return out
    for p in phases:
        if mode == "map":
            h = theory.learn(S, p.task, p.epochs, p.eta, phi=phi, seed=p.seed,
                             weight_decay=p.weight_decay, progress=progress)
        else:
            h = theory.flow(S, p.task, t_end=p.eta * p.epochs, n_points=flow_points, phi=phi,
                            weight_decay=p.weight_decay)
        out.append(h)
        S = h.final
    return out


def join(histories: Sequence[History]) -> tuple[History, np.ndarray]:
    """Concatenate consecutive phases into one history.

    Returns
    -------
    History
        The joined trajectory (``time`` continues across phases).
    numpy.ndarray, shape (n_phases + 1,)
        Row index of ``overlaps`` at each phase boundary (0 first, last row last).
    """
    hist = histories[0]
    bounds = [0, len(hist.overlaps) - 1]
    for h in histories[1:]:
        hist = hist.concat(h)
        bounds.append(len(hist.overlaps) - 1)
    return hist, np.array(bounds)


def phases_to_arrays(histories: Sequence[History]) -> dict[str, np.ndarray]:
    """Flat dict of plain arrays (for the cache); inverse :func:`phases_from_arrays`."""
    out = {"n_phases": np.array(len(histories))}
    for i, h in enumerate(histories):
        out.update(h.to_arrays(f"phase{i}/"))
    return out


def phases_from_arrays(data: dict[str, np.ndarray]) -> list[History]:
    """Rebuild the phases stored with :func:`phases_to_arrays`."""
    return [History.from_arrays(data, f"phase{i}/") for i in range(int(data["n_phases"]))]


def filter_phases(
    epochs: Sequence[int],
    c: Sequence[float],
    eta: float | Sequence[float],
    *,
    target_noise: float | Sequence[float] = 0.0,
    optimizer: str = "gd",
    weight_decay: float = 0.0,
    weight_noise: float = 0.0,
    dt: float = 0.05,
    t_max: float = 20.0,
    seed: int = 0,
) -> list[Phase]:
    """Phases of exponential-filter tasks: phase ``i`` trains ``exp(-c[i] t)`` for ``epochs[i]``.

    ``eta`` and ``target_noise`` may be given per phase. A phase with target noise
    uses :class:`lrtools.tasks.NoisyTarget`; phase ``i`` draws its noise from seed
    ``[seed, i]``, so two schedules built with the same ``seed`` share it.

    Examples
    --------
    The paper's Figure 3 (``eta = 5e-3``)::

        filter_phases([3000, 1000, 1000, 1000, 4000], [0.2, 0.4, 0.2, 0.4, 0.2],
                      [5e-3] * 4 + [1e-2], target_noise=[0, 0, 0, 0, 0.1])
    """
    from .tasks import ExponentialFilter, NoisyTarget

    n = len(epochs)
    if len(c) != n:
        raise ValueError(f"{n} phases need {n} decay rates, got {len(c)}")
    etas = np.broadcast_to(np.asarray(eta, dtype=float), (n,))
    noise = np.broadcast_to(np.asarray(target_noise, dtype=float), (n,))
    phases = []
    for i in range(n):
        task: Task = ExponentialFilter(c=float(c[i]), dt=dt, t_max=t_max)
        if noise[i] > 0:
            task = NoisyTarget(task=task, std=float(noise[i]))
        phases.append(Phase(task=task, epochs=int(epochs[i]), eta=float(etas[i]),
                            optimizer=optimizer, weight_decay=weight_decay,
                            weight_noise=weight_noise, seed=seed * 1000 + i,
                            label=f"c={c[i]:g}" + (f"+noise {noise[i]:g}" if noise[i] else "")))
    return phases


def history_pair(
    start: LowRankRNN | Overlaps,
    *,
    epochs: Sequence[int] = (3000, 1000, 1000),
    c: tuple[float, float] = (0.2, 0.4),
    mode: str | None = None,
    **kw,
) -> dict[str, np.ndarray | float]:
    """Two histories that end on the same task: A, B, A and the control A, A, A.

    With ``n`` phases (``len(epochs)``) the first history is ``A, ..., A, B, A`` and
    the control ``A, ..., A`` (two phases: B, A against A, A). Both run the same
    number of epochs per phase with the same settings (``kw`` of
    :func:`filter_phases`: ``eta``, ``target_noise``, ``optimizer``,
    ``weight_decay``, ``weight_noise``, ``seed``) and the same noise draws; only
    the middle task differs. The memory is the distance between their final
    overlaps (:func:`gaps`): without noise the control ends where the first A
    phase ended, which is the paper's comparison A1 vs A2.

    Returns
    -------
    dict
        ``aba``, ``aaa`` (final overlap matrices), ``visible``, ``invisible``,
        ``function`` (gaps), ``loss`` (final loss of the A, B, A history).
    """
    cA, cB = c
    n = len(epochs)
    if n < 2:
        raise ValueError("need at least two phases (B then A)")
    h1 = run_phases(start, filter_phases(epochs, [cA] * (n - 2) + [cB, cA], **kw), mode=mode)
    h2 = run_phases(start, filter_phases(epochs, [cA] * n, **kw), mode=mode)
    g = gaps(h2[-1].final, h1[-1].final)
    return {"aba": h1[-1].final.matrix, "aaa": h2[-1].final.matrix, "visible": g["visible"],
            "invisible": g["invisible"], "function": g["function"],
            "loss": float(h1[-1].loss[-1])}


def memory_vs_noise(
    start: LowRankRNN | Overlaps,
    stds: Sequence[float],
    *,
    kind: str = "target",
    epochs: Sequence[int] = (3000, 1000, 1000),
    eta: float = 5e-3,
    seed: int = 0,
    executor: concurrent.futures.Executor | None = None,
) -> dict[str, np.ndarray]:
    """Memory under target noise (exact overlap map) or weight noise (network).

    For each noise amplitude: the memory (:func:`history_pair`, both histories with
    the same noise draws) and the noise floor, the distance between two copies of
    the control history with different noise draws.

    Parameters
    ----------
    start : LowRankRNN or Overlaps
        A network is needed for ``kind="weight"``.
    stds : sequence of float
        Target noise standard deviation (``kind="target"``) or weight noise per
        entry and step (``kind="weight"``).
    executor : concurrent.futures.Executor, optional
        Runs the amplitudes in parallel (e.g. ``ProcessPoolExecutor`` or a
        ``dask.distributed`` client's executor); serial when omitted.

    Returns
    -------
    dict
        ``std``, ``invisible``, ``visible``, ``function``, ``floor_invisible``,
        ``floor_visible``, ``loss``, each ``(len(stds),)``.
    """
    if kind not in ("target", "weight"):
        raise ValueError(f"kind must be 'target' or 'weight', got {kind!r}")
    keys = ("invisible", "visible", "function", "floor_invisible", "floor_visible", "loss")
    rows = run_jobs(_noise_job, [(start, float(std), kind, tuple(epochs), eta, seed)
                                 for std in stds], executor)
    return {"std": np.asarray(stds, dtype=float),
            **{k: np.array([row[k] for row in rows]) for k in keys}}


def _noise_job(start, std: float, kind: str, epochs: tuple, eta: float, seed: int) -> dict:
    kw = {"eta": eta, ("target_noise" if kind == "target" else "weight_noise"): std}
    r = history_pair(start, epochs=epochs, seed=seed, **kw)
    ctrl = run_phases(start, filter_phases(epochs, [0.2] * len(epochs), seed=seed + 1, **kw))
    g = gaps(ctrl[-1].final, Overlaps(r["aaa"], NAMES))
    return {"invisible": r["invisible"], "visible": r["visible"], "function": r["function"],
            "loss": r["loss"], "floor_invisible": g["invisible"], "floor_visible": g["visible"]}


def memory_vs_eta(
    start: Overlaps,
    etas: Sequence[float],
    *,
    learning_times: tuple[float, float, float] = (20.0, 20.0, 20.0),
    c: tuple[float, float] = (0.2, 0.4),
    flow: bool = True,
    executor: concurrent.futures.Executor | None = None,
) -> dict[str, np.ndarray]:
    """Memory of A, B, A against A, A, A as a function of the step size (exact overlap map).

    Each phase lasts the same learning time ``eta * epochs`` at every ``eta`` (long
    enough to converge), so the memory is compared at equal learning time. With
    ``flow``, the same is done for the gradient flow (``eta -> 0``).

    Returns
    -------
    dict
        ``eta``; ``invisible``, ``visible``, ``function`` (gaps, one per ``eta``);
        ``flow_invisible``, ``flow_visible``, ``flow_function``, ``flow_aba``,
        ``flow_aaa`` (the flow's gaps and final overlaps); ``aba`` ``(n_eta, 4, 4)``.
    """
    rows = run_jobs(_eta_job, [(start, float(eta), tuple(learning_times), tuple(c))
                               for eta in etas], executor)
    res = {"eta": np.asarray(etas, dtype=float)}
    res.update({k: np.array([r[k] for r in rows])
                for k in ("invisible", "visible", "function", "aba", "aaa")})
    if flow:
        # the flow over learning time eta * epochs: any eta with the same products
        epochs = [int(round(t / 1e-2)) for t in learning_times]
        r = history_pair(start, epochs=epochs, c=c, eta=1e-2, mode="flow")
        for k in ("invisible", "visible", "function", "aba", "aaa"):
            res[f"flow_{k}"] = np.asarray(r[k])
    return res


def _eta_job(start: Overlaps, eta: float, learning_times: tuple, c: tuple) -> dict:
    epochs = [int(round(t / eta)) for t in learning_times]
    return history_pair(start, epochs=epochs, c=c, eta=eta, mode="map")


def flow_memory(
    starts: np.ndarray,
    *,
    learning_time: float = 20.0,
    c: tuple[float, float] = (0.2, 0.4),
    executor: concurrent.futures.Executor | None = None,
) -> dict[str, np.ndarray]:
    """Memory of the exact gradient flow (A, B, A vs A) from many starting overlaps.

    Each phase is integrated over ``learning_time`` (to convergence, loss below
    ``1e-15`` for the filter tasks). Returns the gaps between the ends of the two
    A phases and the largest change of the conserved quantities
    (:func:`conserved`) over the whole history.

    Returns
    -------
    dict
        ``invisible``, ``visible``, ``function``, ``conserved_drift``, ``loss``
        (final), each ``(n_starts,)``; ``bracket_sv`` ``(n_starts,)``: the smallest
        non-zero singular value of the fields and brackets of
        :func:`horizontal_span` at the start.
    """
    keys = ("invisible", "visible", "function", "conserved_drift", "loss", "bracket_sv")
    rows = run_jobs(_flow_job, [(M, learning_time, tuple(c)) for M in np.asarray(starts)],
                    executor)
    return {k: np.array([r[k] for r in rows]) for k in keys}


def _flow_job(M: np.ndarray, learning_time: float, c: tuple) -> dict:
    from .tasks import ExponentialFilter

    tA, tB = (ExponentialFilter(c=ci) for ci in c)
    S = Overlaps(M, NAMES)
    a1 = theory.flow(S, tA, learning_time, 2).final
    b = theory.flow(a1, tB, learning_time, 2).final
    h = theory.flow(b, tA, learning_time, 2)
    g = gaps(a1, h.final)
    drift = np.max(np.abs(np.array([conserved(X) for X in (a1, b, h.final)]) - conserved(S)))
    return {"invisible": g["invisible"], "visible": g["visible"], "function": g["function"],
            "conserved_drift": float(drift), "loss": float(h.loss[-1]),
            "bracket_sv": float(horizontal_span(S)["brackets"][4])}



def _values(S: Overlaps | np.ndarray, keys: Sequence[str]) -> np.ndarray:
    S = S if isinstance(S, Overlaps) else Overlaps(S, NAMES)
    return np.array([S[k] for k in keys])


def gaps(S1: Overlaps | np.ndarray, S2: Overlaps | np.ndarray, phi: str = "linear") -> dict:
    """How far two overlap states are apart, split into visible and invisible overlaps.

    Returns
    -------
    dict
        ``visible``, ``invisible``: largest absolute difference over each set;
        ``function`` (rank-1 linear only): over the three numbers the output
        depends on, ``sigma_zm``, ``sigma_vu`` and ``sigma_zu sigma_vm``;
        ``each``: ``{name: S2 - S1}``.
    """
    S1 = S1 if isinstance(S1, Overlaps) else Overlaps(S1, NAMES)
    S2 = S2 if isinstance(S2, Overlaps) else Overlaps(S2, NAMES)
    vis, inv = S1.visible(phi), S1.invisible(phi)
    out = {
        "visible": float(np.max(np.abs(_values(S1, vis) - _values(S2, vis)))),
        "invisible": float(np.max(np.abs(_values(S1, inv) - _values(S2, inv)))),
        "each": {k: S2[k] - S1[k] for k in vis + inv},
    }
    if phi == "linear" and S1.names == NAMES:
        f1 = np.array([S1["zm"], S1["vu"], S1["zu"] * S1["vm"]])
        f2 = np.array([S2["zm"], S2["vu"], S2["zu"] * S2["vm"]])
        out["function"] = float(np.max(np.abs(f1 - f2)))
    return out


def gap_series(h1: History, h2: History, phi: str = "erf") -> dict[str, np.ndarray]:
    """:func:`gaps` between two histories at every recorded step (same length).

    Returns
    -------
    dict
        ``visible``, ``invisible``: arrays of shape ``(len(h1.overlaps),)``.
    """
    if len(h1.overlaps) != len(h2.overlaps):
        raise ValueError("the two histories have different lengths")
    g = [gaps(h1.at(i), h2.at(i), phi) for i in range(len(h1.overlaps))]
    return {k: np.array([x[k] for x in g]) for k in ("visible", "invisible")}


def outside_span(S: Overlaps | np.ndarray, vector: str = "z", span: str = "muv") -> float:
    """Squared norm over ``N`` of one vector's part outside the span of others.

    The Schur complement ``sigma_xx - s^T S_span^{-1} s`` of the overlap matrix
    (``s``: overlaps of ``x`` with the span vectors). In the reduced theory every
    update lies in the span of the vectors (``X' = X (I - eta Gamma)``); in a
    nonlinear network the update of ``z`` is a sum of vectors ``phi(h_t)`` with a
    part outside it.

    Parameters
    ----------
    S : Overlaps or numpy.ndarray, shape (4, 4)
        Overlaps in the order ``m, u, v, z``.
    vector, span : str
        The vector and the vectors spanning the subspace.
    """
    M = np.asarray(S.matrix if isinstance(S, Overlaps) else S, dtype=np.float64)
    i = NAMES.index(vector)
    idx = [NAMES.index(c) for c in span]
    s_ = M[idx, i]
    return float(M[i, i] - s_ @ np.linalg.solve(M[np.ix_(idx, idx)], s_))



def one_step_drift(S: Overlaps, task: Task, etas: Sequence[float]) -> np.ndarray:
    """Largest change of the conserved quantities (:func:`conserved`) in one exact step.

    Parameters
    ----------
    S : Overlaps
        Start (rank 1, linear).
    task : Task
        Deterministic task of the step.
    etas : sequence of float
        Step sizes.

    Returns
    -------
    numpy.ndarray, shape (len(etas),)
        ``max |Q(S') - Q(S)|`` after one step of the exact overlap map at each ``eta``.
    """
    return np.array([np.max(np.abs(conserved(theory.learn(S, task, 1, e).final) - conserved(S)))
                     for e in etas])



def memory_vs_loop_size(
    start: Overlaps,
    dcs: Sequence[float],
    *,
    c_A: float = 0.2,
    eta: float = 5e-3,
    flow_epochs: int = 2000,
    flow_eta: float = 1e-2,
    gd_epochs: int = 4000,
) -> dict[str, np.ndarray]:
    """Memory of A, B, A against A, A, A as a function of the loop size ``c_B - c_A``.

    For each ``dc`` the history pair (:func:`history_pair`) with ``c = (c_A, c_A +
    dc)`` runs under the gradient flow (three phases of learning time ``flow_eta *
    flow_epochs``) and under the exact map (``gd_epochs`` per phase at ``eta``).

    Returns
    -------
    dict
        ``flow``, ``gd``: the Frobenius norm of the difference of the two final
        overlap matrices (all overlaps), each ``(len(dcs),)``.
    """
    if any(dc <= 0 for dc in dcs):
        raise ValueError(f"loop sizes must be positive, got {list(dcs)}")
    out = {"flow": [], "gd": []}
    for dc in dcs:
        r = history_pair(start, epochs=[flow_epochs] * 3, c=(c_A, c_A + dc), eta=flow_eta,
                         mode="flow")
        out["flow"].append(np.linalg.norm(r["aba"] - r["aaa"]))
        r = history_pair(start, epochs=[gd_epochs] * 3, c=(c_A, c_A + dc), eta=eta)
        out["gd"].append(np.linalg.norm(r["aba"] - r["aaa"]))
    return {k: np.array(v) for k, v in out.items()}


def flow_loops(
    start: Overlaps,
    *,
    dcs: Sequence[float] = (0.003, 0.006, 0.0125, 0.025, 0.05, 0.1, 0.2, 0.4),
    c_A: float = 0.2,
    flow_time: float = 20.0,
) -> dict[str, np.ndarray]:
    """The holonomy of the exact gradient flow: small loops, their orientation, the visible shift.

    (i) For each loop size ``dc`` the history pair A, B, A against A, A, A under the
    flow (``c = (c_A, c_A + dc)``, each phase of learning time ``flow_time``): the
    norm of the difference of the final overlaps and, between successive sizes,
    the local log-log slope (a holonomy grows like the enclosed area, ``dc^2``, for
    small loops). (ii) The orientation test: A, B, C, A against A, C, B, A with
    ``c_B = c_A + dcs[-1]/2`` and ``c_C = c_A + dcs[-1]``, both against A, A, A, A: a
    geometric phase changes sign with the orientation of the loop. (iii) The visible
    overlaps also move under the flow: the differences of ``sigma_zu``,
    ``sigma_vm`` and of their product between A, B, A and A, A, A at the largest loop.

    Returns
    -------
    dict
        ``dcs``, ``gap (len(dcs),)``, ``local_slope (len(dcs) - 1,)``; ``forward``,
        ``backward`` (the two orientations' displacements of the final overlaps,
        ``(4, 4)``) and ``cosine`` (of their invisible parts); ``d_zu``, ``d_vm``,
        ``d_product`` and ``d_invisible_max`` (the largest invisible change).
    """
    dcs = np.asarray(dcs, dtype=float)
    if np.any(dcs <= 0) or np.any(np.diff(dcs) <= 0):
        raise ValueError(f"loop sizes must be positive and increasing, got {dcs.tolist()}")
    epochs, eta = int(round(flow_time / 1e-2)), 1e-2
    gap, last = [], None
    for dc in dcs:
        r = history_pair(start, epochs=[epochs] * 3, c=(c_A, c_A + dc), eta=eta, mode="flow")
        gap.append(np.linalg.norm(r["aba"] - r["aaa"]))
        last = r
    gap = np.array(gap)
    cB, cC = c_A + dcs[-1] / 2, c_A + dcs[-1]

    def final(cs):
        return run_phases(start, filter_phases([epochs] * 4, cs, eta), mode="flow")[-1].final

    ref = final([c_A] * 4).matrix
    fwd = final([c_A, cB, cC, c_A]).matrix - ref
    bwd = final([c_A, cC, cB, c_A]).matrix - ref
    inv = [(start.index(start.split(k)[0]), start.index(start.split(k)[1]))
           for k in start.invisible("linear")]
    vf = np.array([fwd[i, j] for i, j in inv])
    vb = np.array([bwd[i, j] for i, j in inv])
    d = last["aba"] - last["aaa"]
    ix = {n: start.index(n) for n in start.names}
    prod = (last["aba"][ix["z"], ix["u"]] * last["aba"][ix["v"], ix["m"]]
            - last["aaa"][ix["z"], ix["u"]] * last["aaa"][ix["v"], ix["m"]])
    return {"dcs": dcs, "gap": gap, "local_slope": np.diff(np.log(gap)) / np.diff(np.log(dcs)),
            "forward": fwd, "backward": bwd,
            "cosine": float(vf @ vb / (np.linalg.norm(vf) * np.linalg.norm(vb))),
            "d_zu": float(d[ix["z"], ix["u"]]), "d_vm": float(d[ix["v"], ix["m"]]),
            "d_product": float(prod),
            "d_invisible_max": float(max(abs(d[i, j]) for i, j in inv))}


def noise_memory_map(
    start: Overlaps,
    control_end: Overlaps | np.ndarray,
    target_stds: Sequence[float],
    weight_stds: Sequence[float],
    *,
    N: int,
    eta: float = 5e-3,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Memory and noise floor under target noise and under weight noise (chapter 4, panel b).

    Target noise: :func:`memory_vs_noise` from ``start`` (exact map, A, B, A vs A, A,
    A). Weight noise: a network of ``N`` neurons with the overlaps ``control_end``
    (e.g. the end of A, A, A) runs B, A vs A, A (1000 epochs each), and the same
    two histories without noise (exact map).

    Returns
    -------
    dict
        The results of :func:`memory_vs_noise` under the prefixes ``target/`` and
        ``weight/``, and ``weight/invisible0`` (the noise-free memory).
    """
    out = {f"target/{k}": v for k, v in memory_vs_noise(start, target_stds, eta=eta).items()}
    M = control_end.matrix if isinstance(control_end, Overlaps) else control_end
    netA = LowRankRNN.from_overlaps(Overlaps(M, NAMES), N=N, seed=seed)
    out.update({f"weight/{k}": v for k, v in memory_vs_noise(
        netA, weight_stds, kind="weight", epochs=(1000, 1000), eta=eta).items()})
    # the same two histories without noise (exact map)
    r = history_pair(netA.overlaps(), epochs=(1000, 1000), eta=eta)
    out["weight/invisible0"] = np.array(r["invisible"])
    return out


def weight_decay_map(
    pair: dict, task: Task, wds: Sequence[float], eta: float = 5e-3, e_foldings: float = 8.0
) -> dict[str, np.ndarray]:
    """Memory of a history pair under weight decay (:func:`decay_under_weight_decay`).

    Each weight decay ``w`` runs for ``e_foldings`` e-foldings at the predicted rate
    ``2 eta w`` per epoch, recording about 200 points.

    Parameters
    ----------
    pair : dict
        From :func:`history_pair` (its ``aba`` and ``aaa`` overlaps).

    Returns
    -------
    dict
        The results of :func:`decay_under_weight_decay` under the prefixes ``"{w}/"``.
    """
    if any(w <= 0 for w in wds):
        raise ValueError(f"weight decays must be positive, got {list(wds)}")
    out = {}
    for w in wds:
        n = int(round(e_foldings / (2 * eta * w)))  # e-foldings at the predicted rate
        d = decay_under_weight_decay(Overlaps(pair["aba"]), Overlaps(pair["aaa"]),
                                     task, eta, w, n, record_every=max(n // 200, 1))
        out.update({f"{w}/{k}": v for k, v in d.items()})
    return out


def optimizer_pair(
    start: Overlaps,
    *,
    N: int,
    epochs: Sequence[int] = (3000, 1000, 1000),
    eta: float = 5e-3,
    lr: float = 1e-3,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """A, B, A vs A, A, A under Adam (network of ``N`` neurons) and gradient descent (exact map).

    Returns
    -------
    dict
        ``adam/invisible``, ``adam/visible``, ``adam/function`` and the same under
        ``gd/`` (:func:`history_pair` gaps).
    """
    net = LowRankRNN.from_overlaps(start, N=N, seed=seed)
    adam = history_pair(net, epochs=epochs, eta=lr, optimizer="adam")
    gd = history_pair(net.overlaps(), epochs=epochs, eta=eta)  # exact map
    return {f"{o}/{k}": np.asarray(r[k]) for o, r in (("adam", adam), ("gd", gd))
            for k in ("invisible", "visible", "function")}
