"""Learning trajectories returned by training, the overlap map and the flow."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .overlaps import Overlaps

__all__ = ["History", "DivergenceError"]


class DivergenceError(FloatingPointError):
    """Learning diverged (non-finite or exploding loss or overlaps).

    Raised instead of returning a history full of NaN; the message names the
    epoch, the loss and the learning rate.
    """


@dataclass(frozen=True, eq=False)
class History:
    """A learning trajectory in overlap space.

    Attributes
    ----------
    loss : numpy.ndarray, shape (n,)
        Loss before each update (training, the overlap map) or at each output
        time (the flow).
    overlaps : numpy.ndarray, shape (n + 1, k, k) or (n, k, k)
        Overlap matrices; for training and the map, ``overlaps[i]`` is the state
        before update ``i`` and ``overlaps[-1]`` the final state.
    names : tuple of str
        Vector names, the order of the rows and columns of each overlap matrix.
    time : numpy.ndarray, shape (len(overlaps),)
        Learning time of each row of ``overlaps``: ``eta * epoch`` for discrete
        updates, the integration time of the flow.
    vectors : numpy.ndarray or None, shape (n_snap, N, k)
        Snapshots of the connectivity vectors (N-dimensional training only, when
        asked for), taken at the epochs in ``vector_epochs``.
    info : dict
        Settings of the run (eta, optimizer, update rule, ...).
    """

    loss: np.ndarray
    overlaps: np.ndarray
    names: tuple[str, ...]
    time: np.ndarray
    vectors: np.ndarray | None = None
    vector_epochs: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        """Number of updates (length of ``loss``)."""
        return int(self.loss.shape[0])

    def overlap(self, key: str | tuple[str, str]) -> np.ndarray:
        """Trajectory of one overlap, e.g. ``hist.overlap("zm")``, shape ``(len(overlaps),)``."""
        a, b = self.at(0).split(key)
        i, j = self.names.index(a), self.names.index(b)
        return self.overlaps[:, i, j]

    def at(self, i: int) -> Overlaps:
        """The overlaps at row ``i`` as :class:`~lrtools.Overlaps`."""
        return Overlaps(self.overlaps[i], self.names)

    @property
    def initial(self) -> Overlaps:
        """Overlaps before learning."""
        return self.at(0)

    @property
    def final(self) -> Overlaps:
        """Overlaps after the last update."""
        return self.at(-1)

    def table(self, keys: list[str] | None = None) -> dict[str, np.ndarray]:
        """``{name: trajectory}`` for the given overlap names (default: all pairs)."""
        keys = self.at(0).pair_names if keys is None else keys
        return {key: self.overlap(key) for key in keys}

    def concat(self, other: History) -> History:
        """Join two consecutive trajectories (``other`` starts where ``self`` ends)."""
        if other.names != self.names:
            raise ValueError("cannot join histories of different vectors")
        if not np.allclose(other.overlaps[0], self.overlaps[-1], rtol=1e-12, atol=1e-12):
            raise ValueError("the second history does not start where the first ends")
        return History(
            loss=np.concatenate([self.loss, other.loss]),
            overlaps=np.concatenate([self.overlaps, other.overlaps[1:]]),
            names=self.names,
            time=np.concatenate([self.time, self.time[-1] + other.time[1:] - other.time[0]]),
            info={"parts": [self.info, other.info]},
        )

    # --- storage (used by lrtools.cache) ----------------------------------
    def to_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Flat dict of plain arrays (no pickle); inverse of :meth:`from_arrays`."""
        out = {
            f"{prefix}loss": self.loss,
            f"{prefix}overlaps": self.overlaps,
            f"{prefix}names": np.array(self.names),
            f"{prefix}time": self.time,
            f"{prefix}info": np.array(json.dumps(self.info, default=repr)),
        }
        if self.vectors is not None:
            out[f"{prefix}vectors"] = self.vectors
            out[f"{prefix}vector_epochs"] = self.vector_epochs
        return out

    @classmethod
    def from_arrays(cls, data: dict[str, np.ndarray], prefix: str = "") -> History:
        """Rebuild a history stored with :meth:`to_arrays`."""
        return cls(
            loss=np.asarray(data[f"{prefix}loss"]),
            overlaps=np.asarray(data[f"{prefix}overlaps"]),
            names=tuple(str(n) for n in data[f"{prefix}names"]),
            time=np.asarray(data[f"{prefix}time"]),
            vectors=data.get(f"{prefix}vectors"),
            vector_epochs=data.get(f"{prefix}vector_epochs"),
            info=json.loads(str(data[f"{prefix}info"])),
        )
