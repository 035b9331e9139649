"""Chapter 2's population-limit studies on toy sizes: shapes, keys, the fits they feed."""

import numpy as np
import pytest

from lrtools import closure, theory
from lrtools.studies import population as P
from lrtools.tasks import FlipFlop

TASK = FlipFlop(dt=0.2, t_max=8.0, batch_size=2)


@pytest.fixture(scope="module")
def limit(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("LRTOOLS_CACHE", str(tmp_path_factory.mktemp("cache")))
    s = P.LimitSettings(Ns=(40, 80, 160), seeds=(0, 1), task=TASK, epochs=4, nodes=4,
                        check_nodes=3, snapshot_every=2)
    yield s, P.limit_runs(s)
    mp.undo()


def test_limit_runs_and_numbers(limit):
    s, r = limit
    assert r["error_population"].shape == r["error_gaussian"].shape == (3, 2)
    assert r["population"].shape == r["gaussian"].shape == (5, 4, 4)
    assert list(r["epoch"]) == [0, 2, 4] and r["span_fraction"].shape == (3, 4)
    n = P.limit_numbers(r, s)
    assert n["limit_n_nodes"] == 256 and n["limit_half"] in ("includes", "excludes")
    assert n["limit_slope_lo"] <= n["limit_slope"] <= n["limit_slope_hi"]
    f = P.failure_numbers(r)
    assert f["kurtosis_start"] < 1e-12  # Gaussian-Hermite nodes start Gaussian
    assert 0 < f["span_start"] < 1


def test_a_network_row_set_is_its_own_limit(limit):
    s, r = limit
    # the Gaussian theory and the population start from the same overlaps
    assert np.allclose(r["population"][0], r["gaussian"][0], atol=1e-12)
    rows = closure.common_rows(s.start_overlaps(), (40, 80), 0)
    assert {N: X.shape for N, X in rows.items()} == {40: (40, 4), 80: (80, 4)}


def test_gaussian_error_and_trust():
    g = P.GaussianErrorSettings(etas=(0.2, 0.1), tau_max=0.8, phis=("erf",), nodes=3,
                                task=TASK, n_points=5)
    r = P.gaussian_error_runs(g)
    assert r["error"].shape == (1, 2, 5) and np.all(np.diff(r["error"], axis=-1) >= 0)
    n = P.gaussian_error_numbers(r, g, tau=0.8)
    assert set(n) >= {"b_erf_0", "b_erf_1", "b0_erf", "b_share_erf"}
    t = P.TrustSettings(scales=(0.25, 1.0), taus=(0.2, 0.4), nodes=3, task=TASK, eta=0.2)
    tr = P.trust_runs(t)
    assert tr["error"].shape == (2, 2) and tr["error"][0, -1] < tr["error"][1, -1]
    assert P.trust_numbers(tr)["trust_tolerance"] == 0.01


def test_settings_are_the_documented_ones():
    assert P.LimitSettings().Ns[-1] == 16000 and len(P.LimitSettings().seeds) == 8
    assert P.GaussianErrorSettings().etas == (0.1, 0.05, 0.025, 0.0125)
    assert P.LimitSettings.fast().Ns[-1] < P.LimitSettings().Ns[-1]
    with pytest.raises(TypeError):
        P.LimitSettings(Nss=(1,))


def test_figures_draw(limit):
    import matplotlib

    matplotlib.use("Agg")
    from lrtools.figures import population as F

    s, r = limit
    assert len(F.plot_limit(r, s).axes) == 2
    assert len(F.plot_failure(r).axes) == 3
    g = P.GaussianErrorSettings(etas=(0.2, 0.1), tau_max=0.4, phis=("erf",), nodes=3,
                                task=TASK, n_points=3)
    assert F.plot_gaussian_error(P.gaussian_error_runs(g)).axes
    assert theory.CLOSURES == ("gaussian", "population")
