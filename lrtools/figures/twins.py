"""Chapter 4 figures of the nonlinear twins: paper Figures 4d-f, 9 and 10, and the decoding.

Each ``plot_*`` function draws a result of :mod:`lrtools.studies.twins`; each
``figure<N>(fast, progress)`` runs the study with the book's (or fast) settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .. import theory
from ..overlaps import Overlaps, vector_names
from ..plotting import PALETTE, overlap_colors
from ..studies import twins as study

__all__ = [
    "plot_figure4_memory",
    "plot_figure9",
    "plot_figure10",
    "plot_decoding",
    "plot_network_check",
    "figure4_memory",
    "figure9",
    "figure10",
]

_S = Overlaps(np.eye(4), vector_names())
_VISIBLE, _INVISIBLE = _S.visible("erf"), _S.invisible("erf")
_LABELS = {"visible": "visible (7)", "invisible": "invisible (3)",
           "balance_free": "invisible, balance\nin place of $\\sigma_{vv}$",
           "behaviour": "behaviour\n(outputs on probes)"}


def _entries(M: np.ndarray, keys: Sequence[str]) -> np.ndarray:
    return np.stack([M[..., _S.index(_S.split(k)[0]), _S.index(_S.split(k)[1])] for k in keys],
                    axis=-1)


def _outputs(S: np.ndarray, batch, dt: float) -> np.ndarray:
    return theory.run(Overlaps(S, _S.names), batch[0], dt, "erf")[:, :, 0]


def _task_panels(axes, data: dict, pair: int, protocol) -> None:
    # (A) a flip-flop trial, (B) decision-making trials by coherence, (C) the teacher
    rng = np.random.default_rng(2024)
    ta = dataclasses.replace(protocol.task_a, batch_size=1)
    x, y, _ = ta.sample(rng)
    end_a = data["ab"][-1, pair, 0]
    ax = axes[0]
    ax.plot(ta.t, x[0, :, 0], color="0.7", lw=0.8, label="input")
    ax.plot(ta.t, y[0, :, 0], color="0.1", lw=1.2, label="target")
    ax.plot(ta.t, _outputs(end_a, (x, y), ta.dt)[0], color=PALETTE[0], lw=1.4,
            label="twin A after A")
    ax.set(xlabel="time (s)", title="d  task A: flip-flop")
    ax.legend(fontsize="x-small", loc="lower right")
    tb = protocol.task_b
    cohs = np.asarray(tb.coherences)
    tb1 = dataclasses.replace(tb, batch_size=64)
    xb, yb, _ = tb1.sample(rng)
    end_b = data["ab"][-1, pair, 1]
    yhat = _outputs(end_b, (xb, yb), tb.dt)
    coh = np.round(yb[:, -1, 0] * 16)
    cmap = plt.get_cmap("RdBu")
    ax = axes[1]
    for i, c in enumerate(cohs):
        rows = np.where(coh == c)[0]
        if len(rows):
            col = cmap(0.5 + 0.45 * c / np.max(np.abs(cohs)))
            ax.plot(tb.t, yhat[rows[0]], color=col, lw=1.2, label=f"coh {c:g}" if i % 2 else None)
            ax.plot(tb.t, yb[rows[0], :, 0], color=col, lw=0.8, ls=":")
    ax.set(xlabel="time (s)", title="e  task B: decision making (twin B)")
    ax.legend(fontsize="x-small", ncol=2)
    tc = dataclasses.replace(protocol.task_c, batch_size=1)
    xc, yc, _ = tc.sample(rng)
    ax = axes[2]
    ax.plot(tc.t, yc[0, :, 0], color="0.1", lw=1.6, label="teacher")
    for twin, col in ((0, PALETTE[0]), (1, PALETTE[3])):
        ax.plot(tc.t, _outputs(data["c"][-1, pair, twin], (xc, yc), tc.dt)[0], color=col,
                lw=1.0, ls="--" if twin else "-", label=f"twin {'AB'[twin]} after C")
    ax.set(xlabel="time (s)", title="f  task C: teacher and both twins")
    ax.legend(fontsize="x-small")


def plot_figure9(data: dict, settings, pair: int | None = None):
    """Paper Figure 9: one twin pair through A/B and C.

    (a) The loss of both twins over the two phases; (b, c) twin A's overlaps
    against twin B's at the end of A/B and at the end of C (visible blue-green,
    invisible orange-red, the diagonal dashed); (d-f) the three tasks with the
    twins' outputs.
    """
    pair = study.median_twin_pair(data) if pair is None else pair
    fig, axes = plt.subplot_mosaic([["a", "b", "c"], ["d", "e", "f"]], figsize=(13.5, 7.5))
    L = np.concatenate([data["ab_loss"][:, pair], data["c_loss"][:, pair]])
    e_ab = int(data["ab_epoch"][-1])
    ax = axes["a"]
    ax.semilogy(L[:, 0], color=PALETTE[0], lw=0.6, label="twin A: flip-flop, then C")
    ax.semilogy(L[:, 1], color=PALETTE[3], lw=0.6, alpha=0.8, label="twin B: decision, then C")
    ax.axvline(e_ab, color="0.4", ls="--", lw=0.8)
    ax.set(xlabel="epoch", ylabel="batch loss", title=f"a  loss, pair {pair}")
    ax.legend(fontsize="x-small")
    colors = overlap_colors(_S, "erf")
    for key, M, title in (("b", data["ab"][-1, pair], "b  end of A / B"),
                          ("c", data["c"][-1, pair], "c  end of C")):
        ax = axes[key]
        for k in (*_VISIBLE, *_INVISIBLE):
            a, b = _entries(M, [k])[:, 0]
            ax.scatter(a, b, color=colors[k], s=40, edgecolors="0.2", linewidths=0.5,
                       label=rf"$\sigma_{{{k}}}$", zorder=3)
        lim = [min(M.min(), 0), max(M.max(), 1) * 1.05]
        ax.plot(lim, lim, color="0.5", ls="--", lw=0.8)
        ax.set(xlabel="twin A", ylabel="twin B", title=title)
        if key == "c":
            ax.legend(fontsize="x-small", ncol=2)
    _task_panels([axes["d"], axes["e"], axes["f"]], data, pair, settings.protocol)
    return fig


def plot_figure10(data: dict, pair: int | None = None):
    """Paper Figure 10: the ten overlaps of one twin pair through A/B and C.

    Twin A solid, twin B dashed; visible overlaps blue-green, invisible orange-red;
    the vertical line is the switch to C.
    """
    pair = study.median_twin_pair(data) if pair is None else pair
    e_ab, e_c = data["ab_epoch"], data["c_epoch"]
    t = np.concatenate([e_ab, e_ab[-1] + e_c[1:]])
    traj = np.concatenate([data["ab"][:, pair], data["c"][1:, pair]])
    colors = overlap_colors(_S, "erf")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.0), sharex=True)
    for ax, keys, title in ((axes[0], _VISIBLE, "visible overlaps"),
                            (axes[1], _INVISIBLE, "invisible overlaps")):
        for k in keys:
            v = _entries(traj, [k])[..., 0]
            ax.plot(t, v[:, 0], color=colors[k], lw=1.6, label=rf"$\sigma_{{{k}}}$")
            ax.plot(t, v[:, 1], color=colors[k], lw=1.6, ls="--")
        ax.axvline(e_ab[-1], color="0.4", ls="--", lw=0.8)
        ax.set(xlabel="epoch", ylabel="overlap", title=f"{title} (A solid, B dashed)")
        ax.legend(fontsize="x-small", ncol=2)
    return fig


def plot_decoding(dec: dict, *, noise: float = 0.0):
    """The A/B history decoded at each stage from four feature sets, with intervals.

    Cross-validated accuracy over pairs (dots) with its 95% bootstrap interval
    (bars) and the 95% quantile of the permutation null (grey ticks); right: the
    accuracy along phase C (no feature noise).
    """
    stages = [label for _, label in study.STAGES]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.0), gridspec_kw={"width_ratios": [1.6, 1]})
    ax = axes[0]
    width = 0.2
    for i, kind in enumerate(study.FEATURE_SETS):
        for j, stage in enumerate(stages):
            r = dec["pairs"][(stage, kind, noise)]
            x = j + (i - 1.5) * width
            err = [[r["accuracy"] - r["lo"]], [r["hi"] - r["accuracy"]]]
            ax.errorbar(x, r["accuracy"], yerr=err, fmt="o", color=PALETTE[i], ms=5, capsize=3,
                        label=_LABELS[kind].replace("\n", " ") if j == 0 else None)
            if np.isfinite(r["null_hi"]):
                ax.plot([x - 0.07, x + 0.07], [r["null_hi"]] * 2, color="0.55", lw=1.5)
    ax.axhline(0.5, color="0.4", ls=":", lw=0.8)
    ax.set_xticks(range(len(stages)), stages)
    ax.set(ylabel="accuracy", ylim=(0.2, 1.05),
           title=f"a  decoding the history (training-feature noise {noise:g})")
    ax.legend(fontsize="x-small", loc="lower left")
    ax = axes[1]
    for kind in ("visible", "invisible", "behaviour"):
        ax.plot(dec["epoch_c"], dec["along_c"][kind],
                color=PALETTE[study.FEATURE_SETS.index(kind)], lw=1.8,
                label=_LABELS[kind].replace("\n", " "))
    ax.axhline(0.5, color="0.4", ls=":", lw=0.8)
    ax.set(xlabel="epochs of task C", ylabel="accuracy", ylim=(0.2, 1.05),
           title="b  along phase C")
    ax.legend(fontsize="x-small")
    return fig


def plot_figure4_memory(data: dict, dec: dict, settings, pair: int | None = None):
    """Paper Figure 4d-f: the protocol on one pair, and the paper's decoding.

    (d) The protocol: twin A on a flip-flop trial after A, twin B on decision
    trials after B, and both against the teacher after C; (e, f) the paper's
    decoding accuracy (mean and sd over its random splits, its first
    ``paper_pairs`` pairs) without and with training-feature noise.
    """
    pair = study.median_twin_pair(data) if pair is None else pair
    fig = plt.figure(figsize=(13.5, 7.2))
    top, bottom = fig.subfigures(2, 1)
    _task_panels(top.subplots(1, 3), data, pair, settings.protocol)
    top.suptitle("d  the protocol on one pair: A / B, then C", fontsize="medium")
    stages = [label for _, label in study.STAGES]
    axes = bottom.subplots(1, 2, sharey=True)
    for ax, z, name in zip(axes, settings.noises, "ef", strict=False):
        for i, kind in enumerate(("visible", "invisible")):
            m = [np.mean(dec["paper"][(s, kind, z)]) for s in stages]
            sd = [np.std(dec["paper"][(s, kind, z)]) for s in stages]
            ax.bar(np.arange(len(stages)) + (i - 0.5) * 0.35, m, 0.33, yerr=sd, capsize=3,
                   color=PALETTE[i], label=_LABELS[kind])
        ax.axhline(0.5, color="0.3", ls="--", lw=0.8)
        ax.set_xticks(range(len(stages)), stages)
        what = "no noise" if z == 0 else f"noise {z:g}"
        ax.set(ylim=(0, 1.1), title=f"{name}  decoding, {what}")
        ax.legend(fontsize="x-small")
    axes[0].set_ylabel("accuracy (mean $\\pm$ sd over splits)")
    return fig


def plot_network_check(H: dict, Ns: Sequence[int]):
    """Task C for one pair: network at two sizes, Gaussian theory and population limit.

    (a) Largest twin difference in the visible and invisible overlaps; (b) loss.
    """
    if len(Ns) != 2:
        raise ValueError(f"need two network sizes, got {list(Ns)}")
    N1, N2 = Ns
    gap = study.network_check_gaps(H, Ns)
    pop = None
    if "pop_A" in H:
        from ..memory import gap_series

        pop = gap_series(H["pop_A"], H["pop_B"], "erf")
    colors = overlap_colors(_S, "erf")
    kind_col = {"visible": colors["zm"], "invisible": colors["zz"]}
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.8))
    ax = axes[0]
    for k in ("visible", "invisible"):
        ax.plot(gap[(N2, k)], color=kind_col[k], lw=3, alpha=0.6,
                label=f"{k}, network N = {N2}")
        ax.plot(gap[(N1, k)], color=kind_col[k], lw=1.2, ls=":", label=f"{k}, network N = {N1}")
        ax.plot(gap[("th", k)], color="0.1", lw=1.0, ls="--")
        if pop is not None:
            ax.plot(pop[k], color=kind_col[k], lw=1.0, ls="-.", label=f"{k}, population limit")
    ax.set(xlabel="epoch of task C", ylabel="largest twin difference",
           title="a  one pair (dashed: Gaussian theory)")
    ax.legend(fontsize="x-small")
    ax = axes[1]
    for i, t in enumerate(("A", "B")):
        ax.semilogy(H[(f"net_{t}", N2)].loss, color=PALETTE[i], lw=1.0,
                    label=f"twin {t}, network")
        ax.semilogy(H[f"th_{t}"].loss, color="0.1", lw=0.8, ls="--")
    ax.set(xlabel="epoch of task C", ylabel="batch loss",
           title="b  loss (dashed: Gaussian theory)")
    ax.legend(fontsize="x-small")
    return fig


def _runs(fast: bool, progress):
    s = study.TwinSettings.for_mode(fast)
    return s, study.twin_runs(s, progress=progress)


def figure4_memory(fast: bool = False, progress: bool | None = None):
    """Paper Figure 4d-f: the twin protocol on one pair and the paper's decoding."""
    s, data = _runs(fast, progress)
    return plot_figure4_memory(data, study.twin_decoding(data, s), s)


def figure9(fast: bool = False, progress: bool | None = None):
    """Paper Figure 9: one twin pair, its loss, its overlaps before and after C, its tasks."""
    s, data = _runs(fast, progress)
    return plot_figure9(data, s)


def figure10(fast: bool = False, progress: bool | None = None):
    """Paper Figure 10: the ten overlaps of one twin pair through A/B and C."""
    return plot_figure10(_runs(fast, progress)[1])
