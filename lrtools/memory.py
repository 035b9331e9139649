r"""Invisible overlaps as memory of the training history (chapter 4).

Train a network on task A, then B, then A again. The loss-visible overlaps
return to an A solution; the loss-invisible ones need not, so the connectivity
remembers a history that the behaviour cannot show (Ger & Barak, 2026). This
module runs those multi-phase experiments and measures the memory.

**Conserved quantities.** With ``J = diag(+1 on z, v; -1 on m, u)`` the linear
loss gradient anticommutes with ``J`` (``J Gamma = -Gamma J``), so under the
gradient flow ``d(JS)/dtau = [Gamma, JS]``: the eigenvalues of ``JS``
(:func:`lrtools.theory.invariants`) and the ``N x N`` matrix
``K = Z Z^T + V V^T - M M^T - U U^T`` are conserved. The rescaling ``u -> l u``,
``v -> v / l`` leaves every rank-1 network unchanged (for any ``phi``), which
conserves one more quantity under the flow, the balance ``sigma_uu - sigma_vv``
(:func:`balance`; ``U^T U - V^T V`` for rank ``R``). One discrete step of size
``eta`` changes them by ``O(eta^2)``; weight decay multiplies them by
``exp(-2 wd tau)`` exactly (flow); Adam and noise break them.

**Memory under the flow is a holonomy.** For linear rank-1 networks the loss is a
function of three numbers, ``(sigma_zm, sigma_vu, sigma_zu sigma_vm)``, so the
flow moves along a three-dimensional (horizontal) distribution inside the
five-dimensional level set of the conserved quantities. Its Lie brackets span the
whole level set (:func:`horizontal_span`): the distribution is not integrable, and a
closed loop in the loss-relevant coordinates (A -> B -> A) lifts to an open path,
a geometric phase that remains when ``eta -> 0``.

**Nonlinear twins.** :func:`twin_experiment` runs the paper's Figure 9-10 protocol
in the reduced (Gaussian-limit) erf theory for many networks at once with a fused
kernel (:func:`lrtools.theory.learn_many`); :func:`decode_history` decodes the A/B
history from visible or invisible overlaps with logistic regression.

**Paper figures.** ``figure3``, ``figure6``, ``figure7``, ``figure9``,
``figure10`` and ``figure4_memory`` (panels d-f) draw the paper's figures from
the same cached runs as chapter 4 (:func:`figure_settings`, data functions
:func:`linear_memory_runs`, :func:`adam_memory_runs`, :func:`twin_runs`,
:func:`twin_decoding`, and ``plot_figure*``); see :mod:`lrtools.figures`.

**Chapter 4's own analyses.** The chapter's key numbers (``*_numbers``), its
scans (:func:`flow_memory_scans`, :func:`conditions_runs`,
:func:`network_check_runs`, cached) and its other figures
(:func:`plot_flow_memory`, :func:`plot_conditions`, :func:`plot_network_check`).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import theory
from ._parallel import run_jobs
from .cache import cached_run
from .fits import fit_rate, loglog_slope
from .history import History
from .network import LowRankRNN
from .overlaps import Overlaps, left_right, psd_sqrt
from .tasks import DecisionMaking, FlipFlop, Task, TeacherStudent
from .training import train

__all__ = [
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
    "decay_under_weight_decay",
    "balance",
    "conserved",
    "k_entries",
    "k_drift",
    "gaps",
    "horizontal_span",
    "min_norm_overlaps",
    "predicted_decay_rate",
    "fit_rate",
    "shade_phases",
    "plot_phases",
    "plot_phase_loss",
    "plot_conserved",
    "plot_twin_pair",
    "plot_decoding",
    "twin_distances",
    "twin_features",
    "twin_experiment",
    "network_twin_check",
    "outside_span",
    "gap_series",
    "decode_history",
    "figure_settings",
    "linear_memory_runs",
    "adam_memory_runs",
    "twin_runs",
    "twin_decoding",
    "plot_figure3",
    "plot_figure6",
    "plot_figure7",
    "plot_twin_loss",
    "plot_twin_distance",
    "plot_decoding_during_c",
    "plot_figure4_memory",
    "plot_figure9",
    "plot_figure10",
    "plot_figure9_10",
    "figure3",
    "figure6",
    "figure7",
    "figure4_memory",
    "figure9",
    "figure10",
    "one_step_drift",
    "linear_memory_numbers",
    "conserved_drift_numbers",
    "adam_memory_numbers",
    "horizontal_span_numbers",
    "memory_vs_loop_size",
    "flow_memory_scans",
    "flow_memory_numbers",
    "plot_flow_memory",
    "noise_memory_map",
    "weight_decay_map",
    "optimizer_pair",
    "conditions_runs",
    "plot_conditions",
    "conditions_numbers",
    "twin_numbers",
    "decoding_numbers",
    "median_twin_pair",
    "network_check_runs",
    "network_check_numbers",
    "plot_network_check",
    "NAMES",
]

NAMES = ("m", "u", "v", "z")
_M, _U, _V, _Z = range(4)


# ---------------------------------------------------------------------------
# starting points
# ---------------------------------------------------------------------------


def paper_theta2(N: int = 500, seed: int = 0, *, uu: float = 2.048, mu: float = 0.8) -> Overlaps:
    """The paper's ``theta_2``: a random unit-norm start re-solved to ``sigma_uu``, ``sigma_mu``.

    ``theta_1`` is :meth:`LowRankRNN.random` (``N``, ``seed``); ``theta_2`` keeps
    its visible overlaps and its ``m``, ``z``, re-solves ``u`` with the new norm
    and overlap and ``v`` to keep ``sigma_vm, sigma_vu``
    (:func:`lrtools.probe.equivalent_overlaps`, as in chapter 3).

    Returns
    -------
    Overlaps
        Rank-1 overlaps ``(m, u, v, z)``.
    """
    from .probe import equivalent_overlaps

    S1 = LowRankRNN.random(N=N, rank=1, phi="linear", seed=seed).overlaps()
    return equivalent_overlaps(S1, "linear", uu=uu, mu=mu)


def random_overlaps(
    n: int,
    seed: np.random.Generator | int | None = None,
    *,
    cross_std: float = 0.4,
    norm_range: tuple[float, float] = (0.5, 2.0),
    min_eig: float = 1e-3,
) -> np.ndarray:
    """Random rank-1 overlap matrices of the paper's nonlinear memory experiment.

    Cross overlaps ``|N(0, cross_std^2)|``, norms ``sigma_aa ~ U(norm_range)``;
    draws that are not positive definite (smallest eigenvalue below ``min_eig``)
    are rejected and redrawn.

    Returns
    -------
    numpy.ndarray, shape (n, 4, 4)
        Order ``(m, u, v, z)``.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((int(n), 4, 4))
    iu = np.triu_indices(4, 1)
    for i in range(int(n)):
        for _ in range(10_000):
            S = np.diag(rng.uniform(*norm_range, size=4))
            S[iu] = np.abs(rng.normal(0.0, cross_std, size=len(iu[0])))
            S = np.triu(S) + np.triu(S, 1).T
            if np.linalg.eigvalsh(S)[0] > min_eig:
                out[i] = S
                break
        else:  # pragma: no cover - needs absurd parameters
            raise ValueError("could not draw a positive definite overlap matrix")
    return out


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


@cached_run("ch4-phases", decode=phases_from_arrays)
def _cached_phases(start: LowRankRNN, phases: Sequence[Phase], *,
                   snapshot_every: int | None = None,
                   progress: bool | None = None) -> dict[str, np.ndarray]:
    # run_phases of a network, stored as arrays (the figures' N-dimensional runs)
    return phases_to_arrays(run_phases(start, phases, snapshot_every=snapshot_every,
                                       progress=progress))


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


_cached_history_pair = cached_run("ch4-pair")(history_pair)


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


_cached_memory_vs_eta = cached_run("ch4-eta-scan")(memory_vs_eta)


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


_cached_flow_memory = cached_run("ch4-flow-starts")(flow_memory)


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


def decay_under_weight_decay(
    S1: Overlaps,
    S2: Overlaps,
    task: Task,
    eta: float,
    weight_decay: float,
    epochs: int,
    *,
    record_every: int = 100,
) -> dict[str, np.ndarray]:
    """Continue two histories on the same task with weight decay; follow their memory.

    Returns
    -------
    dict
        ``epoch`` (recorded epochs), ``invisible`` (largest invisible gap between
        the two), ``invariants`` (largest ``|I_i|`` of :func:`lrtools.theory.invariants`,
        first history), ``predicted_rate`` (:func:`predicted_decay_rate`, per epoch),
        ``min_norm_gap`` (final distance of the first history's invisible overlaps
        from :func:`min_norm_overlaps` of its visible ones).
    """
    h1 = theory.learn(S1, task, epochs, eta, weight_decay=weight_decay)
    h2 = theory.learn(S2, task, epochs, eta, weight_decay=weight_decay)
    idx = np.arange(0, epochs + 1, record_every)
    inv = np.array([gaps(h1.at(i), h2.at(i))["invisible"] for i in idx])
    inv_size = np.max(np.abs(theory.invariants(h1.overlaps[idx], h1.names)), axis=1)
    final = h1.final
    return {"epoch": idx, "invisible": inv, "invariants": inv_size,
            "predicted_rate": np.array(predicted_decay_rate(eta, weight_decay)),
            "min_norm_gap": np.array(gaps(final, min_norm_overlaps(final))["invisible"])}


# ---------------------------------------------------------------------------
# conserved quantities and the N x N matrix K
# ---------------------------------------------------------------------------


def _mats(S: Overlaps | History | np.ndarray, names: Sequence[str] | None):
    if isinstance(S, Overlaps):
        return S.matrix, S.names
    if isinstance(S, History):
        return S.overlaps, S.names
    return np.asarray(S, dtype=np.float64), tuple(NAMES if names is None else names)


def balance(S: Overlaps | History | np.ndarray, names: Sequence[str] | None = None) -> np.ndarray:
    r"""The rescaling invariant ``U^T U / N - V^T V / N`` (``sigma_uu - sigma_vv`` at rank 1).

    The network depends on ``U, V`` only through ``U V^T``, so ``U -> U A``,
    ``V -> V A^{-T}`` changes nothing; the gradient flow then conserves
    ``U^T U - V^T V`` (for every ``phi``, visible or not). Discrete steps change it
    by ``O(eta^2)`` per step.

    Parameters
    ----------
    S : Overlaps, History or numpy.ndarray of shape (..., k, k)
    names : sequence of str, optional
        Vector names for arrays (default ``m, u, v, z``).

    Returns
    -------
    numpy.ndarray
        Shape ``(...)`` at rank 1, ``(..., R, R)`` at rank ``R > 1``.
    """
    mats, names = _mats(S, names)
    iu = [i for i, n in enumerate(names) if n[0] == "u"]
    iv = [i for i, n in enumerate(names) if n[0] == "v"]
    Buu = mats[..., iu, :][..., :, iu]
    Bvv = mats[..., iv, :][..., :, iv]
    out = Buu - Bvv
    return out[..., 0, 0] if len(iu) == 1 else out


def conserved(S: Overlaps | History | np.ndarray, names: Sequence[str] | None = None) -> np.ndarray:
    """Quantities the linear rank-1 gradient flow conserves: eigenvalues of ``JS``, the balance.

    Returns
    -------
    numpy.ndarray, shape (..., 5)
        The four :func:`lrtools.theory.invariants` (ascending), then :func:`balance`.
    """
    mats, names = _mats(S, names)
    inv = theory.invariants(mats, names)
    return np.concatenate([inv, np.asarray(balance(mats, names))[..., None]], axis=-1)


def k_entries(hist: History, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """Entries ``K_ij`` of ``K = X J X^T`` at the vector snapshots of a network history.

    ``K = Z Z^T + V V^T - M M^T - U U^T`` (``N x N``), conserved by the linear
    gradient flow.

    Parameters
    ----------
    hist : History
        From :func:`lrtools.train` with ``snapshot_every``.
    pairs : sequence of (i, j)
        Neuron index pairs.

    Returns
    -------
    numpy.ndarray, shape (n_snapshots, len(pairs))
    """
    if hist.vectors is None:
        raise ValueError("this history has no vector snapshots; train with snapshot_every=")
    J = left_right(hist.names)
    i, j = np.asarray(pairs).T
    X = hist.vectors
    return np.einsum("sna,a,sna->sn", X[:, i, :], J, X[:, j, :])


def k_drift(hist: History, reference: np.ndarray | None = None) -> np.ndarray:
    """``max_ij |K_ij(t) - K_ij(ref)|`` at every vector snapshot (``ref``: first snapshot).

    Parameters
    ----------
    hist : History
        With vector snapshots.
    reference : numpy.ndarray, shape (N, k), optional
        Vectors of the reference state (default: the first snapshot).

    Returns
    -------
    numpy.ndarray, shape (n_snapshots,)
    """
    if hist.vectors is None:
        raise ValueError("this history has no vector snapshots; train with snapshot_every=")
    J = left_right(hist.names)
    X0 = hist.vectors[0] if reference is None else np.asarray(reference)
    K0 = (X0 * J) @ X0.T
    return np.array([np.max(np.abs((X * J) @ X.T - K0)) for X in hist.vectors])


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


# ---------------------------------------------------------------------------
# the Lax structure: horizontal directions and their brackets (linear, rank 1)
# ---------------------------------------------------------------------------


def _unit(a: int, b: int) -> np.ndarray:
    E = np.zeros((4, 4))
    E[a, b] = E[b, a] = 1.0
    return E


def _horizontal_fields(S: np.ndarray) -> list[np.ndarray]:
    # Gamma of any linear rank-1 loss is dL/dzm E_zm + dL/dvu E_vu + dL/dp (vm E_zu + zu E_vm)
    # with p = zu vm; the flow direction of each is -(E S + S E).
    E3 = S[_V, _M] * _unit(_Z, _U) + S[_Z, _U] * _unit(_V, _M)
    return [E @ S + S @ E for E in (_unit(_Z, _M), _unit(_V, _U), E3)]


def horizontal_span(S: Overlaps | np.ndarray, h: float = 1e-6) -> dict:
    """Rank of the flow directions of linear rank-1 learning and of their Lie brackets.

    Every loss of a linear rank-1 network (one input, one output) is a function of
    ``(sigma_zm, sigma_vu, sigma_zu sigma_vm)``, so at ``S`` the gradient flow can
    only move along the three fields ``F_i(S) = -(E_i S + S E_i)`` with ``E_1 =
    E_zm``, ``E_2 = E_vu``, ``E_3 = sigma_vm E_zu + sigma_zu E_vm``. They are tangent
    to the level set of :func:`conserved` (dimension ``10 - 5 = 5``). If their Lie
    brackets ``[F_i, F_j]`` (central differences, step ``h``) add directions, the
    distribution is not integrable and closed loops can leave a net displacement.

    Returns
    -------
    dict
        ``fields``: singular values of the 3 fields; ``brackets``: singular values of
        the fields with their 3 brackets (6 values); ``level_set_dim``: ``10 -`` rank
        of the Jacobian of the conserved quantities; ``tangent``: the largest change
        of the conserved quantities along any field or bracket (0 to ``O(h^2)``).
    """
    S = np.asarray(S.matrix if isinstance(S, Overlaps) else S, dtype=np.float64)
    iu = np.triu_indices(4)

    def jac(f, W):
        return (f(S + h * W) - f(S - h * W)) / (2 * h)

    fields = [lambda X, i=i: _horizontal_fields(X)[i] for i in range(3)]
    F = [f(S) for f in fields]
    brackets = [jac(fields[j], F[i]) - jac(fields[i], F[j]) for i, j in ((0, 1), (0, 2), (1, 2))]
    rows = [M[iu] for M in F]
    sv_fields = np.linalg.svd(np.array(rows), compute_uv=False)
    sv_all = np.linalg.svd(np.array(rows + [B[iu] for B in brackets]), compute_uv=False)

    def cons(X):
        return conserved(X)

    grads = []
    for a, b in zip(*iu, strict=True):
        grads.append(jac(cons, _unit(a, b) / (1.0 if a != b else 2.0)))
    sv_cons = np.linalg.svd(np.array(grads), compute_uv=False)
    rank_cons = int(np.sum(sv_cons > 1e-6 * sv_cons[0]))
    tangent = max(float(np.max(np.abs(jac(cons, W)))) for W in F + brackets)
    return {"fields": sv_fields, "brackets": sv_all, "level_set_dim": 10 - rank_cons,
            "tangent": tangent}


# ---------------------------------------------------------------------------
# weight decay
# ---------------------------------------------------------------------------


def min_norm_overlaps(S: Overlaps) -> Overlaps:
    r"""The unique overlaps with ``K = 0`` and the same visible block (linear networks).

    With ``C = S_{LR}`` (rows ``v, z``, columns ``m, u``), the vectors of smallest
    total norm ``tr S`` that realise ``C`` are balanced (``K = 0``), and then
    ``S_{RR} = (C^T C)^{1/2}``, ``S_{LL} = (C C^T)^{1/2}``: the invisible overlaps
    are functions of the visible ones. Weight decay drives every history there.
    """
    if S.names != NAMES:
        raise ValueError(f"rank-1 overlaps (m, u, v, z) expected, got {S.names}")
    R, L = [_M, _U], [_V, _Z]
    C = S.matrix[np.ix_(L, R)]
    M = np.array(S.matrix)
    M[np.ix_(R, R)] = psd_sqrt(C.T @ C)
    M[np.ix_(L, L)] = psd_sqrt(C @ C.T)
    return Overlaps(M, NAMES)


def predicted_decay_rate(eta: float, weight_decay: float) -> float:
    r"""Predicted decay rate, per epoch, of the memory under weight decay (linear networks).

    With ``Gamma -> Gamma + w I`` the flow obeys ``d(JS)/dtau = [Gamma, JS] -
    2 w JS``: every invariant decays as ``exp(-2 w tau)`` and ``K -> 0``. At
    ``K = 0`` the invisible overlaps are fixed by the visible block ``C``
    (:func:`min_norm_overlaps`); there ``Gamma_LR = -w P R^T`` for ``C = P s R^T``.
    A perturbation ``(a, b)`` of ``(S_RR, S_LL)`` at fixed ``C`` obeys, in the
    singular basis, ``a' = -w (a + b) - 2 w a``, ``b' = -w (a + b) - 2 w b``: ``a + b``
    decays at ``4 w``, ``a - b`` at ``2 w``, so the memory dies at ``2 w`` per unit
    learning time (valid for ``w`` small against the loss curvature). Per epoch of
    gradient descent: ``-2 log(1 - eta w) ~ 2 eta w``.
    """
    if not (0 <= eta * weight_decay < 1):
        raise ValueError("need 0 <= eta * weight_decay < 1")
    return float(-2.0 * np.log1p(-eta * weight_decay))


# ---------------------------------------------------------------------------
# the reduced erf theory for many rank-1 networks at once
# ---------------------------------------------------------------------------


def twin_experiment(
    n_pairs: int = 10,
    *,
    seed: int = 0,
    epochs_ab: int = 30000,
    epochs_c: int = 30000,
    eta_ab: float = 0.01,
    eta_c: float = 1e-3,
    eta_drop: tuple[float, float] | None = (0.015, 5.0),
    batch_size: int = 128,
    dt: float = 0.05,
    t_max: float = 20.0,
    record_every: int = 100,
    cross_std: float = 0.4,
    norm_range: tuple[float, float] = (0.5, 2.0),
) -> dict[str, np.ndarray]:
    """The paper's nonlinear memory experiment (Figures 9, 10, 4d-f), reduced erf theory.

    ``n_pairs`` random starts (:func:`random_overlaps`); from each, twin 0 learns
    flip-flop (A) and twin 1 decision making (B) for ``epochs_ab`` epochs (rate
    ``eta_ab``, divided per network by ``eta_drop``), then both learn the
    teacher-student task C for ``epochs_c`` epochs at ``eta_c``. Defaults are the
    paper's settings. All A twins share one batch stream, all B twins another, and
    in phase C all networks share one stream.

    Returns
    -------
    dict
        ``start`` ``(n_pairs, 4, 4)``; ``ab`` and ``c``: overlaps ``(n_rec, n_pairs, 2,
        4, 4)`` (twin axis: 0 = A, 1 = B) at epochs ``ab_epoch``, ``c_epoch``;
        ``ab_loss``, ``c_loss`` ``(epochs, n_pairs, 2)``; ``ab_drop``
        ``(n_pairs, 2)``.
    """
    start = random_overlaps(n_pairs, [seed, 0], cross_std=cross_std, norm_range=norm_range)
    kw = {"dt": dt, "t_max": t_max, "batch_size": batch_size}
    tA, tB, tC = FlipFlop(**kw), DecisionMaking(**kw), TeacherStudent(**kw)
    runs = [theory.learn_many(start, t, epochs_ab, eta_ab, "erf", seed=[seed, i + 1],
                              eta_drop=eta_drop, record_every=record_every)
            for i, t in enumerate((tA, tB))]
    after = np.stack([runs[0]["overlaps"][-1], runs[1]["overlaps"][-1]], axis=1)  # (n, 2, 4, 4)
    c = theory.learn_many(after.reshape(-1, 4, 4), tC, epochs_c, eta_c, "erf", seed=[seed, 3],
                          record_every=record_every)
    n_rec = len(c["epoch"])
    return {
        "start": start,
        "ab": np.stack([runs[0]["overlaps"], runs[1]["overlaps"]], axis=2),
        "ab_epoch": runs[0]["epoch"],
        "ab_loss": np.stack([runs[0]["loss"], runs[1]["loss"]], axis=2),
        "ab_drop": np.stack([runs[0]["drop_epoch"], runs[1]["drop_epoch"]], axis=1),
        "c": c["overlaps"].reshape(n_rec, n_pairs, 2, 4, 4),
        "c_epoch": c["epoch"],
        "c_loss": c["loss"].reshape(epochs_c, n_pairs, 2),
    }


_cached_twin_experiment = cached_run("ch4-twins")(twin_experiment)


def network_twin_check(
    twins: np.ndarray,
    *,
    N: int = 1000,
    epochs: int = 200,
    eta: float = 0.1,
    batch_size: int = 10,
    dt: float = 0.05,
    t_max: float = 20.0,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Task C for one twin pair in the N-dimensional erf network and in the reduced theory.

    Each twin becomes a network of ``N`` neurons with random vectors whose overlaps
    are exactly the twin's (:meth:`LowRankRNN.from_overlaps`, close to Gaussian
    entries), and learns the teacher-student task; the reduced theory
    (:func:`lrtools.theory.learn`, ``phi="erf"``) runs from the same overlaps on the
    same batches.

    Parameters
    ----------
    twins : numpy.ndarray, shape (2, 4, 4)
        Overlaps of twin A and twin B (e.g. after the A/B phase of
        :func:`twin_experiment`).

    Returns
    -------
    dict
        Histories stored with :meth:`History.to_arrays` under the prefixes
        ``net_A/``, ``net_B/`` (with the first and last vectors) and ``th_A/``,
        ``th_B/``.
    """
    task = TeacherStudent(dt=dt, t_max=t_max, batch_size=batch_size)
    out: dict[str, np.ndarray] = {}
    for i, twin in enumerate(("A", "B")):
        S = Overlaps(np.asarray(twins)[i], NAMES)
        net = LowRankRNN.from_overlaps(S, N=N, phi="erf", seed=seed * 10 + i)
        hist = train(net, task, epochs, eta, seed=seed, snapshot_every=epochs)
        out.update(hist.to_arrays(f"net_{twin}/"))
        th = theory.learn(S, task, epochs, eta, phi="erf", seed=seed)
        out.update(th.to_arrays(f"th_{twin}/"))
    return out


_cached_network_twin_check = cached_run("ch4-network-check")(network_twin_check)


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


def decode_history(
    features: np.ndarray,
    *,
    n_train_pairs: int = 8,
    n_splits: int = 50,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """Decode which twin learned A and which B, with logistic regression (scikit-learn).

    Splits the pairs at random into ``n_train_pairs`` training pairs and the rest
    for testing (both twins of a pair on the same side), adds Gaussian noise of
    standard deviation ``noise`` to every feature, standardises with the training
    set's mean and standard deviation and fits an L2 logistic regression
    (``C = 1``, scikit-learn's liblinear solver).

    Parameters
    ----------
    features : numpy.ndarray, shape (n_pairs, 2, n_features)
        Twin 0 learned A (label 0), twin 1 learned B (label 1).

    Returns
    -------
    numpy.ndarray, shape (n_splits,)
        Test accuracy of each split (chance: 0.5).
    """
    from sklearn.linear_model import LogisticRegression

    F = np.asarray(features, dtype=np.float64)
    if F.ndim != 3 or F.shape[1] != 2:
        raise ValueError(f"features must have shape (n_pairs, 2, n_features), got {F.shape}")
    n = F.shape[0]
    if not 1 <= n_train_pairs < n:
        raise ValueError(f"need 1 <= n_train_pairs < n_pairs = {n}")
    rng = np.random.default_rng(seed)
    labels = np.tile([0, 1], n)
    acc = np.empty(n_splits)
    for s in range(n_splits):
        order = rng.permutation(n)
        Xs = F + noise * rng.standard_normal(F.shape)
        tr, te = order[:n_train_pairs], order[n_train_pairs:]
        Xtr, ytr = Xs[tr].reshape(-1, F.shape[2]), labels[: 2 * len(tr)]
        Xte, yte = Xs[te].reshape(-1, F.shape[2]), labels[: 2 * len(te)]
        if np.ptp(Xtr, axis=0).max() == 0:  # identical features: nothing to learn
            acc[s] = 0.5
            continue
        mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
        sd[sd == 0] = 1.0
        clf = LogisticRegression(C=1.0, solver="liblinear")
        clf.fit((Xtr - mu) / sd, ytr)
        acc[s] = clf.score((Xte - mu) / sd, yte)
    return acc


# ---------------------------------------------------------------------------
# figures (matplotlib is imported inside the functions)
# ---------------------------------------------------------------------------


def shade_phases(ax, bounds: np.ndarray, labels: Sequence[str]) -> None:
    """Shade every other phase and write the phase labels above the axes."""
    edges = np.asarray(bounds)
    for i, label in enumerate(labels):
        if i % 2 == 1:
            ax.axvspan(edges[i], edges[i + 1], color="0.93", zorder=0, lw=0)
        ax.text(0.5 * (edges[i] + edges[i + 1]), 1.0, label, transform=ax.get_xaxis_transform(),
                ha="center", va="bottom", fontsize="x-small", color="0.3")


def plot_phases(
    ax,
    hist: History,
    bounds: np.ndarray,
    keys: Sequence[str],
    *,
    labels: Sequence[str] = (),
    theory_hist: History | None = None,
    theory_every: int = 1,
    phi: str = "linear",
    legend: bool = True,
    legend_loc: str = "best",
):
    """Overlap trajectories over consecutive phases, the phases shaded and labelled.

    ``hist`` and ``bounds`` come from :func:`join`; ``theory_hist`` (same epochs) is
    drawn dashed on top, every ``theory_every``-th epoch.
    """
    from .plotting import SIM, THEORY, overlap_colors

    colors = overlap_colors(hist.names, phi)
    t = np.arange(len(hist.overlaps))
    for key in keys:
        ax.plot(t, hist.overlap(key), color=colors[key], label=rf"$\sigma_{{{key}}}$", **SIM)
        if theory_hist is not None:
            tt = np.arange(0, len(theory_hist.overlaps), theory_every)
            ax.plot(tt, theory_hist.overlap(key)[tt], **THEORY)
    shade_phases(ax, bounds, labels)
    ax.set_xlabel("epoch")
    ax.set_ylabel("overlap")
    ax.set_xlim(0, t[-1])
    if legend:
        ax.legend(ncol=2 if len(keys) > 3 else 1, fontsize="x-small", loc=legend_loc)
    return ax


def plot_phase_loss(ax, hist: History, bounds: np.ndarray, *, labels: Sequence[str] = (),
                    color=None, label: str | None = None):
    """Loss over consecutive phases (log scale), phases shaded."""
    from .plotting import PALETTE

    ax.plot(np.arange(len(hist.loss)), hist.loss, color=color or PALETTE[0], lw=1.2, label=label)
    ax.set_yscale("log")
    shade_phases(ax, bounds, labels)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_xlim(0, len(hist.loss))
    return ax


def plot_conserved(ax, curves: dict, *, bounds: np.ndarray | None = None,
                   labels: Sequence[str] = (), floor: float = 1e-16):
    """Drift ``max |Q(t) - Q(0)|`` of conserved quantities, one line per label.

    ``curves`` maps a label to ``(epochs, values)`` with ``values`` of shape
    ``(n, q)`` (e.g. :func:`conserved` of a trajectory) or ``(n,)``.
    """
    from .plotting import PALETTE

    for i, (label, (t, q)) in enumerate(curves.items()):
        q = np.asarray(q)
        q = q[:, None] if q.ndim == 1 else q
        d = np.max(np.abs(q - q[0]), axis=1)
        ax.plot(np.asarray(t)[1:], np.maximum(d[1:], floor), color=PALETTE[i % len(PALETTE)],
                lw=1.5, label=label)
    if bounds is not None:
        shade_phases(ax, bounds, labels)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("drift of conserved quantity")
    ax.legend(fontsize="x-small")
    return ax


def plot_twin_pair(axes, data: dict, pair: int = 0, *, phi: str = "erf"):
    """One twin pair through A/B then C: visible (``axes[0]``) and invisible (``axes[1]``).

    Twin A solid, twin B dashed; the vertical line marks the switch to task C.
    """
    from .plotting import overlap_colors

    S = Overlaps(np.eye(4), NAMES)
    colors = overlap_colors(S, phi)
    e_ab, e_c = data["ab_epoch"], data["c_epoch"]
    t = np.concatenate([e_ab, e_ab[-1] + e_c[1:]])
    traj = np.concatenate([data["ab"][:, pair], data["c"][1:, pair]])  # (n, 2, 4, 4)
    for ax, keys in zip(axes, (S.visible(phi), S.invisible(phi)), strict=True):
        for key in keys:
            a, b = S.split(key)
            i, j = S.index(a), S.index(b)
            ax.plot(t, traj[:, 0, i, j], color=colors[key], lw=1.8, label=rf"$\sigma_{{{key}}}$")
            ax.plot(t, traj[:, 1, i, j], color=colors[key], lw=1.8, ls="--")
        ax.axvline(e_ab[-1], color="0.4", lw=0.8)
        ax.set_xlabel("epoch")
        ax.set_ylabel("overlap")
        ax.legend(ncol=2, fontsize="x-small")
    return axes


def twin_distances(data: dict, phi: str = "erf") -> dict[str, np.ndarray]:
    """Distance between twins (A vs B) over the experiment, per pair.

    Returns
    -------
    dict
        ``epoch`` (A/B phase then C, continued), ``visible`` and ``invisible``: the
        Euclidean norm of the twin difference over each set, ``(n_rec, n_pairs)``.
    """
    S = Overlaps(np.eye(4), NAMES)
    idx = {}
    for name, keys in (("visible", S.visible(phi)), ("invisible", S.invisible(phi))):
        idx[name] = [(S.index(S.split(k)[0]), S.index(S.split(k)[1])) for k in keys]
    traj = np.concatenate([data["ab"], data["c"][1:]])  # (n, pairs, 2, 4, 4)
    diff = traj[:, :, 0] - traj[:, :, 1]
    out = {"epoch": np.concatenate([data["ab_epoch"], data["ab_epoch"][-1] + data["c_epoch"][1:]])}
    for name, ij in idx.items():
        vals = np.stack([diff[..., i, j] for i, j in ij], axis=-1)
        out[name] = np.linalg.norm(vals, axis=-1)
    return out


def twin_features(data: dict, stage: str, phi: str = "erf") -> dict[str, np.ndarray]:
    """Visible and invisible overlaps of every twin at ``stage`` in {"start", "ab", "c"}.

    Returns
    -------
    dict
        ``visible`` ``(n_pairs, 2, 7)`` and ``invisible`` ``(n_pairs, 2, 3)`` (erf).
    """
    if stage == "start":
        M = np.repeat(data["start"][:, None], 2, axis=1)
    elif stage in ("ab", "c"):
        M = data[stage][-1]
    else:
        raise ValueError(f"stage must be 'start', 'ab' or 'c', got {stage!r}")
    S = Overlaps(np.eye(4), NAMES)
    out = {}
    for name, keys in (("visible", S.visible(phi)), ("invisible", S.invisible(phi))):
        ij = [(S.index(S.split(k)[0]), S.index(S.split(k)[1])) for k in keys]
        out[name] = np.stack([M[..., i, j] for i, j in ij], axis=-1)
    return out


def plot_decoding(ax, acc: dict, *, chance: float = 0.5):
    """Bar chart of decoding accuracy (mean and sd over splits).

    ``acc`` maps ``(stage, features, noise)`` to the accuracies of
    :func:`decode_history`.
    """
    from .plotting import overlap_colors

    colors = overlap_colors(Overlaps(np.eye(4), NAMES), "erf")
    stages = list(dict.fromkeys(k[0] for k in acc))
    feats = list(dict.fromkeys(k[1] for k in acc))
    noises = list(dict.fromkeys(k[2] for k in acc))
    width = 0.8 / (len(feats) * len(noises))
    for s, stage in enumerate(stages):
        j = 0
        for f in feats:
            for z in noises:
                a = np.asarray(acc[(stage, f, z)])
                color = colors["zm"] if f == "visible" else colors["zz"]
                ax.bar(s - 0.4 + width * (j + 0.5), a.mean(), width, yerr=a.std(), color=color,
                       alpha=1.0 if z == noises[0] else 0.5, ecolor="0.3", capsize=2,
                       label=f"{f}, noise {z:g}" if s == 0 else None)
                j += 1
    ax.axhline(chance, color="0.3", lw=0.8, ls=":")
    ax.set_xticks(range(len(stages)), stages)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("decoding accuracy (A vs B)")
    ax.legend(fontsize="x-small", ncol=2, loc="lower left")
    return ax


# ---------------------------------------------------------------------------
# the paper's figures: settings, data (cached), plots, figure<N> for the CLI
# ---------------------------------------------------------------------------


def figure_settings(fast: bool = False, twin_scale: str = "book") -> dict[str, dict]:
    """Settings of the chapter's paper figures, shared by the book and the CLI.

    Parameters
    ----------
    fast : bool
        CI settings: ``N = 100`` and 1000-epoch Adam phases for the linear figures,
        short twin runs (1500 + 800 epochs, batch 32).
    twin_scale : {"book", "paper"}
        Full-mode twins: ``"book"`` (6000 epochs of A/B, 2500 of C at
        ``eta_c = 0.03``) or the paper's (30000 + 30000 epochs, ``eta_c = 1e-3``;
        hours here). Ignored when ``fast``.

    Returns
    -------
    dict
        ``linear`` (keyword arguments of :func:`linear_memory_runs`, Figures 3, 6),
        ``adam`` (:func:`adam_memory_runs`, Figure 7) and ``twins``
        (:func:`twin_runs`, Figures 9, 10, 4d-f).
    """
    if twin_scale not in ("book", "paper"):
        raise ValueError(f"twin_scale must be 'book' or 'paper', got {twin_scale!r}")
    N = 100 if fast else 500
    twin = {"book": dict(n_pairs=10, epochs_ab=6000, epochs_c=2500, eta_c=0.03),
            "paper": dict(n_pairs=10)}[twin_scale]
    if fast:
        twin = dict(n_pairs=10, epochs_ab=1500, epochs_c=800, eta_ab=0.02, eta_c=0.03,
                    batch_size=32)
    return {
        "linear": dict(N=N, epochs=(3000, 1000, 1000, 1000, 4000), eta=5e-3, c=(0.2, 0.4),
                       target_noise=0.1, seed=0),
        "adam": dict(N=N, epochs=1000 if fast else 4000, lr=1e-3, eta_gd=5e-3, c=(0.2, 0.4),
                     seed=0),
        "twins": dict(seed=0, record_every=100, **twin),
    }


def _sci(x: float) -> str:
    """``5e-3`` rather than ``0.005`` in labels."""
    mantissa, exponent = f"{x:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def linear_memory_runs(
    *,
    N: int = 500,
    epochs: Sequence[int] = (3000, 1000, 1000, 1000, 4000),
    eta: float = 5e-3,
    c: tuple[float, float] = (0.2, 0.4),
    target_noise: float = 0.1,
    seed: int = 0,
    progress: bool | None = None,
) -> dict:
    """Data of the paper's Figures 3 and 6: A, B, A, ... from ``theta_2``, network and map.

    The network (``N`` neurons, overlaps of :func:`paper_theta2`) learns the filters
    ``c[0]`` (A) and ``c[1]`` (B) in turn for ``epochs[i]`` epochs at rate ``eta``;
    the last phase has target noise ``target_noise`` and rate ``2 eta``. Its vectors
    are kept every 50 epochs (cache entry ``"ch4-phases"``); the exact overlap map
    runs from the same overlaps on the same noise draws.

    Returns
    -------
    dict
        ``S0`` (``theta_2``), ``phases``, ``labels``, ``net_runs`` and ``map_runs``
        (one History per phase), ``network`` and ``exact`` (joined), ``bounds``
        (:func:`join`), ``pairs`` ``(4, 2)`` (neuron pairs), ``K`` ``(n, 4)`` (their
        entries of ``K`` at ``k_epochs``), ``Q`` ``(epochs + 1, 5)``
        (:func:`conserved` of the network).
    """
    n = len(epochs)
    S0 = paper_theta2(N=500, seed=seed)
    net0 = LowRankRNN.from_overlaps(S0, N=N, seed=seed)
    phases = filter_phases(epochs, [c[i % 2] for i in range(n)], [eta] * (n - 1) + [2 * eta],
                           target_noise=[0] * (n - 1) + [target_noise], seed=seed)
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


def _panel_k_entries(ax, data: dict, title: str) -> None:
    from .plotting import PALETTE

    K, bounds = data["K"], data["bounds"]
    for j, (i, k) in enumerate(data["pairs"]):
        ax.plot(data["k_epochs"], K[:, j] - K[0, j], color=PALETTE[j], lw=1.5,
                label=f"$K_{{{i},{k}}}$")
    shade_phases(ax, bounds, data["labels"])
    ax.set(xlabel="epoch", ylabel=r"$K_{ij}(t) - K_{ij}(0)$", xlim=(0, bounds[-1]))
    ax.set_title(title, loc="left", pad=14)
    ax.legend(fontsize="x-small", ncol=2)


def _panel_linear_conserved(ax, data: dict, title: str) -> None:
    Q, t = data["Q"], np.arange(len(data["Q"]))
    plot_conserved(ax, {r"eigenvalues of $JS$": (t, Q[:, :4]),
                        r"balance $\sigma_{uu}-\sigma_{vv}$": (t, Q[:, 4])},
                   bounds=data["bounds"], labels=data["labels"])
    ax.set_title(title, loc="left", pad=14)


def plot_figure3(data: dict):
    """Paper Figures 3 and 6 from :func:`linear_memory_runs`: six panels.

    (a) loss; (b) entries of ``K``; (c, d) visible and invisible overlaps, network
    and exact map; (e) drift of the conserved quantities; (f) the gap between the
    ends of the first two A phases, overlap by overlap.
    """
    import matplotlib.pyplot as plt

    from .plotting import overlap_colors

    S0, sim, exact, bounds, labels = (data[k] for k in ("S0", "network", "exact", "bounds",
                                                         "labels"))
    fig, axes = plt.subplot_mosaic([["a", "b"], ["c", "d"], ["e", "f"]], figsize=(11, 9.6))
    plot_phase_loss(axes["a"], sim, bounds, labels=labels)
    axes["a"].set_title("a  loss", loc="left", pad=14)
    plot_phases(axes["c"], sim, bounds, S0.visible("linear"), labels=labels,
                theory_hist=exact, theory_every=25, legend_loc="lower right")
    axes["c"].set_title("c  visible overlaps (network thick, exact map dashed)", loc="left",
                        pad=14)
    plot_phases(axes["d"], sim, bounds, S0.invisible("linear"), labels=labels,
                theory_hist=exact, theory_every=25, legend_loc="lower right")
    axes["d"].set_ylim(-0.9, None)
    axes["d"].set_title("d  invisible overlaps", loc="left", pad=14)
    _panel_k_entries(axes["b"], data,
                     r"b  entries of $K = ZZ^\top + VV^\top - MM^\top - UU^\top$")
    _panel_linear_conserved(axes["e"], data, "e  conserved quantities: drift from the start")
    ax = axes["f"]
    runs = data["net_runs"]
    each = gaps(runs[0].final, runs[2].final)["each"]
    names = S0.visible("linear") + S0.invisible("linear")
    colors = overlap_colors(S0)
    ax.bar(range(len(names)), [abs(each[k]) for k in names], color=[colors[k] for k in names])
    ax.set_xticks(range(len(names)), [rf"$\sigma_{{{k}}}$" for k in names], rotation=60)
    ax.set(yscale="log", ylabel=r"$|\sigma(A_2) - \sigma(A_1)|$")
    ax.set_title("f  end of A$_2$ vs end of A$_1$", loc="left")
    return fig


def plot_figure6(data: dict):
    """Paper Figure 6 from :func:`linear_memory_runs`: what learning conserves.

    (a) Entries of ``K = Z Z^T + V V^T - M M^T - U U^T`` and (b) the drift of the
    eigenvalues of ``JS`` and of the balance: constant up to ``O(eta^2)`` per step
    on clean targets, drifting under target noise.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    _panel_k_entries(axes[0], data, r"a  entries of $K = ZZ^\top + VV^\top - MM^\top - UU^\top$")
    _panel_linear_conserved(axes[1], data, "b  conserved quantities: drift from the start")
    return fig


def adam_memory_runs(
    *,
    N: int = 500,
    epochs: int = 4000,
    lr: float = 1e-3,
    eta_gd: float = 5e-3,
    c: tuple[float, float] = (0.2, 0.4),
    seed: int = 0,
    progress: bool | None = None,
) -> dict:
    """Data of the paper's Figure 7: A, B, A, B, A with Adam, and gradient descent.

    The network (``N`` neurons, overlaps of :func:`paper_theta2`) learns the filters
    ``c[0], c[1], c[0], c[1], c[0]`` for ``epochs`` epochs each with Adam at rate
    ``lr`` (cache entry ``"ch4-phases"``); the exact overlap map (gradient descent at
    ``eta_gd``) runs the same schedule from ``theta_2``.

    Returns
    -------
    dict
        ``S0``, ``labels``, ``adam_runs`` and ``gd_runs`` (one History per phase),
        ``adam`` and ``gd`` (joined), ``bounds``, ``eta_gd``.
    """
    S0 = paper_theta2(N=500, seed=seed)
    net = LowRankRNN.from_overlaps(S0, N=N, seed=seed)
    cs = [c[i % 2] for i in range(5)]
    phases = filter_phases([epochs] * 5, cs, lr, optimizer="adam", seed=seed)
    adam_runs = _cached_phases(net, phases, progress=progress)
    gd_runs = run_phases(S0, filter_phases([epochs] * 5, cs, eta_gd, seed=seed),
                         progress=progress)
    adam_hist, bounds = join(adam_runs)
    gd_hist, _ = join(gd_runs)
    return {"S0": S0, "labels": ["A", "B", "A", "B", "A"], "adam_runs": adam_runs,
            "gd_runs": gd_runs, "adam": adam_hist, "gd": gd_hist, "bounds": bounds,
            "eta_gd": eta_gd}


def plot_figure7(data: dict):
    """Paper Figure 7 from :func:`adam_memory_runs`: loss, overlaps, conserved quantities."""
    import matplotlib.pyplot as plt

    from .plotting import PALETTE

    S0, adam, gd, bounds, labels = (data[k] for k in ("S0", "adam", "gd", "bounds", "labels"))
    gd_label = rf"GD, $\eta$ = {_sci(data['eta_gd'])}"
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.6))
    plot_phase_loss(axes[0, 0], adam, bounds, labels=labels, label="Adam")
    axes[0, 0].plot(gd.loss, color=PALETTE[1], lw=1.2, label=gd_label)
    axes[0, 0].legend(fontsize="x-small")
    axes[0, 0].set_title("a  loss", loc="left", pad=14)
    plot_phases(axes[0, 1], adam, bounds, S0.visible("linear"), labels=labels)
    axes[0, 1].set_title("b  visible overlaps (Adam)", loc="left", pad=14)
    plot_phases(axes[1, 0], adam, bounds, S0.invisible("linear"), labels=labels)
    axes[1, 0].set_title("c  invisible overlaps (Adam)", loc="left", pad=14)
    t = np.arange(len(adam.overlaps))
    plot_conserved(axes[1, 1], {"Adam": (t, conserved(adam)), gd_label: (t, conserved(gd))},
                   bounds=bounds, labels=labels)
    axes[1, 1].set_title("d  conserved quantities: drift", loc="left", pad=14)
    return fig


def twin_runs(*, seed: int = 0, record_every: int = 100, **settings) -> dict[str, np.ndarray]:
    """:func:`twin_experiment`, cached (entry ``"ch4-twins"``, keyed by every argument).

    ``settings`` are the other keyword arguments of :func:`twin_experiment`
    (``n_pairs``, ``epochs_ab``, ...; see :func:`figure_settings`).
    """
    return _cached_twin_experiment(seed=seed, record_every=record_every, **settings)


def twin_decoding(
    data: dict,
    *,
    noises: Sequence[float] = (0.0, 0.3),
    noise_c: float = 0.3,
    n_splits: int = 50,
    every: int = 5,
    seed: int = 0,
) -> dict:
    """Decode the A/B history of the twins (:func:`decode_history`) at each stage.

    All pairs but two train the decoder, the other two test it.

    Returns
    -------
    dict
        ``acc``: ``{(stage label, "visible"|"invisible", noise): accuracies
        (n_splits,)}`` at the start, after A / B and after C; ``acc_c``:
        ``{"visible"|"invisible": mean accuracy}`` with feature noise ``noise_c`` at
        every ``every``-th record of phase C, whose epochs are ``epoch_c``.
    """
    n_pairs = data["start"].shape[0]
    kw = dict(n_train_pairs=n_pairs - 2, n_splits=n_splits, seed=seed)
    acc = {}
    for stage, label in (("start", "start"), ("ab", "after A / B"), ("c", "after C")):
        f = twin_features(data, stage)
        for kind in ("visible", "invisible"):
            for z in noises:
                acc[(label, kind, z)] = decode_history(f[kind], noise=z, **kw)
    records = data["c"][::every]
    acc_c = {kind: np.array([
        decode_history(twin_features({"c": records[:i + 1]}, "c")[kind], noise=noise_c,
                       **kw).mean() for i in range(len(records))])
        for kind in ("visible", "invisible")}
    return {"acc": acc, "acc_c": acc_c, "epoch_c": data["c_epoch"][::every],
            "noise_c": noise_c, "n_splits": n_splits}


def _kind_color(kind: str):
    from .plotting import overlap_colors

    return overlap_colors(Overlaps(np.eye(4), NAMES), "erf")["zm" if kind == "visible" else "zz"]


def plot_twin_loss(ax, data: dict, pair: int = 0):
    """Batch loss of one twin pair through A/B and C (log scale); line at the switch."""
    from .plotting import PALETTE

    L = np.concatenate([data["ab_loss"][:, pair], data["c_loss"][:, pair]])
    ax.semilogy(L[:, 0], color=PALETTE[0], lw=0.8, label="twin A (flip-flop, then C)")
    ax.semilogy(L[:, 1], color=PALETTE[3], lw=0.8, alpha=0.8, label="twin B (decision, then C)")
    ax.axvline(int(data["ab_epoch"][-1]), color="0.4", lw=0.8)
    ax.set(xlabel="epoch", ylabel="batch loss")
    ax.legend(fontsize="x-small")
    return ax


def plot_twin_distance(ax, data: dict):
    """Distance between twins (visible solid, invisible dashed), mean ± sd over pairs."""
    dist = twin_distances(data)
    for kind, ls in (("visible", "-"), ("invisible", "--")):
        m, s = dist[kind].mean(axis=1), dist[kind].std(axis=1)
        col = _kind_color(kind)
        ax.plot(dist["epoch"], m, color=col, ls=ls, lw=2, label=kind)
        ax.fill_between(dist["epoch"], m - s, m + s, color=col, alpha=0.2)
    ax.axvline(int(data["ab_epoch"][-1]), color="0.4", lw=0.8)
    ax.set(xlabel="epoch", ylabel="distance between twins")
    ax.legend(fontsize="x-small")
    return ax


def plot_decoding_during_c(ax, decoding: dict):
    """Decoding accuracy (visible solid, invisible dashed) along phase C."""
    for kind, ls in (("visible", "-"), ("invisible", "--")):
        ax.plot(decoding["epoch_c"], decoding["acc_c"][kind], color=_kind_color(kind), ls=ls,
                lw=2, label=kind)
    ax.axhline(0.5, color="0.3", ls=":", lw=0.8)
    ax.set(xlabel="epochs of task C", ylim=(0.3, 1.02),
           ylabel=f"accuracy (feature noise {decoding['noise_c']:g})")
    ax.legend(fontsize="x-small")
    return ax


def plot_figure4_memory(data: dict, pair: int = 0):
    """Paper Figure 4d-f from :func:`twin_runs`: one twin pair through A/B, then C.

    (d) loss; (e) visible and (f) invisible overlaps, twin A solid, twin B dashed.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    plot_twin_loss(axes[0], data, pair)
    axes[0].set_title("d  loss, one twin pair")
    plot_twin_pair(axes[1:], data, pair=pair)
    axes[1].set_title("e  visible overlaps (A solid, B dashed)")
    axes[2].set_title("f  invisible overlaps")
    return fig


def plot_figure9_10(data: dict, decoding: dict):
    """Paper Figures 9 and 10 in one row: twin distances, decoding, decoding during C."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    plot_twin_distance(axes[0], data)
    axes[0].set_title(f"a  {data['start'].shape[0]} twin pairs (mean $\\pm$ sd)")
    plot_decoding(axes[1], decoding["acc"])
    axes[1].set_title(f"b  decoding the history ({decoding['n_splits']} splits)")
    plot_decoding_during_c(axes[2], decoding)
    axes[2].set_title("c  decoding during C")
    return fig


def plot_figure9(data: dict):
    """Paper Figure 9 from :func:`twin_runs`: twins converge in visible overlaps only.

    (a) Distance between twins, mean ± sd over pairs; (b, c) the visible and
    invisible overlaps of one pair.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    plot_twin_distance(axes[0], data)
    axes[0].set_title(f"a  {data['start'].shape[0]} twin pairs (mean $\\pm$ sd)")
    plot_twin_pair(axes[1:], data, pair=0)
    axes[1].set_title("b  visible overlaps, one pair (A solid, B dashed)")
    axes[2].set_title("c  invisible overlaps")
    return fig


def plot_figure10(decoding: dict):
    """Paper Figure 10 from :func:`twin_decoding`: the history decoded from the overlaps."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8))
    plot_decoding(axes[0], decoding["acc"])
    axes[0].set_title(f"a  decoding the history ({decoding['n_splits']} splits)")
    plot_decoding_during_c(axes[1], decoding)
    axes[1].set_title("b  decoding during C")
    return fig


def figure3(fast: bool = False, progress: bool | None = None):
    """Paper Figure 3 (with Figure 6's panels b, e): linear memory from ``theta_2``."""
    return plot_figure3(linear_memory_runs(**figure_settings(fast)["linear"], progress=progress))


def figure6(fast: bool = False, progress: bool | None = None):
    """Paper Figure 6: entries of ``K`` and the conserved quantities during Figure 3's run."""
    return plot_figure6(linear_memory_runs(**figure_settings(fast)["linear"], progress=progress))


def figure7(fast: bool = False, progress: bool | None = None):
    """Paper Figure 7: memory under Adam, conserved quantities broken."""
    return plot_figure7(adam_memory_runs(**figure_settings(fast)["adam"], progress=progress))


def figure4_memory(fast: bool = False, progress: bool | None = None):
    """Paper Figure 4d-f: one pair of nonlinear twins (reduced erf theory)."""
    return plot_figure4_memory(twin_runs(**figure_settings(fast)["twins"]))


def figure9(fast: bool = False, progress: bool | None = None):
    """Paper Figure 9: nonlinear twins converge in the visible overlaps, not the invisible."""
    return plot_figure9(twin_runs(**figure_settings(fast)["twins"]))


def figure10(fast: bool = False, progress: bool | None = None):
    """Paper Figure 10: the A/B history decoded from visible vs invisible overlaps."""
    return plot_figure10(twin_decoding(twin_runs(**figure_settings(fast)["twins"])))


# ---------------------------------------------------------------------------
# chapter 4: the scans behind its own figures, its key numbers and figures
# ---------------------------------------------------------------------------


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


def linear_memory_numbers(data: dict) -> dict[str, float]:
    """Key numbers of the chapter's Figure 3 from :func:`linear_memory_runs`.

    Returns
    -------
    dict
        ``fig3_map_error`` (largest difference between the network's overlaps and the
        exact map's), ``fig3_function_gap``, ``fig3_visible_gap``,
        ``fig3_invisible_gap`` (:func:`gaps` between the ends of the first two A
        phases of the network), ``fig3_loss_A1``, ``fig3_loss_A2`` (their final losses).
    """
    runs, sim, exact = data["net_runs"], data["network"], data["exact"]
    if len(runs) < 3:
        raise ValueError(f"need at least three phases (A, B, A), got {len(runs)}")
    g12 = gaps(runs[0].final, runs[2].final)
    return {"fig3_map_error": np.max(np.abs(sim.overlaps - exact.overlaps)),
            "fig3_function_gap": g12["function"], "fig3_visible_gap": g12["visible"],
            "fig3_invisible_gap": g12["invisible"], "fig3_loss_A1": runs[0].loss[-1],
            "fig3_loss_A2": runs[2].loss[-1]}


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


_cached_memory_vs_loop_size = cached_run("ch4-dc-scan")(memory_vs_loop_size)


def flow_memory_scans(
    S: Overlaps,
    *,
    etas: Sequence[float],
    n_unit: int,
    n_broad: int,
    dcs: Sequence[float],
    c_A: float = 0.2,
    eta: float = 5e-3,
    seed: int = 0,
    N_unit: int = 500,
) -> dict:
    """The three scans of "Does gradient flow remember?" (chapter 4), cached.

    (i) :func:`memory_vs_eta` from ``S`` (entry ``"ch4-eta-scan"``); (ii)
    :func:`flow_memory` from ``n_unit`` unit-norm random networks
    (:meth:`LowRankRNN.random` with ``N_unit`` neurons, seeds ``1..n_unit``) and
    ``n_broad`` broad starts (:func:`random_overlaps`, seed ``[seed, 5]``) (entry
    ``"ch4-flow-starts"``); (iii) :func:`memory_vs_loop_size` from the first broad
    start (entry ``"ch4-dc-scan"``).

    Returns
    -------
    dict
        ``eta_scan``, ``flows``, ``dc_scan`` (the three results), ``starts``
        ``(n_unit + n_broad, 4, 4)``, and the settings ``etas``, ``dcs``, ``n_unit``,
        ``eta``.
    """
    if n_unit < 1 or n_broad < 1:
        raise ValueError("need at least one unit-norm and one broad start")
    eta_scan = _cached_memory_vs_eta(S, etas)
    unit_starts = np.array([LowRankRNN.random(N_unit, 1, seed=s).overlaps().matrix
                            for s in range(1, n_unit + 1)])
    broad_starts = random_overlaps(n_broad, [seed, 5])
    starts = np.concatenate([unit_starts, broad_starts])
    flows = _cached_flow_memory(starts)
    S_broad = Overlaps(broad_starts[0], NAMES)
    dc_scan = _cached_memory_vs_loop_size(S_broad, dcs, c_A=c_A, eta=eta)
    return {"eta_scan": eta_scan, "flows": flows, "dc_scan": dc_scan, "starts": starts,
            "etas": etas, "dcs": dcs, "n_unit": n_unit, "eta": eta}


def _gd_flow_deviation(eta_scan: dict) -> np.ndarray:
    # distance of the gradient-descent end state (A, B, A) from the flow's, per eta
    return np.max(np.abs(eta_scan["aba"] - eta_scan["flow_aba"]), axis=(1, 2))


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
    dev = _gd_flow_deviation(eta_scan)
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


def plot_flow_memory(scans: dict):
    """Figure "flow memory" of chapter 4 from :func:`flow_memory_scans`: three panels.

    (a) Invisible gap of A, B, A vs A, A, A from ``theta_2`` against the step size,
    the flow's value and GD minus flow; (b) the flow's memory from many starts
    against the fifth singular value of fields and brackets; (c) flow and GD memory
    against the loop size.
    """
    import matplotlib.pyplot as plt

    from .plotting import PALETTE

    eta_scan, flows, dc_scan = scans["eta_scan"], scans["flows"], scans["dc_scan"]
    etas, dcs, n_unit = scans["etas"], scans["dcs"], scans["n_unit"]
    dev = _gd_flow_deviation(eta_scan)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    ax = axes[0]
    ax.loglog(etas, eta_scan["invisible"], "o-", color=PALETTE[3], label="GD (exact map)")
    ax.axhline(float(eta_scan["flow_invisible"]), color="0.2", ls="--", lw=1.2,
               label="gradient flow")
    ax.loglog(etas, dev, "s:", color=PALETTE[0], ms=4, label="GD minus flow (end state)")
    ax.set_xticks(etas, [f"{e:g}" for e in etas], rotation=30)
    ax.minorticks_off()
    ax.set(xlabel=r"step size $\eta$", ylabel="invisible gap, A,B,A vs A,A,A",
           title=r"a  $\theta_2$: memory vs step size")
    ax.legend(fontsize="x-small")
    ax = axes[1]
    ax.loglog(flows["bracket_sv"][:n_unit], flows["invisible"][:n_unit], "o", color=PALETTE[0],
              label="unit-norm random starts")
    ax.loglog(flows["bracket_sv"][n_unit:], flows["invisible"][n_unit:], "D", color=PALETTE[3],
              label="broad random starts")
    ax.set(xlabel="5th singular value of fields + brackets", ylabel="invisible gap (flow)",
           title="b  exact flow, many starts")
    ax.legend(fontsize="x-small")
    ax = axes[2]
    ax.loglog(dcs, dc_scan["flow"], "o-", color="0.2", label="gradient flow")
    ax.loglog(dcs, dc_scan["gd"], "s-", color=PALETTE[3],
              label=rf"GD, $\eta$ = {_sci(scans['eta'])}")
    ax.set_xticks(dcs, [f"{d:g}" for d in dcs])
    ax.minorticks_off()
    ax.set(xlabel=r"$c_B - c_A$", ylabel=r"$\|S_{ABA} - S_{AAA}\|$",
           title="c  memory vs loop size")
    ax.legend(fontsize="x-small")
    return fig


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


_cached_noise_memory_map = cached_run("ch4-noise")(noise_memory_map)


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


_cached_weight_decay_map = cached_run("ch4-decay")(weight_decay_map)


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


_cached_optimizer_pair = cached_run("ch4-adam-vs-gd")(optimizer_pair)


def conditions_runs(
    S: Overlaps,
    task: Task,
    *,
    target_stds: Sequence[float],
    weight_stds: Sequence[float],
    N_noise: int,
    wds: Sequence[float],
    pair_epochs: Sequence[int],
    eta: float = 5e-3,
    seed: int = 0,
) -> dict:
    """The runs of chapter 4's conditions map, cached.

    The history pair A, B, A vs A, A, A from ``S`` (:func:`history_pair`, entry
    ``"ch4-pair"``), its memory under noise (:func:`noise_memory_map`, ``"ch4-noise"``)
    and under weight decay (:func:`weight_decay_map` on ``task``, ``"ch4-decay"``), and
    Adam against gradient descent (:func:`optimizer_pair`, ``"ch4-adam-vs-gd"``).

    Returns
    -------
    dict
        ``pair``, ``noise``, ``decay``, ``optim`` (the four results) and the settings
        ``wds`` and ``N_noise``.
    """
    pair = _cached_history_pair(S, eta=eta)
    noise = _cached_noise_memory_map(S, pair["aaa"], target_stds, weight_stds, N=N_noise,
                                     eta=eta, seed=seed)
    decay = _cached_weight_decay_map(pair, task, wds, eta)
    optim = _cached_optimizer_pair(S, N=N_noise, epochs=pair_epochs, eta=eta, seed=seed)
    return {"pair": pair, "noise": noise, "decay": decay, "optim": optim, "wds": wds,
            "N_noise": N_noise}


def plot_conditions(scans: dict, cond: dict):
    """Chapter 4's conditions map: step size, noise, weight decay, optimiser (four panels).

    Parameters
    ----------
    scans : dict
        From :func:`flow_memory_scans` (panel a: its ``eta_scan``).
    cond : dict
        From :func:`conditions_runs`.
    """
    import matplotlib.pyplot as plt

    from .plotting import PALETTE

    eta_scan, etas = scans["eta_scan"], scans["etas"]
    noise_map, decay, optim, wds = cond["noise"], cond["decay"], cond["optim"], cond["wds"]
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.7))
    ax = axes[0]
    ax.loglog(etas, eta_scan["invisible"], "o-", color=PALETTE[3], label="GD")
    ax.axhline(float(eta_scan["flow_invisible"]), color="0.2", ls="--", lw=1.2, label="flow")
    ax.set_xticks(etas, [f"{e:g}" for e in etas], rotation=30)
    ax.minorticks_off()
    ax.set(xlabel=r"step size $\eta$", ylabel="memory (invisible gap)", title="a  step size")
    ax.legend(fontsize="x-small")
    ax = axes[1]
    ts = noise_map["target/std"][1:]
    ax.loglog(ts, noise_map["target/invisible"][1:], "o-", color=PALETTE[3],
              label="target noise: A,B,A vs A,A,A")
    ax.loglog(ts, noise_map["target/floor_invisible"][1:], "o:", color=PALETTE[3], alpha=0.6,
              label="target noise: floor (A,A,A twice)")
    ws = noise_map["weight/std"]
    ax.loglog(ws, noise_map["weight/invisible"], "s-", color=PALETTE[0],
              label="weight noise: B,A vs A,A")
    ax.loglog(ws, noise_map["weight/floor_invisible"], "s:", color=PALETTE[0], alpha=0.6,
              label="weight noise: floor")
    ax.axhline(noise_map["target/invisible"][0], color="0.2", ls="--", lw=1.0,
               label="no noise (A,B,A)")
    ax.set(xlabel="noise standard deviation", ylabel="invisible gap", title="b  noise")
    ax.legend(fontsize="xx-small")
    ax = axes[2]
    for i, w in enumerate(wds):
        ep, m = decay[f"{w}/epoch"], decay[f"{w}/invisible"]
        ax.semilogy(ep, m, color=PALETTE[i], lw=1.6, label=f"wd = {w:g}")
        ax.semilogy(ep, m[-1] * np.exp(float(decay[f"{w}/predicted_rate"]) * (ep[-1] - ep)),
                    color=PALETTE[i], ls="--", lw=0.9)
    ax.set(xlabel="epochs with weight decay", ylabel="invisible gap",
           title="c  weight decay (dashed: rate $2\\eta w$)")
    ax.legend(fontsize="x-small")
    ax = axes[3]
    x = np.arange(3)
    for j, (o, lab) in enumerate((("gd", rf"GD, $\eta$ = {_sci(scans['eta'])}"),
                                  ("adam", "Adam, lr 1e-3"))):
        vals = [float(optim[f"{o}/{k}"]) for k in ("function", "visible", "invisible")]
        ax.bar(x + 0.2 * (2 * j - 1), vals, 0.4, color=PALETTE[j], label=lab)
    ax.set_xticks(x, ["output", "visible", "invisible"])
    ax.set(yscale="log", ylabel="gap, A,B,A vs A,A,A", title="d  optimiser")
    ax.legend(fontsize="x-small")
    return fig


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


def twin_numbers(data: dict, eta_c: float = 1e-3, paper_time: float = 30.0) -> dict[str, float]:
    """Key numbers of the nonlinear twins (:func:`twin_runs`).

    Parameters
    ----------
    data : dict
        From :func:`twin_runs` / :func:`twin_experiment`.
    eta_c : float
        Learning rate of phase C in ``data``.
    paper_time : float
        Learning time of C in the paper (``vis_dist_30`` is the visible distance then,
        or at the end if C is shorter).

    Returns
    -------
    dict
        ``n_pairs``, ``epochs_ab``, ``epochs_c``, ``eta_c``, ``tau_c``; twin distances
        (:func:`twin_distances`, mean and sd over pairs) ``vis_dist_ab``,
        ``inv_dist_ab`` (end of A/B), ``vis_dist_c``, ``inv_dist_c``, ``vis_dist_c_sd``,
        ``inv_dist_c_sd`` (end of C), ``vis_dist_30``; losses ``loss_c_max`` (largest
        over networks of the mean of the last 100 epochs), ``loss_c_start``; balance
        (:func:`balance`) ``balance_twin_gap``, ``balance_start_drift``; mean twin gaps
        ``vv_gap``, ``uu_gap``, ``zz_gap``; ``zz_B_larger`` (fraction of pairs whose B
        twin has the larger ``sigma_zz``).
    """
    if eta_c <= 0:
        raise ValueError(f"eta_c must be positive, got {eta_c}")
    n_pairs = data["start"].shape[0]
    dist = twin_distances(data)
    e_ab = int(data["ab_epoch"][-1])
    i_ab = int(np.searchsorted(dist["epoch"], e_ab))
    i_30 = int(np.searchsorted(dist["epoch"], e_ab + round(paper_time / eta_c)))
    final = data["c"][-1]  # (pairs, 2, 4, 4)
    bal = balance(final)  # (pairs, 2)
    return {
        "n_pairs": n_pairs, "epochs_ab": e_ab, "epochs_c": int(data["c_epoch"][-1]),
        "eta_c": eta_c, "tau_c": eta_c * int(data["c_epoch"][-1]),
        "vis_dist_ab": dist["visible"][i_ab].mean(), "inv_dist_ab": dist["invisible"][i_ab].mean(),
        "vis_dist_c": dist["visible"][-1].mean(), "inv_dist_c": dist["invisible"][-1].mean(),
        "vis_dist_c_sd": dist["visible"][-1].std(), "inv_dist_c_sd": dist["invisible"][-1].std(),
        "vis_dist_30": dist["visible"][min(i_30, len(dist["epoch"]) - 1)].mean(),
        "loss_c_max": data["c_loss"][-100:].mean(axis=0).max(),
        "loss_c_start": data["c_loss"][:10].mean(),
        "balance_twin_gap": np.max(np.abs(bal[:, 0] - bal[:, 1])),
        "balance_start_drift": np.max(np.abs(bal - balance(data["start"])[:, None])),
        "vv_gap": np.mean(np.abs(final[:, 0, 2, 2] - final[:, 1, 2, 2])),
        "uu_gap": np.mean(np.abs(final[:, 0, 1, 1] - final[:, 1, 1, 1])),
        "zz_gap": np.mean(np.abs(final[:, 0, 3, 3] - final[:, 1, 3, 3])),
        "zz_B_larger": np.mean(final[:, 1, 3, 3] > final[:, 0, 3, 3]),
    }


def decoding_numbers(acc: dict) -> dict[str, float]:
    """Mean and sd over splits of every decoding accuracy of :func:`twin_decoding`.

    Parameters
    ----------
    acc : dict
        ``{(stage, features, noise): accuracies}`` (``twin_decoding(...)["acc"]``).

    Returns
    -------
    dict
        ``acc_<stage>_<features>_<noise>`` (mean) and the same name with ``_sd``:
        spaces become ``_``, ``" / "`` and dots are dropped, so ``("after A / B",
        "visible", 0.3)`` gives ``acc_after_AB_visible_03``.
    """
    out = {}
    for k, v in acc.items():
        key = f"acc_{k[0].replace(' / ', '').replace(' ', '_')}_{k[1]}_{k[2]:g}".replace(".", "")
        v = np.asarray(v)
        if v.size == 0:
            raise ValueError(f"no accuracies for {k}")
        out[key] = v.mean()
        out[key + "_sd"] = v.std()
    return out


def median_twin_pair(data: dict) -> int:
    """Index of the twin pair whose final invisible distance is the median over pairs.

    With an even number of pairs, the upper of the two middle ones.
    """
    dist = twin_distances(data)
    return int(np.argsort(dist["invisible"][-1])[data["start"].shape[0] // 2])


def network_check_runs(
    twins: np.ndarray,
    Ns: Sequence[int],
    *,
    seed: int = 0,
    epochs: int = 200,
    eta: float = 0.1,
    batch_size: int = 10,
) -> dict:
    """:func:`network_twin_check` at several ``N``, cached (entry ``"ch4-network-check"``).

    Returns
    -------
    dict
        Histories: ``("net_A", N)``, ``("net_B", N)`` for every ``N`` in ``Ns``, and
        ``"th_A"``, ``"th_B"`` (the reduced theory, the same at every ``N``).
    """
    if len(Ns) == 0:
        raise ValueError("need at least one network size")
    H = {}
    for Nc in Ns:
        chk = _cached_network_twin_check(twins, seed=seed, N=Nc, epochs=epochs, eta=eta,
                                         batch_size=batch_size)
        H.update({(k, Nc): History.from_arrays(chk, f"{k}/") for k in ("net_A", "net_B")})
        H.update({k: History.from_arrays(chk, f"{k}/") for k in ("th_A", "th_B")})
    return H


def _network_check_gaps(H: dict, Ns: Sequence[int]) -> dict:
    # twin gaps (visible, invisible) over task C: per network size and for the theory ("th")
    runs_c = {Nc: (H[("net_A", Nc)], H[("net_B", Nc)]) for Nc in Ns}
    runs_c["th"] = (H["th_A"], H["th_B"])
    gap = {}
    for src, (hA, hB) in runs_c.items():
        g = gap_series(hA, hB, "erf")
        gap.update({(src, kind): g[kind] for kind in g})
    return gap


def network_check_numbers(
    H: dict, Ns: Sequence[int], *, epochs: int, eta: float, batch_size: int
) -> dict[str, float]:
    """Key numbers of the N-dimensional check of task C (:func:`network_check_runs`).

    Parameters
    ----------
    H : dict
        From :func:`network_check_runs`.
    Ns : sequence of int
        Its two network sizes, small then large.
    epochs, eta, batch_size
        Its settings (reported as ``check_epochs``, ``check_eta``, ``check_batch``).

    Returns
    -------
    dict
        ``check_N1``, ``check_N2``, ``check_batch``, ``check_epochs``, ``check_eta``,
        ``check_tau``; the network's distance from the theory ``check_vis_err1``,
        ``check_vis_err2``, ``check_inv_err1``, ``check_inv_err2``; twin gaps
        ``check_vis_0``, ``check_inv_0`` (start), ``check_vis_net``,
        ``check_vis_th``, ``check_inv_net``, ``check_inv_net1``, ``check_inv_th``
        (end); the part of ``z`` outside span{m, u, v} (:func:`outside_span`) in the
        twin where it grows most, ``check_zperp_start``, ``check_zperp_net``,
        ``check_zperp_th``; ``check_zz_excess`` (network minus theory ``sigma_zz``)
        and ``check_loss`` (mean batch loss of the last 20 epochs, larger twin).
    """
    if len(Ns) != 2:
        raise ValueError(f"need two network sizes, got {list(Ns)}")
    N1, N2 = Ns
    gap = _network_check_gaps(H, Ns)
    err = {Nc: {kind: max(gaps(H[(f"net_{t}", Nc)].final, H[f"th_{t}"].final, "erf")[kind]
                          for t in ("A", "B")) for kind in ("visible", "invisible")}
           for Nc in Ns}
    zperp = {t: (outside_span(H[(f"net_{t}", N2)].final), outside_span(H[f"th_{t}"].final))
             for t in ("A", "B")}
    t_max_perp = max(zperp, key=lambda t: zperp[t][0])  # the twin where it grows most
    zz_excess = {t: H[(f"net_{t}", N2)].final["zz"] - H[f"th_{t}"].final["zz"] for t in ("A", "B")}
    return {
        "check_N1": N1, "check_N2": N2, "check_batch": batch_size, "check_epochs": epochs,
        "check_eta": eta, "check_tau": eta * epochs,
        "check_vis_err1": err[N1]["visible"], "check_vis_err2": err[N2]["visible"],
        "check_inv_err1": err[N1]["invisible"], "check_inv_err2": err[N2]["invisible"],
        "check_vis_0": gap[("th", "visible")][0], "check_inv_0": gap[("th", "invisible")][0],
        "check_vis_net": gap[(N2, "visible")][-1], "check_vis_th": gap[("th", "visible")][-1],
        "check_inv_net": gap[(N2, "invisible")][-1], "check_inv_net1": gap[(N1, "invisible")][-1],
        "check_inv_th": gap[("th", "invisible")][-1],
        "check_zperp_start": outside_span(H[f"th_{t_max_perp}"].initial),
        "check_zperp_net": zperp[t_max_perp][0], "check_zperp_th": zperp[t_max_perp][1],
        "check_zz_excess": max(zz_excess.values()),
        "check_loss": max(H[("net_A", N2)].loss[-20:].mean(), H[("net_B", N2)].loss[-20:].mean()),
    }


def plot_network_check(H: dict, Ns: Sequence[int]):
    """The N-dimensional check of task C (:func:`network_check_runs`): two panels.

    (a) Largest twin difference in the visible and invisible overlaps over task C,
    network at both sizes and reduced theory (dashed); (b) batch loss of both twins.
    """
    import matplotlib.pyplot as plt

    from .plotting import PALETTE

    if len(Ns) != 2:
        raise ValueError(f"need two network sizes, got {list(Ns)}")
    N1, N2 = Ns
    gap = _network_check_gaps(H, Ns)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    ax = axes[0]
    for k in ("visible", "invisible"):
        col = _kind_color(k)
        ax.plot(gap[(N2, k)], color=col, lw=3, alpha=0.6, label=f"{k}, network N = {N2}")
        ax.plot(gap[(N1, k)], color=col, lw=1.2, ls=":", label=f"{k}, network N = {N1}")
        ax.plot(gap[("th", k)], color="0.1", lw=1.0, ls="--")
    ax.set(xlabel="epoch of task C", ylabel="largest twin difference",
           title="a  one twin pair (dashed: reduced theory)")
    ax.legend(fontsize="x-small")
    ax = axes[1]
    for i, t in enumerate(("A", "B")):
        ax.semilogy(H[(f"net_{t}", N2)].loss, color=PALETTE[i], lw=1.0, label=f"twin {t}, network")
        ax.semilogy(H[f"th_{t}"].loss, color="0.1", lw=0.8, ls="--")
    ax.set(xlabel="epoch of task C", ylabel="batch loss", title="b  loss (dashed: reduced theory)")
    ax.legend(fontsize="x-small")
    return fig
