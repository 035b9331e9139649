"""Chapter 3 key numbers: what the text quotes from each study of :mod:`lrtools.studies.probe`.

Each ``*_numbers`` function takes the result of a run and returns plain numbers
(gaps, ratios, rank correlations). Import them from :mod:`lrtools.studies.probe`,
which re-exports them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._checks import require_keys
from ..equivalence import epochs_to_criterion, free_overlaps
from ..fits import rank_correlation, speed_linearity_residual
from ..tasks import Task

if TYPE_CHECKING:
    from .probe import FamilySettings

__all__ = ["equivalence_numbers", "construction_numbers", "figure2_numbers", "speed_numbers",
           "family_numbers", "family_check_numbers", "noise_numbers", "erf_numbers"]


def equivalence_numbers(gaps: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Largest ``visible_gap``, ``target_gap``, ``output_gap`` of :func:`equivalence_gaps`."""
    if not gaps:
        raise ValueError("gaps is empty")
    return {"visible_gap": max(g["visible"] for g in gaps.values()),
            "target_gap": max(g["targets"] for g in gaps.values()),
            "output_gap": max(g["output"] for g in gaps.values())}


def figure2_numbers(data: Mapping) -> dict[str, float]:
    """Key numbers of Figure 2 (both pairs) from ``data``, :func:`figure2_runs`.

    For each pair ``name`` in ``("start", "trained")``: ``activity_gap_<name>``
    (relative root-mean-square difference of the three neurons' activity),
    ``noise_var1_<name>``, ``noise_var2_<name>`` (long-time output noise
    variance of ``theta_1``, ``theta_2``, formula), ``noise_diff_sd_<name>``
    (long-time sd of ``y_2 - y_1`` under the same noise), ``noise_sd_<name>``
    (``sqrt(noise_var1)``), ``loss1_<name>``, ``loss2_<name>`` (network loss
    after ``after`` epochs) and ``theory_gap_<name>`` (largest relative gap of
    the exact overlap map to the network's loss curve, both networks).

    Returns
    -------
    dict
        The numbers above and ``loss_ratio_start`` (``loss1 / loss2``, random start),
        ``noise_ratio_trained`` (``noise_var1 / noise_var2``, trained pair),
        ``after`` and ``c_new`` (the trained pair's new filter).
    """
    resp, learn, after = data["responses"], data["learn"], data["after"]
    out: dict[str, float] = {}
    for name in ("start", "trained"):
        H = resp[name]["h"]
        out[f"activity_gap_{name}"] = np.sqrt(np.mean((H[1] - H[0]) ** 2) / np.mean(H[0] ** 2))
        out[f"noise_var1_{name}"] = resp[name]["noise_var"][0][-1]
        out[f"noise_var2_{name}"] = resp[name]["noise_var"][1][-1]
        out[f"noise_diff_sd_{name}"] = np.sqrt(resp[name]["diff_var"][-1])
        out[f"noise_sd_{name}"] = np.sqrt(resp[name]["noise_var"][0][-1])
        out[f"loss1_{name}"] = learn[name][0]["network"].loss[after]
        out[f"loss2_{name}"] = learn[name][1]["network"].loss[after]
        out[f"theory_gap_{name}"] = max(
            np.max(np.abs(r["network"].loss - r["exact"].loss) / r["exact"].loss)
            for r in learn[name])
    # ratios of the plain floats the notebook records (as it always computed them)
    out["loss_ratio_start"] = float(out["loss1_start"]) / float(out["loss2_start"])
    out["noise_ratio_trained"] = (float(out["noise_var1_trained"])
                                  / float(out["noise_var2_trained"]))
    out["after"] = after
    out["c_new"] = data["tasks"]["trained"].c
    return out


def speed_numbers(errors: Mapping[str, np.ndarray], etas: Sequence[float]) -> dict[str, float]:
    """Key numbers of the initial-speed check from :func:`speed_errors`.

    Returns
    -------
    dict
        ``speed_error_start`` and ``speed_error_trained`` (largest error at
        ``etas[0]`` over the networks of the ``"start"`` / ``"trained"`` pair),
        ``speed_error_trained_small`` (the trained pair at ``etas[-1]``),
        ``speed_error_halving`` (mean ratio of the errors at ``etas[-2]`` and
        ``etas[-1]``, over all networks) and ``eta_small`` (``etas[-1]``).
    """
    if len(etas) < 2:
        raise ValueError(f"need at least two learning rates, got {len(etas)}")
    for prefix in ("start", "trained"):
        if not any(k.startswith(prefix) for k in errors):
            raise ValueError(f"errors has no entry of the {prefix!r} pair: {list(errors)}")
    return {
        "speed_error_start": max(v[0] for k, v in errors.items() if k.startswith("start")),
        "speed_error_trained": max(v[0] for k, v in errors.items() if k.startswith("trained")),
        "speed_error_trained_small": max(v[-1] for k, v in errors.items()
                                         if k.startswith("trained")),
        "speed_error_halving": np.mean([v[-2] / v[-1] for v in errors.values()]),
        "eta_small": etas[-1],
    }


def _reached(epochs: np.ndarray, what: str) -> np.ndarray:
    ok = epochs[np.isfinite(epochs)]
    if ok.size == 0:
        raise ValueError(f"no member of the {what} family reaches the loss criterion")
    return ok


def _rank(a, b) -> float:
    return rank_correlation(np.asarray(a, float), np.asarray(b, float))


def family_numbers(start: Mapping, trained: Mapping, *, theta1_loss) -> dict[str, float]:
    """Key numbers of the two linear families (random and trained start).

    Parameters
    ----------
    start, trained : dict
        :func:`family_summary` of the families around the random and the trained start.
    theta1_loss : History or numpy.ndarray
        Loss curve of the paper's ``theta_1`` from the random start.

    Returns
    -------
    dict
        ``n_family``, ``rho_start``, ``rho_trained``, ``crit_start``,
        ``crit_trained``, ``epochs_start_min``, ``epochs_start_max`` (over members
        that reach it), ``epochs_start_theta1``, ``n_not_reached``,
        ``epochs_trained_min``, ``epochs_trained_max``, ``speed_spread_start``
        (max / min speed), ``linear_residual`` (:func:`speed_linearity_residual`),
        ``n_members``, ``n_diverged``; rank correlations over the random-start
        family ``rho_speed_mu`` (speed with ``sigma_mu``), ``rho_epochs_uu``,
        ``rho_epochs_mu``, ``rho_epochs_vv``, ``rho_epochs_zv`` (epochs with each
        overlap); ``rho_trained_early`` and ``rho_trained_late`` (trained family's
        rank curve at the criterion nearest 1e-2 of the initial loss,
        ``frac_trained_early``, and at the last fraction) and ``rho_start_best``
        (largest ``|rho|`` of the random-start curve).
    """
    e_start, e_trained = start["epochs"], trained["epochs"]
    members = start["members"]
    free = free_overlaps(members[0], "linear")
    out = {
        "n_family": len(members), "rho_start": start["rho"], "rho_trained": trained["rho"],
        "crit_start": start["criterion"], "crit_trained": trained["criterion"],
        "epochs_start_min": np.min(e_start),
        "epochs_start_max": np.max(_reached(e_start, "random-start")),
        "epochs_start_theta1": epochs_to_criterion(theta1_loss, start["criterion"]),
        "n_not_reached": int(np.sum(~np.isfinite(e_start))),
        "epochs_trained_min": np.min(e_trained),
        "epochs_trained_max": np.max(_reached(e_trained, "trained")),
        "speed_spread_start": np.max(start["speed"]) / np.min(start["speed"]),
        "linear_residual": speed_linearity_residual(members, start["speed"], free),
        "n_members": len(members) + len(trained["members"]),
        "n_diverged": int(start["diverged"].sum() + trained["diverged"].sum()),
    }
    o = {k: [S[k] for S in members] for k in ("mu", "uu", "vv", "zv")}
    fractions = trained["fractions"]
    out.update(
        rho_speed_mu=_rank(o["mu"], start["speed"]),
        rho_epochs_uu=_rank(o["uu"], e_start),
        rho_epochs_mu=_rank(o["mu"], e_start),
        rho_epochs_vv=_rank(o["vv"], e_start),
        rho_epochs_zv=_rank(o["zv"], e_start),
        rho_trained_early=trained["rho_curve"][np.argmin(np.abs(fractions - 1e-2))],
        frac_trained_early=fractions[np.argmin(np.abs(fractions - 1e-2))],
        rho_trained_late=trained["rho_curve"][-1],
        rho_start_best=np.nanmax(np.abs(start["rho_curve"])),
    )
    return out


def family_check_numbers(check: Mapping, settings: FamilySettings) -> dict[str, float]:
    """``family_check_gap`` (largest gap of :func:`family_check`), ``n_check``, ``check_epochs``."""
    require_keys(check, ("gap",), "check (family_check)")
    return {"family_check_gap": np.max(check["gap"]), "n_check": settings.n_check,
            "check_epochs": settings.check_epochs}


def noise_numbers(noise: Mapping[str, np.ndarray], stationary: np.ndarray, task: Task, *,
                  n_trials: int) -> dict[str, float]:
    """Key numbers of the noise check (:func:`noise_runs`) and of the family's noise spread.

    Parameters
    ----------
    noise, stationary : dict, numpy.ndarray
        :func:`noise_runs` (``predicted``, ``sampled``, ``(n, T)``) and
        :func:`stationary_noise_variance` of every member of the family.
    task, n_trials : Task, int
        The time grid (the "late" half: ``t >= t_max / 2``); trials per network.

    Returns
    -------
    dict
        ``n_noise``, ``n_trials``, ``noise_rms_rel`` and ``noise_mean_rel``
        (root mean square and mean of ``sampled / predicted - 1`` over all networks
        and times after the first), ``noise_rms_expected`` (``sqrt(2 / (n_trials -
        1))``, sampling error alone), ``noise_late_ratio`` (mean ratio over the late
        half), ``noise_late_se`` (its standard error over networks) and
        ``noise_spread`` (max / min of ``stationary``).
    """
    if int(n_trials) != n_trials or n_trials < 2:
        raise ValueError(f"n_trials must be an integer >= 2, got {n_trials}")
    pred, samp = np.asarray(noise["predicted"]), np.asarray(noise["sampled"])
    if pred.shape != samp.shape or pred.ndim != 2 or pred.shape[1] != task.n_steps:
        raise ValueError(f"predicted {pred.shape} and sampled {samp.shape} must both have "
                         f"shape (networks, {task.n_steps})")
    n_noise = pred.shape[0]
    if n_noise < 2:
        raise ValueError("the standard error over networks needs at least 2 networks")
    rel = samp[:, 1:] / pred[:, 1:] - 1
    late = task.t[1:] >= task.t_max / 2  # second half: the variance has settled
    return {"n_noise": n_noise, "n_trials": n_trials,
            "noise_rms_rel": np.sqrt(np.mean(rel**2)),
            "noise_rms_expected": np.sqrt(2 / (n_trials - 1)),
            "noise_mean_rel": np.mean(rel),
            "noise_late_ratio": 1 + np.mean(rel[:, late]),
            "noise_late_se": np.std(np.mean(rel[:, late], axis=1), ddof=1) / np.sqrt(n_noise),
            "noise_spread": np.max(stationary) / np.min(stationary)}


def erf_numbers(summary: Mapping, check: Mapping) -> dict[str, float]:
    """Key numbers of the erf family (:func:`family_summary`) and its extremes.

    Parameters
    ----------
    summary, check : dict
        :func:`family_summary` of the erf family and its :func:`extreme_members`.

    Returns
    -------
    dict
        ``n_erf``, ``rho_erf`` (speed against epochs to criterion),
        ``erf_epochs_min``, ``erf_epochs_max`` (over members that reach it),
        ``erf_output_gap`` (fastest vs slowest member's output),
        ``erf_output_scale`` (largest theory output), ``erf_theory_gap`` (largest
        gap of the two members and the reference network to the theory),
        ``erf_loss_fast``, ``erf_loss_slow`` (final network losses),
        ``erf_check_epochs``, ``rho_erf_early`` and ``erf_frac_early`` (rank curve
        at its first criterion fraction), ``rho_erf_speed_zz`` and
        ``rho_erf_epochs_zz``, ``rho_erf_epochs_vv``, ``rho_erf_epochs_zv`` (rank
        correlations of speed / epochs with the free overlaps).
    """
    epochs, members = summary["epochs"], summary["members"]
    o = {k: np.array([S[k] for S in members]) for k in ("zz", "zv", "vv")}
    y_a, y_b, y_th = check["y_fast"], check["y_slow"], check["y_theory"]
    runs = check["runs"]
    return {
        "n_erf": len(members), "rho_erf": summary["rho"], "erf_epochs_min": np.min(epochs),
        "erf_epochs_max": np.max(_reached(epochs, "erf")),
        "erf_output_gap": np.max(np.abs(y_a - y_b)), "erf_output_scale": np.max(np.abs(y_th)),
        "erf_theory_gap": max(np.max(np.abs(y - y_th)) for y in (y_a, y_b, check["y_start"])),
        "erf_loss_fast": runs[0]["network"].loss[-1], "erf_loss_slow": runs[1]["network"].loss[-1],
        "erf_check_epochs": check["epochs"], "rho_erf_early": summary["rho_curve"][0],
        "erf_frac_early": summary["fractions"][0],
        "rho_erf_speed_zz": _rank(o["zz"], summary["speed"]),
        "rho_erf_epochs_zz": _rank(o["zz"], epochs),
        "rho_erf_epochs_vv": _rank(o["vv"], epochs),
        "rho_erf_epochs_zv": _rank(o["zv"], epochs),
    }


def construction_numbers(comparison: Mapping) -> dict[str, float]:
    """Numbers of :func:`~lrtools.studies.probe.construction_comparison`.

    ``<key>_<construction>_<pair>`` for ``key`` in ``v_change``, ``vv_change``,
    ``zv_change``, ``noise_ratio``, ``diff_sd``; constructions ``random`` (the
    paper's) and ``minimal``; pairs ``start`` and ``trained``.
    """
    if not comparison:
        raise ValueError("comparison is empty")
    return {f"{k}_{how}_{name}": v for (how, name), row in comparison.items()
            for k, v in row.items()}
