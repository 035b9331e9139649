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

from . import _sampling
from .overlaps import Overlaps

__all__ = [
    "Task",
    "ImpulseResponse",
    "ExponentialFilter",
    "SignedFilter",
    "DampedOscillator",
    "WhiteNoise",
    "NoisyTarget",
    "FlipFlop",
    "DecisionMaking",
    "TeacherStudent",
    "teacher_overlaps",
    "flip_flop_pulses",
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
class SignedFilter(ExponentialFilter):
    """Exponential filter with a sign: ``g(t) = sign * exp(-c t)`` (chapter 5's reversal).

    ``sign=-1`` is the *reversal* of :class:`ExponentialFilter`: the same dynamics,
    the opposite response.

    Parameters
    ----------
    c, dt, t_max : float
        As in :class:`ExponentialFilter`.
    sign : float
        Factor of the response (``1``: the filter, ``-1``: its reversal).
    """

    sign: float = 1.0

    def kernel(self, t: np.ndarray) -> np.ndarray:
        """``sign * exp(-c t)``."""
        return self.sign * np.exp(-self.c * np.asarray(t, dtype=np.float64))


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


# ---------------------------------------------------------------------------
# Nonlinear tasks (paper Figures 4, 8, 9, 10): masked mean squared error
# ---------------------------------------------------------------------------


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")


def _n(duration: float, dt: float) -> int:
    """A duration in steps (rounded to the grid)."""
    return int(round(duration / dt))


def flip_flop_pulses(
    rng: np.random.Generator,
    batch_size: int,
    n_steps: int,
    dt: float,
    *,
    pulse_duration: float = 0.5,
    first_pulse: float = 0.5,
    post_pulse: float = 2.0,
    wait_min: float = 4.0,
    wait_max: float = 10.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random +-1 pulse trains of the flip-flop task on a grid of ``n_steps`` steps.

    Trial ``b`` has pulses with onsets ``t_1 = first_pulse`` and
    ``t_{i+1} = t_i + pulse_duration + post_pulse + w_i``, ``w_i ~ U[wait_min,
    wait_max]``, while ``t_i < n_steps dt``; each pulse has an independent random
    sign. Onsets are rounded to the grid (step ``round(t_i / dt)``). Draws, per
    trial: the waits and signs in order (so one seed gives one batch).

    Returns
    -------
    pulses : numpy.ndarray, shape (B, T)
        ``+-1`` during pulses (steps ``k0 <= k < k0 + pulse_duration / dt``), else 0.
    state : numpy.ndarray, shape (B, T)
        Sign of the last pulse whose onset is ``<= t_k`` (0 before the first).
    free : numpy.ndarray, shape (B, T), bool
        False before the first pulse and on ``k0 <= k < k0 + (pulse_duration +
        post_pulse) / dt`` after every onset ``k0``: the steps a flip-flop loss
        excludes.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    # compiled; the same draws in the same order as the loop described above
    return _sampling.flip_flop_pulses(rng, int(batch_size), int(n_steps), float(dt),
                                      float(pulse_duration), float(first_pulse),
                                      float(post_pulse), float(wait_min), float(wait_max))


@dataclass(frozen=True, kw_only=True)
class FlipFlop(Task):
    """Flip-flop (one-bit memory) task (paper Figures 4, 8, 9).

    Input: ``+-amplitude`` pulses of ``pulse_duration`` seconds, the first at
    ``first_pulse``; after each pulse and a ``post_pulse`` window a wait drawn
    uniformly in ``[wait_min, wait_max]`` precedes the next (see
    :func:`flip_flop_pulses`). Target: ``+-level``, the sign of the last pulse,
    held from that pulse's onset. The mask drops the time before the first pulse,
    every pulse and the ``post_pulse`` seconds after it, so the loss is the masked
    mean squared error of the held state (``reduction="mean"``).

    Parameters
    ----------
    dt, t_max : float
        Time step and trial duration (paper: 0.025 and 20).
    batch_size : int
        Trials per batch (paper: 10).
    pulse_duration, first_pulse, post_pulse, wait_min, wait_max : float
        Timing in seconds (defaults 0.5, 0.5, 2, 4, 10).
    amplitude, level : float
        Input pulse height (1) and target level (0.5).
    mask_lead : int
        Steps before every pulse onset also left out of the loss (0; the authors'
        code leaves out one).
    """

    dt: float = 0.025
    t_max: float = 20.0
    batch_size: int = 10
    pulse_duration: float = 0.5
    first_pulse: float = 0.5
    post_pulse: float = 2.0
    wait_min: float = 4.0
    wait_max: float = 10.0
    amplitude: float = 1.0
    level: float = 0.5
    mask_lead: int = 0

    reduction = "mean"
    deterministic = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_batch_size(self.batch_size)
        if isinstance(self.mask_lead, bool) or int(self.mask_lead) != self.mask_lead \
                or self.mask_lead < 0:
            raise ValueError(f"mask_lead must be a non-negative integer, got {self.mask_lead!r}")
        _check_positive(pulse_duration=self.pulse_duration, post_pulse=self.post_pulse,
                        wait_min=self.wait_min, amplitude=self.amplitude, level=self.level)
        if not (math.isfinite(self.first_pulse) and 0 <= self.first_pulse < self.t_max):
            raise ValueError(f"first_pulse must lie in [0, t_max), got {self.first_pulse}")
        if not (math.isfinite(self.wait_max) and self.wait_max >= self.wait_min):
            raise ValueError(f"need wait_max >= wait_min, got {self.wait_max} < {self.wait_min}")
        if _n(self.pulse_duration, self.dt) < 1:
            raise ValueError(f"pulse_duration={self.pulse_duration} is shorter than dt={self.dt}")

    def sample(self, rng: np.random.Generator | None = None) -> Batch:
        """A batch: input pulses ``(B, T, 1)``, held target ``(B, T, 1)`` and mask."""
        if rng is None:
            raise ValueError("FlipFlop.sample needs a numpy Generator (it is random)")
        pulses, state, free = flip_flop_pulses(
            rng, int(self.batch_size), self.n_steps, self.dt,
            pulse_duration=self.pulse_duration, first_pulse=self.first_pulse,
            post_pulse=self.post_pulse, wait_min=self.wait_min, wait_max=self.wait_max)
        if self.mask_lead:
            onsets = np.diff(np.abs(pulses), axis=1, prepend=0.0) > 0
            for lead in range(1, int(self.mask_lead) + 1):
                free[:, :-lead] &= ~onsets[:, lead:]
        x = self.amplitude * pulses[:, :, None]
        y = self.level * state[:, :, None]
        return x, y, free[:, :, None].astype(np.float64)


COHERENCES = (-16.0, -8.0, -4.0, -2.0, 2.0, 4.0, 8.0, 16.0)


@dataclass(frozen=True, kw_only=True)
class DecisionMaking(Task):
    """Perceptual decision making (paper Figures 9, 10).

    Epochs: ``fixation`` (input 0), ``stimulus`` (input ``coh * scale / 100``
    plus white noise), ``delay`` (input 0), ``response`` (input 0, target
    ``coh / 16``). The coherence ``coh`` of each trial is drawn uniformly from
    ``coherences``. The mask keeps the response period only; the loss is the
    masked mean squared error.

    ``noise="white"`` (the default): white noise of spectral density
    ``noise_std^2`` during the stimulus, each sample ``noise_std / sqrt(dt) * xi``,
    ``xi ~ N(0, 1)``, so the noise integrated over the 9 s stimulus has standard
    deviation ``3 noise_std`` (0.3 for the default 0.1) against an integrated
    mean of ``9 * 0.032 coh`` = 0.58 at ``|coh| = 2``. ``noise="sample"``: the
    authors' code: ``noise_std * xi`` on every sample of the whole trial (not
    scaled by ``dt``; their twin experiment uses ``noise_std = 0.05``, about 9
    times less noise per unit time than the default at ``dt = 0.05``).

    Parameters
    ----------
    dt, t_max : float
        Time step and duration (paper: 0.05 and 20; ``t_max`` must equal the sum
        of the four epochs).
    batch_size : int
        Trials per batch (paper: 128).
    fixation, stimulus, delay, response : float
        Epoch durations in seconds (1, 9, 1, 9).
    scale : float
        Stimulus mean per unit coherence times 100 (3.2).
    noise_std : float
        Noise level (0.1): see ``noise``.
    coherences : tuple of float
        Coherence values (``-16 .. 16``, no zero).
    noise : {"white", "sample"}
        How ``noise_std`` is applied (above).
    """

    dt: float = 0.05
    t_max: float = 20.0
    batch_size: int = 128
    fixation: float = 1.0
    stimulus: float = 9.0
    delay: float = 1.0
    response: float = 9.0
    scale: float = 3.2
    noise_std: float = 0.1
    coherences: tuple[float, ...] = COHERENCES
    noise: str = "white"

    reduction = "mean"
    deterministic = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_batch_size(self.batch_size)
        _check_positive(stimulus=self.stimulus, response=self.response)
        if min(self.fixation, self.delay) < 0:
            raise ValueError("fixation and delay durations must be non-negative")
        total = self.fixation + self.stimulus + self.delay + self.response
        if abs(total - self.t_max) > 1e-9 * self.t_max:
            raise ValueError(
                f"epochs last {total} s (fixation + stimulus + delay + response), "
                f"but t_max={self.t_max}"
            )
        if not (math.isfinite(self.noise_std) and self.noise_std >= 0):
            raise ValueError(f"noise_std must be non-negative, got {self.noise_std}")
        if len(self.coherences) == 0:
            raise ValueError("need at least one coherence")
        if self.noise not in ("white", "sample"):
            raise ValueError(f"noise must be 'white' or 'sample', got {self.noise!r}")

    def epochs(self) -> dict[str, slice]:
        """Step ranges of the four epochs: ``{"fixation": slice, ...}``."""
        edges = np.cumsum([0, self.fixation, self.stimulus, self.delay])
        k = [_n(e, self.dt) for e in edges] + [self.n_steps]
        names = ("fixation", "stimulus", "delay", "response")
        return {n: slice(k[i], k[i + 1]) for i, n in enumerate(names)}

    def sample(self, rng: np.random.Generator | None = None) -> Batch:
        """A batch: noisy stimulus ``(B, T, 1)``, target ``coh/16`` and response mask."""
        if rng is None:
            raise ValueError("DecisionMaking.sample needs a numpy Generator (it is random)")
        B, T = int(self.batch_size), self.n_steps
        ep = self.epochs()
        coh = rng.choice(np.asarray(self.coherences, dtype=np.float64), size=B)
        stim = ep["stimulus"]
        n_stim = stim.stop - stim.start
        x = np.zeros((B, T, 1))
        if self.noise == "white":
            noise = rng.standard_normal((B, n_stim))
            x[:, stim, 0] = (coh[:, None] * self.scale / 100.0
                             + self.noise_std / math.sqrt(self.dt) * noise)
        else:
            x[:, :, 0] = self.noise_std * rng.standard_normal((B, T))
            x[:, stim, 0] += coh[:, None] * self.scale / 100.0
        y = np.zeros((B, T, 1))
        mask = np.zeros((B, T, 1))
        y[:, ep["response"], 0] = coh[:, None] / 16.0
        mask[:, ep["response"], 0] = 1.0
        return x, y, mask


def teacher_overlaps(margin: float = 1.0) -> Overlaps:
    """The paper's teacher network for the teacher-student task (Figures 9, 10).

    Visible overlaps (Ger & Barak, 2026): ``zm 0.5, zu 2.3, vm 2.0, vu 1.5,
    mu 1.6, mm 1.8, uu 2.2``. The invisible ones (``vv, zv, zz``) do not affect
    the teacher's output in the Gaussian limit; we complete the matrix as
    ``[[vv, zv], [zv, zz]] = B^T A^{-1} B + margin * I`` with ``A`` the
    ``(m, u)`` block and ``B`` the ``(m, u) x (v, z)`` block, the smallest
    positive semidefinite completion plus ``margin`` (default 1: ``vv = 3.32,
    zv = -0.107, zz = 5.57``), so ``S`` is positive definite (smallest
    eigenvalue 0.072 for ``margin = 1``).

    Returns
    -------
    Overlaps
        Rank-1 overlaps over ``("m", "u", "v", "z")``.
    """
    if not (math.isfinite(margin) and margin > 0):
        raise ValueError(f"margin must be positive, got {margin}")
    A = np.array([[1.8, 1.6], [1.6, 2.2]])
    Bm = np.array([[2.0, 0.5], [1.5, 2.3]])  # rows m, u; columns v, z
    C = Bm.T @ np.linalg.solve(A, Bm) + margin * np.eye(2)
    S = np.block([[A, Bm], [Bm.T, C]])
    return Overlaps(S, ("m", "u", "v", "z"))


@dataclass(frozen=True, kw_only=True)
class TeacherStudent(Task):
    """Imitate a reduced (Gaussian-limit) teacher network (paper Figures 9, 10, task C).

    Input: ``input_std * xi`` (i.i.d. ``N(0, 1)`` per sample) plus
    ``pulse_amplitude`` times flip-flop pulses (:func:`flip_flop_pulses` with the
    default timing). Target: the teacher's output ``theory.run(teacher, x, dt,
    phi)``. The mask keeps every step; the loss is the mean squared error.

    Parameters
    ----------
    teacher : Overlaps
        Teacher overlaps (rank 1); default :func:`teacher_overlaps`.
    phi : {"erf", "tanh", "linear"}
        Teacher nonlinearity.
    dt, t_max : float
        Time step and duration (0.05 and 20).
    batch_size : int
        Trials per batch (128).
    input_std, pulse_amplitude : float
        Input noise (1.5) and pulse height (2).
    loss_scale : float
        Factor on the mean squared error (1; the authors' code multiplies it by the
        trial duration ``T dt``, 20 s, which is the same as a 20 times larger
        learning rate).
    """

    teacher: Overlaps = field(default_factory=teacher_overlaps)
    phi: str = "erf"
    dt: float = 0.05
    t_max: float = 20.0
    batch_size: int = 128
    input_std: float = 1.5
    pulse_amplitude: float = 2.0
    loss_scale: float = 1.0

    reduction = "mean"
    deterministic = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_batch_size(self.batch_size)
        if not isinstance(self.teacher, Overlaps):
            raise TypeError(f"teacher must be lrtools.Overlaps, got {type(self.teacher).__name__}")
        if self.teacher.names != ("m", "u", "v", "z"):
            raise ValueError(f"the teacher must be rank 1 (m, u, v, z), got {self.teacher.names}")
        if self.phi not in ("linear", "erf", "tanh"):
            raise ValueError(f"unknown nonlinearity phi={self.phi!r}")
        if not (math.isfinite(self.input_std) and self.input_std >= 0):
            raise ValueError(f"input_std must be non-negative, got {self.input_std}")
        if not math.isfinite(self.pulse_amplitude):
            raise ValueError("pulse_amplitude must be finite")
        _check_positive(loss_scale=self.loss_scale)

    def loss_weights(self, mask: np.ndarray) -> np.ndarray:
        """The masked mean's weights times ``loss_scale``."""
        return super().loss_weights(mask) * self.loss_scale

    def sample(self, rng: np.random.Generator | None = None) -> Batch:
        """A batch: noise plus pulses ``(B, T, 1)``, the teacher's output, all-ones mask."""
        from . import theory

        if rng is None:
            raise ValueError("TeacherStudent.sample needs a numpy Generator (it is random)")
        B, T = int(self.batch_size), self.n_steps
        pulses, _, _ = flip_flop_pulses(rng, B, T, self.dt)
        x = (self.input_std * rng.standard_normal((B, T, 1))
             + self.pulse_amplitude * pulses[:, :, None])
        y = theory.run(self.teacher, x, self.dt, self.phi)
        return x, y, np.ones_like(y)
