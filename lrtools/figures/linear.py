"""Chapter 1 figures: paper Figures 1, 1c/5, 11 and 12, and the invariants.

Each ``plot_*`` function draws one figure from a study's result
(:mod:`lrtools.studies.linear`); each ``figure<N>(fast, progress)`` runs the study
with its paper (or fast) settings and draws the paper figure, as the command line
``lrtools figure N`` does.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import theory
from ..history import History
from ..network import LowRankRNN
from ..studies import linear as study
from ..tasks import DampedOscillator, ExponentialFilter

__all__ = ["plot_filter", "plot_three_losses", "plot_G", "plot_rank2", "plot_invariant_drift",
           "figure1", "figure5", "figure11", "figure12"]


_INVARIANT_LABELS = {"flow": "gradient flow", "gd": r"GD, $\eta$ = {eta:g}",
                    "gd2": r"GD, $\eta$ = {eta2:g}", "adam": "Adam (network, lr {lr:g})"}


def plot_filter(runs: dict[str, History], task: ExponentialFilter, *, seed: int = 0):
    """Paper Figure 1, panels a-f, from :func:`filter_runs`."""
    from ..plotting import PALETTE, SIM, THEORY, plot_overlaps

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
    from ..plotting import PALETTE, SIM, THEORY, plot_loss

    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    labels = ("parameter space (network)", r"overlap space with $G$ (exact map)",
              r"overlap space without $G$ (direct)")
    plot_loss(ax, dict(zip(labels, (runs["network"], runs["exact"], runs["direct"]),
                           strict=True)),
              styles={labels[0]: SIM | {"color": PALETTE[0]}, labels[1]: THEORY})
    return fig


def plot_G(S_linear, S_nonlinear=None, *, phi: str = "erf"):
    """Paper Figure 11: ``|G|`` for the linear network (and a nonlinear one beside it)."""
    from ..plotting import plot_preconditioner

    n = 1 if S_nonlinear is None else 2
    fig, axes = plt.subplots(1, n, figsize=(5.4 * n, 4.8), squeeze=False)
    plot_preconditioner(axes[0, 0], S_linear, phi="linear", title=r"$|G|$, linear network")
    if S_nonlinear is not None:
        plot_preconditioner(axes[0, 1], S_nonlinear, phi=phi,
                            title=rf"$|G|$, {phi} network (Gaussian limit)")
    return fig


def plot_rank2(runs: dict[str, History], task: DampedOscillator):
    """Paper Figure 12: impulse response, loss, and all 21 overlaps, network vs theory."""
    from ..plotting import PALETTE, plot_overlaps

    sim, exact = runs["network"], runs["exact"]
    S0 = sim.initial
    x, y, _ = task.sample()
    fig, axes = plt.subplots(1, 4, figsize=(15.5, 3.6))
    axes[0].plot(task.t, y[0, :, 0], color="0.1", lw=1.5, label="target")
    for vecs, label, style in ((sim.vectors[0], "before", {"color": PALETTE[3], "lw": 1.2}),
                               (sim.vectors[-1], "after",
                                {"color": PALETTE[0], "ls": "--", "lw": 1.5})):
        net = LowRankRNN(vecs, rank=2, phi="linear")
        axes[0].plot(task.t, net.run(x, task.dt)[0, :, 0], label=label, **style)
    axes[0].set(xlabel="time", title=r"impulse response $e^{-ct}\cos\omega t$")
    axes[0].legend(fontsize="small")
    epochs = np.arange(len(sim.loss))
    axes[1].semilogy(epochs, sim.loss, color=PALETTE[0], lw=2.2, label="network")
    axes[1].semilogy(np.arange(len(exact.loss)), exact.loss, color="0.1", ls="--", lw=1.2,
                     label="overlap theory")
    axes[1].set(xlabel="epoch", ylabel="loss", title="loss")
    axes[1].legend(fontsize="small")
    vis, inv = S0.visible("linear"), S0.invisible("linear")
    plot_overlaps(axes[2], sim, vis, theory=exact, legend=False)
    axes[2].set_title(f"{len(vis)} visible overlaps")
    plot_overlaps(axes[3], sim, inv, theory=exact, legend=False)
    axes[3].set_title(f"{len(inv)} invisible overlaps")
    for ax, letter in zip(axes, "abcd", strict=True):
        ax.text(-0.12, 1.06, letter, transform=ax.transAxes, fontweight="bold")
    return fig


def plot_invariant_drift(curves: dict[str, tuple[np.ndarray, np.ndarray]], *, eta: float,
                         adam_lr: float = 1e-3):
    """Drift of the invariants under flow, GD at two steps and Adam (chapter 1)."""
    from ..plotting import plot_invariants

    labels = {k: v.format(eta=eta, eta2=2 * eta, lr=adam_lr) for k, v in _INVARIANT_LABELS.items()}
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    plot_invariants(ax, {labels[k]: curves[k] for k in _INVARIANT_LABELS if k in curves})
    ax.set_xlabel(rf"learning time $\eta\,$epochs (Adam: {eta:g} $\cdot$ epochs)")
    return fig


def figure1(fast: bool = False, progress: bool | None = None):
    """Paper Figure 1: the linear rank-1 network learns an exponential filter."""
    s = study.FilterSettings.for_mode(fast)
    return plot_filter(study.filter_runs(s, progress=progress), s.task, seed=s.seed)


def figure5(fast: bool = False, progress: bool | None = None):
    """Paper Figures 1c and 5: loss in parameter space vs overlap space with and without G."""
    return plot_three_losses(study.filter_runs(study.FilterSettings.for_mode(fast),
                                               progress=progress))


def figure11(fast: bool = False, progress: bool | None = None):
    """Paper Figure 11: the structure of G, linear and erf (at a random start)."""
    S = study.FilterSettings.for_mode(fast).network().overlaps()
    return plot_G(S, S, phi="erf")


def figure12(fast: bool = False, progress: bool | None = None):
    """Paper Figure 12: rank-2 linear network learns a damped oscillation (21 overlaps)."""
    s = study.Rank2Settings.for_mode(fast)
    return plot_rank2(study.rank2_runs(s, progress=progress), s.task)
