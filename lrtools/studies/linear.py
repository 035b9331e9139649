"""Chapter 1 studies: the linear derivation, where the overlap map is exact.

* :class:`FilterSettings`, :func:`filter_runs`: paper Figures 1 and 1c/5, a rank-1
  linear network learning the exponential filter, next to the exact map, its
  first-order form, descent without ``G`` and the flow;
* :class:`Rank2Settings`, :func:`rank2_runs`: paper Figure 12, rank 2 on the damped
  oscillator;
* :func:`invariant_runs`: the invariants of ``JS`` under flow, GD at two steps and
  Adam;
* the key numbers of each (``*_numbers``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import experiments, theory
from ..history import History
from ..network import LowRankRNN
from ..tasks import DampedOscillator, ExponentialFilter
from . import Settings

__all__ = [
    "FilterSettings",
    "Rank2Settings",
    "filter_runs",
    "rank2_runs",
    "invariant_runs",
    "model_numbers",
    "exactness_numbers",
    "optimum_numbers",
    "white_noise_numbers",
    "preconditioner_numbers",
    "rank2_numbers",
    "invariant_numbers",
]


@dataclass(frozen=True, kw_only=True)
class FilterSettings(Settings):
    """Paper Figure 1: rank-1 linear network, exponential filter from its impulse response.

    Parameters
    ----------
    N : int
        Neurons (the exactness holds at any ``N``).
    epochs, eta : int, float
        Gradient-descent epochs and rate (vectors move by ``-N eta dL/dx``).
    c, dt, t_max : float
        Filter ``exp(-c t)``, Euler step and trial length.
    seed : int
        Seed of the random unit-norm start.
    adam_lr : float
        Adam's rate in the invariants' comparison.
    white_noise_batch : int
        Trials per epoch when the filter is learned from white noise.
    white_noise_eta : float
        Rate of that run (the white-noise loss is larger at the start).
    """

    N: int = 500
    epochs: int = 2000
    eta: float = 5e-3
    c: float = 0.2
    dt: float = 0.05
    t_max: float = 20.0
    seed: int = 0
    adam_lr: float = 1e-3
    white_noise_batch: int = 16
    white_noise_eta: float = 2.5e-4

    @classmethod
    def fast(cls) -> FilterSettings:
        """``N = 100`` (the overlap map is exact at any ``N``)."""
        return cls(N=100)

    @property
    def task(self) -> ExponentialFilter:
        """The exponential filter ``exp(-c t)``."""
        return ExponentialFilter(c=self.c, dt=self.dt, t_max=self.t_max)

    def network(self) -> LowRankRNN:
        """The random start: unit-norm Gaussian vectors (seed ``seed``)."""
        return LowRankRNN.random(N=self.N, rank=1, phi="linear", seed=self.seed)


@dataclass(frozen=True, kw_only=True)
class Rank2Settings(Settings):
    """Paper Figure 12: a rank-2 linear network learns a damped oscillation.

    Parameters
    ----------
    N, epochs, eta, dt, t_max, seed
        As in :class:`FilterSettings`.
    c, omega : float
        Target ``exp(-c t) cos(omega t)``.
    """

    N: int = 500
    epochs: int = 10000
    eta: float = 5e-3
    c: float = 0.3
    omega: float = 2.0
    dt: float = 0.05
    t_max: float = 20.0
    seed: int = 1

    @classmethod
    def fast(cls) -> Rank2Settings:
        """``N = 100``, 2000 epochs."""
        return cls(N=100, epochs=2000)

    @property
    def task(self) -> DampedOscillator:
        """The damped oscillator."""
        return DampedOscillator(c=self.c, omega=self.omega, dt=self.dt, t_max=self.t_max)


def filter_runs(settings: FilterSettings | None = None, *,
                progress: bool | None = None) -> dict[str, History]:
    """Figure 1's runs (cached): ``network``, ``exact``, ``first-order``, ``direct``, ``flow``.

    The network keeps its vectors at the start and the end.
    """
    s = FilterSettings() if settings is None else settings
    return experiments.network_vs_theory(
        s.network(), s.task, s.epochs, s.eta, updates=("exact", "first-order", "direct"),
        flow_points=401, seed=s.seed, snapshot_every=s.epochs, name="ch1-fig1",
        progress=progress)


def rank2_runs(settings: Rank2Settings | None = None, *,
               progress: bool | None = None) -> dict[str, History]:
    """Figure 12's runs (cached): the rank-2 network and the exact map."""
    s = Rank2Settings() if settings is None else settings
    net = LowRankRNN.random(N=s.N, rank=2, phi="linear", seed=s.seed)
    return experiments.network_vs_theory(net, s.task, s.epochs, s.eta, seed=s.seed,
                                         snapshot_every=s.epochs, name="ch1-fig12",
                                         progress=progress)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))


def model_numbers(settings: FilterSettings) -> dict[str, float]:
    """The reduced activity is exact: ``span_residual`` and ``run_error`` (relative).

    The activity of the random start on the impulse leaves ``span{m, u}`` by
    ``span_residual``; the reduced output differs from the network's by ``run_error``.
    """
    net, task = settings.network(), settings.task
    x, _, _ = task.sample()
    y_net, h = net.run(x, task.dt, return_activity=True)
    y_theory = theory.run(net.overlaps(), x, task.dt, phi="linear")
    basis = net.X[:, :2]  # columns m and u
    coef, *_ = np.linalg.lstsq(basis, h[0].T, rcond=None)
    return {"span_residual": float(np.max(np.abs(basis @ coef - h[0].T)) / np.max(np.abs(h))),
            "run_error": _rel(y_net, y_theory)}


def exactness_numbers(runs: dict[str, History]) -> dict[str, float]:
    """Network against the exact map, and the exact map against its approximations.

    ``overlap_error`` and ``loss_error`` (relative), ``first_order_gap`` and
    ``flow_gap`` (largest difference of an overlap), ``loss_ratio_500`` (direct
    descent's loss over the network's at epoch ``idx_500``).
    """
    sim, exact = runs["network"], runs["exact"]
    idx = min(500, len(exact.loss) - 1)
    return {
        "overlap_error": _rel(sim.overlaps, exact.overlaps),
        "loss_error": float(np.max(np.abs(sim.loss - exact.loss)) / exact.loss[0]),
        "first_order_gap": float(np.max(np.abs(runs["first-order"].overlaps - exact.overlaps))),
        "flow_gap": float(np.max(np.abs(runs["flow"].overlaps[-1] - exact.overlaps[-1]))),
        "loss_ratio_500": float(runs["direct"].loss[idx] / exact.loss[idx]),
        "idx_500": idx,
    }


def _visible_summary(S) -> np.ndarray:
    return np.array([S["zm"], S["zu"] * S["vm"], S["vu"]])


def optimum_numbers(runs: dict[str, History], settings: FilterSettings) -> dict[str, float]:
    """The trained network against the closed-form optimum of the discrete problem.

    ``optimum_error`` (largest distance of ``sigma_zm, sigma_zu sigma_vm, sigma_vu``),
    ``a_discrete`` (the optimal ``sigma_vu``), ``a_continuum = 1 - c`` and the
    trained values ``final_zm``, ``final_zu_vm``, ``final_vu``.
    """
    S = LowRankRNN(runs["network"].vectors[-1], phi="linear").overlaps()
    opt = theory.filter_optimum(settings.c, settings.dt)
    target = np.array([opt["zm"], opt["zu*vm"], opt["vu"]])
    return {"optimum_error": float(np.max(np.abs(_visible_summary(S) - target))),
            "a_discrete": float(opt["vu"]), "a_continuum": 1 - settings.c,
            "final_zm": float(S["zm"]), "final_zu_vm": float(S["zu"] * S["vm"]),
            "final_vu": float(S["vu"])}


def white_noise_numbers(runs: dict[str, History], settings: FilterSettings) -> dict[str, float]:
    """The filter learned from white noise (a fresh seeded batch per epoch), exact map.

    ``wn_gap``: distance of its visible summary from the discrete optimum;
    ``wn_ratio``: its initial loss over the impulse loss; ``wn_batch``: trials per
    epoch; ``wn_steps``: time steps of a trial (the weight of the first lag of the
    white-noise loss relative to the last).
    """
    s = settings
    train_task = s.task.white_noise(batch_size=s.white_noise_batch)
    wn = theory.learn(runs["network"].initial, train_task, s.epochs, s.white_noise_eta,
                      phi="linear", seed=s.seed)
    opt = theory.filter_optimum(s.c, s.dt)
    target = np.array([opt["zm"], opt["zu*vm"], opt["vu"]])
    return {"wn_gap": float(np.max(np.abs(_visible_summary(wn.final) - target))),
            "wn_ratio": float(wn.loss[0] / runs["exact"].loss[0]),
            "wn_batch": s.white_noise_batch, "wn_steps": int(s.task.t.size)}


def preconditioner_numbers(S) -> dict[str, float]:
    """``G_zero_fraction``: the share of structural zeros of ``G`` at ``S``.

    Also checks that ``G`` vanishes exactly where two overlaps share no vector
    (``G_zeros_structural``, 1 or 0).
    """
    G, _ = theory.preconditioner(S)
    iu = np.triu_indices(S.k)
    shares = np.array([[len({a, b} & {c, d}) > 0 for c, d in zip(*iu, strict=True)]
                       for a, b in zip(*iu, strict=True)])
    return {"G_zero_fraction": float(np.mean(G == 0)),
            "G_zeros_structural": int(np.all(np.abs(G[~shares]) == 0))}


def rank2_numbers(runs: dict[str, History], settings: Rank2Settings) -> dict[str, float]:
    """``rank2_error`` (network vs map, relative), ``rank2_loss`` (final over initial).

    ``rank2_loss_error``: the largest gap between the network's loss and the map's,
    relative to the initial loss (Figure 12b).
    """
    sim, exact = runs["network"], runs["exact"]
    loss_gap = np.max(np.abs(np.asarray(sim.loss) - np.asarray(exact.loss))) / sim.loss[0]
    return {"rank2_error": _rel(sim.overlaps, exact.overlaps),
            "rank2_loss_error": float(loss_gap),
            "rank2_loss": float(sim.loss[-1] / sim.loss[0]), "rank2_epochs": settings.epochs,
            "n_overlaps2": len(sim.initial.pair_names)}


INVARIANT_RULES = ("flow", "gd", "gd2", "adam")


def invariant_runs(settings: FilterSettings, runs: dict[str, History], *,
                   progress: bool | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The invariants of ``JS`` along four learning rules, as ``(time, invariants)``.

    Keys: ``"flow"`` and ``"gd"`` (from ``runs``, :func:`filter_runs`), ``"gd2"``
    (the exact map at twice the step, half the epochs: the same learning time) and
    ``"adam"`` (the N-dimensional network trained with Adam at rate ``adam_lr``,
    cached; its time axis is ``eta * epoch`` so that it shares the others' axis).
    """
    if not {"network", "exact", "flow"} <= runs.keys():
        raise ValueError("runs must hold the network, exact and flow histories of filter_runs()")
    s = settings
    gd2 = theory.learn(runs["network"].initial, s.task, s.epochs // 2, 2 * s.eta, phi="linear")
    adam = experiments.network_vs_theory(s.network(), s.task, s.epochs, s.adam_lr,
                                         optimizer="adam", updates=(), seed=s.seed,
                                         name="ch1-adam", progress=progress)["network"]
    return {"flow": (runs["flow"].time, theory.invariants(runs["flow"])),
            "gd": (runs["exact"].time, theory.invariants(runs["exact"])),
            "gd2": (gd2.time, theory.invariants(gd2)),
            "adam": (s.eta * np.arange(len(adam.loss) + 1), theory.invariants(adam))}


def invariant_numbers(curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """The invariants' drift ``max_i |I_i(t) - I_i(0)|``.

    ``flow_drift`` is the largest drift along the flow, ``gd_drift`` and
    ``adam_drift`` the drift at the end of the GD and Adam runs, ``gd_ratio`` the
    final drift at twice the step over that at the step.
    """
    drift = {k: np.max(np.abs(inv - inv[0]), axis=1) for k, (_, inv) in curves.items()}
    return {"flow_drift": float(drift["flow"].max()), "gd_drift": float(drift["gd"][-1]),
            "gd_ratio": float(drift["gd2"][-1] / drift["gd"][-1]),
            "adam_drift": float(drift["adam"][-1])}
