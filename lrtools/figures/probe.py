"""Chapter 3 figures: paper Figure 2 and the families, noise and erf figures.

Each ``plot_*`` function draws one figure (or panel) from a study's result
(:mod:`lrtools.studies.probe`); :func:`figure2` runs the study with its paper (or
fast) settings and draws paper Figure 2, as the command line ``lrtools figure 2``
does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from ..overlaps import Overlaps
from ..studies import probe as study

__all__ = ["plot_overlap_bars", "plot_family_map", "plot_speed_vs_epochs", "plot_noise_variance",
           "plot_rank_curve", "plot_figure2", "plot_family_speed", "plot_noise_response",
           "plot_erf_probe", "figure2"]


def plot_overlap_bars(
    ax, overlaps: Mapping[str, Overlaps], phi: str = "linear", *, keys: Sequence[str] | None = None
):
    """Grouped bars of the overlaps of several networks; invisible ones on a shaded band.

    Bars use the book's overlap colours (visible blue-green, invisible
    orange-red); the second network's bars are hatched.
    """
    from ..plotting import overlap_colors

    first = next(iter(overlaps.values()))
    keys = list(keys) if keys is not None else first.visible(phi) + first.invisible(phi)
    colors = overlap_colors(first, phi)
    n = len(overlaps)
    width = 0.8 / n
    hatches = ["", "////", "....", "xx"]
    for j, (label, S) in enumerate(overlaps.items()):
        pos = np.arange(len(keys)) + (j - (n - 1) / 2) * width
        ax.bar(pos, [S[k] for k in keys], width, color=[colors[k] for k in keys],
               edgecolor="0.25", linewidth=0.5, hatch=hatches[j % len(hatches)], label=label)
    vis = set(first.visible(phi))
    n_vis = sum(k in vis for k in keys)
    ax.axvspan(n_vis - 0.5, len(keys) - 0.5, color="0.94", zorder=0)
    ax.axhline(0, color="0.3", lw=0.6)
    ax.set_xticks(range(len(keys)), [rf"$\sigma_{{{k}}}$" for k in keys], rotation=90,
                  fontsize="small")
    ax.text((n_vis - 1) / 2, 0.98, "visible", transform=ax.get_xaxis_transform(),
            ha="center", va="top", fontsize="x-small")
    ax.text((n_vis + len(keys) - 1) / 2, 0.98, "invisible", transform=ax.get_xaxis_transform(),
            ha="center", va="top", fontsize="x-small")
    ax.set_ylabel("overlap")
    ax.legend(fontsize="x-small", loc="center left")
    return ax


def plot_family_map(ax, x, y, values, *, xlabel: str, ylabel: str, label: str,
                    log: bool = True, cmap: str = "viridis", marker_size: float = 16.0):
    """Scatter of a family over two invisible overlaps, coloured by ``values``.

    Members with a non-finite value (criterion not reached) are grey crosses.
    """
    values = np.asarray(values, dtype=float)
    x, y = np.asarray(x), np.asarray(y)
    ok = np.isfinite(values)
    norm = mpl.colors.LogNorm() if log else None
    sc = ax.scatter(x[ok], y[ok], c=values[ok], s=marker_size, cmap=cmap, norm=norm,
                    edgecolors="none")
    if (~ok).any():
        ax.scatter(x[~ok], y[~ok], marker="x", color="0.6", s=marker_size, label="not reached")
        ax.legend(fontsize="x-small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    plt.colorbar(sc, ax=ax, label=label, shrink=0.85)
    return ax


def plot_speed_vs_epochs(ax, speed, epochs, *, rho: float | None = None, color=None,
                         label: str | None = None):
    """Predicted initial speed against epochs to criterion (log-log), one family."""
    from ..plotting import PALETTE

    speed = np.asarray(speed, dtype=float)
    epochs = np.asarray(epochs, dtype=float)
    ok = np.isfinite(epochs) & (epochs > 0)
    if rho is not None and label is not None:
        label = rf"{label} ($\rho$ = {rho:.2f})"
    ax.scatter(speed[ok], epochs[ok], s=10, alpha=0.6, color=color or PALETTE[0],
               edgecolors="none", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"predicted initial speed $\eta\,\nabla L\cdot G\,\nabla L$")
    ax.set_ylabel("epochs to criterion")
    if label is not None:
        ax.legend(fontsize="x-small")
    return ax


def plot_noise_variance(ax, t, predicted, sampled, *, max_curves: int = 8):
    """Output noise variance over time: simulation (thick) and formula (dashed), per network."""
    from ..plotting import PALETTE, SIM, THEORY

    for i in range(min(len(predicted), max_curves)):
        ax.plot(t, sampled[i], color=PALETTE[i % len(PALETTE)], **SIM)
        ax.plot(t, predicted[i], **THEORY | {"label": "formula" if i == 0 else None})
    ax.set_xlabel("time")
    ax.set_ylabel("output noise variance")
    ax.legend(fontsize="x-small")
    return ax


def plot_rank_curve(ax, curves: Mapping[str, tuple[np.ndarray, np.ndarray]]):
    """Spearman correlation of predicted speed and epochs against the loss criterion.

    ``curves`` maps a label to ``(criterion / initial loss, rho)``.
    """
    from ..plotting import PALETTE

    for i, (label, (frac, rho)) in enumerate(curves.items()):
        ax.plot(frac, rho, color=PALETTE[i % len(PALETTE)], lw=1.8, marker="o", ms=3,
                label=label)
    ax.axhline(0, color="0.5", lw=0.6)
    ax.axhline(-1, color="0.8", lw=0.6, ls=":")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("criterion (fraction of the initial loss)")
    ax.set_ylabel(r"Spearman $\rho$(speed, epochs)")
    ax.legend(fontsize="x-small")
    return ax


def plot_figure2(data: dict):
    """Paper Figure 2 for both pairs: overlaps, output and activity, noise, learning."""
    from ..plotting import PALETTE, SIM, THEORY

    fig, axes = plt.subplot_mosaic(
        [["a", "b", "c", "d"], ["a", "b", "c2", "d"], ["e", "f", "g", "h"], ["e", "f", "g2", "h"]],
        figsize=(16, 8.4), height_ratios=[2.3, 1, 2.3, 1])
    colors = (PALETTE[0], PALETTE[3])
    labels = (r"$\theta_1$", r"$\theta_2$")
    rows = {"start": ("a", "b", "c", "d"), "trained": ("e", "f", "g", "h")}
    titles = {"start": "random start", "trained": "trained on the filter"}
    for name, (pa, pb, pc, pd) in rows.items():
        pair, runs, resp = data["pairs"][name], data["learn"][name], data["responses"][name]
        learn_task = data["tasks"][name]
        t = learn_task.t
        plot_overlap_bars(axes[pa], dict(zip(labels, (p.overlaps() for p in pair), strict=True)))
        axes[pa].set_title(f"{pa}  overlaps ({titles[name]})")

        ax = axes[pb]
        white = data.get("response_input", "impulse") == "white-noise"
        if name == "start":
            if not white:
                ax.plot(t, learn_task.sample()[1][0, :, 0], color="0.1", lw=1.3, label="target")
            for i in range(2):
                ax.plot(t, resp["y"][i], color=colors[i], lw=(3.0, 1.3)[i], ls=("-", "--")[i],
                        alpha=(0.45, 1)[i], label=f"{labels[i]} before")
                ax.plot(t, resp["y_after"][i], color=colors[i], lw=1.8,
                        label=f"{labels[i]} after {data['after']} epochs")
            ax.set(xlabel="time", ylabel="output",
                   title=f"{pb}  output on {'white noise' if white else 'the impulse'}")
            ax.legend(fontsize="x-small")
        else:
            for j in range(resp["h"].shape[2]):
                for i in range(2):
                    ax.plot(np.arange(len(resp["h"][i])) * learn_task.dt, resp["h"][i][:, j],
                            color=PALETTE[2 + j], ls=("-", "--")[i], lw=1.4,
                            label=f"{labels[i]}" if j == 0 else None)
            ax.set(xlabel="time", ylabel="activity $h_i$",
                   title=f"{pb}  three neurons; inset: the output")
            ax.legend(fontsize="x-small", loc="upper right")
            inset = ax.inset_axes([0.55, 0.06, 0.42, 0.34])
            for i in range(2):
                inset.plot(t, resp["y"][i], color=colors[i], lw=(3.0, 1.3)[i],
                           ls=("-", "--")[i], alpha=(0.45, 1)[i])
            inset.tick_params(labelsize="x-small")

        ax = axes[pc]
        for i in range(2):
            sd = 2 * np.sqrt(resp["noise_var"][i])
            ax.plot(t, resp["y_noisy"][i], color=colors[i], lw=1.0, label=labels[i])
            for sign in (-1, 1):
                ax.plot(t, resp["y"][i] + sign * sd, color=colors[i], lw=0.9, ls="--")
        ax.set(ylabel="output", title=f"{pc}  same noise injected (dashed: $\\pm 2$ sd theory)")
        ax.tick_params(labelbottom=False)
        ax.legend(fontsize="x-small", loc="upper right", ncol=2)
        ax = axes[pc + "2"]
        sd = 2 * np.sqrt(resp["diff_var"])
        ax.fill_between(t, -sd, sd, color="0.85", lw=0, label=r"$\pm 2$ sd theory")
        ax.plot(t, resp["y_noisy"][1] - resp["y_noisy"][0], color="0.2", lw=0.9)
        ax.set(xlabel="time", ylabel=r"$y_{\theta_2} - y_{\theta_1}$")
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        ax.legend(fontsize="x-small", loc="upper right")

        ax = axes[pd]
        for i in range(2):
            ax.plot(runs[i]["network"].loss, color=colors[i], label=f"{labels[i]} network", **SIM)
            ax.plot(runs[i]["exact"].loss, **THEORY | {"label": "theory" if i else None})
        ax.axvline(data["after"], color="0.7", lw=0.8, ls=":")
        ax.set(yscale="log", xlabel="epoch", ylabel="loss",
               title=f"{pd}  learning $c$ = {learn_task.c:g}")
        ax.legend(fontsize="x-small")
    return fig


def plot_family_speed(start: Mapping, trained: Mapping, *, c_start: float, c_trained: float):
    """Chapter 3 figure: what the initial speed predicts about a family's learning.

    Panels: (a) epochs to criterion and (b) predicted initial speed of the
    random-start family over ``sigma_mu, sigma_uu``; (c) speed against epochs for
    both families; (d) their rank correlation as a function of the criterion.

    Parameters
    ----------
    start, trained : dict
        :func:`~lrtools.equivalence.family_summary` of the random-start and of the trained family.
    c_start, c_trained : float
        Filter constants the two families learn (for the legend).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..plotting import PALETTE

    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    mu = np.array([S["mu"] for S in start["members"]])
    uu = np.array([S["uu"] for S in start["members"]])
    crit_start, crit_trained = start["criterion"], trained["criterion"]
    plot_family_map(axes[0], mu, uu, start["epochs"], xlabel=r"$\sigma_{mu}$",
                    ylabel=r"$\sigma_{uu}$", label=f"epochs to loss {crit_start:g}")
    axes[0].set_title("a  measured (random start)")
    plot_family_map(axes[1], mu, uu, start["speed"], xlabel=r"$\sigma_{mu}$",
                    ylabel=r"$\sigma_{uu}$", label=r"$-\Delta L$ in the first epoch", cmap="magma")
    axes[1].set_title("b  predicted initial speed")
    plot_speed_vs_epochs(axes[2], start["speed"], start["epochs"], rho=start["rho"],
                         label=f"random start, L ≤ {crit_start:g}")
    plot_speed_vs_epochs(axes[2], trained["speed"], trained["epochs"], rho=trained["rho"],
                         color=PALETTE[1], label=f"trained, L ≤ {crit_trained:g}")
    axes[2].set_title("c  prediction vs outcome")
    plot_rank_curve(axes[3], {
        f"random start, c = {c_start:g}": (start["fractions"], start["rho_curve"]),
        f"trained, c = {c_trained:g}": (trained["fractions"], trained["rho_curve"]),
    })
    axes[3].set_title("d  how far ahead the start predicts")
    return fig


def plot_noise_response(t, noise: Mapping[str, np.ndarray], members: Sequence[Overlaps],
                        stationary, *, n_trials: int):
    """Chapter 3 figure: noise variance predicted and sampled, and over a whole family.

    Parameters
    ----------
    t : numpy.ndarray
        Time grid of the task.
    noise : dict
        :func:`~lrtools.studies.probe.noise_study` result (``predicted``, ``sampled``).
    members : sequence of Overlaps
        The family (panel b: ``sigma_zv, sigma_vv``).
    stationary : numpy.ndarray
        :func:`~lrtools.noise_response.stationary_noise_variance` of each member.
    n_trials : int
        Trials behind each sampled variance (for the title).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    plot_noise_variance(axes[0], t, noise["predicted"], noise["sampled"])
    axes[0].set_title(f"a  {len(noise['predicted'])} equivalent networks, {n_trials} trials each")
    vv = np.array([S["vv"] for S in members])
    zv = np.array([S["zv"] for S in members])
    plot_family_map(axes[1], zv, vv, stationary, xlabel=r"$\sigma_{zv}$", ylabel=r"$\sigma_{vv}$",
                    label=r"long-time output variance", log=False, cmap="cividis")
    axes[1].set_title("b  noise response over the trained family")
    return fig


def plot_erf_probe(erf: Mapping, linear: Mapping, check: Mapping):
    """Chapter 3 figure: the probe for erf networks.

    Panels: (a) the erf family's epochs to criterion over ``sigma_zv, sigma_vv``;
    (b) its rank-correlation curve next to the linear random-start family's;
    (c) loss of the fastest and the slowest member as N-dimensional networks,
    with the reduced theory.

    Parameters
    ----------
    erf, linear : dict
        :func:`~lrtools.equivalence.family_summary` of the erf family and of the linear
        random-start family.
    check : dict
        :func:`~lrtools.studies.probe.extreme_members` of the erf family.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..plotting import PALETTE, SIM, THEORY

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    zv = np.array([S["zv"] for S in erf["members"]])
    vv = np.array([S["vv"] for S in erf["members"]])
    plot_family_map(axes[0], zv, vv, erf["epochs"], xlabel=r"$\sigma_{zv}$",
                    ylabel=r"$\sigma_{vv}$", label=f"epochs to loss {erf['criterion']:g}")
    axes[0].set_title("a  erf family (random start)")
    plot_rank_curve(axes[1], {"erf, random start": (erf["fractions"], erf["rho_curve"]),
                              "linear, random start": (linear["fractions"], linear["rho_curve"])})
    axes[1].set_title("b  how far ahead the start predicts")
    ax = axes[2]
    for i, (r, label) in enumerate(zip(check["runs"], ("fastest member", "slowest member"),
                                       strict=True)):
        ax.plot(r["network"].loss, color=PALETTE[i], label=f"{label}, N = {check['N']}", **SIM)
        ax.plot(r["exact"].loss, **THEORY | {"label": "theory" if i else None})
    ax.set(yscale="log", xlabel="epoch", ylabel="loss", title="c  N-dimensional erf networks")
    ax.legend(fontsize="x-small")
    return fig


def figure2(fast: bool = False, progress: bool | None = None):
    """Paper Figure 2: functionally equivalent networks told apart by noise and learning."""
    return plot_figure2(study.figure2_runs(study.Figure2Settings.for_mode(fast),
                                           progress=progress))
