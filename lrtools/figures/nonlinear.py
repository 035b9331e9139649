"""Chapter 2 figures: paper Figures 4a-c, 8 and 11 (right), and the convergence study.

Each ``plot_*`` function draws one figure (or fills given axes) from a study's
result (:mod:`lrtools.studies.nonlinear`); each ``figure<N>(fast, progress)`` runs
the study with its paper (or fast) settings and draws the paper figure, as the
command line ``lrtools figure N`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter
from scipy import stats

from .. import theory
from .._checks import shape_from_names
from ..closure import Convergence, gaussianity_curve, qq_data
from ..fits import PowerLaw
from ..history import History
from ..network import LowRankRNN
from ..overlaps import Overlaps
from ..studies import nonlinear as study
from ..tasks import FlipFlop

__all__ = [
    "plot_entries",
    "plot_gaussianity",
    "plot_convergence",
    "plot_departure",
    "plot_preconditioners",
    "plot_figure4",
    "plot_figure8",
    "plot_figure11_nonlinear",
    "plot_convergence_study",
    "plot_departure_study",
    "plot_tanh_study",
    "figure4",
    "figure8",
    "figure11_nonlinear",
]


# ---------------------------------------------------------------------------
# Axis-level helpers
# ---------------------------------------------------------------------------


def _n_axis(ax, Ns: np.ndarray) -> None:
    """Log-scaled N axis with one plain label per simulated size."""
    ax.set_xscale("log")
    ax.set_xticks(Ns, [f"{int(n)}" for n in Ns])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("$N$")


def plot_entries(axes, X: np.ndarray, names: Sequence[str] = ("m", "u", "v", "z"),
                 kind: str = "hist", color=None):
    """Histograms (``kind="hist"``) or normal QQ plots (``"qq"``) of each vector's entries.

    ``axes`` holds one matplotlib axis per vector. Histograms show the Gaussian
    with the entries' mean and variance; QQ plots the identity line.
    """
    from ..plotting import PALETTE

    X = np.asarray(X)
    color = PALETTE[0] if color is None else color
    for j, (ax, name) in enumerate(zip(axes, names, strict=True)):
        col = X[:, j]
        if kind == "hist":
            ax.hist(col, bins=40, density=True, color=color, alpha=0.6)
            grid = np.linspace(col.min(), col.max(), 200)
            ax.plot(grid, stats.norm.pdf(grid, col.mean(), col.std()), color="0.1", lw=1.2)
            ax.set_xlabel(f"entries of ${name}$")
        elif kind == "qq":
            q, s = qq_data(col)
            ax.plot(q, s, ".", ms=2.5, color=color)
            lim = max(abs(q).max(), abs(s).max())
            ax.plot([-lim, lim], [-lim, lim], color="0.1", lw=1.0, ls="--")
            ax.set_xlabel("normal quantile")
            ax.set_title(f"${name}$")
        else:
            raise ValueError(f"kind must be 'hist' or 'qq', got {kind!r}")
    axes[0].set_ylabel("density" if kind == "hist" else "standardised entry")
    return axes


def plot_gaussianity(ax, curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *,
                     ylabel: str = "Mardia excess kurtosis", noise: float | None = None):
    """A Gaussianity statistic against epoch, one line per labelled run.

    ``curves`` maps a label to ``(epochs, values)``; ``noise`` draws the sampling
    standard deviation of the statistic for Gaussian entries as a grey band.
    """
    from ..plotting import PALETTE

    for i, (label, (ep, val)) in enumerate(curves.items()):
        ax.plot(ep, val, "o-", ms=3, lw=1.6, color=PALETTE[i % len(PALETTE)], label=label)
    if noise is not None:
        ax.axhspan(-2 * noise, 2 * noise, color="0.88", zorder=0, label="Gaussian, ±2 s.d.")
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax


def plot_convergence(ax, Ns: np.ndarray, series: Mapping[str, np.ndarray], *,
                     fits: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None,
                     ylabel: str = "max overlap error"):
    """Log-log error against N: every seed as a dot, the geometric mean as a line.

    ``series`` maps a label to errors of shape ``(n, s)``; ``fits`` maps a label to
    a callable ``N -> fitted error`` (e.g. a :class:`PowerLaw`), drawn dashed.
    """
    from ..plotting import PALETTE

    Ns = np.asarray(Ns, dtype=np.float64)
    grid = np.geomspace(Ns.min() / 1.2, Ns.max() * 1.2, 50)
    for i, (label, err) in enumerate(series.items()):
        c = PALETTE[i % len(PALETTE)]
        err = np.asarray(err).reshape(Ns.size, -1)
        for j in range(err.shape[1]):
            ax.plot(Ns, err[:, j], "o", ms=3, color=c, alpha=0.45)
        ax.plot(Ns, np.exp(np.log(err).mean(axis=1)), "-", lw=1.8, color=c, label=label)
    for i, (label, fn) in enumerate((fits or {}).items()):
        ax.plot(grid, fn(grid), "--", lw=1.2, color="0.15" if i == 0 else "0.5", label=label)
    _n_axis(ax, Ns)
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax


def plot_departure(ax, Ns: np.ndarray, values: Mapping[str, np.ndarray], *,
                   ylabel: str = "update outside span", zero_line: bool = False):
    """A departure measure against N (log x), seeds as dots and their mean as a line.

    ``values`` maps a label to an array of shape ``(n, s)``; ``zero_line`` draws
    ``y = 0`` (for signed quantities such as :func:`~lrtools.closure.closure_defect`).
    """
    from ..plotting import PALETTE

    Ns = np.asarray(Ns, dtype=np.float64)
    for i, (label, val) in enumerate(values.items()):
        c = PALETTE[i % len(PALETTE)]
        val = np.asarray(val).reshape(Ns.size, -1)
        for j in range(val.shape[1]):
            ax.plot(Ns, val[:, j], "o", ms=3, color=c, alpha=0.45)
        ax.plot(Ns, val.mean(axis=1), "-", lw=1.8, color=c, label=label)
    if zero_line:
        ax.axhline(0.0, color="0.5", lw=0.8, zorder=0)
    _n_axis(ax, Ns)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax


def plot_preconditioners(axes, S: Overlaps, phis: Sequence[str] = ("linear", "erf")):
    """``|G(S)|`` once per nonlinearity, visible overlaps first and outlined.

    ``G`` itself depends only on ``S``; what changes with ``phi`` is which of its
    columns can meet a non-zero gradient (the loss-visible overlaps), hence which
    overlaps a gradient step moves (see :func:`lrtools.plotting.plot_preconditioner`).
    """
    from ..plotting import plot_preconditioner

    for ax, phi in zip(axes, phis, strict=True):
        n_vis = len(S.visible(phi))
        plot_preconditioner(ax, S, phi=phi, title=f"{phi}: {n_vis} visible columns")
    return axes


# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Paper Figures 4, 8 and 11 (right)
# ---------------------------------------------------------------------------


def plot_figure4(task: FlipFlop, runs: Mapping[str, History], *, trial_seed: int = 123,
                 population: History | None = None, test_task: FlipFlop | None = None):
    """Paper Figure 4a-c from :func:`~lrtools.studies.nonlinear.flip_flop_runs`.

    Top: a held-out trial after training (network and theory), the loss of the
    network, of the overlap map with ``G`` and of descent on the overlaps without
    ``G``, and the visible overlaps. Middle and bottom: histograms and normal QQ
    plots of the final vector entries. With ``population`` (the population limit
    of the same run, :func:`~lrtools.studies.population.population_figure_runs`)
    its loss and visible overlaps are drawn dotted beside the Gaussian theory. The
    held-out trial is drawn from ``test_task`` (default ``task``), e.g. longer.
    """
    from ..plotting import PALETTE, SIM, THEORY, plot_loss, plot_overlaps

    sim, exact, direct = runs["network"], runs["exact"], runs["direct"]
    trial = task if test_task is None else test_task
    x, y_star, mask = trial.sample(np.random.default_rng(trial_seed))
    rank, n_in, n_out = shape_from_names(sim.names)
    net = LowRankRNN(sim.vectors[-1], rank=rank, n_in=n_in, n_out=n_out, phi="erf")
    y_net = net.run(x[:1], task.dt)[0, :, 0]
    y_th = theory.run(exact.final, x[:1], task.dt, "erf")[0, :, 0]
    fig = plt.figure(figsize=(13, 9.5))
    top, mid, bot = fig.subfigures(3, 1, height_ratios=[1.15, 1, 1])
    ax = top.subplots(1, 3)
    t = trial.t
    ax[0].plot(t, x[0, :, 0], color="0.6", lw=1, label="input")
    ax[0].plot(t, np.where(mask[0, :, 0] > 0, y_star[0, :, 0], np.nan), color="0.1", lw=1.2,
               label="target (in mask)")
    ax[0].plot(t, y_net, color=PALETTE[0], label="network", **SIM)
    ax[0].plot(t, y_th, label="theory", **THEORY)
    ax[0].set(xlabel="time", title="a  a held-out trial after training")
    ax[0].legend(fontsize="x-small", ncol=2)
    curves = {"network": sim, "theory (with $G$)": exact, "direct (no $G$)": direct}
    styles = {"theory (with $G$)": THEORY}
    if population is not None:
        curves["population limit"] = population
        styles["population limit"] = {"color": PALETTE[4], "lw": 1.4, "ls": ":"}
    plot_loss(ax[1], curves, styles=styles)
    ax[1].set_title("b  loss")
    visible = exact.initial.visible("erf")
    plot_overlaps(ax[2], sim, visible, theory=exact, phi="erf")
    title = "c  visible overlaps: network (thick), theory (dashed)"
    if population is not None:
        for key in visible:
            ax[2].plot(population.overlap(key), color="0.35", lw=1.0, ls=":")
        title += ", population (dotted)"
    ax[2].set_title(title, fontsize="small")
    plot_entries(mid.subplots(1, 4), sim.vectors[-1], sim.names, kind="hist")
    mid.suptitle("d  entries after training, with the fitted Gaussian", fontsize="medium")
    plot_entries(bot.subplots(1, 4), sim.vectors[-1], sim.names, kind="qq")
    bot.suptitle("e  normal QQ plots", fontsize="medium")
    return fig


def plot_figure8(histories: Mapping[str, History], closure: Mapping[str, np.ndarray], *,
                 theories: Mapping[str, Mapping[str, History]] | None = None,
                 titles: Mapping[str, str] | None = None):
    """Paper Figure 8: loss and Gaussianity under several optimizers.

    Parameters
    ----------
    histories : mapping
        Label to N-dimensional training history (with vector snapshots).
    closure : mapping
        Label to :func:`~lrtools.closure.closure_loss` of that history.
    theories : mapping, optional
        Label to ``{"exact map": History, ...}`` overlap-theory runs drawn dashed
        (the first) or dotted (the others).
    titles : mapping, optional
        Panel titles.
    """
    from ..plotting import PALETTE, SIM, THEORY

    theories, titles = theories or {}, titles or {}
    fig, axes = plt.subplots(2, len(histories), figsize=(4.4 * len(histories), 6.4),
                             squeeze=False)
    for j, (key, h) in enumerate(histories.items()):
        ax = axes[0, j]
        ep = np.arange(h.epochs)
        ax.plot(ep, h.loss, color=PALETTE[0], label="network", **SIM)
        ax.plot(ep, closure[key], color=PALETTE[3], lw=1.2,
                label="mean-field loss at the network's $S$")
        for i, (label, th) in enumerate(theories.get(key, {}).items()):
            style = THEORY if i == 0 else {"color": PALETTE[2], "lw": 1.2, "ls": ":"}
            ax.plot(np.arange(th.epochs), th.loss, label=label, **style)
        ax.set(yscale="log", xlabel="epoch", title=titles.get(key, key))
        ax.legend(fontsize="x-small")
        c = gaussianity_curve(h)
        ax = axes[1, j]
        sd = c["noise"]["excess_kurtosis"]
        ax.axhspan(-2 * sd, 2 * sd, color="0.88", zorder=0)
        for i, name in enumerate(h.names):
            ax.plot(c["epoch"], c["kurtosis"][:, i], "o-", ms=3, lw=1.4, color=PALETTE[i],
                    label=f"${name}$")
        ax.set(xlabel="epoch", ylabel="excess kurtosis")
        ax.legend(fontsize="x-small", ncol=4)
    axes[0, 0].set_ylabel("loss")
    return fig



def plot_figure11_nonlinear(S: Overlaps, phis: Sequence[str] = ("linear", "erf")):
    """Paper Figure 11 (right, with the linear case beside it): ``|G(S)|`` per nonlinearity.

    Parameters
    ----------
    S : Overlaps
        Overlaps at which ``G`` is drawn (chapter 2: the trained ones).
    phis : sequence of str
        One panel per nonlinearity (:func:`plot_preconditioners`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, len(phis), figsize=(11, 4.6), squeeze=False)
    plot_preconditioners(axes[0], S, tuple(phis))
    return fig


# ---------------------------------------------------------------------------
# The convergence study
# ---------------------------------------------------------------------------


def plot_convergence_study(plain: Convergence, projected: Convergence,
                           fits: Mapping[str, PowerLaw], floors: Mapping[str, Mapping]):
    """Chapter 2's convergence figure: error against N, and along training.

    (a) Largest overlap error over training against ``N`` for plain and
    projected descent, with the projected power law and the plain
    ``sqrt(a^2 / N + b^2)`` fit; (b) final loss difference against ``N``; (c) the
    overlap error along training, mean over seeds, one colour per ``N``.

    Parameters
    ----------
    plain, projected : Convergence
        :func:`~lrtools.closure.convergence_study` without and with the projection (same ``Ns``).
    fits, floors : mapping
        :func:`~lrtools.studies.nonlinear.convergence_fits`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not np.array_equal(plain.Ns, projected.Ns):
        raise ValueError(f"plain and projected runs have different N: {plain.Ns} vs {projected.Ns}")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    Ns = plain.Ns
    f = floors["plain"]

    def floor_fn(n):
        return np.sqrt(f["a"] ** 2 / n + f["b"] ** 2)

    plot_convergence(
        axes[0], Ns, {"gradient descent": plain.overlap_error,
                      "projected on the Gaussian family": projected.overlap_error},
        fits={f"fit $N^{{{fits['proj'].slope:.2f}}}$ (projected)": fits["proj"],
              "fit $\\sqrt{a^2/N + b^2}$ (plain)": floor_fn})
    axes[0].set_title("(a) max over training of the overlap error")
    plot_convergence(axes[1], Ns, {"gradient descent": plain.loss_error,
                                   "projected": projected.loss_error},
                     ylabel="final loss difference")
    axes[1].set_title("(b) $|L_N - L_\\mathrm{theory}|$ at the last epoch")
    ax = axes[2]
    cols = plt.cm.viridis(np.linspace(0, 0.9, len(Ns)))
    ep = np.arange(1, plain.error_curves.shape[2])  # epoch 0 is exact (prescribed overlaps)
    for i, n in enumerate(Ns):
        ax.plot(ep, plain.error_curves[i, :, 1:].mean(axis=0), color=cols[i], lw=1.6,
                label=f"N={n}")
        ax.plot(ep, projected.error_curves[i, :, 1:].mean(axis=0), color=cols[i], lw=1.0,
                ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("overlap error (mean over seeds)")
    ax.set_title("(c) solid: descent, dashed: projected")
    ax.legend(fontsize="x-small")
    return fig


def plot_departure_study(conv: Convergence):
    """Chapter 2's departure figure: update outside the span and closure defect against N.

    (a) :func:`~lrtools.closure.departure` of every vector after training (solid) and at the start
    (dotted); (b) :func:`~lrtools.closure.closure_defect` of the trained networks and of Gaussian
    vectors with the same overlaps.

    Parameters
    ----------
    conv : Convergence
        :func:`~lrtools.closure.convergence_study` (plain descent).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..plotting import PALETTE

    c, Ns = conv, conv.Ns
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    plot_departure(axes[0], Ns, {f"${n}$": c.departure[:, :, 1, i] for i, n in enumerate("muvz")})
    for i in range(4):
        axes[0].plot(Ns, c.departure[:, :, 0, i].mean(axis=1), ":", color=PALETTE[i], lw=1.2)
    axes[0].set_title("(a) update outside span (dotted: initial)")
    axes[0].legend(fontsize="small", ncol=4, loc="upper center", bbox_to_anchor=(0.5, 0.93))
    plot_departure(axes[1], Ns, {"trained vectors": c.closure[:, :, 0],
                                 "Gaussian vectors, same $S$": c.closure[:, :, 1]},
                   ylabel="$L_N - L_\\mathrm{theory}(S)$", zero_line=True)
    axes[1].set_title("(b) closure defect on a held-out batch")
    return fig



def plot_tanh_study(tanh: Convergence, erf: Convergence, S0: Overlaps, eta: float):
    """Chapter 2's tanh figure: overlaps of the largest tanh network, and errors against N.

    (a) Visible overlaps of the tanh network at the largest ``N`` (first seed)
    with the tanh theory dashed; (b) largest overlap error for tanh and for erf at
    the same sizes and seeds.

    Parameters
    ----------
    tanh, erf : Convergence
        :func:`~lrtools.closure.convergence_study` with ``phi="tanh"`` and ``"erf"`` (plain
        descent); every tanh size must be among the erf sizes.
    S0 : Overlaps
        The initial overlaps of both studies (names and visible overlaps).
    eta : float
        Learning rate (the histories' learning time).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..plotting import plot_overlaps

    ct = tanh
    rows = study.erf_rows(ct, erf)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    i_big = len(ct.Ns) - 1
    time = eta * np.arange(ct.net_loss.shape[-1] + 1)
    hist_net = History(loss=ct.net_loss[i_big, 0], overlaps=ct.net_overlaps[i_big, 0],
                       names=S0.names, time=time)
    hist_th = History(loss=ct.theory_loss[0], overlaps=ct.theory_overlaps[0], names=S0.names,
                      time=time)
    plot_overlaps(axes[0], hist_net, S0.visible("tanh"), theory=hist_th, phi="tanh")
    axes[0].set_title(f"(a) tanh, N = {ct.Ns[i_big]}: network (thick), theory (dashed)")
    plot_convergence(axes[1], ct.Ns, {"tanh": ct.overlap_error,
                                      "erf": erf.overlap_error[rows, :len(ct.seeds)]})
    axes[1].set_title("(b) max overlap error, gradient descent")
    return fig


# ---------------------------------------------------------------------------
# Paper figures for lrtools.figures and the command line
# ---------------------------------------------------------------------------


def figure4(fast: bool = False, progress: bool | None = None):
    """Paper Figure 4a-c (flip-flop, erf, N = 600)."""
    s = study.FlipFlopSettings.for_mode(fast)
    return plot_figure4(s.task, study.flip_flop_runs(s, progress=progress), test_task=s.test_task)


def figure8(fast: bool = False, progress: bool | None = None):
    """Paper Figure 8 (small steps, large steps, Adam)."""
    d = study.figure8_data(study.FlipFlopSettings.for_mode(fast), progress=progress)
    return plot_figure8(d["histories"], d["closure"], theories=d["theories"], titles=d["titles"])


def figure11_nonlinear(fast: bool = False, progress: bool | None = None):
    """Paper Figure 11 (right, with the linear case beside it) at the trained overlaps."""
    runs = study.flip_flop_runs(study.FlipFlopSettings.for_mode(fast), progress=progress)
    return plot_figure11_nonlinear(runs["exact"].final, ("linear", "erf"))
