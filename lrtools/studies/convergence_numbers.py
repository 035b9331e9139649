"""Chapter 2 key numbers of the finite-N convergence study (:mod:`lrtools.studies.nonlinear`).

Power laws of the error against ``N``, their floors, the losses, the departure
from Gaussianity and the tanh rows. They only fit, average and divide; import them
from :mod:`lrtools.studies.nonlinear`, which re-exports them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._checks import require_keys
from ..closure import Convergence
from ..fits import PowerLaw, fit_floor, fit_power_law, loglog_slope

__all__ = ["convergence_fits", "convergence_numbers", "convergence_loss_numbers",
           "departure_numbers", "erf_rows", "tanh_numbers"]


def convergence_fits(plain: Convergence, projected: Convergence
                     ) -> tuple[dict[str, PowerLaw], dict[str, dict[str, float]]]:
    """Power laws and floors of the overlap and loss errors, plain and projected descent.

    Parameters
    ----------
    plain, projected : Convergence
        :func:`lrtools.closure.convergence_study` without and with the projection.

    Returns
    -------
    fits : dict
        :func:`lrtools.fits.fit_power_law` of the overlap errors (``plain``,
        ``proj``) and of the final loss differences (``plain_loss``, ``proj_loss``).
    floors : dict
        :func:`lrtools.fits.fit_floor` of the overlap errors (``plain``, ``proj``).
    """
    fits, floors = {}, {}
    for tag, c in (("plain", plain), ("proj", projected)):
        fits[tag] = fit_power_law(c.Ns, c.overlap_error)
        fits[tag + "_loss"] = fit_power_law(c.Ns, c.loss_error)
        floors[tag] = fit_floor(c.Ns, c.overlap_error)
    return fits, floors


def convergence_numbers(plain: Convergence, projected: Convergence,
                        fits: Mapping[str, PowerLaw], floors: Mapping[str, Mapping]) -> dict:
    """Key numbers of the convergence study from :func:`convergence_fits`.

    Parameters
    ----------
    plain, projected : Convergence
        :func:`lrtools.closure.convergence_study` without and with the projection.
    fits, floors : mapping
        :func:`convergence_fits` of the two.

    Returns
    -------
    dict
        For ``tag`` in ``plain``, ``proj``: ``slope_<tag>`` with its interval
        ``slope_<tag>_lo/_hi``, the same for the loss (``slope_<tag>_loss...``),
        the floor ``floor_<tag>`` with ``floor_<tag>_lo/_hi``, the mean overlap error
        at the largest and smallest ``N`` (``err_<tag>_Nmax``, ``err_<tag>_Nmin``);
        and ``crossover_plain``, the size at which the sampling term of plain
        descent falls below its floor (``1e9`` when there is no floor).
    """
    require_keys(fits, ("plain", "plain_loss", "proj", "proj_loss"), "fits")
    require_keys(floors, ("plain", "proj"), "floors")
    out = {}
    for tag, c in (("plain", plain), ("proj", projected)):
        f, fl, floor = fits[tag], fits[tag + "_loss"], floors[tag]
        out.update({f"slope_{tag}": f.slope, f"slope_{tag}_lo": f.ci[0], f"slope_{tag}_hi": f.ci[1],
                    f"slope_{tag}_loss": fl.slope, f"slope_{tag}_loss_lo": fl.ci[0],
                    f"slope_{tag}_loss_hi": fl.ci[1],
                    f"floor_{tag}": floor["b"], f"floor_{tag}_lo": floor["b_ci"][0],
                    f"floor_{tag}_hi": floor["b_ci"][1],
                    f"err_{tag}_Nmax": np.mean(c.overlap_error[-1]),
                    f"err_{tag}_Nmin": np.mean(c.overlap_error[0])})
    out["crossover_plain"] = min(floors["plain"]["crossover_N"], 1e9)  # inf without a floor
    return out


def convergence_loss_numbers(conv: Convergence) -> dict:
    """The theory loss at the start and the end of the convergence study.

    Parameters
    ----------
    conv : Convergence
        :func:`lrtools.closure.convergence_study`.

    Returns
    -------
    dict
        ``conv_loss_start`` and ``conv_loss_end``: the theory's first and last loss,
        means over seeds.
    """
    return {"conv_loss_start": conv.theory_loss[:, 0].mean(),
            "conv_loss_end": conv.theory_loss[:, -1].mean()}


def departure_numbers(conv: Convergence) -> dict:
    """Key numbers of the departure from the Gaussian family (plain descent).

    Parameters
    ----------
    conv : Convergence
        :func:`lrtools.closure.convergence_study` (plain descent).

    Returns
    -------
    dict
        ``departure_u_final`` and ``departure_u_initial`` (mean fraction of the
        update of ``u`` outside the span); for the closure defect of the trained
        networks (``closure_trained``) and of Gaussian vectors with the same
        overlaps (``closure_gauss``): the mean over all sizes and seeds, its
        standard deviation (``_sd``), the fraction of negative runs
        (``_negative``) and the power-law slope of its magnitude with interval
        (``_slope``, ``_slope_lo``, ``_slope_hi``); ``mardia_final_max``, the
        largest seed-averaged |Mardia excess| after training in units of its
        Gaussian sampling spread ``sqrt(8 k (k + 2) / N)``.
    """
    c, Ns = conv, conv.Ns
    k = c.departure.shape[-1]
    gauss_fit = fit_power_law(Ns, np.abs(c.closure[:, :, 1]))
    trained_fit = fit_power_law(Ns, np.abs(c.closure[:, :, 0]))
    return {
        "departure_u_final": c.departure[:, :, 1, 1].mean(),
        "departure_u_initial": c.departure[:, :, 0, 1].mean(),
        "closure_trained": c.closure[:, :, 0].mean(),
        "closure_trained_sd": c.closure[:, :, 0].std(),
        "closure_trained_negative": np.mean(c.closure[:, :, 0] < 0),
        "closure_gauss_negative": np.mean(c.closure[:, :, 1] < 0),
        "closure_gauss": c.closure[:, :, 1].mean(), "closure_gauss_sd": c.closure[:, :, 1].std(),
        "closure_gauss_slope": gauss_fit.slope, "closure_gauss_slope_lo": gauss_fit.ci[0],
        "closure_gauss_slope_hi": gauss_fit.ci[1], "closure_trained_slope": trained_fit.slope,
        "closure_trained_slope_lo": trained_fit.ci[0],
        "closure_trained_slope_hi": trained_fit.ci[1],
        "mardia_final_max": np.max(np.abs(c.mardia[:, :, 1].mean(axis=1))
                                   / np.sqrt(8 * k * (k + 2) / Ns)),
    }


def erf_rows(tanh: Convergence, erf: Convergence) -> list[int]:
    """The rows of the erf study at the sizes of the tanh study.

    Parameters
    ----------
    tanh, erf : Convergence
        The tanh and erf studies (plain descent).

    Returns
    -------
    list of int
        For every tanh size, its index in ``erf.Ns``.

    Raises
    ------
    ValueError
        If a tanh size is not among the erf sizes, or the tanh study has more seeds.
    """
    known = [int(n) for n in erf.Ns]
    missing = [int(n) for n in tanh.Ns if int(n) not in known]
    if missing:
        raise ValueError(f"tanh sizes {missing} are not among the erf sizes {known}")
    if len(tanh.seeds) > len(erf.seeds):
        raise ValueError(f"the tanh study has {len(tanh.seeds)} seeds, "
                         f"the erf one only {len(erf.seeds)}")
    return [known.index(int(n)) for n in tanh.Ns]


def tanh_numbers(tanh: Convergence, erf: Convergence) -> dict:
    """Key numbers of the tanh comparison.

    Parameters
    ----------
    tanh, erf : Convergence
        The tanh and erf studies (plain descent); every tanh size must be among the
        erf sizes (:func:`erf_rows`).

    Returns
    -------
    dict
        Mean largest overlap error at the smallest and largest tanh size for tanh
        (``tanh_err_small``, ``tanh_err_large``) and erf at the same sizes and
        seeds (``erf_err_small``, ``erf_err_large``), the sizes ``tanh_N_small``,
        ``tanh_N_large``, the log-log slopes between the two sizes
        (``tanh_slope``, ``erf_slope``) and the theory's final tanh loss
        ``tanh_loss_final``.
    """
    rows = erf_rows(tanh, erf)
    erf_same = erf.overlap_error[rows, :len(tanh.seeds)]
    sizes = [tanh.Ns[0], tanh.Ns[-1]]
    t_err = [tanh.overlap_error[0].mean(), tanh.overlap_error[-1].mean()]
    e_err = [erf_same[0].mean(), erf_same[-1].mean()]
    return {"tanh_err_small": t_err[0], "tanh_err_large": t_err[1],
            "erf_err_small": e_err[0], "erf_err_large": e_err[1],
            "tanh_N_small": tanh.Ns[0], "tanh_N_large": tanh.Ns[-1],
            "tanh_slope": loglog_slope(sizes, t_err), "erf_slope": loglog_slope(sizes, e_err),
            "tanh_loss_final": tanh.theory_loss[0, -1]}
