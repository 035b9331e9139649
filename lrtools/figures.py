"""The paper's figures, regenerated from code: data functions, plots and a registry.

Each paper figure has a function ``figure<N>(fast=False, progress=None)`` that
computes (or loads from the cache) its data and returns a matplotlib figure;
``python -m lrtools figure N`` calls it and writes the file. The chapters call the
same data and plot functions, so the book and the command line draw the same
figures. ``fast=True`` runs a smaller version (CI settings) of the same code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import experiments, theory
from .history import History
from .network import LowRankRNN
from .tasks import DampedOscillator, ExponentialFilter

__all__ = [
    "FIGURES",
    "FigureSpec",
    "get",
    "filter_runs",
    "plot_filter",
    "plot_three_losses",
    "plot_G",
    "rank2_runs",
    "plot_rank2",
    "invariant_runs",
    "plot_invariant_drift",
    "invariant_numbers",
    "figure1",
    "figure5",
    "figure11",
    "figure12",
]


# --- chapter 1: linear -------------------------------------------------------


def filter_runs(
    *, N: int = 500, epochs: int = 2000, eta: float = 5e-3, c: float = 0.2, dt: float = 0.05,
    t_max: float = 20.0, seed: int = 0, progress: bool | None = None,
) -> dict[str, History]:
    """Figure 1 runs: the rank-1 linear network on the exponential filter and its theory.

    Returns ``{"network", "exact", "first-order", "direct", "flow"}`` histories
    (network vectors kept at the start and the end).
    """
    net = LowRankRNN.random(N=N, rank=1, phi="linear", seed=seed)
    task = ExponentialFilter(c=c, dt=dt, t_max=t_max)
    return experiments.network_vs_theory(
        net, task, epochs, eta, updates=("exact", "first-order", "direct"), flow_points=401,
        seed=seed, snapshot_every=epochs, name="ch1-fig1", progress=progress)


def plot_filter(runs: dict[str, History], task: ExponentialFilter, *, seed: int = 0):
    """Paper Figure 1, panels a-f, from :func:`filter_runs`."""
    import matplotlib.pyplot as plt

    from .plotting import PALETTE, SIM, THEORY, plot_overlaps

    sim, exact = runs["network"], runs["exact"]
    dt, c, t = task.dt, task.c, task.t
    before = LowRankRNN(sim.vectors[0], phi="linear")
    after = LowRankRNN(sim.vectors[-1], phi="linear")
    x, target, _ = task.sample()
    x_wn, y_wn, _ = task.white_noise(batch_size=1).sample(np.random.default_rng(seed))

    fig, axes = plt.subplot_mosaic([["a", "b", "f"], ["c", "d", "e"]], figsize=(12, 6.6))
    ax = axes["a"]
    ax.plot(t, x_wn[0, :, 0] * np.sqrt(dt), color="0.75", lw=0.8, label=r"input $x\sqrt{dt}$")
    ax.plot(t, y_wn[0, :, 0], color="0.1", lw=1.5, label="target filter")
    ax.plot(t, before.run(x_wn, dt)[0, :, 0], color=PALETTE[3], lw=1.2, label="before learning")
    ax.plot(t, after.run(x_wn, dt)[0, :, 0], color=PALETTE[0], ls="--", lw=1.5,
            label="after learning")
    ax.set(xlabel="time", title="a  filtering white noise", xlim=(0, task.t_max / 2))
    ax.legend(ncol=2, fontsize="x-small", loc="lower left")

    ax = axes["b"]
    ax.plot(t, target[0, :, 0], color="0.1", lw=1.5, label=r"target $e^{-ct}$")
    ax.plot(t, before.run(x, dt)[0, :, 0], color=PALETTE[3], lw=1.2, label="before")
    ax.plot(t, after.run(x, dt)[0, :, 0], color=PALETTE[0], ls="--", lw=1.5, label="after")
    ax.set(xlabel="time", title="b  impulse response")
    ax.legend(fontsize="small")

    ax = axes["c"]
    ax.plot(sim.loss, color=PALETTE[0], label="network", **SIM)
    ax.plot(exact.loss, label="theory", **THEORY)
    ax.set(yscale="log", xlabel="epoch", ylabel="loss", title="c  loss")
    ax.legend(fontsize="small")

    S0 = sim.initial
    plot_overlaps(axes["d"], sim, S0.visible("linear"), theory=exact)
    axes["d"].set_title("d  visible overlaps")
    plot_overlaps(axes["e"], sim, S0.invisible("linear"), theory=exact)
    axes["e"].set_title("e  invisible overlaps")
    axes["e"].legend(ncol=2, fontsize="x-small", loc="center right")

    ax = axes["f"]
    opt = theory.filter_optimum(c, dt)
    Sf, Se = after.overlaps(), exact.final
    bars = {
        "network": [Sf["zm"], Sf["zu"] * Sf["vm"], Sf["vu"]],
        "theory": [Se["zm"], Se["zu"] * Se["vm"], Se["vu"]],
        "optimum": [opt["zm"], opt["zu*vm"], opt["vu"]],
        r"$[1, 1-c, 1-c]$": [1.0, 1 - c, 1 - c],
    }
    xs = np.arange(3)
    for i, (label, vals) in enumerate(bars.items()):
        ax.bar(xs + (i - 1.5) * 0.2, vals, width=0.19, label=label, color=PALETTE[i])
    ax.set_xticks(xs, [r"$\sigma_{zm}$", r"$\sigma_{zu}\sigma_{vm}$", r"$\sigma_{vu}$"])
    ax.set_ylim(0.7, 1.08)
    ax.set_title("f  final visible overlaps")
    ax.legend(fontsize="x-small", ncol=2, loc="upper right")
    return fig


def plot_three_losses(runs: dict[str, History]):
    """Paper Figure 1c / 5: parameter space vs overlap space with and without ``G``."""
    import matplotlib.pyplot as plt

    from .plotting import PALETTE, SIM, THEORY, plot_loss

    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    labels = ("parameter space (network)", r"overlap space with $G$ (exact map)",
              r"overlap space without $G$ (direct)")
    plot_loss(ax, dict(zip(labels, (runs["network"], runs["exact"], runs["direct"]),
                           strict=True)),
              styles={labels[0]: SIM | {"color": PALETTE[0]}, labels[1]: THEORY})
    return fig


def plot_G(S_linear, S_nonlinear=None, *, phi: str = "erf"):
    """Paper Figure 11: ``|G|`` for the linear network (and a nonlinear one beside it)."""
    import matplotlib.pyplot as plt

    from .plotting import plot_preconditioner

    n = 1 if S_nonlinear is None else 2
    fig, axes = plt.subplots(1, n, figsize=(5.4 * n, 4.8), squeeze=False)
    plot_preconditioner(axes[0, 0], S_linear, phi="linear", title=r"$|G|$, linear network")
    if S_nonlinear is not None:
        plot_preconditioner(axes[0, 1], S_nonlinear, phi=phi,
                            title=rf"$|G|$, {phi} network (Gaussian limit)")
    return fig


def rank2_runs(
    *, N: int = 500, epochs: int = 10000, eta: float = 5e-3, c: float = 0.3, omega: float = 2.0,
    dt: float = 0.05, t_max: float = 20.0, seed: int = 1, progress: bool | None = None,
) -> dict[str, History]:
    """Figure 12 runs: rank-2 linear network on the damped oscillator and the exact map."""
    net = LowRankRNN.random(N=N, rank=2, phi="linear", seed=seed)
    task = DampedOscillator(c=c, omega=omega, dt=dt, t_max=t_max)
    return experiments.network_vs_theory(net, task, epochs, eta, seed=seed, snapshot_every=epochs,
                                         name="ch1-fig12", progress=progress)


def plot_rank2(runs: dict[str, History], task: DampedOscillator):
    """Paper Figure 12: impulse response and all 21 overlaps, network vs theory."""
    import matplotlib.pyplot as plt

    from .plotting import PALETTE, plot_overlaps

    sim, exact = runs["network"], runs["exact"]
    S0 = sim.initial
    x, y, _ = task.sample()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    axes[0].plot(task.t, y[0, :, 0], color="0.1", lw=1.5, label="target")
    for vecs, label, style in ((sim.vectors[0], "before", {"color": PALETTE[3], "lw": 1.2}),
                               (sim.vectors[-1], "after",
                                {"color": PALETTE[0], "ls": "--", "lw": 1.5})):
        net = LowRankRNN(vecs, rank=2, phi="linear")
        axes[0].plot(task.t, net.run(x, task.dt)[0, :, 0], label=label, **style)
    axes[0].set(xlabel="time", title=r"impulse response $e^{-ct}\cos\omega t$")
    axes[0].legend(fontsize="small")
    vis, inv = S0.visible("linear"), S0.invisible("linear")
    plot_overlaps(axes[1], sim, vis, theory=exact, legend=False)
    axes[1].set_title(f"{len(vis)} visible overlaps")
    plot_overlaps(axes[2], sim, inv, theory=exact, legend=False)
    axes[2].set_title(f"{len(inv)} invisible overlaps")
    return fig


INVARIANT_LABELS = {"flow": "gradient flow", "gd": r"GD, $\eta$ = {eta:g}",
                    "gd2": r"GD, $\eta$ = {eta2:g}", "adam": "Adam (network, lr {lr:g})"}


def invariant_runs(
    net: LowRankRNN, task: ExponentialFilter, runs: dict[str, History], *, eta: float,
    epochs: int, adam_lr: float = 1e-3, seed: int = 0, progress: bool | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The invariants of chapter 1 along four learning rules, as ``(time, invariants)``.

    Keys: ``"flow"`` and ``"gd"`` (taken from ``runs``, the output of
    :func:`filter_runs`), ``"gd2"`` (the exact map at twice the step, half the
    epochs, so the same learning time) and ``"adam"`` (the N-dimensional network
    trained with Adam at rate ``adam_lr``; its time axis is ``eta * epoch`` so
    that it shares the axis of the others).
    """
    if not {"network", "exact", "flow"} <= runs.keys():
        raise ValueError("runs must hold the network, exact and flow histories of filter_runs()")
    gd2 = theory.learn(runs["network"].initial, task, epochs // 2, 2 * eta, phi="linear")
    adam = experiments.network_vs_theory(net, task, epochs, adam_lr, optimizer="adam",
                                         updates=(), seed=seed, name="ch1-adam",
                                         progress=progress)["network"]
    return {"flow": (runs["flow"].time, theory.invariants(runs["flow"])),
            "gd": (runs["exact"].time, theory.invariants(runs["exact"])),
            "gd2": (gd2.time, theory.invariants(gd2)),
            "adam": (eta * np.arange(len(adam.loss) + 1), theory.invariants(adam))}


def plot_invariant_drift(curves: dict[str, tuple[np.ndarray, np.ndarray]], *, eta: float,
                         adam_lr: float = 1e-3):
    """Drift of the invariants under flow, GD at two steps and Adam (chapter 1)."""
    import matplotlib.pyplot as plt

    from .plotting import plot_invariants

    labels = {k: v.format(eta=eta, eta2=2 * eta, lr=adam_lr) for k, v in INVARIANT_LABELS.items()}
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    plot_invariants(ax, {labels[k]: curves[k] for k in INVARIANT_LABELS if k in curves})
    ax.set_xlabel(rf"learning time $\eta\,$epochs (Adam: {eta:g} $\cdot$ epochs)")
    return fig


def invariant_numbers(curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Chapter 1's key numbers on the invariants' drift ``max_i |I_i(t) - I_i(0)|``.

    ``flow_drift`` is the largest drift along the flow, ``gd_drift`` and
    ``adam_drift`` the drift at the end of the GD and Adam runs, ``gd_ratio`` the
    final drift at twice the step over that at the step.
    """
    drift = {k: np.max(np.abs(inv - inv[0]), axis=1) for k, (_, inv) in curves.items()}
    return {"flow_drift": float(drift["flow"].max()), "gd_drift": float(drift["gd"][-1]),
            "gd_ratio": float(drift["gd2"][-1] / drift["gd"][-1]),
            "adam_drift": float(drift["adam"][-1])}


def _ch1_settings(fast: bool) -> dict:
    return {"N": 100} if fast else {}


def figure1(fast: bool = False, progress: bool | None = None):
    """Paper Figure 1: the linear rank-1 network learns an exponential filter."""
    runs = filter_runs(**_ch1_settings(fast), progress=progress)
    return plot_filter(runs, ExponentialFilter(c=0.2, dt=0.05, t_max=20.0))


def figure5(fast: bool = False, progress: bool | None = None):
    """Paper Figures 1c and 5: loss in parameter space vs overlap space with and without G."""
    return plot_three_losses(filter_runs(**_ch1_settings(fast), progress=progress))


def figure11(fast: bool = False, progress: bool | None = None):
    """Paper Figure 11: the structure of G, linear and erf (at a random start)."""
    S = LowRankRNN.random(N=100 if fast else 500, rank=1, seed=0).overlaps()
    return plot_G(S, S, phi="erf")


def figure12(fast: bool = False, progress: bool | None = None):
    """Paper Figure 12: rank-2 linear network learns a damped oscillation (21 overlaps)."""
    kw = {"N": 100, "epochs": 2000} if fast else {}
    runs = rank2_runs(**kw, progress=progress)
    return plot_rank2(runs, DampedOscillator(c=0.3, omega=2.0, dt=0.05, t_max=20.0))


# --- registry ------------------------------------------------------------------


@dataclass(frozen=True)
class FigureSpec:
    """One paper figure: its number, a title, the chapter and the function drawing it."""

    number: int
    title: str
    chapter: str
    target: str  # "module:function"

    def function(self) -> Callable:
        """Import and return the drawing function."""
        module, name = self.target.split(":")
        return getattr(importlib.import_module(module), name)


FIGURES: dict[int, FigureSpec] = {
    spec.number: spec
    for spec in (
        FigureSpec(1, "Linear rank-1 network learns an exponential filter", "01_linear",
                   "lrtools.figures:figure1"),
        FigureSpec(2, "Functionally equivalent networks told apart by noise and learning",
                   "03_probe", "lrtools.probe:figure2"),
        FigureSpec(3, "Linear memory: visible overlaps return to A, invisible ones remember B",
                   "04_memory", "lrtools.memory:figure3"),
        FigureSpec(4, "Nonlinear (erf) network on the flip-flop task: theory, Gaussianity "
                   "(panels a-c; d-f, twins: lrtools.memory.figure4_memory)",
                   "02_nonlinear", "lrtools.nonlinear:figure4"),
        FigureSpec(5, "Loss: parameter space vs overlap space with / without G", "01_linear",
                   "lrtools.figures:figure5"),
        FigureSpec(6, "Conserved quantities (entries of K, eigenvalues of JS, balance): "
                   "clean vs noisy target", "04_memory", "lrtools.memory:figure6"),
        FigureSpec(7, "Memory under Adam: the conserved quantities break", "04_memory",
                   "lrtools.memory:figure7"),
        FigureSpec(8, "Gradient flow vs large-step GD vs Adam: theory fit and Gaussianity",
                   "02_nonlinear", "lrtools.nonlinear:figure8"),
        FigureSpec(9, "Nonlinear twins converge in the visible overlaps, not the invisible ones",
                   "04_memory", "lrtools.memory:figure9"),
        FigureSpec(10, "Decoding the A/B history from visible vs invisible overlaps",
                   "04_memory", "lrtools.memory:figure10"),
        FigureSpec(11, "Structure of the preconditioner G (linear, erf)", "01_linear",
                   "lrtools.figures:figure11"),
        FigureSpec(12, "Rank-2 linear network learns a damped oscillation", "01_linear",
                   "lrtools.figures:figure12"),
    )
}


def get(number: int) -> FigureSpec:
    """The registered figure ``number``; a clear error if there is none."""
    try:
        return FIGURES[int(number)]
    except (KeyError, ValueError):
        known = ", ".join(str(n) for n in sorted(FIGURES))
        raise ValueError(f"no paper figure {number!r}; available: {known}") from None
