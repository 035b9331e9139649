"""Standard runs behind the book's figures: the network next to its theory.

Each function returns plain :class:`~lrtools.History` objects and caches them on
disk with :func:`lrtools.cache.cached_run` (keyed by every argument and the code),
so a notebook re-executed with the same settings loads them instead of recomputing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import theory
from .cache import cached_run
from .history import History
from .network import LowRankRNN
from .tasks import Task
from .training import train

__all__ = ["network_vs_theory", "invariant_drift"]


def _histories_to_arrays(runs: dict[str, History]) -> dict[str, np.ndarray]:
    out = {"runs": np.array(list(runs))}
    for key, hist in runs.items():
        out.update(hist.to_arrays(f"{key}/"))
    return out


def _histories_from_arrays(data: dict[str, np.ndarray]) -> dict[str, History]:
    return {str(k): History.from_arrays(data, f"{k}/") for k in data["runs"]}


@cached_run("network-vs-theory", encode=_histories_to_arrays, decode=_histories_from_arrays)
def network_vs_theory(
    net: LowRankRNN,
    task: Task,
    epochs: int,
    eta: float,
    *,
    updates: Sequence[str] = ("exact",),
    flow_points: int = 0,
    optimizer: str = "gd",
    seed: int | None = 0,
    snapshot_every: int | None = None,
    name: str = "network-vs-theory",
    progress: bool | None = None,
) -> dict[str, History]:
    """Train the N-dimensional network and run the overlap theory from the same start.

    Cached (:func:`lrtools.cache.cached_run`, entry ``"network-vs-theory"``): the
    key covers every argument but ``progress``.

    Parameters
    ----------
    net : LowRankRNN
        Initial network (not modified: a copy is trained).
    task, epochs, eta, optimizer, seed
        As in :func:`lrtools.train`.
    updates : sequence of {"exact", "first-order", "direct"}
        Overlap-space rules to run with :func:`lrtools.theory.learn`.
    flow_points : int
        If positive, also integrate the gradient flow to the same learning time
        (``eta * epochs``) with this many output points.
    snapshot_every : int, optional
        Keep the network's vectors every this many epochs.
    name : str
        A label of the run (part of its key: runs with other labels are stored apart).
    progress : bool, optional
        Progress bars (default: in a terminal).

    Returns
    -------
    dict
        ``{"network": History, "<update>": History, ..., "flow": History}``.
    """
    S0 = net.overlaps()
    out = {"network": train(net.copy(), task, epochs, eta, optimizer, seed=seed,
                            snapshot_every=snapshot_every, progress=progress)}
    for update in updates:
        out[update] = theory.learn(S0, task, epochs, eta, phi=net.phi, update=update, seed=seed,
                                   progress=progress)
    if flow_points:
        out["flow"] = theory.flow(S0, task, t_end=eta * epochs, n_points=flow_points,
                                  phi=net.phi)
    return out


def invariant_drift(hist: History) -> np.ndarray:
    """``max_i |I_i(t) - I_i(0)|`` over the invariants of :func:`theory.invariants`."""
    inv = theory.invariants(hist)
    return np.max(np.abs(inv - inv[0]), axis=1)
