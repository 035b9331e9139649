"""The fits every chapter quotes: exact on data built from the model, clear errors otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from lrtools.fits import loglog_slope, step_extrapolation


def test_step_extrapolation_recovers_a_line_per_trailing_position():
    etas = np.array([0.1, 0.05, 0.025, 0.0125])
    slope = np.array([[0.3, -1.0, 2.0], [0.0, 5.0, 0.7]])
    intercept = np.array([[0.01, 0.02, 0.0], [1.0, -0.5, 0.2]])
    values = etas[:, None, None] * slope + intercept  # (4, 2, 3)
    s, c = step_extrapolation(etas, values)
    assert s.shape == c.shape == (2, 3)
    np.testing.assert_allclose(s, slope, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c, intercept, rtol=0, atol=1e-13)


def test_step_extrapolation_of_one_curve_gives_floats_and_matches_columns():
    etas = [0.1, 0.05, 0.025]
    rng = np.random.default_rng(0)
    values = rng.normal(size=(3, 5))
    s, c = step_extrapolation(etas, values[:, 2])
    assert isinstance(s, float) and isinstance(c, float)
    s_all, c_all = step_extrapolation(etas, values)
    assert s == pytest.approx(s_all[2], rel=1e-12, abs=1e-14)
    assert c == pytest.approx(c_all[2], rel=1e-12, abs=1e-14)
    # the least-squares line: residuals orthogonal to 1 and to eta
    r = values[:, 2] - (s * np.asarray(etas) + c)
    assert abs(r.sum()) < 1e-12 and abs(np.dot(r, etas)) < 1e-12


@pytest.mark.parametrize("etas, values, match", [
    ([0.1, 0.1], [1.0, 2.0], "two distinct"),
    ([0.1, 0.05], [1.0, 2.0, 3.0], "first axis"),
    ([0.1, 0.05], [1.0, np.nan], "finite"),
])
def test_step_extrapolation_rejects_bad_input(etas, values, match):
    with pytest.raises(ValueError, match=match):
        step_extrapolation(etas, values)


def test_loglog_slope_of_a_power_law():
    x = np.array([250.0, 1000.0, 4000.0, 16000.0])
    assert loglog_slope(x, 3.0 * x ** -0.5) == pytest.approx(-0.5, abs=1e-12)
    with pytest.raises(ValueError, match="positive"):
        loglog_slope(x, -x)
