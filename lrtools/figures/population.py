"""Chapter 2 figures beyond the paper: the population limit against the Gaussian theory.

Each ``plot_*`` function draws one figure from a study of
:mod:`lrtools.studies.population`.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from ..fits import fit_floor, fit_power_law, step_extrapolation
from ..plotting import PALETTE

__all__ = ["plot_limit", "plot_gaussian_error", "plot_failure", "plot_trust"]


def plot_limit(runs: Mapping[str, np.ndarray], settings):
    """The network against the population limit and against the Gaussian theory.

    (a) Largest overlap distance over training against ``N``: to the population
    limit (with its power-law fit) and to the Gaussian theory (with the fit
    ``sqrt(a^2 / N + b^2)``), every seed a dot, the mean a line; the dashed line is
    the population's own distance to the Gaussian theory. (b) The overlap on which
    the two limits differ most, along training.
    """
    Ns = np.asarray(settings.Ns, dtype=float)
    ep, eg = np.asarray(runs["error_population"]), np.asarray(runs["error_gaussian"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0))
    ax = axes[0]
    for err, color, label in ((ep, PALETTE[0], "to the population limit"),
                              (eg, PALETTE[3], "to the Gaussian theory")):
        for j in range(err.shape[1]):
            ax.scatter(Ns * np.exp(0.03 * (j - err.shape[1] / 2)), err[:, j], s=10,
                       color=color, alpha=0.5, edgecolors="none")
        ax.plot(Ns, np.exp(np.log(err).mean(axis=1)), "o-", color=color, lw=1.6, ms=4,
                label=label)
    fit = fit_power_law(Ns, ep)
    ax.plot(Ns, fit(Ns), color=PALETTE[0], ls=":", lw=1.2,
            label=f"fit $N^{{{fit.slope:.2f}}}$")
    f = fit_floor(Ns, eg, n_boot=200)
    ax.plot(Ns, np.sqrt(f["a"] ** 2 / Ns + f["b"] ** 2), color=PALETTE[3], ls=":", lw=1.2,
            label=r"fit $\sqrt{a^2/N + b^2}$")
    gap = float(np.max(np.abs(runs["population"] - runs["gaussian"])))
    ax.axhline(gap, color="0.4", ls="--", lw=1, label="population vs Gaussian theory")
    ax.set(xscale="log", yscale="log", xlabel="$N$",
           ylabel=r"$\max_t \max_{ab} |\Delta\sigma_{ab}|$",
           title="(a) distance of the network's overlaps")
    ax.legend(fontsize="x-small")
    ax = axes[1]
    ep_axis = np.arange(len(runs["population"]))
    diff = np.abs(runs["population"] - runs["gaussian"]).max(axis=0)
    a, b = np.unravel_index(np.argmax(diff), diff.shape)
    name = "muvz"[min(a, b)] + "muvz"[max(a, b)]
    ax.plot(ep_axis, runs["population"][:, a, b], color=PALETTE[0], lw=2.2, alpha=0.6,
            label="population limit")
    ax.plot(ep_axis, runs["gaussian"][:, a, b], color="0.1", ls="--", lw=1.2,
            label="Gaussian theory")
    ax.set(xlabel="epoch", ylabel=rf"$\sigma_{{{name}}}$",
           title=rf"(b) $\sigma_{{{name}}}$, where the two limits differ most")
    ax.legend(fontsize="small")
    return fig


def plot_gaussian_error(runs: Mapping[str, np.ndarray]):
    """``b(tau)``: the Gaussian theory's distance to the population limit over learning time.

    One panel per nonlinearity, one curve per step size at fixed learning time;
    the dashed line is the straight-line extrapolation of the curves to
    ``eta -> 0`` (the part of the error that does not vanish with the step).
    """
    tau, err, etas = runs["tau"], runs["error"], runs["etas"]
    phis = [str(p) for p in runs["phis"]]
    fig, axes = plt.subplots(1, len(phis), figsize=(5.4 * len(phis), 3.8), squeeze=False,
                             sharey=True)
    cols = plt.cm.viridis(np.linspace(0.1, 0.85, len(etas)))
    for i, phi in enumerate(phis):
        ax = axes[0, i]
        for j, eta in enumerate(etas):
            ax.plot(tau, err[i, j], color=cols[j], lw=1.6, label=rf"$\eta$ = {eta:g}")
        if len(etas) >= 2:
            _, intercept = step_extrapolation(etas, err[i])  # one line per tau
            ax.plot(tau, intercept, color="0.2", ls="--", lw=1.2,
                    label=r"$\eta \to 0$ (extrapolated)")
        ax.set(xlabel=r"learning time $\tau = \eta\cdot$epochs",
               title=f"({'ab'[i]}) {phi}: Gaussian theory vs population")
        ax.legend(fontsize="x-small")
    axes[0, 0].set_ylabel(r"$b(\tau) = \max_{t \leq \tau}\max_{ab}|\Delta\sigma_{ab}|$")
    return fig


def plot_failure(runs: Mapping[str, np.ndarray]):
    """What the Gaussian closure assumes, along the population run (and a large network).

    (a) The largest fourth-order cumulant of the rows (zero for Gaussian rows);
    (b) the relative distance of the recurrent drive and of the output from their
    Stein values; (c) the out-of-span fraction of a gradient step, largest over the
    vectors. Solid: the population limit; dashed: the network of the largest ``N``.
    """
    ep = runs["epoch"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for prefix, ls, who in (("", "-", "population"), ("net_", "--", "network")):
        axes[0].plot(ep, runs[prefix + "max_cumulant"], ls=ls, color=PALETTE[0], label=who)
        axes[1].plot(ep, runs[prefix + "stein_drive"], ls=ls, color=PALETTE[1],
                     label=f"drive $E[v\\phi(h)]$ ({who})")
        axes[1].plot(ep, runs[prefix + "stein_output"], ls=ls, color=PALETTE[2],
                     label=f"output $E[z\\phi(h)]$ ({who})")
        axes[2].plot(ep, np.max(runs[prefix + "span_fraction"], axis=1), ls=ls,
                     color=PALETTE[3], label=who)
    axes[0].set(xlabel="epoch", ylabel="largest $|\\kappa_4|$ of the rows",
                title="(a) the rows leave the Gaussian family")
    axes[1].set(xlabel="epoch", ylabel="relative distance", yscale="log",
                title="(b) Stein's lemma along training")
    axes[2].set(xlabel="epoch", ylabel="fraction of the step",
                title="(c) the step outside span$\\{m,u,v,z\\}$")
    for ax in axes:
        ax.legend(fontsize="x-small")
    return fig


def plot_trust(runs: Mapping[str, np.ndarray], tolerance: float = 0.01):
    """Where to trust the Gaussian theory: its relative error over overlap size and time.

    Colour: the largest distance to the population limit up to each learning time,
    relative to the largest initial overlap (log scale); the contour marks
    ``tolerance``.
    """
    err, scales, taus = runs["error"], runs["scales"], runs["taus"]
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    shown = np.log10(np.clip(err, 1e-10, None))
    im = ax.imshow(shown, origin="lower", aspect="auto", cmap="magma_r",
                   extent=(-0.5, len(taus) - 0.5, -0.5, len(scales) - 0.5))
    if np.nanmin(err) < tolerance < np.nanmax(err):
        ax.contour(np.arange(len(taus)), np.arange(len(scales)), np.log10(err),
                   levels=[np.log10(tolerance)], colors="white", linewidths=1.5)
    ax.set_xticks(range(len(taus)), [f"{t:g}" for t in taus])
    ax.set_yticks(range(len(scales)), [f"{s:g}" for s in scales])
    ax.set(xlabel=r"learning time $\tau$", ylabel="size of the overlaps (factor on the start)",
           title=f"relative error of the Gaussian theory (white: {tolerance:g})")
    fig.colorbar(im, ax=ax, label=r"$\log_{10}$ relative error")
    return fig
