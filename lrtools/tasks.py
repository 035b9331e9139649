r"""Tasks: inputs, targets and loss masks on the simulation time grid.

Every task is a frozen dataclass with a time step ``dt`` and a duration
``t_max``; the grid has ``n_steps = t_max / dt`` steps, ``k = 0 .. n_steps-1``.
``task.sample(rng)`` returns ``(x, y, mask)`` with shapes ``(B, T, n_in)``,
``(B, T, n_out)``, ``(B, T, n_out)`` (float64). Output sample ``k`` is read after
update ``k + 1`` of the network and compared with the target at ``t_k = k dt``.

The loss is a weighted sum of squared errors,

.. math:: L = \sum_{b,k,o} w_{bko} (y_{bko} - y^*_{bko})^2 ,

with weights from :meth:`Task.loss_weights`: ``reduction="sum_dt"`` (the filter
tasks) uses ``w = mask * dt / B`` (time integral of the squared error, averaged
over the batch); ``reduction="mean"`` (flip-flop, decision making) uses
``w = mask / sum(mask)`` (masked mean squared error).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Task",
    "ImpulseResponse",
    "ExponentialFilter",
    "DampedOscillator",
    "WhiteNoise",
    "NoisyTarget",
    "Batch",
    "batches",
    "steps",
]

Batch = tuple[np.ndarray, np.ndarray, np.ndarray]


def steps(dt: float, t_max: float) -> int:
    """Number of time steps ``t_max / dt``; both must be positive and commensurate."""
    if not (isinstance(dt, int | float) and math.isfinite(dt) and dt > 0):
        raise ValueError(f"time step dt must be a positive number, got dt={dt!r}")
    if not (isinstance(t_max, int | float) and math.isfinite(t_max) and t_max > 0):
        raise ValueError(f"duration t_max must be a positive number, got t_max={t_max!r}")
    n = t_max / dt
    if abs(n - round(n)) > 1e-9 * max(1.0, n) or round(n) < 1:
        raise ValueError(f"t_max={t_max} is not a whole number of steps dt={dt}")
    return int(round(n))


@dataclass(frozen=True, kw_only=True)
class Task:
    """Base class: a time grid, a loss reduction and a sampler.

    Subclasses set ``n_in``, ``n_out``, ``reduction``, ``deterministic`` and
    implement :meth:`sample`.
    """

    dt: float
    t_max: float

    n_in = 1
    n_out = 1
    reduction = "sum_dt"
    deterministic = True

    def __post_init__(self) -> None:
        steps(self.dt, self.t_max)

    @property
    def n_steps(self) -> int:
        """Number of time steps ``T = t_max / dt``."""
        return steps(self.dt, self.t_max)

    @property
    def t(self) -> np.ndarray:
        """Times of the output samples, ``t_k = k dt``, shape ``(T,)``."""
        return np.arange(self.n_steps) * self.dt

    def sample(self, rng: np.random.Generator | None = None) -> Batch:
        """Return ``(x, y, mask)`` of shapes ``(B, T, n_in)``, ``(B, T, n_out)`` (twice)."""
        raise NotImplementedError

    def loss_weights(self, mask: np.ndarray) -> np.ndarray:
        """Per-sample loss weights ``w`` (same shape as ``mask``); see the module docstring."""
        mask = np.asarray(mask, dtype=np.float64)
        if self.reduction == "sum_dt":
            return mask * (self.dt / mask.shape[0])
        if self.reduction == "mean":
            total = mask.sum()
            if total <= 0:
                raise ValueError("loss mask selects no time points")
            return mask / total
        raise ValueError(f"unknown loss reduction {self.reduction!r}")


@dataclass(frozen=True, kw_only=True)
class ImpulseResponse(Task):
    """Learn a linear filter from its impulse response.

    The input is one impulse of unit area at ``t = 0`` (``x[0] = 1/dt``, zero
    afterwards); the target is the kernel ``g(t_k)``. A linear network trained on
    this batch learns the filter ``y(t) = int g(t - s) x(s) ds`` for any input
    (see :class:`WhiteNoise`). Loss: ``sum_k dt (y_k - g(t_k))^2``.
    """

    def kernel(self, t: np.ndarray) -> np.ndarray:
        """Target impulse response ``g(t)``."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator | None = None) -> Batch:
        """The single impulse trial (deterministic; ``rng`` is ignored)."""
        T = self.n_steps
        x = np.zeros((1, T, 1))
        x[0, 0, 0] = 1.0 / self.dt
        y = self.kernel(self.t)[None, :, None].astype(np.float64)
        return x, y, np.ones_like(y)

    def white_noise(self, batch_size: int = 16, std: float = 1.0) -> WhiteNoise:
        """The same filter trained on white-noise input; see :class:`WhiteNoise`."""
        return WhiteNoise(filter=self, batch_size=batch_size, std=std)


@dataclass(frozen=True, kw_only=True)
class ExponentialFilter(ImpulseResponse):
    """Exponential filter ``g(t) = exp(-c t)`` (the paper's Figure 1 task).

    Parameters
    ----------
    c : float
        Decay rate (paper: 0.2; the memory experiments alternate 0.2 and 0.4).
    dt, t_max : float
        Time step and duration (paper: 0.05 and 20).
    """

    c: float = 0.2
    dt: float = 0.05
    t_max: float = 20.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not math.isfinite(self.c):
            raise ValueError(f"decay rate c must be finite, got {self.c}")

    def kernel(self, t: np.ndarray) -> np.ndarray:
        """``exp(-c t)``."""
        return np.exp(-self.c * np.asarray(t, dtype=np.float64))


@dataclass(frozen=True, kw_only=True)
class DampedOscillator(ImpulseResponse):
    """Damped oscillation ``g(t) = exp(-c t) cos(omega t)`` (Figure 12, rank 2).

    Parameters
    ----------
    c, omega : float
        Decay rate and angular frequency (paper: 0.3 and 2).
    dt, t_max : float
        Time step and duration.
    """

    c: float = 0.3
    omega: float = 2.0
    dt: float = 0.05
    t_max: float = 20.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (math.isfinite(self.c) and math.isfinite(self.omega)):
            raise ValueError("c and omega must be finite")

    def kernel(self, t: np.ndarray) -> np.ndarray:
        """``exp(-c t) cos(omega t)``."""
        t = np.asarray(t, dtype=np.float64)
        return np.exp(-self.c * t) * np.cos(self.omega * t)


@dataclass(frozen=True, kw_only=True)
class WhiteNoise(Task):
    """An impulse-response filter driven by white noise.

    Input ``x_k = std * xi_k / sqrt(dt)`` with i.i.d. standard normal ``xi``
    (white noise of spectral density ``std^2``); target
    ``y*_k = sum_{j <= k} g(t_{k-j}) x_j dt``, the causal filter with the
    kernel of ``filter``, which is what a linear network with impulse response
    ``g`` outputs. The expected loss is ``std^2`` times a time-averaged version of
    the impulse loss, so both train the same filter.
    """

    filter: ImpulseResponse = field(default_factory=ExponentialFilter)
    batch_size: int = 16
    std: float = 1.0
    dt: float = field(init=False)
    t_max: float = field(init=False)

    deterministic = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "dt", self.filter.dt)
        object.__setattr__(self, "t_max", self.filter.t_max)
        if int(self.batch_size) != self.batch_size or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size}")
        if not (self.std > 0 and math.isfinite(self.std)):
            raise ValueError(f"noise std must be positive, got {self.std}")

    def sample(self, rng: np.random.Generator | None = None) -> Batch:
        """A fresh batch of noise inputs and their filtered targets."""
        if rng is None:
            raise ValueError("WhiteNoise.sample needs a numpy Generator (it is random)")
        T, dt = self.n_steps, self.dt
        x = self.std / math.sqrt(dt) * rng.standard_normal((self.batch_size, T, 1))
        g = self.filter.kernel(self.t)
        y = np.stack([np.convolve(xb, g)[:T] * dt for xb in x[:, :, 0]])[:, :, None]
        return x, y, np.ones_like(y)


@dataclass(frozen=True, kw_only=True)
class NoisyTarget(Task):
    """A task whose targets get fresh i.i.d. Gaussian noise every batch.

    Used in the memory experiment (paper Figure 3: noise 0.1 on the filter target).
    """

    task: Task = field(default_factory=ExponentialFilter)
    std: float = 0.1
    dt: float = field(init=False)
    t_max: float = field(init=False)

    deterministic = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "dt", self.task.dt)
        object.__setattr__(self, "t_max", self.task.t_max)
        if not (self.std >= 0 and math.isfinite(self.std)):
            raise ValueError(f"target noise std must be non-negative, got {self.std}")

    @property
    def n_in(self) -> int:  # type: ignore[override]
        """Inputs of the wrapped task."""
        return self.task.n_in

    @property
    def n_out(self) -> int:  # type: ignore[override]
        """Outputs of the wrapped task."""
        return self.task.n_out

    @property
    def reduction(self) -> str:  # type: ignore[override]
        """Loss reduction of the wrapped task."""
        return self.task.reduction

    def sample(self, rng: np.random.Generator | None = None) -> Batch:
        """A batch of the wrapped task with noise added to its targets."""
        if rng is None:
            raise ValueError("NoisyTarget.sample needs a numpy Generator (it is random)")
        x, y, mask = self.task.sample(rng)
        return x, y + self.std * rng.standard_normal(y.shape), mask


def batches(task: Task, seed: np.random.Generator | int | None = None) -> Iterator[Batch]:
    """Endless stream of training batches, one per epoch.

    Deterministic tasks yield the same batch every time. Random tasks draw from one
    generator seeded by ``seed``, so :func:`lrtools.train` and
    :func:`lrtools.theory.learn` with the same seed see the same batches.
    """
    if task.deterministic:
        batch = task.sample(None)
        while True:
            yield batch
    rng = np.random.default_rng(seed)
    while True:
        yield task.sample(rng)
