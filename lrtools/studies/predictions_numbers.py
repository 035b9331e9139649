"""Chapter 5 key numbers: what the text quotes from each study, and the summary table.

Each ``*_numbers`` function takes the result of a run of
:mod:`lrtools.studies.predictions` and returns plain numbers (means with their
sd over seeds, ranges, ratios); :func:`summary_table` writes the chapter's
summary from them. They only average and divide. Import them from
:mod:`lrtools.studies.predictions`, which re-exports them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._checks import require_keys

__all__ = [
    "BALANCE_KEYS",
    "family_numbers",
    "noise_numbers",
    "noise_speed_numbers",
    "cohort_numbers",
    "balance_numbers",
    "burial_numbers",
    "flow_limit_numbers",
    "rate_numbers",
    "pattern_numbers",
    "measurement_numbers",
    "crossover_numbers",
    "summary_table",
]

#: Short keys of the chapter's key numbers (``bal_<key>_...``) for the rules of
#: :data:`lrtools.plasticity.PLASTICITY_RULES`.
BALANCE_KEYS: dict[str, str] = {
    "gd": "gradient, eta 5e-3",
    "gd2": "gradient, eta 2.5e-3",
    "n1": "gradient + noise 1e-3",
    "n3": "gradient + noise 3e-3",
    "adam": "Adam, lr 1e-3",
    "erf": "gradient, erf network",
}


def _mean_sd(values: np.ndarray, what: str) -> tuple[float, float]:
    """Mean and sample sd (``ddof=1``) of per-seed values; at least two are needed."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"{what}: the sd over seeds needs at least two values, got shape "
                         f"{values.shape}")
    return float(values.mean()), float(values.std(ddof=1))


def family_numbers(data: Mapping[str, np.ndarray],
                   effects: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Key numbers of prediction 1 from the family runs.

    Parameters
    ----------
    data : mapping
        :func:`cached_family_runs` (needs ``time``, ``(n_bases, n_criteria, n)``).
    effects : mapping
        :func:`lrtools.plasticity.family_effects` of ``data`` (one value per base
        network).

    Returns
    -------
    dict
        ``speed_ratio``, ``spread_ratio``, ``rho_early``, ``rho_late``: mean over
        the base networks, each with its sd (``<name>_sd``, ``ddof=1``);
        ``t_early_min``, ``t_early_max``: range of the epochs to the first
        criterion over all members of all families.

    Raises
    ------
    ValueError
        If a key is missing or there are fewer than two base networks.
    """
    require_keys(data, ["time"], "family data")
    require_keys(effects, ["speed_ratio", "spread_ratio", "rho_early", "rho_late"],
                 "family effects")
    out: dict[str, float] = {}
    for k in ("speed_ratio", "spread_ratio", "rho_early", "rho_late"):
        out[k], out[f"{k}_sd"] = _mean_sd(effects[k], k)
    t_early = np.asarray(data["time"], dtype=float)[:, 0]
    out["t_early_min"], out["t_early_max"] = float(t_early.min()), float(t_early.max())
    return out


def noise_numbers(effects: Mapping[str, np.ndarray], check: Mapping[str, np.ndarray], *,
                  n_trials: int) -> dict[str, float]:
    """Key numbers of prediction 2.

    Parameters
    ----------
    effects : mapping
        :func:`lrtools.plasticity.family_effects` (``noise_ratio``,
        ``noise_ratio_random``).
    check : mapping
        :func:`cached_noise_check` of two members (``sampled``, ``predicted``,
        ``output_gap``).
    n_trials : int
        Trials of the check (for the expected sampling error of a variance).

    Returns
    -------
    dict
        ``noise_ratio``, ``noise_ratio_random`` with their sds over families;
        ``noise_pair_ratio``: predicted final variance, second over first member;
        ``noise_sim_err``: largest relative deviation of the mean simulated
        variance over the second half of the trial from the formula;
        ``noise_sim_expected``: ``sqrt(2 / (n_trials - 1))``, the relative
        sampling sd of one variance; ``noise_output_gap``.

    Raises
    ------
    ValueError
        If a key is missing, ``n_trials < 2`` or there are fewer than two families.
    """
    require_keys(effects, ["noise_ratio", "noise_ratio_random"], "family effects")
    require_keys(check, ["sampled", "predicted", "output_gap"], "noise check")
    if n_trials < 2:
        raise ValueError(f"n_trials must be at least 2, got {n_trials}")
    sampled, predicted = np.asarray(check["sampled"]), np.asarray(check["predicted"])
    late = slice(sampled.shape[1] // 2, None)  # second half of the trial: the variance has settled
    ratio_sim = sampled[:, late].mean(axis=1) / predicted[:, late].mean(axis=1)
    out: dict[str, float] = {}
    out["noise_ratio"], out["noise_ratio_sd"] = _mean_sd(effects["noise_ratio"], "noise_ratio")
    out["noise_ratio_random"], out["noise_ratio_random_sd"] = _mean_sd(
        effects["noise_ratio_random"], "noise_ratio_random")
    out["noise_pair_ratio"] = float(predicted[1, -1] / predicted[0, -1])
    out["noise_sim_err"] = float(np.max(np.abs(ratio_sim - 1)))
    out["noise_sim_expected"] = float(np.sqrt(2 / (n_trials - 1)))
    out["noise_output_gap"] = float(check["output_gap"])
    return out


def noise_speed_numbers(effects: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Key numbers of prediction 6: ``rho_noise_time`` and its sd over the families.

    Parameters
    ----------
    effects : mapping
        :func:`lrtools.plasticity.family_effects` (``rho_noise_time``).

    Returns
    -------
    dict
        ``rho_noise_time``, ``rho_noise_time_sd`` (mean and ``ddof=1`` sd).

    Raises
    ------
    ValueError
        If the key is missing or there are fewer than two families.
    """
    require_keys(effects, ["rho_noise_time"], "family effects")
    rho, rho_sd = _mean_sd(effects["rho_noise_time"], "rho_noise_time")
    return {"rho_noise_time": rho, "rho_noise_time_sd": rho_sd}


def cohort_numbers(effects: Mapping[str, Mapping[str, np.ndarray]],
                   step_scan: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Key numbers of prediction 3.

    Parameters
    ----------
    effects : mapping
        ``{"uniform": ..., "diverse": ...}`` from :func:`cohort_study`.
    step_scan : mapping
        :func:`lrtools.plasticity.reversal_step_scan` (``eta``, ``record``,
        ``record_negative``).

    Returns
    -------
    dict
        ``rec_*``: reductions (%) of the totals, reversal vs direct twin (mean,
        ``_sd`` over cohorts; ``mm``, ``zz``, ``W``, ``_div``: diverse population);
        ``neg_*``: fraction of animals with a lower total; ``d_*``: Cohen's d
        between groups; ``n_per_group``: animals per group for 80 % power at
        p < 0.05 (two-sided) on the readout total; ``acc_*``: decoding accuracy;
        ``beh_gap``: largest behaviour difference; ``step_*``: signed changes (%)
        at the largest and the smallest step, ``eta_large``, ``eta_small``.

    Raises
    ------
    ValueError
        If a population or key is missing or there are fewer than two cohorts.
    """
    require_keys(effects, ["uniform", "diverse"], "cohort effects")
    for pop in ("uniform", "diverse"):
        require_keys(effects[pop], ["record", "record_negative", "d", "acc_totals",
                                    "acc_behaviour", "behaviour_gap"], f"{pop} effects")
    require_keys(step_scan, ["eta", "record", "record_negative"], "step scan")
    u, d = effects["uniform"], effects["diverse"]

    def pct(e, j):  # reduction in %, its sd
        m, s = _mean_sd(e["record"][:, j], "record")
        return -100 * m, 100 * s

    out: dict[str, float] = {}
    out["rec_mm"], out["rec_mm_sd"] = pct(u, 0)
    out["rec_zz"], out["rec_zz_sd"] = pct(u, 1)
    out["rec_W"], out["rec_W_sd"] = pct(u, 2)
    out["rec_W_div"], out["rec_W_div_sd"] = pct(d, 2)
    out["neg_uniform"] = float(u["record_negative"].min())
    out["neg_div"] = float(d["record_negative"][:, 2].mean())
    out["d_z"], out["d_z_sd"] = _mean_sd(u["d"][:, 1], "d")
    out["d_W"], out["d_W_sd"] = _mean_sd(u["d"][:, 2], "d")
    out["d_z_div"], out["d_z_div_sd"] = _mean_sd(d["d"][:, 1], "d")
    out["d_W_div"], out["d_W_div_sd"] = _mean_sd(d["d"][:, 2], "d")
    out["rec_zz_div"], out["rec_zz_div_sd"] = pct(d, 1)
    out["neg_div_z"] = float(d["record_negative"][:, 1].mean())
    out["n_per_group"] = int(np.ceil(2 * (1.96 + 0.84) ** 2 / out["d_z"] ** 2))
    out["acc_conn"], out["acc_conn_sd"] = _mean_sd(u["acc_totals"], "acc_totals")
    out["acc_beh"], out["acc_beh_sd"] = _mean_sd(u["acc_behaviour"], "acc_behaviour")
    out["acc_conn_div"] = float(d["acc_totals"].mean())
    out["acc_beh_div"] = float(d["acc_behaviour"].mean())
    out["beh_gap"] = float(max(u["behaviour_gap"].max(), d["behaviour_gap"].max()))
    rec, neg = np.asarray(step_scan["record"]), np.asarray(step_scan["record_negative"])
    for name, k in (("W", 2), ("mm", 0), ("zz", 1)):  # columns of synaptic_totals
        out[f"step_{name}_large"] = float(100 * rec[0, k])
        out[f"step_{name}_small"] = float(100 * rec[-1, k])
    out["step_neg_mz_small"] = float(neg[-1, :2].min())
    out["step_neg_W_small"] = float(neg[-1, 2])
    out["eta_large"], out["eta_small"] = float(step_scan["eta"][0]), float(step_scan["eta"][-1])
    return out


def balance_numbers(runs: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, float]:
    """Key numbers of prediction 4.

    Parameters
    ----------
    runs : mapping
        :func:`balance_study`, with every rule of :data:`BALANCE_KEYS`.

    Returns
    -------
    dict
        ``bal_<key>_<q>`` and ``bal_<key>_<q>_sd`` (mean and sd over seeds) for
        every ``key`` of :data:`BALANCE_KEYS` and ``q`` in ``violation``,
        ``slope``, ``correlation``, ``total_ratio``, ``rate_free_residual``; ``bal_eta_ratio``: mean
        per-seed violation ratio of the two gradient steps; ``bal_noise_ratio``:
        the same for the two noise levels.

    Raises
    ------
    ValueError
        If a rule is missing or has fewer than two seeds.
    """
    require_keys(runs, list(BALANCE_KEYS.values()), "balance runs")
    out: dict[str, float] = {}
    for key, label in BALANCE_KEYS.items():
        for q in ("violation", "slope", "correlation", "total_ratio", "rate_free_residual"):
            out[f"bal_{key}_{q}"], out[f"bal_{key}_{q}_sd"] = _mean_sd(runs[label][q], label)
    L = BALANCE_KEYS
    out["bal_eta_ratio"] = float(np.mean(runs[L["gd"]]["violation"] / runs[L["gd2"]]["violation"]))
    out["bal_noise_ratio"] = float(np.mean(runs[L["n3"]]["violation"]
                                           / runs[L["n1"]]["violation"]))
    return out


def burial_numbers(pair: Mapping[str, np.ndarray], study: Mapping,
                   decay: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Key numbers of prediction 5.

    Parameters
    ----------
    pair : mapping
        :func:`burial_pair` (``D0``, ``function_gap``).
    study : mapping
        :func:`burial_study`.
    decay : mapping
        :func:`weight_decay_study`.

    Returns
    -------
    dict
        ``D0``, ``pair_function_gap``; ``exp_s``, ``exp_N`` with ``_low``,
        ``_high`` (bootstrap interval) and ``_seed_sd`` (sd over replications);
        ``life_ratio`` (measured over predicted lifetime) and ``retention`` (late
        mean difference over ``D0``), mean and sd over both scans;
        ``t_star_1e3``: lifetime at the first noise level; ``s_min``, ``s_max``,
        ``N_min``, ``N_max``: the scanned ranges; ``wd_ratio_small``,
        ``wd_ratio_large``: fitted over predicted decay rate at the smallest and
        the largest weight decay ``wd_small``, ``wd_large``.

    Raises
    ------
    ValueError
        If a key is missing.
    """
    require_keys(pair, ["D0", "function_gap"], "memory pair")
    require_keys(study, ["burial", "burial_N", "fit", "fit_N", "exp_s", "exp_N", "per_seed"],
                 "burial study")
    require_keys(decay, ["weight_decay", "fitted_rate", "predicted_rate"], "weight decay runs")
    fit, fit_N = study["fit"], study["fit_N"]
    ratio = np.concatenate([fit["t_star"] / fit["t_pred"], fit_N["t_star"] / fit_N["t_pred"]])
    retention = np.concatenate([fit["retention"], fit_N["retention"]])
    out: dict[str, float] = {"D0": float(pair["D0"]),
                             "pair_function_gap": float(pair["function_gap"])}
    for x in ("s", "N"):
        e = study[f"exp_{x}"]
        out[f"exp_{x}"], out[f"exp_{x}_low"], out[f"exp_{x}_high"] = (
            float(e["exponent"]), float(e["low"]), float(e["high"]))
    out["exp_s_seed_sd"] = _mean_sd(study["per_seed"]["s"], "per-seed exponent in s")[1]
    out["exp_N_seed_sd"] = _mean_sd(study["per_seed"]["N"], "per-seed exponent in N")[1]
    out["life_ratio"], out["life_ratio_sd"] = _mean_sd(ratio, "lifetime ratio")
    out["retention"], out["retention_sd"] = _mean_sd(retention, "retention")
    out["t_star_1e3"] = float(fit["t_star"][0])
    s, Ns = study["burial"]["std"], study["burial_N"]["N"]
    out["s_min"], out["s_max"] = float(s[0]), float(s[-1])
    out["N_min"], out["N_max"] = int(Ns[0]), int(Ns[-1])
    rate = np.asarray(decay["fitted_rate"]) / np.asarray(decay["predicted_rate"])
    out["wd_ratio_small"], out["wd_ratio_large"] = float(rate[0]), float(rate[-1])
    out["wd_small"] = float(decay["weight_decay"][0])
    out["wd_large"] = float(decay["weight_decay"][-1])
    return out


_TOTALS = ("mm", "zz", "W")  # columns of plasticity.synaptic_totals


def _spread(values: np.ndarray, prefix: str, out: dict) -> None:
    """Per-animal spread of a record (columns ``_TOTALS``): fraction negative, median, range."""
    from ..finite_step import record_statistics

    st = record_statistics(values)
    for j, name in enumerate(_TOTALS):
        out[f"{prefix}_neg_{name}"] = int(st["negative"][j])
        out[f"{prefix}_frac_{name}"] = float(st["fraction"][j])
        out[f"{prefix}_low_{name}"] = float(st["low"][j])
        out[f"{prefix}_high_{name}"] = float(st["high"][j])
        for q in ("median", "min", "max", "mean"):
            out[f"{prefix}_{q}_{name}"] = float(100 * st[q][j])
    out[f"{prefix}_n"] = int(st["n"])


def flow_limit_numbers(cohorts: Mapping, step_scan: Mapping[str, np.ndarray],
                       flow: Mapping[str, np.ndarray]) -> dict:
    """Key numbers of prediction 3's step dependence and flow limit.

    Parameters
    ----------
    cohorts : mapping
        ``{"uniform": ...}`` of :func:`cohort_study` (``direct``, ``reversal``
        ``(n_cohorts, n, 4, 4)``).
    step_scan : mapping
        The scan (``eta``, ``records (n_eta, n_scan, 3)``).
    flow : mapping
        :func:`flow_limit_study` of the scan's animals.

    Returns
    -------
    dict
        ``p3_paper_*``: per-animal spread at the cohorts' step, all cohorts pooled
        (:func:`_spread`: ``neg`` count, ``frac`` with ``low``, ``high`` (95 %
        Clopper-Pearson), ``median``, ``min``, ``max``, ``mean`` in %, for ``mm``,
        ``zz``, ``W``); ``p3_flow_*`` and ``p3_small_*``: the same for the scan's
        animals under the exact flow and at the smallest step; ``p3_slope_*``:
        first-order coefficient ``(modified - flow) / eta`` in % per ``1e-3`` of
        step (median, min, max, ``neg``, ``n``); ``p3_diag_ratio_mm``: median of
        the implicit-decay estimate ``-int (Gamma^2)_mm dtau`` over the first-order
        coefficient; ``p3_first_order_err``: median over animals of ``|GD -
        modified| / |GD - flow|`` at the smallest step (input total);
        ``p3_higher_ratio_mm``, ``p3_higher_ratio_W``: median over animals of the
        measured change at the largest step ``eta_largest`` over its first-order value;
        ``p3_flow_verdict``: ``"has no definite sign"`` if the interval of the
        fraction negative of the input total under the flow contains 1/2, else
        ``"is negative in most animals"`` or ``"is positive in most animals"``;
        ``eta_modified``; ``p3_flow_loss``.
    """
    from ..finite_step import record_statistics, relative_record

    require_keys(cohorts, ["uniform"], "cohorts")
    require_keys(step_scan, ["eta", "records"], "step scan")
    require_keys(flow, ["flow", "modified", "eta_modified", "decay", "loss"], "flow limit")
    u = cohorts["uniform"]
    rec = relative_record(np.asarray(u["direct"]), np.asarray(u["reversal"])).reshape(-1, 3)
    out: dict = {}
    _spread(rec, "p3_paper", out)
    _spread(np.asarray(flow["flow"]), "p3_flow", out)
    records = np.asarray(step_scan["records"])
    _spread(records[-1], "p3_small", out)
    eta_m = float(flow["eta_modified"])
    slope = (np.asarray(flow["modified"]) - np.asarray(flow["flow"])) / eta_m
    st = record_statistics(slope)
    for j, name in enumerate(_TOTALS):
        out[f"p3_slope_median_{name}"] = float(100 * 1e-3 * st["median"][j])
        out[f"p3_slope_min_{name}"] = float(100 * 1e-3 * st["min"][j])
        out[f"p3_slope_max_{name}"] = float(100 * 1e-3 * st["max"][j])
        out[f"p3_slope_neg_{name}"] = int(st["negative"][j])
    out["p3_slope_n"] = int(st["n"])
    diag = -np.asarray(flow["decay"])[:, 0]
    out["p3_diag_ratio_mm"] = float(np.median(diag / slope[:, 0]))
    k = int(np.argmin(np.asarray(step_scan["eta"])))
    if not np.isclose(step_scan["eta"][k], eta_m):
        raise ValueError("the modified flow must be at the smallest step of the scan")
    n = len(flow["flow"])  # the first animals of the scan
    gd = records[k][:n, 0]
    out["p3_first_order_err"] = float(np.median(np.abs(gd - flow["modified"][:, 0])
                                                / np.abs(gd - flow["flow"][:, 0])))
    j = int(np.argmax(np.asarray(step_scan["eta"])))
    first = np.asarray(flow["flow"]) + float(step_scan["eta"][j]) * slope
    out["p3_higher_ratio_mm"] = float(np.median(records[j][:n, 0] / first[:, 0]))
    out["p3_higher_ratio_W"] = float(np.median(records[j][:n, 2] / first[:, 2]))
    out["eta_largest"] = float(step_scan["eta"][j])
    lo, hi = out["p3_flow_low_mm"], out["p3_flow_high_mm"]
    out["p3_flow_verdict"] = ("has no definite sign" if lo <= 0.5 <= hi else
                              "is negative in most animals" if lo > 0.5 else
                              "is positive in most animals")
    out["p3_flow_verdict_W"] = ("has no definite sign" if out["p3_flow_low_W"] <= 0.5
                                <= out["p3_flow_high_W"] else
                                "is negative in most animals" if out["p3_flow_low_W"] > 0.5
                                else "is positive in most animals")
    out["eta_modified"] = eta_m
    out["p3_flow_loss"] = float(flow["loss"])
    return out


def rate_numbers(rates: Mapping[str, Mapping[str, np.ndarray]]) -> dict:
    """Key numbers of prediction 4 with unequal rates.

    Parameters
    ----------
    rates : mapping
        :func:`rate_study`; the first label has equal rates, the others do not.

    Returns
    -------
    dict
        ``rate_equal_violation`` (largest over the unequal-rate runs and seeds, law
        with equal weights in synaptic units), ``rate_weighted_violation``
        (largest, law weighted by the rates), ``rate_equal_gd_violation`` (equal
        rates, synaptic units, mean), ``rate_residual_max`` (largest rate-free
        residual over all runs), ``rate_weight_err`` (largest relative error of the
        recovered weights), ``rate_signs_ok`` (fraction of runs with the predicted
        signs), ``rate_ratio_max``: the largest rate ratio; per run ``i``:
        ``rate_label_<i>`` (the rates ``m:u:v:z``), ``rate_equal_<i>``,
        ``rate_factor_equal_<i>`` (equal weights, factor units) and
        ``rate_weighted_<i>``, means over seeds.
    """
    labels = list(rates)
    if len(labels) < 2:
        raise ValueError("need the equal-rate run and at least one unequal-rate run")
    uneq = [rates[k] for k in labels[1:]]
    out: dict = {
        "rate_equal_gd_violation": float(np.mean(rates[labels[0]]["weighted"])),
        "rate_equal_violation_max": float(max(np.max(r["equal"]) for r in uneq)),
        "rate_weighted_violation": float(max(np.max(r["weighted"]) for r in uneq)),
        "rate_residual_max": float(max(np.max(r["residual"]) for r in rates.values())),
        "rate_weight_err": float(max(np.max(np.abs(r["weights"] / r["true_weights"] - 1))
                                     for r in rates.values())),
        "rate_signs_ok": float(np.mean(np.concatenate([np.asarray(r["signs_ok"], dtype=float)
                                                       for r in rates.values()]))),
    }
    ratios = np.concatenate([np.asarray(r["rates"]) / np.min(r["rates"]) for r in uneq])
    out["rate_ratio_max"] = float(ratios.max())
    for i, k in enumerate(labels):
        out[f"rate_label_{i}"] = k.split("= ")[-1]
        out[f"rate_equal_{i}"] = float(np.mean(rates[k]["equal"]))
        out[f"rate_factor_equal_{i}"] = float(np.mean(rates[k]["factor_equal"]))
        out[f"rate_weighted_{i}"] = float(np.mean(rates[k]["weighted"]))
    return out


def pattern_numbers(data: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray], *,
                    N: int) -> dict:
    """Key numbers of prediction 2's patterned stimulation.

    Parameters
    ----------
    data : mapping
        :func:`cached_family_runs` (``pattern``, ``noise``: variances of the trained
        members under readout-pattern and independent stimulation).
    effects : mapping
        :func:`lrtools.plasticity.family_effects` (``pattern_ratio``,
        ``pattern_ratio_random``).
    N : int
        Neurons of the families (of the independent-noise formula).

    Returns
    -------
    dict
        ``pattern_ratio``, ``pattern_ratio_random`` with sds over families;
        ``pattern_gain``: median over members of patterned over independent variance;
        ``pattern_var_median``, ``iso_var_median``: the two medians; ``N_family``.
    """
    require_keys(data, ["pattern", "noise"], "family data")
    require_keys(effects, ["pattern_ratio", "pattern_ratio_random"], "family effects")
    out: dict = {}
    for k in ("pattern_ratio", "pattern_ratio_random"):
        out[k], out[f"{k}_sd"] = _mean_sd(effects[k], k)
    pat, iso = np.asarray(data["pattern"]), np.asarray(data["noise"])
    out["pattern_gain"] = float(np.median(pat / iso))
    out["pattern_var_median"] = float(np.median(pat))
    out["iso_var_median"] = float(np.median(iso))
    out["N_family"] = int(N)
    return out


def _half_level(levels: np.ndarray, rho: np.ndarray) -> float:
    """Noise level at which ``|rho|`` falls to half its noise-free value (log interpolation)."""
    r = np.abs(rho) / abs(rho[0])
    below = np.nonzero(r <= 0.5)[0]
    if len(below) == 0:
        return float("inf")
    k = below[0]
    x0, x1 = np.log(max(levels[k - 1], 1e-6)), np.log(levels[k])
    return float(np.exp(x0 + (x1 - x0) * (r[k - 1] - 0.5) / (r[k - 1] - r[k])))


def measurement_numbers(noisy: Mapping[str, np.ndarray]) -> dict:
    """Key numbers of predictions 1 and 6 with measurement noise.

    Parameters
    ----------
    noisy : mapping
        :func:`noisy_connectome_study` (``noise``, ``rho_speed``, ``rho_variance``).

    Returns
    -------
    dict
        ``meas_rho_speed_<i>``, ``meas_rho_inv_<i>`` (visible overlaps exact) and
        ``meas_rho_var_<i>``: mean over families at the ``i``-th noise level,
        ``meas_level_<i>`` the level; ``meas_half_speed``, ``meas_half_inv``,
        ``meas_half_var``: relative noise that halves ``|rho|`` (``inf`` if none).
    """
    require_keys(noisy, ["noise", "rho_speed", "rho_invisible", "rho_variance"],
                 "noisy connectome")
    lv = np.asarray(noisy["noise"], dtype=float)
    if lv[0] != 0:
        raise ValueError("the first measurement noise level must be 0")
    out: dict = {}
    rs, rv = np.asarray(noisy["rho_speed"]).mean(1), np.asarray(noisy["rho_variance"]).mean(1)
    ri = np.asarray(noisy["rho_invisible"]).mean(1)
    for i, x in enumerate(lv):
        out[f"meas_level_{i}"] = float(x)
        out[f"meas_rho_speed_{i}"] = float(rs[i])
        out[f"meas_rho_inv_{i}"] = float(ri[i])
        out[f"meas_rho_var_{i}"] = float(rv[i])
    out["meas_half_speed"] = _half_level(lv, rs)
    out["meas_half_inv"] = _half_level(lv, ri)
    out["meas_half_var"] = _half_level(lv, rv)
    return out


def crossover_numbers(cross: Mapping[str, np.ndarray]) -> dict:
    """Key numbers of prediction 5's crossover between noise and weight decay.

    Parameters
    ----------
    cross : mapping
        :func:`crossover_study` (``t_star``, ``t_formula``, ``kappa``,
        ``kappa_fit``, ``weight_decay``, ``std``), first axis the noise levels.

    Returns
    -------
    dict
        ``cross_t0_<i>``: lifetime without decay at the ``i``-th noise level;
        ``cross_tw_<i>``: at the largest decay; ``cross_s_<i>``; ``cross_w_max``;
        ``cross_t0_ratio``, ``cross_tw_ratio``: first over last noise level, without
        and at the largest decay; ``cross_t0_pred_ratio``: ``(s_last / s_first)^2``;
        ``cross_formula_ratio`` and ``_sd``: measured over
        predicted lifetime over every decay ``> 0`` and level;
        ``cross_kappa_ratio``: median fitted over predicted decay rate of the mean
        difference; ``cross_efold_max``: ``1 / kappa`` at the largest decay.
    """
    require_keys(cross, ["t_star", "t_formula", "kappa", "kappa_fit", "weight_decay", "std"],
                 "crossover")
    t, tf = np.asarray(cross["t_star"]), np.asarray(cross["t_formula"])
    out: dict = {}
    for i in range(len(t)):
        out[f"cross_t0_{i}"] = float(t[i, 0])
        out[f"cross_tw_{i}"] = float(t[i, -1])
        out[f"cross_s_{i}"] = float(np.asarray(cross["std"])[i])
    out["cross_w_max"] = float(np.asarray(cross["weight_decay"])[0, -1])
    out["cross_t0_ratio"] = float(t[0, 0] / t[-1, 0])
    s = np.asarray(cross["std"], dtype=float)
    out["cross_t0_pred_ratio"] = float((s[-1] / s[0]) ** 2)
    out["cross_tw_ratio"] = float(t[0, -1] / t[-1, -1])
    ratio = (t[:, 1:] / tf[:, 1:]).ravel()
    out["cross_formula_ratio"], out["cross_formula_ratio_sd"] = _mean_sd(ratio, "lifetime ratio")
    kr = np.asarray(cross["kappa_fit"])[:, 1:] / np.asarray(cross["kappa"])[:, 1:]
    out["cross_kappa_ratio"] = float(np.median(kr))
    out["cross_efold_max"] = float(1 / np.asarray(cross["kappa"])[0, -1])
    return out


def summary_table(values: Mapping[str, float]) -> str:
    """The chapter's summary of the six predictions as a Markdown table.

    Parameters
    ----------
    values : mapping
        The chapter's key numbers (``lrtools.report.Numbers.values``).

    Returns
    -------
    str
        A Markdown table: prediction, what is measured, effect (mean ± sd over seeds).

    Raises
    ------
    ValueError
        If a number the table quotes is missing.
    """
    v = values
    require_keys(v, ["speed_ratio", "speed_ratio_sd", "rho_early", "rho_early_sd",
                     "noise_ratio", "noise_ratio_sd", "noise_ratio_random",
                     "noise_ratio_random_sd", "rec_zz", "rec_zz_sd", "d_z", "acc_conn",
                     "acc_beh", "bal_gd_violation", "bal_n3_violation", "bal_adam_violation",
                     "bal_erf_violation", "exp_s", "exp_s_low", "exp_s_high", "exp_N",
                     "exp_N_low", "exp_N_high", "rho_noise_time", "rho_noise_time_sd",
                     "pattern_ratio", "pattern_ratio_sd", "p3_paper_median_mm",
                     "p3_paper_frac_mm", "p3_paper_low_mm", "p3_paper_high_mm",
                     "p3_slope_median_mm", "p3_flow_verdict", "rate_residual_max",
                     "bal_adam_rate_free_residual", "cross_tw_ratio", "cross_t0_ratio",
                     "meas_half_speed", "meas_half_inv"],
                 "key numbers")
    rows = [
        ("1. Equal behaviour, different learning speed", "learning curves; connectivity to rank",
         f"slowest/fastest predicted quartile {v['speed_ratio']:.2f} ± {v['speed_ratio_sd']:.2f}; "
         f"ρ = {v['rho_early']:.2f} ± {v['rho_early_sd']:.2f}; ρ halves at "
         f"{v['meas_half_speed']:.1%} overlap noise ({v['meas_half_inv']:.0%} with the visible "
         "overlaps from behaviour)"),
        ("2. Stimulation separates equivalent circuits", "output variability under stimulation",
         f"quartile ratio {v['noise_ratio']:.2f} ± {v['noise_ratio_sd']:.2f} trained, "
         f"{v['noise_ratio_random']:.2f} ± {v['noise_ratio_random_sd']:.2f} untrained; "
         f"readout-pattern stimulation {v['pattern_ratio']:.2f} ± {v['pattern_ratio_sd']:.2f} "
         "at any N"),
        ("3. Finite plasticity steps: a reversal leaves weaker input synapses",
         "synaptic totals of two groups",
         f"input {v['p3_paper_median_mm']:+.2f} % (median), lower in {v['p3_paper_frac_mm']:.0%} "
         f"[{v['p3_paper_low_mm']:.0%}, {v['p3_paper_high_mm']:.0%}] of animals; "
         f"{v['p3_slope_median_mm']:+.2f} % per 1e-3 of step; flow limit "
         f"{v['p3_flow_verdict']}; decoding {v['acc_conn']:.2f} vs behaviour {v['acc_beh']:.2f}"),
        ("4. Per-neuron balance law", "incoming vs outgoing synaptic change per neuron",
         f"violation GD {v['bal_gd_violation']:.4f}, noise 3e-3 {v['bal_n3_violation']:.2f}, "
         f"Adam {v['bal_adam_violation']:.2f}, erf {v['bal_erf_violation']:.2f}; rate-free "
         f"residual ≤ {v['rate_residual_max']:.4f} (gradient, any rates), Adam "
         f"{v['bal_adam_rate_free_residual']:.2f}"),
        ("5. Noise buries the memory", "connectivity of cohorts at several delays",
         f"lifetime ∝ s^p N^q: p = {v['exp_s']:.2f} [{v['exp_s_low']:.2f}, {v['exp_s_high']:.2f}], "
         f"q = {v['exp_N']:.2f} [{v['exp_N_low']:.2f}, {v['exp_N_high']:.2f}] (95 % intervals); "
         f"with strong decay two noise levels' lifetimes differ {v['cross_tw_ratio']:.1f}-fold "
         f"instead of {v['cross_t0_ratio']:.1f}-fold"),
        ("6. Noise sensitivity predicts learning speed", "stimulation variability, then learning",
         f"ρ = {v['rho_noise_time']:.2f} ± {v['rho_noise_time_sd']:.2f}"),
    ]
    table = "| prediction | measured | effect (mean ± sd over seeds, or intervals) |\n"
    table += "|---|---|---|\n"
    return table + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
