"""One figure style for the whole book.

Conventions: loss-visible overlaps are drawn in a blue-green palette and
loss-invisible ones in an orange-red palette (both from seaborn's colour-blind
safe sequential maps, distinguishable in grey scale too); N-dimensional
simulations are thick translucent lines, theory thin dark dashed lines on top.
Every figure is also written to a file by :func:`savefig`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from ._paths import output_dir
from .history import History
from .overlaps import Overlaps

__all__ = [
    "setup",
    "overlap_colors",
    "plot_overlaps",
    "plot_loss",
    "plot_preconditioner",
    "plot_invariants",
    "plot_framework",
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
    """Colour of every overlap name: visible in greens-blues, invisible in oranges-reds.

    Both are sequential colour-blind safe maps (ColorBrewer GnBu and YlOrRd), so the
    two groups stay apart in grey scale too. Both spellings (``"zm"``, ``"mz"``) map.
    """
    if not isinstance(S, Overlaps):
        S = Overlaps(np.eye(len(S)), tuple(S))
    colors = {}
    for names, cmap in ((S.visible(phi), "GnBu"), (S.invisible(phi), "YlOrRd")):
        shades = mpl.colormaps[cmap](np.linspace(0.45, 0.95, max(len(names), 2)))
        colors.update(zip(names, map(tuple, shades), strict=False))
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
    ax: plt.Axes, S: Overlaps, *, phi: str = "linear", title: str | None = None,
) -> plt.Axes:
    """Heat map of ``|G(S)|`` (log scale), visible overlaps first.

    Structural zeros (pairs of overlaps that share no vector) are left white. The
    columns of the loss-visible overlaps, the only ones the loss gradient can feed,
    are outlined.
    """
    from .theory import preconditioner

    G, names = preconditioner(S)
    vis, inv = S.visible(phi), S.invisible(phi)
    order = [names.index(_canonical(S, n)) for n in vis + inv]
    A = np.abs(G[np.ix_(order, order)])
    vmax = A.max()
    data = np.where(A > 1e-14 * vmax, A, np.nan)
    im = ax.imshow(data, cmap="mako_r",
                   norm=mpl.colors.LogNorm(vmin=max(vmax * 1e-3, 1e-12), vmax=vmax))
    labels = [_label(n) for n in vis + inv]
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize="x-small")
    ax.set_yticks(range(len(labels)), labels, fontsize="x-small")
    ax.add_patch(mpl.patches.Rectangle((-0.5, -0.5), len(vis), len(labels), fill=False,
                                       lw=2.0, ec=mpl.colormaps["GnBu"](0.8)))
    ax.set_xlabel(r"gradient component $\partial L/\partial\sigma$")
    ax.set_ylabel(r"driven overlap $d\sigma/d\tau$")
    if title:
        ax.set_title(title)
    plt.colorbar(im, ax=ax, shrink=0.8, label=r"$|G|$")
    return ax


def _canonical(S: Overlaps, name: str) -> str:
    a, b = S.split(name)
    i, j = sorted((S.index(a), S.index(b)))
    return S.pair_names[S.pairs.index((S.names[i], S.names[j]))]


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
    return output_dir("LRTOOLS_FIGURES", "figures", Path.cwd() / "figures")


def savefig(fig: plt.Figure, name: str) -> Path:
    """Write ``fig`` as ``<figure_dir>/<name>.png`` and return the path.

    The figure keeps its layout engine: a figure drawn without one (``layout="none"``,
    placed by hand) is not switched to the book's constrained layout by saving.
    """
    folder = figure_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    engine = fig.get_layout_engine()
    fig.savefig(path)
    if engine is None and fig.get_layout_engine() is not None:
        # matplotlib's tight bounding box restores the rc default engine instead
        fig.set_layout_engine("none")
    return path


def plot_framework(fig: plt.Figure | None = None) -> plt.Figure:
    """Schematic of the framework: parameters -> overlaps -> behaviour, and learning."""
    fig = fig or plt.figure(figsize=(8.6, 3.1), layout="none")
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 3.3)
    ax.axis("off")
    vis, inv = sns.color_palette("crest", 3)[1], sns.color_palette("flare", 3)[1]
    rounded = "round,pad=0.02,rounding_size=0.15"
    boxes = [
        (0.2, "parameters", [(r"$\theta = (m, u, v, z) \in \mathbb{R}^{4N}$", "0.15")]),
        (3.55, "overlaps", [(r"$S = X^\top X / N$: 10 numbers $\sigma_{ab}$", "0.15"),
                            (r"visible $\sigma_{zm}, \sigma_{zu}, \sigma_{vm}, \sigma_{vu}$", vis),
                            (r"invisible $\sigma_{mu}, \sigma_{zv}, \sigma_{mm}, \dots$", inv)]),
        (6.9, "behaviour", [(r"output $y(t)$, loss $L$:", "0.15"),
                            ("functions of the visible", vis), ("overlaps only", vis)]),
    ]
    for x0, title, lines in boxes:
        ax.add_patch(mpl.patches.FancyBboxPatch((x0, 1.25), 2.9, 1.85, facecolor="0.95",
                                                edgecolor="0.45", boxstyle=rounded))
        ax.text(x0 + 1.45, 2.8, title, ha="center", va="center", weight="bold")
        for i, (text, color) in enumerate(lines):
            ax.text(x0 + 1.45, 2.3 - 0.33 * i, text, ha="center", va="center",
                    fontsize="small", color=color)
    for x0, label in ((3.12, r"$X^\top X/N$"), (6.47, r"$L(S)$")):
        ax.annotate("", xy=(x0 + 0.42, 2.2), xytext=(x0, 2.2),
                    arrowprops={"arrowstyle": "-|>", "lw": 1.6, "color": "0.2"})
        ax.text(x0 + 0.21, 2.35, label, ha="center", fontsize="x-small")
    ax.text(5.0, 0.75, r"learning $\Delta\theta = -N\eta\,\nabla_\theta L$"
            r"$\quad\Longrightarrow\quad S' = (I-\eta\Gamma)\,S\,(I-\eta\Gamma)$ (exact)",
            ha="center", fontsize="small")
    ax.text(5.0, 0.3, r"flow: $\dot\sigma = -\eta\,G(\sigma)\,\nabla_\sigma L$,"
            r" with $G$ set by visible and invisible overlaps alike",
            ha="center", fontsize="small", color=inv)
    return fig
