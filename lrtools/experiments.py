"""Standard runs behind the book's figures: the network next to its theory.

Each function returns plain :class:`~lrtools.History` objects and caches them on
disk with :func:`lrtools.cache.cached` (keyed by every setting and the code), so a
notebook re-executed with the same settings loads them instead of recomputing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import theory
from .cache import cached
from .history import History
from .network import LowRankRNN
from .tasks import Task
from .training import train

__all__ = ["network_vs_theory", "invariant_drift"]


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
        Cache entry name.

    Returns
    -------
    dict
        ``{"network": History, "<update>": History, ..., "flow": History}``.
    """
    S0 = net.overlaps()
    params = {
        "X": net.X, "phi": net.phi, "rank": net.rank, "task": task, "epochs": epochs,
        "eta": eta, "updates": list(updates), "flow_points": flow_points,
        "optimizer": optimizer, "seed": seed, "snapshot_every": snapshot_every,
    }

    def compute() -> dict[str, np.ndarray]:
        out = train(net.copy(), task, epochs, eta, optimizer, seed=seed,
                    snapshot_every=snapshot_every, progress=progress).to_arrays("network/")
        for update in updates:
            h = theory.learn(S0, task, epochs, eta, phi=net.phi, update=update, seed=seed,
                             progress=progress)
            out.update(h.to_arrays(f"{update}/"))
        if flow_points:
            h = theory.flow(S0, task, t_end=eta * epochs, n_points=flow_points, phi=net.phi)
            out.update(h.to_arrays("flow/"))
        return out

    data = cached(name, params, compute)
    keys = ["network", *updates] + (["flow"] if flow_points else [])
    return {k: History.from_arrays(data, f"{k}/") for k in keys}


def invariant_drift(hist: History) -> np.ndarray:
    """``max_i |I_i(t) - I_i(0)|`` over the invariants of :func:`theory.invariants`."""
    inv = theory.invariants(hist)
    return np.max(np.abs(inv - inv[0]), axis=1)
