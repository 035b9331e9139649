"""Chapter 4 figures: paper Figures 3, 6, 7, 9, 10 and 4d-f, and the chapter's own.

Each ``plot_*`` function draws one figure (or panel) from a study's result
(:mod:`lrtools.studies.memory`, :mod:`lrtools.studies.twins`); each
``figure<N>(fast, progress)`` runs the study with its paper (or fast) settings and
draws the paper figure, as the command line ``lrtools figure N`` does.
:func:`figure4_memory` draws panels d-f of paper Figure 4 (panels a-c are
chapter 2's).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..conserved import conserved
from ..history import History
from ..memory import gaps
from ..plotting import PALETTE, SIM, THEORY, overlap_colors
from ..studies import memory as study

__all__ = [
    "shade_phases",
    "plot_phases",
    "plot_phase_loss",
    "plot_conserved",
    "plot_figure3",
    "plot_figure6",
    "plot_figure7",
    "plot_flow_memory",
    "plot_conditions",
    "figure3",
    "figure6",
    "figure7",
]


def shade_phases(ax, bounds: np.ndarray, labels: Sequence[str]) -> None:
    """Shade every other phase and write the phase labels above the axes."""
    edges = np.asarray(bounds)
    for i, label in enumerate(labels):
        if i % 2 == 1:
            ax.axvspan(edges[i], edges[i + 1], color="0.93", zorder=0, lw=0)
        ax.text(0.5 * (edges[i] + edges[i + 1]), 1.0, label, transform=ax.get_xaxis_transform(),
                ha="center", va="bottom", fontsize="x-small", color="0.3")


def plot_phases(
    ax,
    hist: History,
    bounds: np.ndarray,
    keys: Sequence[str],
    *,
    labels: Sequence[str] = (),
    theory_hist: History | None = None,
    theory_every: int = 1,
    phi: str = "linear",
    legend: bool = True,
    legend_loc: str = "best",
):
    """Overlap trajectories over consecutive phases, the phases shaded and labelled.

    ``hist`` and ``bounds`` come from :func:`lrtools.memory.join`; ``theory_hist``
    (same epochs) is drawn dashed on top, every ``theory_every``-th epoch.
    """
    colors = overlap_colors(hist.names, phi)
    t = np.arange(len(hist.overlaps))
    for key in keys:
        ax.plot(t, hist.overlap(key), color=colors[key], label=rf"$\sigma_{{{key}}}$", **SIM)
        if theory_hist is not None:
            tt = np.arange(0, len(theory_hist.overlaps), theory_every)
            ax.plot(tt, theory_hist.overlap(key)[tt], **THEORY)
    shade_phases(ax, bounds, labels)
    ax.set_xlabel("epoch")
    ax.set_ylabel("overlap")
    ax.set_xlim(0, t[-1])
    if legend:
        ax.legend(ncol=2 if len(keys) > 3 else 1, fontsize="x-small", loc=legend_loc)
    return ax


def plot_phase_loss(ax, hist: History, bounds: np.ndarray, *, labels: Sequence[str] = (),
                    color=None, label: str | None = None):
    """Loss over consecutive phases (log scale), phases shaded."""
    ax.plot(np.arange(len(hist.loss)), hist.loss, color=color or PALETTE[0], lw=1.2, label=label)
    ax.set_yscale("log")
    shade_phases(ax, bounds, labels)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_xlim(0, len(hist.loss))
    return ax


def plot_conserved(ax, curves: dict, *, bounds: np.ndarray | None = None,
                   labels: Sequence[str] = (), floor: float = 1e-16):
    """Drift ``max |Q(t) - Q(0)|`` of conserved quantities, one line per label.

    ``curves`` maps a label to ``(epochs, values)`` with ``values`` of shape
    ``(n, q)`` (e.g. :func:`conserved` of a trajectory) or ``(n,)``.
    """
    for i, (label, (t, q)) in enumerate(curves.items()):
        q = np.asarray(q)
        q = q[:, None] if q.ndim == 1 else q
        d = np.max(np.abs(q - q[0]), axis=1)
        ax.plot(np.asarray(t)[1:], np.maximum(d[1:], floor), color=PALETTE[i % len(PALETTE)],
                lw=1.5, label=label)
    if bounds is not None:
        shade_phases(ax, bounds, labels)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("drift of conserved quantity")
    ax.legend(fontsize="x-small")
    return ax


def _sci(x: float) -> str:
    """``5e-3`` rather than ``0.005`` in labels."""
    mantissa, exponent = f"{x:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _panel_k_entries(ax, data: dict, title: str) -> None:
    K, bounds = data["K"], data["bounds"]
    for j, (i, k) in enumerate(data["pairs"]):
        ax.plot(data["k_epochs"], K[:, j] - K[0, j], color=PALETTE[j], lw=1.5,
                label=f"$K_{{{i},{k}}}$")
    shade_phases(ax, bounds, data["labels"])
    ax.set(xlabel="epoch", ylabel=r"$K_{ij}(t) - K_{ij}(0)$", xlim=(0, bounds[-1]))
    ax.set_title(title, loc="left", pad=14)
    ax.legend(fontsize="x-small", ncol=2)


def _panel_linear_conserved(ax, data: dict, title: str) -> None:
    Q, t = data["Q"], np.arange(len(data["Q"]))
    plot_conserved(ax, {r"eigenvalues of $JS$": (t, Q[:, :4]),
                        r"balance $\sigma_{uu}-\sigma_{vv}$": (t, Q[:, 4])},
                   bounds=data["bounds"], labels=data["labels"])
    ax.set_title(title, loc="left", pad=14)


def plot_figure3(data: dict):
    """Paper Figures 3 and 6 from :func:`linear_memory_runs`: six panels.

    (a) loss; (b) entries of ``K``; (c, d) visible and invisible overlaps, network
    and exact map; (e) drift of the conserved quantities; (f) the gap between the
    ends of the first two A phases, overlap by overlap.
    """
    S0, sim, exact, bounds, labels = (data[k] for k in ("S0", "network", "exact", "bounds",
                                                         "labels"))
    fig, axes = plt.subplot_mosaic([["a", "b"], ["c", "d"], ["e", "f"]], figsize=(11, 9.6))
    plot_phase_loss(axes["a"], sim, bounds, labels=labels)
    axes["a"].set_title("a  loss", loc="left", pad=14)
    plot_phases(axes["c"], sim, bounds, S0.visible("linear"), labels=labels,
                theory_hist=exact, theory_every=25, legend_loc="lower right")
    axes["c"].set_title("c  visible overlaps (network thick, exact map dashed)", loc="left",
                        pad=14)
    plot_phases(axes["d"], sim, bounds, S0.invisible("linear"), labels=labels,
                theory_hist=exact, theory_every=25, legend_loc="lower right")
    axes["d"].set_ylim(-0.9, None)
    axes["d"].set_title("d  invisible overlaps", loc="left", pad=14)
    _panel_k_entries(axes["b"], data,
                     r"b  entries of $K = ZZ^\top + VV^\top - MM^\top - UU^\top$")
    _panel_linear_conserved(axes["e"], data, "e  conserved quantities: drift from the start")
    ax = axes["f"]
    runs = data["net_runs"]
    names = S0.visible("linear") + S0.invisible("linear")
    colors = overlap_colors(S0)
    x = np.arange(len(names))
    for k, (j, hatch, label) in enumerate(((2, None, "A$_2$ (after B)"),
                                           (len(runs) - 1, "//", "A$_3$ (after the noisy A)"))):
        each = gaps(runs[0].final, runs[j].final)["each"]
        ax.bar(x + (k - 0.5) * 0.4, [abs(each[n]) for n in names], 0.38, hatch=hatch,
               color=[colors[n] for n in names], edgecolor="0.3", label=label)
    ax.set_xticks(x, [rf"$\sigma_{{{n}}}$" for n in names], rotation=60)
    ax.set(yscale="log", ylabel=r"$|\sigma(A_i) - \sigma(A_1)|$")
    ax.legend(fontsize="x-small")
    ax.set_title("f  ends of A$_2$ and A$_3$ against the end of A$_1$", loc="left")
    return fig


def plot_figure6(data: dict, start_epoch: int = 2000):
    """Paper Figure 6 as the authors draw it, from :func:`linear_memory_runs`.

    All ten overlaps of the network from ``start_epoch`` on, one panel each (5 x 2),
    with the value at the end of the first A phase (A1) dashed: every visible
    overlap comes back to it after B, the invisible ones do not. The last row
    adds the book's view of what learning conserves: entries of ``K`` and the
    drift of the eigenvalues of ``JS`` and of the balance.
    """
    S0, sim, bounds, labels = (data[k] for k in ("S0", "network", "bounds", "labels"))
    names = S0.visible("linear") + S0.invisible("linear")
    colors = overlap_colors(S0)
    fig = plt.figure(figsize=(11, 12.5))
    grid, bottom = fig.subfigures(2, 1, height_ratios=[3.4, 1])
    axes = grid.subplots(5, 2, sharex=True).ravel(order="F")
    t = np.arange(len(sim.overlaps))
    keep = t >= start_epoch
    a1 = int(bounds[1])
    for ax, key in zip(axes, names, strict=True):
        v = sim.overlap(key)
        ax.plot(t[keep], v[keep], color=colors[key], lw=1.8)
        ax.axhline(v[a1], color="0.5", ls="--", lw=0.8)
        for b in bounds[1:-1]:
            ax.axvline(b, color="0.7", lw=0.6)
        kind = "visible" if key in S0.visible("linear") else "invisible"
        ax.set_title(rf"$\sigma_{{{key}}}$ ({kind})", fontsize="small", loc="left")
    for ax in axes[4::5]:
        ax.set_xlabel("epoch")
    grid.suptitle(f"a  the ten overlaps from epoch {start_epoch} ({', '.join(labels)}); "
                  "dashed: the value at the end of A1", fontsize="medium")
    ax_k, ax_q = bottom.subplots(1, 2)
    _panel_k_entries(ax_k, data, r"b  entries of $K = ZZ^\top + VV^\top - MM^\top - UU^\top$")
    _panel_linear_conserved(ax_q, data, "c  conserved quantities: drift from the start")
    return fig


def plot_figure7(data: dict):
    """Paper Figure 7 from :func:`adam_memory_runs`: loss, overlaps, conserved quantities."""
    S0, adam, gd, bounds, labels = (data[k] for k in ("S0", "adam", "gd", "bounds", "labels"))
    gd_label = rf"GD, $\eta$ = {_sci(data['eta_gd'])}"
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.6))
    plot_phase_loss(axes[0, 0], adam, bounds, labels=labels, label="Adam")
    axes[0, 0].plot(gd.loss, color=PALETTE[1], lw=1.2, label=gd_label)
    axes[0, 0].legend(fontsize="x-small")
    axes[0, 0].set_title("a  loss", loc="left", pad=14)
    plot_phases(axes[0, 1], adam, bounds, S0.visible("linear"), labels=labels)
    axes[0, 1].set_title("b  visible overlaps (Adam)", loc="left", pad=14)
    plot_phases(axes[1, 0], adam, bounds, S0.invisible("linear"), labels=labels)
    axes[1, 0].set_title("c  invisible overlaps (Adam)", loc="left", pad=14)
    t = np.arange(len(adam.overlaps))
    plot_conserved(axes[1, 1], {"Adam": (t, conserved(adam)), gd_label: (t, conserved(gd))},
                   bounds=bounds, labels=labels)
    axes[1, 1].set_title("d  conserved quantities: drift", loc="left", pad=14)
    return fig


def plot_flow_memory(scans: dict):
    """Figure "flow memory" of chapter 4 from :func:`flow_memory_scans`: four panels.

    (a) Invisible gap of A, B, A vs A, A, A from ``theta_2`` against the step size,
    the flow's value and GD minus flow; (b) the flow's memory from many starts
    against the fifth singular value of fields and brackets; (c) flow and GD memory
    against the loop size; (d) from ``theta_2``, the flow's memory against the loop
    size with its prediction, curvature x enclosed area.
    """
    eta_scan, flows, dc_scan = scans["eta_scan"], scans["flows"], scans["dc_scan"]
    etas, dcs, n_unit = scans["etas"], scans["dcs"], scans["n_unit"]
    dev = study.gd_flow_deviation(eta_scan)
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
    ax = axes[0]
    ax.loglog(etas, eta_scan["invisible"], "o-", color=PALETTE[3], label="GD (exact map)")
    ax.axhline(float(eta_scan["flow_invisible"]), color="0.2", ls="--", lw=1.2,
               label="gradient flow")
    ax.loglog(etas, dev, "s:", color=PALETTE[0], ms=4, label="GD minus flow (end state)")
    ax.set_xticks(etas, [f"{e:g}" for e in etas], rotation=30)
    ax.minorticks_off()
    ax.set(xlabel=r"step size $\eta$", ylabel="invisible gap, A,B,A vs A,A,A",
           title=r"a  $\theta_2$: memory vs step size")
    ax.legend(fontsize="x-small")
    ax = axes[1]
    ax.loglog(flows["bracket_sv"][:n_unit], flows["invisible"][:n_unit], "o", color=PALETTE[0],
              label="unit-norm random starts")
    ax.loglog(flows["bracket_sv"][n_unit:], flows["invisible"][n_unit:], "D", color=PALETTE[3],
              label="broad random starts")
    ax.set(xlabel="5th singular value of fields + brackets", ylabel="invisible gap (flow)",
           title="b  exact flow, many starts")
    ax.legend(fontsize="x-small")
    ax = axes[2]
    ax.loglog(dcs, dc_scan["flow"], "o-", color="0.2", label="gradient flow")
    ax.loglog(dcs, dc_scan["gd"], "s-", color=PALETTE[3],
              label=rf"GD, $\eta$ = {_sci(scans['eta'])}")
    ax.set_xticks(dcs, [f"{d:g}" for d in dcs])
    ax.minorticks_off()
    ax.set(xlabel=r"$c_B - c_A$", ylabel=r"$\|S_{ABA} - S_{AAA}\|$",
           title="c  memory vs loop size")
    ax.legend(fontsize="x-small")
    ax = axes[3]
    hol = scans["holonomy"]
    hd = np.asarray(hol["dcs"])
    ax.loglog(hd, np.linalg.norm(hol["measured"], axis=(1, 2)), "o", color="0.2", ms=6,
              label="gradient flow")
    ax.loglog(hd, np.linalg.norm(hol["predicted"], axis=(1, 2)), "x--", color=PALETTE[0],
              ms=7, label="curvature x enclosed area")
    flipped = np.asarray(hol["cosine"]) < 0
    if flipped.any():
        ax.loglog(hd[flipped], np.linalg.norm(hol["predicted"], axis=(1, 2))[flipped], "s",
                  mfc="none", mec=PALETTE[3], ms=11, label="prediction points the other way")
    ax.set_xticks(hd, [f"{d:g}" for d in hd], rotation=45)
    ax.minorticks_off()
    ax.set(xlabel=r"$c_B - c_A$", ylabel=r"$\|S_{ABA} - S_{AAA}\|$",
           title=r"d  $\theta_2$: holonomy vs its prediction")
    ax.legend(fontsize="x-small")
    return fig


def plot_conditions(scans: dict, cond: dict):
    """Chapter 4's conditions map: step size, noise, weight decay, optimiser (four panels).

    Parameters
    ----------
    scans : dict
        From :func:`flow_memory_scans` (panel a: its ``eta_scan``).
    cond : dict
        From :func:`conditions_runs`.
    """
    eta_scan, etas = scans["eta_scan"], scans["etas"]
    noise_map, decay, optim, wds = cond["noise"], cond["decay"], cond["optim"], cond["wds"]
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.7))
    ax = axes[0]
    ax.loglog(etas, eta_scan["invisible"], "o-", color=PALETTE[3], label="GD")
    ax.axhline(float(eta_scan["flow_invisible"]), color="0.2", ls="--", lw=1.2, label="flow")
    ax.set_xticks(etas, [f"{e:g}" for e in etas], rotation=30)
    ax.minorticks_off()
    ax.set(xlabel=r"step size $\eta$", ylabel="memory (invisible gap)", title="a  step size")
    ax.legend(fontsize="x-small")
    ax = axes[1]
    ts = noise_map["target/std"][1:]
    ax.loglog(ts, noise_map["target/invisible"][1:], "o-", color=PALETTE[3],
              label="target noise: A,B,A vs A,A,A")
    ax.loglog(ts, noise_map["target/floor_invisible"][1:], "o:", color=PALETTE[3], alpha=0.6,
              label="target noise: floor (A,A,A twice)")
    ws = noise_map["weight/std"]
    ax.loglog(ws, noise_map["weight/invisible"], "s-", color=PALETTE[0],
              label="weight noise: B,A vs A,A")
    ax.loglog(ws, noise_map["weight/floor_invisible"], "s:", color=PALETTE[0], alpha=0.6,
              label="weight noise: floor")
    ax.axhline(noise_map["target/invisible"][0], color="0.2", ls="--", lw=1.0,
               label="no noise (A,B,A)")
    ax.set(xlabel="noise standard deviation", ylabel="invisible gap", title="b  noise")
    ax.legend(fontsize="xx-small")
    ax = axes[2]
    for i, w in enumerate(wds):
        ep, m = decay[f"{w}/epoch"], decay[f"{w}/invisible"]
        ax.semilogy(ep, m, color=PALETTE[i], lw=1.6, label=f"wd = {w:g}")
        ax.semilogy(ep, m[-1] * np.exp(float(decay[f"{w}/predicted_rate"]) * (ep[-1] - ep)),
                    color=PALETTE[i], ls="--", lw=0.9)
    ax.set(xlabel="epochs with weight decay", ylabel="invisible gap",
           title="c  weight decay (dashed: rate $2\\eta w$)")
    ax.legend(fontsize="x-small")
    ax = axes[3]
    x = np.arange(3)
    for j, (o, lab) in enumerate((("gd", rf"GD, $\eta$ = {_sci(scans['eta'])}"),
                                  ("adam", "Adam, lr 1e-3"))):
        vals = [float(optim[f"{o}/{k}"]) for k in ("function", "visible", "invisible")]
        ax.bar(x + 0.2 * (2 * j - 1), vals, 0.4, color=PALETTE[j], label=lab)
    ax.set_xticks(x, ["output", "visible", "invisible"])
    ax.set(yscale="log", ylabel="gap, A,B,A vs A,A,A", title="d  optimiser")
    ax.legend(fontsize="x-small")
    return fig


# ---------------------------------------------------------------------------
# the paper's figures, for the command line and the registry
# ---------------------------------------------------------------------------


def figure3(fast: bool = False, progress: bool | None = None):
    """Paper Figure 3 (with Figure 6's panels b, e): linear memory from ``theta_2``."""
    s = study.LinearMemorySettings.for_mode(fast)
    return plot_figure3(study.linear_memory_runs(s, progress=progress))


def figure6(fast: bool = False, progress: bool | None = None):
    """Paper Figure 6: entries of ``K`` and the conserved quantities during Figure 3's run."""
    s = study.LinearMemorySettings.for_mode(fast)
    return plot_figure6(study.linear_memory_runs(s, progress=progress))


def figure7(fast: bool = False, progress: bool | None = None):
    """Paper Figure 7: memory under Adam, conserved quantities broken."""
    s = study.AdamMemorySettings.for_mode(fast)
    return plot_figure7(study.adam_memory_runs(s, progress=progress))
