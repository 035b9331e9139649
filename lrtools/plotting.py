"""One figure style for the whole book.

Conventions: loss-visible overlaps are drawn in a blue-green palette and
loss-invisible ones in an orange-red palette (both from seaborn's colour-blind
safe sequential maps, distinguishable in grey scale too); N-dimensional
simulations are thick translucent lines, theory thin dark dashed lines on top.
Every figure is also written to a file by :func:`savefig`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from .history import History
from .overlaps import Overlaps

__all__ = [
    "setup",
    "overlap_colors",
    "plot_overlaps",
    "plot_loss",
    "plot_preconditioner",
    "plot_invariants",
    "savefig",
    "figure_dir",
    "SIM",
    "THEORY",
    "PALETTE",
]

# Qualitative colours for method comparisons (seaborn "colorblind").
PALETTE = sns.color_palette("colorblind")
SIM = {"lw": 3.0, "alpha": 0.45}
THEORY = {"lw": 1.2, "ls": "--", "color": "0.1"}


def setup(context: str = "notebook") -> None:
    """Apply the book's matplotlib style (call once per notebook)."""
    sns.set_theme(context=context, style="ticks", palette=PALETTE, font_scale=0.9)
    mpl.rcParams.update({
        "figure.dpi": 110,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.frameon": False,
        "axes.titlesize": "medium",
        "figure.constrained_layout.use": True,
    })


def overlap_colors(S: Overlaps | Sequence[str], phi: str = "linear") -> dict[str, tuple]:
    """Colour of every overlap name: visible in blue-green, invisible in orange-red."""
    if not isinstance(S, Overlaps):
        S = Overlaps(np.eye(len(S)), tuple(S))
    vis, inv = S.visible(phi), S.invisible(phi)
    colors = {}
    for names, cmap in ((vis, "crest"), (inv, "flare")):
        pal = sns.color_palette(cmap, max(len(names), 2))
        colors.update(zip(names, pal, strict=False))
    # the reversed spelling ("zm" for "mz") maps to the same colour
    for name in list(colors):
        a, b = S.split(name)
        colors[b + a] = colors[name]
    return colors


def _label(name: str) -> str:
    return rf"$\sigma_{{{name}}}$"


def plot_overlaps(
    ax: plt.Axes,
    hist: History,
    keys: Iterable[str],
    *,
    theory: History | None = None,
    phi: str = "linear",
    x: str = "epoch",
    legend: bool = True,
) -> plt.Axes:
    """Overlap trajectories of a simulation, with the theory dashed on top.

    ``x="epoch"`` plots against the update index, ``x="time"`` against learning
    time ``eta * epoch`` (use it to compare with :func:`lrtools.theory.flow`).
    """
    colors = overlap_colors(hist.names, phi)
    keys = list(keys)
    for key in keys:
        t = np.arange(len(hist.overlaps)) if x == "epoch" else hist.time
        ax.plot(t, hist.overlap(key), color=colors[key], label=_label(key), **SIM)
        if theory is not None:
            tt = np.arange(len(theory.overlaps)) if x == "epoch" else theory.time
            ax.plot(tt, theory.overlap(key), **THEORY)
    ax.set_xlabel("epoch" if x == "epoch" else r"learning time $\eta\,$epochs")
    ax.set_ylabel("overlap")
    if legend:
        ax.legend(ncol=2 if len(keys) > 4 else 1, fontsize="small")
    return ax


def plot_loss(
    ax: plt.Axes,
    curves: Mapping[str, History | np.ndarray],
    *,
    styles: Mapping[str, dict] | None = None,
    logy: bool = True,
) -> plt.Axes:
    """Loss curves, one per labelled history or array."""
    styles = styles or {}
    for i, (label, h) in enumerate(curves.items()):
        loss = h.loss if isinstance(h, History) else np.asarray(h)
        kw = {"color": PALETTE[i % len(PALETTE)], "lw": 1.8} | dict(styles.get(label, {}))
        ax.plot(np.arange(len(loss)), loss, label=label, **kw)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(fontsize="small")
    return ax


def plot_preconditioner(
    ax: plt.Axes, G: np.ndarray, names: Sequence[str], *, grad_mask: np.ndarray | None = None,
    title: str | None = None,
) -> plt.Axes:
    """Heat map of ``|G|`` (log scale) with the overlap names on both axes.

    Exact zeros are left white, which shows the sparsity pattern. With
    ``grad_mask`` (boolean, one entry per overlap: True where the loss gradient can
    be non-zero), the columns that multiply a zero gradient are shaded.
    """
    A = np.abs(np.asarray(G))
    vmax = A.max()
    data = np.where(A > 1e-14 * vmax, A, np.nan)
    im = ax.imshow(data, cmap="mako_r", norm=mpl.colors.LogNorm(vmin=max(vmax * 1e-3, 1e-12),
                                                                 vmax=vmax))
    labels = [_label(n) for n in names]
    ax.set_xticks(range(len(names)), labels, rotation=90, fontsize="x-small")
    ax.set_yticks(range(len(names)), labels, fontsize="x-small")
    if grad_mask is not None:
        for j, on in enumerate(grad_mask):
            if not on:
                ax.axvspan(j - 0.5, j + 0.5, color="0.85", zorder=0)
    ax.set_xlabel(r"$\partial L/\partial\sigma$")
    ax.set_ylabel(r"$d\sigma/d\tau$")
    if title:
        ax.set_title(title)
    plt.colorbar(im, ax=ax, shrink=0.8, label=r"$|G|$")
    return ax


def plot_invariants(ax: plt.Axes, curves: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> plt.Axes:
    """Largest drift of the invariants from their initial values, per method.

    ``curves`` maps a label to ``(time, invariants)`` with invariants of shape
    ``(n, k)``; plotted is ``max_i |I_i(t) - I_i(0)|`` on a log scale.
    """
    for i, (label, (t, inv)) in enumerate(curves.items()):
        drift = np.max(np.abs(inv - inv[0]), axis=1)
        drift[0] = np.nan
        ax.plot(t, drift, color=PALETTE[i % len(PALETTE)], lw=1.8, label=label)
    ax.set_yscale("log")
    ax.set_xlabel(r"learning time $\eta\,$epochs")
    ax.set_ylabel("invariant drift")
    ax.legend(fontsize="small")
    return ax


def figure_dir() -> Path:
    """Folder for figure files: ``$LRTOOLS_FIGURES`` or ``_build/figures`` at the book root."""
    env = os.environ.get("LRTOOLS_FIGURES")
    if env:
        return Path(env)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").exists():
            return folder / "_build" / "figures"
    return here / "figures"


def savefig(fig: plt.Figure, name: str) -> Path:
    """Write ``fig`` as ``<figure_dir>/<name>.png`` and return the path."""
    folder = figure_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path)
    return path
