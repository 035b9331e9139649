"""Nonlinear Gaussian limit: the gains, the finite-N convergence of the network to
the reduced theory, the mean-field gradient on masked batches, and lrtools.nonlinear."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy import special

from lrtools import tasks, theory

SQPI2 = math.sqrt(math.pi) / 2


def _dphi(phi, h):
    if phi == "erf":
        return np.exp(-math.pi * h * h / 4)
    return 1.0 - np.tanh(h) ** 2


# --- gains --------------------------------------------------------------------

DELTAS = [0.0, 1e-8, 1e-3, 0.05, 0.2, 0.29, 0.3, 0.31, 0.6, 0.99, 1.0, 1.01, 2.0, 7.5, 40.0,
          300.0, 1e4]


def _reference(phi: str, D: float) -> tuple[float, float]:
    """E[phi'(h)] and E[phi^(3)(h)] / 2 (Price: the D-derivative), h ~ N(0, D),
    by mpmath adaptive quadrature at 30 digits."""
    with mpmath.workdps(30):
        D = mpmath.mpf(D)
        w = lambda s: mpmath.exp(-s * s / (2 * D)) / mpmath.sqrt(2 * mpmath.pi * D)  # noqa: E731
        if phi == "erf":
            d1 = lambda s: mpmath.exp(-mpmath.pi * s * s / 4)  # noqa: E731
            d3 = lambda s: (mpmath.pi**2 * s * s / 4 - mpmath.pi / 2) * d1(s)  # noqa: E731
        else:
            d1 = lambda s: mpmath.sech(s) ** 2  # noqa: E731
            d3 = lambda s: mpmath.sech(s) ** 2 * (6 * mpmath.tanh(s) ** 2 - 2)  # noqa: E731
        pts = [-mpmath.inf, -5, -1, 0, 1, 5, mpmath.inf]
        g = mpmath.quad(lambda s: d1(s) * w(s), pts)
        g3 = mpmath.quad(lambda s: d3(s) * w(s), pts)
        return float(g), float(g3 / 2)


def test_erf_gain_closed_form_against_quadrature():
    g, dg = theory.gain(np.array(DELTAS), "erf")
    for D, gi, dgi in zip(DELTAS, g, dg, strict=True):
        ref, ref_d = _reference("erf", D) if D > 0 else (1.0, -math.pi / 4)
        # closed form vs 30-digit quadrature: float64 round-off only
        assert abs(gi - ref) < 1e-14, D
        assert abs(dgi - ref_d) < 1e-14, D


def test_tanh_gain_against_high_precision_reference():
    g, dg = theory.gain(np.array(DELTAS), "tanh")
    for D, gi, dgi in zip(DELTAS, g, dg, strict=True):
        ref, ref_d = _reference("tanh", D) if D > 0 else (1.0, -1.0)
        # the issue asks for 1e-10; Gauss-Hermite (D <= 0.3) and the trapezoid rule
        # (D > 0.3) are both exponentially accurate and reach ~2e-15 (measured)
        assert abs(gi - ref) < 1e-13, D
        assert abs(dgi - ref_d) < 1e-13, D


@pytest.mark.parametrize("phi", ["erf", "tanh"])
def test_gains_against_monte_carlo(phi):
    xi = np.random.default_rng(0).standard_normal(1_000_000)
    for D in (0.1, 1.0, 5.0):
        samples = _dphi(phi, math.sqrt(D) * xi)
        g, _ = theory.gain(D, phi)
        # Monte Carlo: within 5 standard errors
        assert abs(samples.mean() - g) < 5 * samples.std() / math.sqrt(xi.size), D


@pytest.mark.parametrize("phi", ["erf", "tanh"])
def test_gain_derivative_matches_finite_differences(phi):
    for D in (0.05, 0.3, 0.9, 1.0, 3.0):
        h = 1e-5
        fd = (theory.gain(D + h, phi)[0] - theory.gain(D - h, phi)[0]) / (2 * h)
        # central differences: O(h^2) ~ 1e-10 truncation, 1e-16 / h round-off
        assert theory.gain(D, phi)[1] == pytest.approx(fd, abs=1e-9), D


def test_stein_lemma_with_network_vectors():
    """v . phi(h) / N -> <phi'> S_vx kappa for Gaussian vectors (the reduction itself)."""
    S = tasks.teacher_overlaps()
    X = S.vectors(200_000, seed=1)
    kap = np.array([0.7, -0.4])  # h = 0.7 m - 0.4 u
    h = X[:, :2] @ kap
    D = kap @ S.matrix[:2, :2] @ kap
    g, _ = theory.gain(D, "erf")
    lhs = X[:, 2] @ special.erf(SQPI2 * h) / X.shape[0]
    rhs = g * S.matrix[2, :2] @ kap
    # O(1/sqrt(N)) fluctuation: |lhs - rhs| ~ 2e-3 at N = 2e5; 1e-2 is 5 sigma
    assert abs(lhs - rhs) < 1e-2
