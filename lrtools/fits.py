"""Fits and effect sizes: power laws, floors, rates, exponents, standardised differences.

Every fit the book quotes is one of these, so a slope means the same thing in every
chapter:

* :func:`loglog_slope`: least-squares slope of ``log y`` against ``log x``;
* :func:`fit_power_law` (:class:`PowerLaw`): the same with a t-interval, every
  (size, seed) point counted once;
* :func:`fit_floor`: ``err(N)^2 = a^2 / N + b^2``, a sampling term plus a floor,
  with bootstrap intervals over seeds;
* :func:`fit_rate`: the rate of an exponential decay;
* :func:`step_extrapolation`: a straight line in the step size, read at zero step;
* :func:`fit_exponent`: a log-log slope with a bootstrap interval;
* :func:`cohens_d`, :func:`quartile_ratio`: effect sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["loglog_slope", "PowerLaw", "fit_power_law", "fit_floor", "fit_rate",
           "fit_exponent", "step_extrapolation", "cohens_d", "quartile_ratio", "rank_correlation",
           "speed_linearity_residual"]


def step_extrapolation(etas: Sequence[float], values) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares line ``values = slope * eta + intercept`` over step sizes ``etas``.

    ``values`` has the step sizes on its first axis (shape ``(len(etas), ...)``);
    every trailing position gets its own line. Returns ``(slope, intercept)``, each
    of the trailing shape (floats for 1-d ``values``): the intercept is the part
    that remains as ``eta -> 0``, the slope the part proportional to the step.
    """
    etas = np.asarray(etas, dtype=float)
    y = np.asarray(values, dtype=float)
    if etas.ndim != 1 or y.shape[:1] != etas.shape:
        raise ValueError(f"values must have the {etas.size} step sizes on their first axis, "
                         f"got shape {y.shape}")
    if np.unique(etas).size < 2:
        raise ValueError(f"a line in the step size needs two distinct steps, got {etas.tolist()}")
    if not np.all(np.isfinite(y)):
        raise ValueError("step extrapolation needs finite values")
    slope, intercept = np.polyfit(etas, y.reshape(etas.size, -1), 1)
    shape = y.shape[1:]
    if not shape:
        return float(slope[0]), float(intercept[0])
    return slope.reshape(shape), intercept.reshape(shape)


def loglog_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (at least two points, all positive)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-d of the same length, got {x.shape} and {y.shape}")
    if x.size < 2 or np.unique(x).size < 2:
        raise ValueError(f"a slope needs two distinct points, got x = {x.tolist()}")
    if np.any(x <= 0) or np.any(y <= 0) or not np.all(np.isfinite(y)):
        raise ValueError("a log-log slope needs positive, finite values")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


@dataclass(frozen=True)
class PowerLaw:
    """Least-squares fit ``log err = intercept + slope log N`` with a confidence interval.

    ``ci`` is the two-sided interval of the slope at level ``level`` from the
    t distribution with ``n - 2`` degrees of freedom (every (N, seed) error is one
    point; seeds are independent).
    """

    slope: float
    intercept: float
    stderr: float
    ci: tuple[float, float]
    level: float
    n_points: int

    def __call__(self, N: np.ndarray) -> np.ndarray:
        """Fitted error at ``N``."""
        return np.exp(self.intercept) * np.asarray(N, dtype=np.float64) ** self.slope


def fit_power_law(Ns: Sequence[float], errors: np.ndarray, level: float = 0.95) -> PowerLaw:
    """Fit ``err ~ C N^slope`` on log-log axes.

    Parameters
    ----------
    Ns : sequence, shape (n,)
        Network sizes.
    errors : array, shape (n,) or (n, s)
        Errors (one column per seed).
    level : float
        Confidence level of the slope interval.
    """
    errors = np.asarray(errors, dtype=np.float64)
    Ns = np.asarray(Ns, dtype=np.float64)
    if errors.ndim == 1:
        errors = errors[:, None]
    if errors.shape[0] != Ns.size:
        raise ValueError(f"errors has {errors.shape[0]} rows for {Ns.size} values of N")
    if np.any(errors <= 0) or not np.all(np.isfinite(errors)):
        raise ValueError("errors must be positive and finite for a log-log fit")
    x = np.repeat(np.log(Ns), errors.shape[1])
    y = np.log(errors).ravel()
    if np.unique(x).size < 2 or x.size < 3:
        raise ValueError("need at least two values of N and three points")
    res = stats.linregress(x, y)
    t = stats.t.ppf(0.5 + level / 2, x.size - 2)
    return PowerLaw(slope=float(res.slope), intercept=float(res.intercept),
                    stderr=float(res.stderr),
                    ci=(float(res.slope - t * res.stderr), float(res.slope + t * res.stderr)),
                    level=level, n_points=int(x.size))


def fit_floor(Ns: Sequence[float], errors: np.ndarray, *, n_boot: int = 2000,
              level: float = 0.95, seed: int = 0) -> dict[str, float]:
    """Fit ``err(N)^2 = a^2 / N + b^2``: a sampling term plus an N-independent floor.

    Linear least squares for ``(a^2, b^2)`` on the seed-averaged squared errors
    (weights ``1 / mean^2``, i.e. relative residuals), clipped at zero. Confidence
    intervals by bootstrap: the seeds of every ``N`` are resampled with
    replacement ``n_boot`` times.

    Parameters
    ----------
    Ns : sequence, shape (n,)
        Network sizes.
    errors : array, shape (n, s)
        Errors, one column per seed.
    n_boot, level, seed : bootstrap resamples, interval level and generator seed.

    Returns
    -------
    dict
        ``a``, ``b`` (the floor), ``crossover_N = (a / b)^2`` (the size at which
        the two terms are equal; ``inf`` without a floor) and the intervals
        ``a_ci``, ``b_ci`` (tuples).
    """
    Ns = np.asarray(Ns, dtype=np.float64)
    errors = np.asarray(errors, dtype=np.float64).reshape(Ns.size, -1)

    def solve(err: np.ndarray) -> tuple[float, float]:
        e2 = np.mean(err**2, axis=1)
        A = np.stack([1.0 / Ns, np.ones_like(Ns)], axis=1) / e2[:, None]
        coef, *_ = np.linalg.lstsq(A, np.ones_like(Ns), rcond=None)
        a2, b2 = np.clip(coef, 0.0, None)
        return float(np.sqrt(a2)), float(np.sqrt(b2))

    a, b = solve(errors)
    rng = np.random.default_rng(seed)
    s = errors.shape[1]
    boot = np.array([solve(np.take_along_axis(errors, rng.integers(0, s, errors.shape), axis=1))
                     for _ in range(n_boot)])
    lo, hi = 50 * (1 - level), 50 * (1 + level)
    a_ci = tuple(float(v) for v in np.percentile(boot[:, 0], [lo, hi]))
    b_ci = tuple(float(v) for v in np.percentile(boot[:, 1], [lo, hi]))
    return {"a": a, "b": b, "crossover_N": (a / b) ** 2 if b > 0 else float("inf"),
            "a_ci": a_ci, "b_ci": b_ci}


def fit_rate(t: np.ndarray, y: np.ndarray) -> float:
    """Exponential decay rate ``r`` of ``y ~ exp(-r t)`` by least squares on ``log y``."""
    t, y = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
    ok = y > 0
    if ok.sum() < 2:
        raise ValueError("need at least two positive values to fit a rate")
    return float(-np.polyfit(t[ok], np.log(y[ok]), 1)[0])


def fit_exponent(x: np.ndarray, t: np.ndarray, t_boot: np.ndarray | None = None,
                 ci: float = 0.95) -> dict[str, float]:
    """Slope of ``log t`` against ``log x``, with a bootstrap interval from ``t_boot``.

    Returns
    -------
    dict
        ``exponent``, ``low``, ``high`` (percentile interval of the bootstrap
        slopes; NaN without ``t_boot``).
    """
    lx = np.log(np.asarray(x, dtype=float))
    slope = float(np.polyfit(lx, np.log(np.asarray(t, dtype=float)), 1)[0])
    if t_boot is None:
        return {"exponent": slope, "low": float("nan"), "high": float("nan")}
    slopes = np.polyfit(lx, np.log(np.asarray(t_boot, dtype=float)).T, 1)[0]
    a = (1 - ci) / 2
    return {"exponent": slope, "low": float(np.quantile(slopes, a)),
            "high": float(np.quantile(slopes, 1 - a))}


def cohens_d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(mean(b) - mean(a)) / pooled sd`` along the first axis (two independent groups)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    pooled = np.sqrt(0.5 * (a.var(axis=0, ddof=1) + b.var(axis=0, ddof=1)))
    return (b.mean(axis=0) - a.mean(axis=0)) / pooled


def quartile_ratio(values: np.ndarray, by: np.ndarray | None = None) -> float:
    """Mean of ``values`` in the top quartile over the mean in the bottom quartile.

    Quartiles of ``by`` (default: of ``values`` themselves): with ``by`` the
    predicted speed and ``values`` the time to criterion, this is how much longer
    the networks predicted slowest take than those predicted fastest.
    """
    values = np.asarray(values, dtype=float)
    order = np.argsort(values if by is None else np.asarray(by, dtype=float))
    q = len(values) // 4
    if q < 1:
        raise ValueError(f"need at least 4 values, got {len(values)}")
    return float(np.mean(values[order[-q:]]) / np.mean(values[order[:q]]))


def rank_correlation(speed: np.ndarray, epochs: np.ndarray) -> float:
    """Spearman rank correlation between predicted speed and epochs to criterion.

    Members that never reach the criterion (``inf``) rank last, tied. A perfect
    prediction (faster start, fewer epochs) gives ``-1``.
    """
    speed = np.asarray(speed, dtype=float)
    epochs = np.asarray(epochs, dtype=float)
    if speed.shape != epochs.shape or speed.ndim != 1:
        raise ValueError(f"speed {speed.shape} and epochs {epochs.shape} must be equal 1-d shapes")
    if np.all(epochs == epochs[0]):
        return float("nan")
    return float(stats.spearmanr(speed, epochs).statistic)


def speed_linearity_residual(
    members: Sequence, speed: np.ndarray, free: Sequence[str]
) -> float:
    """Residual of the best affine fit of ``speed`` in the ``free`` overlaps of the members.

    The initial speed of equivalent linear networks is exactly affine in their
    invisible overlaps, so the residual is round-off.

    Returns
    -------
    float
        Largest absolute residual divided by the largest speed.
    """
    speed = np.asarray(speed, dtype=float)
    if len(members) != speed.shape[0]:
        raise ValueError(f"{len(members)} members but {speed.shape[0]} speeds")
    if len(members) <= len(free) + 1:
        raise ValueError(f"an affine fit in {len(free)} overlaps needs more than "
                         f"{len(free) + 1} members, got {len(members)}")
    design = np.array([[1.0] + [S[k] for k in free] for S in members])
    coef, *_ = np.linalg.lstsq(design, speed, rcond=None)
    return np.max(np.abs(design @ coef - speed)) / np.max(speed)
