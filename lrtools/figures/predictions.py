"""Chapter 5 figures: one figure per prediction, and the axes-level panels they are made of.

Each ``plot_p<k>_*`` function draws the whole figure of prediction ``k`` from the
results of :mod:`lrtools.studies.predictions` (``study`` below; the science is in
:mod:`lrtools.plasticity` and :mod:`lrtools.burial`), as the notebook calls them; the
axes-level functions (:func:`plot_family`, :func:`plot_noise_separation`,
:func:`plot_noise_speed`, :func:`plot_cohort`, :func:`plot_balance`,
:func:`plot_burial`) draw onto given axes. None of these is a numbered paper
figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib.ticker as mt
import numpy as np
from scipy.stats import rankdata

from .._checks import require_keys
from ..plasticity import synaptic_totals
from ..plotting import PALETTE, SIM, THEORY
from ..studies.predictions import BALANCE_KEYS

__all__ = [
    "BALANCE_SHORT",
    "plot_family",
    "plot_noise_separation",
    "plot_noise_speed",
    "plot_cohort",
    "plot_balance",
    "plot_burial",
    "plot_p1_learning_speed",
    "plot_p2_noise_separation",
    "plot_p3_reversal",
    "plot_p4_balance",
    "plot_p5_noise_burial",
    "plot_p6_noise_speed",
    "plot_p1_measurement_noise",
    "plot_p2_pattern",
    "plot_p3_flow_limit",
    "plot_p4_rates",
    "plot_p5_crossover",
]

#: Tick labels of the rules in the balance figure.
BALANCE_SHORT: dict[str, str] = {
    "gradient, eta 5e-3": "GD 5e-3",
    "gradient, eta 2.5e-3": "GD 2.5e-3",
    "gradient + noise 1e-3": "noise 1e-3",
    "gradient + noise 3e-3": "noise 3e-3",
    "Adam, lr 1e-3": "Adam",
    "gradient, erf network": "erf",
}


def _plain_log_ticks(ax, x=None, y: bool = True) -> None:
    """Log axes with plain numbers (``%g``) instead of ``a x 10^b`` labels."""
    if y:
        ax.yaxis.set_major_locator(mt.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(mt.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(mt.NullFormatter())
    if x is not None:
        ax.set_xticks(list(np.asarray(x, dtype=float)))
        ax.xaxis.set_minor_locator(mt.NullLocator())
        ax.xaxis.set_major_formatter(mt.FormatStrFormatter("%g"))


def _effect_strip(ax, values: Mapping[str, np.ndarray], *, colors=None, ref: float | None = None,
                  log: bool = False):
    """One column per label: the values (dots, one per seed) and their mean +- sd."""
    rng = np.random.default_rng(0)
    for i, v in enumerate(values.values()):
        v = np.asarray(v, dtype=float)
        col = (colors or PALETTE)[i % len(colors or PALETTE)]
        ax.scatter(i + 0.08 * rng.standard_normal(len(v)), v, s=14, color=col, alpha=0.7,
                   edgecolors="none", zorder=3)
        ax.errorbar(i + 0.3, v.mean(), yerr=v.std(ddof=1) if len(v) > 1 else 0, fmt="o",
                    color="0.15", ms=4, capsize=3, zorder=4)
    if ref is not None:
        ax.axhline(ref, color="0.5", lw=0.8, ls=":")
    ax.set_xticks(range(len(values)), list(values), fontsize="small")
    ax.set_xlim(-0.5, len(values) - 0.3)
    if log:
        ax.set_yscale("log")
    return ax


def plot_family(axes, data: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray], *,
                base: int = 0):
    """Prediction 1 on three axes: loss curves, speed vs time, effect sizes over bases.

    ``data`` from ``study.cached_family_runs``, ``effects`` from ``plasticity.family_effects``.
    """
    speed, loss = data["speed"][base], data["loss"][base]
    t_early = data["time"][base, 0]
    crit = float(data["criteria"][base, 0])
    ax = axes[0]
    norm = mpl.colors.Normalize(speed.min(), speed.max())
    cmap = mpl.colormaps["viridis"]
    epochs = np.arange(loss.shape[0])
    for i in np.argsort(speed)[:: max(len(speed) // 40, 1)]:
        ax.plot(epochs, loss[:, i] / loss[0, i], color=cmap(norm(speed[i])), lw=0.8, alpha=0.8)
    ax.axhline(crit, color="0.3", lw=0.8, ls=":")
    ax.set(yscale="log", xscale="symlog", xlabel="epoch", ylabel="loss / initial loss",
           xlim=(0, epochs[-1]), ylim=(1e-6, 1.5))
    ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8,
                       label="predicted initial speed")
    ax = axes[1]
    ax.scatter(speed, t_early, s=10, color=PALETTE[0], alpha=0.6, edgecolors="none")
    ax.set(xlabel=r"predicted initial speed $\eta\,\mathrm{tr}(\Gamma S\Gamma)$",
           ylabel=f"epochs to {crit:g} of the initial loss")
    _effect_strip(axes[2], {"slow / fast\n(predicted)": effects["speed_ratio"],
                            "slow / fast\n(measured)": effects["spread_ratio"]}, ref=1.0)
    axes[2].set_ylabel("ratio of mean epochs to criterion")
    return axes


def plot_noise_separation(axes, check: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray],
                          t: np.ndarray):
    """Prediction 2: simulated and predicted output variance; spread in two kinds of family."""
    ax = axes[0]
    labels = ("least sensitive", "most sensitive")
    for i in range(len(check["sampled"])):
        ax.plot(t, check["sampled"][i], color=PALETTE[i], label=labels[i % 2], **SIM)
        ax.plot(t, check["predicted"][i], **THEORY | {"label": "formula" if i else None})
    ax.set(xlabel="time", ylabel="output variance")
    ax.legend(fontsize="x-small")
    _effect_strip(axes[1], {"trained\nfamilies": effects["noise_ratio"],
                            "untrained\nfamilies": effects["noise_ratio_random"]},
                  colors=[PALETTE[2], PALETTE[7]], ref=1.0)
    axes[1].set_ylabel("output variance, top / bottom quartile")
    return axes


def plot_noise_speed(ax, data: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray]):
    """Prediction 6: noise sensitivity against time to criterion, every family (rank-normalised)."""
    n_b = len(data["noise"])
    for b in range(n_b):
        x = rankdata(data["noise"][b]) / data["noise"].shape[1]
        y = rankdata(data["time"][b, 0]) / data["noise"].shape[1]
        ax.scatter(x, y, s=6, alpha=0.5, color=PALETTE[b % len(PALETTE)], edgecolors="none",
                   label=rf"base {b}: $\rho$ = {effects['rho_noise_time'][b]:.2f}")
    ax.set(xlabel="output variance under noise (rank in family)",
           ylabel="epochs to criterion (rank in family)")
    ax.legend(fontsize="xx-small", markerscale=2)
    return ax


def plot_cohort(axes, cohorts: Mapping[str, Mapping[str, np.ndarray]],
                effects: Mapping[str, Mapping[str, np.ndarray]], eta_scan: Mapping | None = None):
    """Prediction 3: paired change of the synaptic totals, decoding accuracy, step-size scaling.

    ``cohorts[population]`` from ``plasticity.cohort_runs``; ``effects[population]``: the
    ``plasticity.cohort_effects`` values stacked over cohorts; ``eta_scan``: ``eta (n,)``
    and ``record (n, 3)``.
    """
    names = (r"$|m|^2$", r"$|z|^2$", r"$\sum W_{ij}^2$")
    ax = axes[0]
    rng = np.random.default_rng(0)
    for j, (pop, data) in enumerate(cohorts.items()):
        T_d, T_r = synaptic_totals(data["direct"][0]), synaptic_totals(data["reversal"][0])
        rel = 100 * (T_r - T_d) / T_d
        for k in range(3):
            x = 3 * j + k + 0.1 * rng.standard_normal(len(rel))
            ax.scatter(x, rel[:, k], s=8, alpha=0.6, color=PALETTE[k], edgecolors="none",
                       label=names[k] if j == 0 else None)
        ax.text(3 * j + 1, 1.0, pop, transform=ax.get_xaxis_transform(), ha="center",
                va="top", fontsize="small")
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set_xticks([])
    ax.set_ylabel("reversal vs direct twin (%)")
    ax.legend(fontsize="x-small", loc="lower left")
    ax = axes[1]
    vals = {}
    for pop, e in effects.items():
        vals[f"{pop}\nconnectivity"] = e["acc_totals"]
        vals[f"{pop}\nbehaviour"] = e["acc_behaviour"]
    _effect_strip(ax, vals, colors=[PALETTE[3], PALETTE[7]] * len(effects), ref=0.5)
    ax.set_ylabel("decoding accuracy (new individuals)")
    ax.set_ylim(0.3, 1.02)
    ax.tick_params(axis="x", labelsize="x-small")
    if eta_scan is not None:
        ax = axes[2]
        for k in range(3):
            ax.semilogx(eta_scan["eta"], 100 * eta_scan["record"][:, k], "o-", color=PALETTE[k],
                        label=names[k])
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set(xlabel=r"plasticity step $\eta$", ylabel="reversal vs direct twin (%)")
        _plain_log_ticks(ax, x=eta_scan["eta"], y=False)
        ax.legend(fontsize="x-small")
    return axes


def plot_balance(axes, runs: Mapping[str, Mapping[str, np.ndarray]], examples: Sequence[str],
                 *, seed_index: int = 0, short: Mapping[str, str] | None = None):
    """Prediction 4: per-neuron scatter for ``examples`` (one axis each), violation per rule (last).

    ``runs`` from ``plasticity.balance_runs`` (several calls merged); ``short`` maps rule
    labels to tick labels.
    """
    for ax, label in zip(axes[:-1], examples, strict=False):
        r = runs[label]
        d_in, d_out = r["d_in"][seed_index], r["d_out"][seed_index]
        lim = np.max(np.abs(np.concatenate([d_in, d_out])))
        ax.plot([-lim, lim], [-lim, lim], color="0.5", lw=0.8, ls="--")
        ax.scatter(d_in, d_out, s=4, alpha=0.5, color=PALETTE[0], edgecolors="none")
        ax.set(xlabel=r"$\Delta(m_i^2 + u_i^2)$", ylabel=r"$\Delta(z_i^2 + v_i^2)$",
               title=f"{label}\nslope {r['slope'][seed_index]:.2f}, "
                     f"corr {r['correlation'][seed_index]:.2f}")
        ax.set_aspect("equal", adjustable="datalim")
    short = short or {}
    _effect_strip(axes[-1], {short.get(k, k): v["violation"] for k, v in runs.items()},
                  log=True)
    axes[-1].set_ylabel("violation of the balance")
    axes[-1].tick_params(axis="x", labelsize="x-small", rotation=35)
    return axes


def plot_burial(axes, burial: Mapping[str, np.ndarray], fit: Mapping[str, np.ndarray], *,
                show: int = 0, n_lines: int = 12, N_scan: Mapping | None = None,
                decay: Mapping | None = None):
    """Prediction 5: individuals under noise, d' against scaled time, lifetime scaling, decay.

    ``burial``/``fit`` from ``burial.noise_burial``/``burial.lifetime_fit`` (a scan over
    the noise); ``N_scan``: the same two for a scan over ``N``; ``decay``:
    ``study.weight_decay_study``.
    """
    D0 = float(burial["D0"])
    ep, p = burial["epoch"][show], burial["proj"][show]
    ax = axes[0]
    ref = p[0, 0, 0]
    for g, col in ((0, PALETTE[0]), (1, PALETTE[3])):
        for r in range(n_lines):
            ax.plot(ep, (p[:, g, r] - ref) / D0, color=col, lw=0.5, alpha=0.4)
        ax.plot(ep, (p[:, g].mean(axis=-1) - ref) / D0, color=col, lw=2.5,
                label=("A, A, A" if g == 0 else "A, B, A") + " (mean)")
    ax.set(xlabel=f"epochs with synaptic noise s = {burial['std'][show]:g}",
           ylabel=r"record along $e$ / $D_0$")
    ax.legend(fontsize="x-small")
    ax = axes[1]
    for i, s in enumerate(burial["std"]):
        x = burial["epoch"][i] / fit["t_pred"][i]
        ax.plot(x[1:], fit["dprime"][i, 1:], color=PALETTE[i % len(PALETTE)], lw=1.5,
                label=f"s = {s:g}")
    xx = np.linspace(0.05, x[-1], 100)
    ax.plot(xx, 1 / np.sqrt(xx), color="0.1", lw=1.0, ls="--", label=r"$(t/t^*_{pred})^{-1/2}$")
    ax.axhline(1, color="0.5", lw=0.8, ls=":")
    ax.set(xscale="log", yscale="log", xlabel=r"epochs / predicted lifetime",
           ylabel=r"$d'$ between the histories")
    _plain_log_ticks(ax)
    ax.legend(fontsize="xx-small")
    ax = axes[2]
    lo, hi = np.quantile(fit["t_boot"], [0.025, 0.975], axis=0)
    s = burial["std"]
    ax.errorbar(s, fit["t_star"], yerr=[fit["t_star"] - lo, hi - fit["t_star"]], fmt="o",
                color=PALETTE[3], capsize=3, label=f"measured, N = {int(burial['N'][0])}")
    ax.plot(s, fit["t_pred"], color="0.1", lw=1.0, ls="--", label=r"$D_0^2 N / (4 s^2 e^\top S e)$")
    ax.set(xscale="log", yscale="log", xlabel="synaptic noise s (per entry and epoch)",
           ylabel=r"lifetime $t^*$ (epochs)")
    _plain_log_ticks(ax, x=s)
    ax.legend(fontsize="x-small", loc="lower left")
    if N_scan is not None:
        inset = ax.inset_axes([0.58, 0.58, 0.38, 0.38])
        b, f = N_scan
        lo, hi = np.quantile(f["t_boot"], [0.025, 0.975], axis=0)
        inset.errorbar(b["N"], f["t_star"], yerr=[f["t_star"] - lo, hi - f["t_star"]], fmt="o",
                       color=PALETTE[0], capsize=2, ms=3)
        inset.plot(b["N"], f["t_pred"], color="0.1", lw=0.8, ls="--")
        inset.set(xscale="log", yscale="log")
        _plain_log_ticks(inset, x=b["N"])
        inset.set_xlabel("N", fontsize="x-small", labelpad=1)
        inset.set_ylabel(r"$t^*$", fontsize="x-small", labelpad=1)
        inset.tick_params(labelsize="xx-small")
    if decay is not None:
        ax = axes[3]
        for i, w in enumerate(decay["weight_decay"]):
            e, d = decay["epoch"][i], decay["distance"][i]
            ax.plot(e, d / D0, color=PALETTE[i], lw=1.8, label=f"w = {w:g}")
            # the predicted rate, drawn through the last point (the late-time slope)
            ax.plot(e, d[-1] / D0 * np.exp(decay["predicted_rate"][i] * (e[-1] - e)),
                    color="0.1", lw=0.8, ls="--")
        ax.set(yscale="log", xlabel="epochs with weight decay",
               ylabel=r"invisible distance / $D_0$")
        ax.legend(fontsize="x-small")
    return axes


def _titled(axes, titles, **kw) -> None:
    for ax, title in zip(axes, titles, strict=True):
        ax.set_title(title, **kw)


def plot_p1_learning_speed(data: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray]):
    """Figure of prediction 1 (chapter 5): :func:`plot_family` on three titled panels.

    Parameters
    ----------
    data, effects : mapping
        ``study.cached_family_runs`` and ``plasticity.family_effects``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), width_ratios=[1.25, 1, 0.8])
    plot_family(axes, data, effects)
    _titled(axes, ["a  one family learns the new filter", "b  predicted speed vs outcome",
                   f"c  {len(data['speed'])} base networks"])
    return fig


def plot_p2_noise_separation(check: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray],
                             *, N: int, dt: float = 0.05):
    """Figure of prediction 2 (chapter 5): :func:`plot_noise_separation` on two titled panels.

    Parameters
    ----------
    check : mapping
        ``plasticity.noise_check`` (or ``study.cached_noise_check``) of two members.
    effects : mapping
        ``plasticity.family_effects``.
    N : int
        Neurons of the checked networks (for the title).
    dt : float
        Time step of the check (time axis ``k dt``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = np.arange(np.shape(check["sampled"])[1]) * dt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), width_ratios=[1.4, 1])
    plot_noise_separation(axes, check, effects, t)
    _titled(axes, [f"a  two equivalent trained networks, N = {N}",
                   f"b  {len(effects['noise_ratio'])} families each"])
    return fig


def plot_p3_reversal(cohorts: Mapping[str, Mapping[str, np.ndarray]],
                     effects: Mapping[str, Mapping[str, np.ndarray]],
                     step_scan: Mapping[str, np.ndarray]):
    """Figure of prediction 3 (chapter 5): :func:`plot_cohort` on three titled panels.

    Parameters
    ----------
    cohorts, effects, step_scan
        The three results of ``study.cohort_study``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    n_cohorts = len(next(iter(effects.values()))["acc_totals"])
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), width_ratios=[1.1, 1.2, 0.9])
    plot_cohort(axes, cohorts, effects, step_scan)
    _titled(axes, ["a  paired change, one cohort each",
                   f"b  history from two groups ({n_cohorts} cohorts)",
                   "c  uniform cohort: step size"])
    return fig


def plot_p4_balance(runs: Mapping[str, Mapping[str, np.ndarray]]):
    """Figure of prediction 4 (chapter 5): :func:`plot_balance`, four example rules.

    Parameters
    ----------
    runs : mapping
        ``study.balance_study`` (needs the rules ``gd``, ``n3``, ``adam`` and
        ``erf`` of ``study.BALANCE_KEYS``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    examples = [BALANCE_KEYS[k] for k in ("gd", "n3", "adam", "erf")]
    require_keys(runs, examples, "balance runs")
    fig, axes = plt.subplots(1, 5, figsize=(17, 3.9), width_ratios=[1, 1, 1, 1, 1.5])
    plot_balance(axes, runs, examples, short=BALANCE_SHORT)
    for ax, letter in zip(axes, "abcde", strict=True):
        ax.set_title(f"{letter}  " + ax.get_title(), fontsize="small")
    return fig


def plot_p5_noise_burial(study: Mapping, decay: Mapping[str, np.ndarray]):
    """Figure of prediction 5 (chapter 5): :func:`plot_burial` on four titled panels.

    Panel a shows the second noise level of the scan in ``s``.

    Parameters
    ----------
    study : mapping
        ``study.burial_study``.
    decay : mapping
        ``study.weight_decay_study``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.9))
    plot_burial(axes, study["burial"], study["fit"], show=1,
                N_scan=(study["burial_N"], study["fit_N"]), decay=decay)
    s_N = np.ravel(study["burial_N"]["std"])[0]
    _titled(axes, ["a  individuals under noise", "b  readability",
                   f"c  lifetime (inset: N, s = {s_N:g})", "d  weight decay erases"],
            loc="left", fontsize="small")
    return fig


def plot_p6_noise_speed(data: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray]):
    """Figure of prediction 6 (chapter 5): :func:`plot_noise_speed` on one titled panel.

    Parameters
    ----------
    data, effects : mapping
        ``study.cached_family_runs`` and ``plasticity.family_effects``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(5.2, 4))
    plot_noise_speed(ax, data, effects)
    ax.set_title(f"noise sensitivity vs learning time, {len(data['noise'])} families",
                 fontsize="small")
    return fig


def plot_p1_measurement_noise(noisy: Mapping[str, np.ndarray]):
    """Predictions 1 and 6 with measurement noise: rank correlation against the relative noise.

    Parameters
    ----------
    noisy : mapping
        ``study.noisy_connectome_study`` (``noise``, ``rho_speed``, ``rho_invisible``,
        ``rho_variance``; the first level is 0).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(5.6, 3.9))
    lv = np.asarray(noisy["noise"], dtype=float)
    x = np.where(lv > 0, lv, lv[1] / 3)  # the noise-free value drawn left of the first level
    for key, label, col in (("rho_speed", "speed from all overlaps (prediction 1)", PALETTE[0]),
                            ("rho_invisible", "speed, visible overlaps from behaviour",
                             PALETTE[2]),
                            ("rho_variance", "output variance (prediction 6)", PALETTE[3])):
        r = np.asarray(noisy[key])
        ax.errorbar(x, r.mean(1), yerr=r.std(1, ddof=1) if r.shape[1] > 1 else None, fmt="o-",
                    color=col, capsize=2, ms=4, label=label)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set(xscale="log", xlabel="relative measurement noise (first point: none)",
           ylabel=r"Spearman $\rho$ with epochs to criterion")
    ax.set_xticks(list(x), ["0"] + [f"{v:g}" for v in lv[1:]])
    ax.xaxis.set_minor_locator(mt.NullLocator())
    ax.legend(fontsize="x-small")
    ax.set_title("predictions 1 and 6 from noisy measurements", fontsize="small")
    return fig


def plot_p2_pattern(data: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray], *,
                    N: int, Ns: Sequence[int] = (100, 300, 1000, 3000, 10000), family: int = 0):
    """Prediction 2 with patterned stimulation: variance against ``N``; spread in the families.

    Parameters
    ----------
    data : mapping
        ``study.cached_family_runs`` (``noise``: independent stimulation at ``N``
        neurons; ``pattern``: along the readout pattern, independent of ``N``).
    effects : mapping
        ``plasticity.family_effects`` (``pattern_ratio``, ``pattern_ratio_random``).
    N : int
        Neurons of ``data["noise"]`` (the independent variance scales as ``1/N``).
    Ns : sequence of int
        Sizes drawn in panel a.
    family : int
        The family of panel a.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), width_ratios=[1.3, 1])
    ax = axes[0]
    Ns = np.asarray(Ns, dtype=float)
    order = np.argsort(data["pattern"][family])
    for j, (i, name) in enumerate(((order[0], "least"), (order[-1], "most"))):
        ax.plot(Ns, np.full_like(Ns, data["pattern"][family][i]), "-", color=PALETTE[j],
                lw=2, label=f"readout pattern, {name} sensitive")
        ax.plot(Ns, data["noise"][family][i] * N / Ns, "--", color=PALETTE[j], lw=1.5,
                label=f"independent per neuron, {name} sensitive")
    ax.set(xscale="log", yscale="log", xlabel="neurons N",
           ylabel="stationary output variance")
    ax.legend(fontsize="xx-small")
    _effect_strip(axes[1], {"trained\nfamilies": effects["pattern_ratio"],
                            "untrained\nfamilies": effects["pattern_ratio_random"]},
                  colors=[PALETTE[2], PALETTE[7]], ref=1.0)
    axes[1].set_ylabel("variance, top / bottom quartile")
    _titled(axes, ["a  two members of a trained family", "b  readout-pattern stimulation"],
            fontsize="small")
    return fig


def plot_p3_flow_limit(step_scan: Mapping[str, np.ndarray], flow: Mapping[str, np.ndarray]):
    """Prediction 3 against the plasticity step: every animal, the flow limit, the first order.

    Parameters
    ----------
    step_scan : mapping
        ``eta (n_eta,)``, ``records (n_eta, n, 3)`` (``study.cohort_study``).
    flow : mapping
        ``study.flow_limit_study`` of the same animals (``flow``, ``modified``,
        ``eta_modified``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    eta = np.r_[0.0, np.asarray(step_scan["eta"], dtype=float)]
    order = np.argsort(eta)
    n = len(flow["flow"])  # the first animals of the scan
    rec = np.concatenate([np.asarray(flow["flow"])[None], np.asarray(step_scan["records"])[:, :n]])
    slope = (np.asarray(flow["modified"]) - np.asarray(flow["flow"])) / float(flow["eta_modified"])
    names = (r"input total $|m|^2$", r"readout total $|z|^2$", r"recurrent total $\sum W_{ij}^2$")
    for k, ax in enumerate(axes):
        for a in range(rec.shape[1]):
            ax.plot(1e3 * eta[order], 100 * rec[order, a, k], color=PALETTE[k], lw=0.6, alpha=0.4)
        ax.plot(1e3 * eta[order], 100 * np.median(rec[order, :, k], axis=1), "o-", color="0.1",
                lw=1.8, ms=4, label="median (GD; flow at 0)")
        ee = np.linspace(0, eta.max(), 50)
        ax.plot(1e3 * ee, 100 * np.median(rec[0, :, k] + ee[:, None] * slope[:, k], axis=1),
                color="0.1", ls="--", lw=1, label="first order (modified flow)")
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set(xlabel=r"plasticity step $\eta$ ($10^{-3}$), fixed learning time",
               ylabel="reversal vs direct twin (%)", title=f"{'abc'[k]}  {names[k]}")
        ax.legend(fontsize="x-small")
    return fig


def plot_p4_rates(rates: Mapping[str, Mapping[str, np.ndarray]],
                  runs: Mapping[str, Mapping[str, np.ndarray]]):
    """Prediction 4 with unequal rates and in synaptic units; the rate-free test of every rule.

    Parameters
    ----------
    rates : mapping
        ``study.rate_study`` (``equal``, ``factor_equal``, ``weighted``,
        ``residual`` per seed).
    runs : mapping
        ``study.balance_study`` (``rate_free_residual`` per rule).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.9), width_ratios=[1.3, 1])
    ax = axes[0]
    labels = [k.split("= ")[-1] for k in rates]
    width = 0.27
    for j, (q, name) in enumerate((("factor_equal", "equal weights, factors"),
                                   ("equal", "equal weights, synapses"),
                                   ("weighted", "weights 1/rate, synapses"))):
        vals = np.array([np.mean(r[q]) for r in rates.values()])
        ax.bar(np.arange(len(vals)) + (j - 1) * width, vals, width, color=PALETTE[j], label=name)
    ax.set_xticks(range(len(labels)), [f"m:u:v:z =\n{x}" for x in labels], fontsize="x-small")
    ax.set(yscale="log", ylabel="violation of the balance")
    ax.legend(fontsize="x-small")
    vals = {BALANCE_SHORT.get(k, k): v["rate_free_residual"] for k, v in runs.items()}
    vals.update({f"rates\n{x}": r["residual"] for x, r in zip(labels[1:], list(rates.values())[1:],
                                                             strict=True)})
    _effect_strip(axes[1], vals, log=True)
    axes[1].set_ylabel("rate-free residual (smallest / largest s.v.)")
    axes[1].tick_params(axis="x", labelsize="xx-small", rotation=35)
    _titled(axes, ["a  the law with unequal rates", "b  a relation without knowing the rates"],
            fontsize="small")
    return fig


def plot_p5_crossover(cross: Mapping[str, np.ndarray]):
    """Prediction 5 with weight decay or turnover ``w`` and noise: the lifetime crossover.

    Parameters
    ----------
    cross : mapping
        ``study.crossover_study`` (first axis the noise levels).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.9))
    ax = axes[0]
    w = np.asarray(cross["weight_decay"])[0]
    pos = w > 0
    kap = np.asarray(cross["kappa"])[0]
    for i, s in enumerate(np.asarray(cross["std"])):
        t, lo, hi = (np.asarray(cross[k])[i] for k in ("t_star", "t_low", "t_high"))
        ax.errorbar(w[pos], t[pos], yerr=[t[pos] - lo[pos], hi[pos] - t[pos]], fmt="o",
                    color=PALETTE[i], capsize=3, label=f"s = {s:g} (no decay: {t[0]:.0f})")
        ax.plot(w[pos], np.asarray(cross["t_formula"])[i, pos], color=PALETTE[i], lw=1)
    ax.plot(w[pos], 1 / kap[pos], color="0.2", ls=":", lw=1,
            label=r"e-folding of the mean, $1/(2\eta w)$")
    ax.set(xscale="log", yscale="log", xlabel="weight decay (turnover) w",
           ylabel=r"lifetime ($d'$ = 1), epochs")
    ax.legend(fontsize="xx-small")
    ax = axes[1]
    for j, k in enumerate(np.nonzero(pos)[0][[0, -1]]):
        for i in range(len(cross["std"])):
            e, d = np.asarray(cross["epoch"])[i, k], np.asarray(cross["dprime"])[i, k]
            ax.plot(e[1:], d[1:], color=PALETTE[i], lw=1.2, ls="-" if j else "--",
                    label=f"s = {cross['std'][i]:g}, w = {w[k]:g}")
    ax.axhline(1, color="0.5", lw=0.8, ls=":")
    ax.set(xscale="log", yscale="log", xlabel="epochs with noise and decay",
           ylabel=r"$d'$ between the histories")
    ax.legend(fontsize="xx-small")
    _titled(axes, ["a  lifetime against decay (lines: formula)", "b  readability"],
            fontsize="small")
    return fig
