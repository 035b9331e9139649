"""Chapter 2 studies (lrtools.studies.nonlinear): settings, runs and key numbers."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys

import numpy as np
import pytest

import lrtools
from lrtools import Overlaps, closure, tasks
from lrtools.studies import nonlinear as study

NAMES = lrtools.vector_names()

TINY = study.FlipFlopSettings(N=60, dt=0.2, batch_size=2, epochs=20, eta=0.1, seed=0,
                              large_eta=0.2, large_epochs=15, adam_lr=5e-3, adam_epochs=15)


def _hist(loss, overlaps, vectors=None):
    loss, overlaps = np.asarray(loss, float), np.asarray(overlaps, float)
    return lrtools.History(loss=loss, overlaps=overlaps, names=NAMES,
                           time=0.1 * np.arange(len(overlaps)), vectors=vectors)


def test_science_and_studies_do_not_import_matplotlib():
    code = ("import sys, lrtools, lrtools.closure, lrtools.studies.nonlinear; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_runs_on_a_tiny_flip_flop(monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", "off")
    runs = study.flip_flop_runs(TINY)
    assert set(runs) == {"network", "exact", "direct"}
    assert runs["network"].vectors.shape == (21, 60, 4)  # snapshots every epoch // 20
    other = study.optimizer_runs(TINY)
    assert set(other["large"]) == {"network", "exact", "first-order"} and "network" in other["adam"]
    task = TINY.task
    summary = study.closure_summary(runs["network"], task, seed=0)
    assert set(summary) == {"loss", "closure", "closure_ratio", "kurt", "ks", "mardia",
                            "tails"}
    assert all(np.isfinite(v) for k, v in summary.items() if k != "tails")
    assert summary["tails"] in ("leptokurtic", "platykurtic", "Gaussian-tailed")
    hists = {"small": runs["network"], "adam": other["adam"]["network"]}
    cl = {k: closure.closure_loss(h, task, "erf", seed=0) for k, h in hists.items()}
    # the Gaussian-limit loss at the network's own overlaps on the training batches:
    # at the first epoch the vectors are Gaussian, so it is close to the network loss
    assert cl["small"][0] == pytest.approx(runs["network"].loss[0], rel=0.2)
    data = study.figure8_data(TINY)
    assert set(data) == {"task", "histories", "closure", "theories", "titles", "runs"}
    assert np.array_equal(data["closure"]["small"], cl["small"])  # the same batches
    assert data["titles"]["large"] == "GD, $\\eta$ = 0.2"


def test_chapter_settings_and_their_numbers():
    cs = study.ConvergenceSettings.fast()
    assert cs.Ns == (250, 500, 1000) and cs.seeds == (0, 1, 2)
    assert study.ConvergenceSettings.for_mode(True, paper_scale=True) == cs  # fast wins
    big = study.ConvergenceSettings.for_mode(False, paper_scale=True)
    assert big.Ns[-1] == 8000 and len(big.seeds) == 8
    assert study.ConvergenceSettings.for_mode(False) == study.ConvergenceSettings.paper()
    num = study.settings_numbers(study.FlipFlopSettings.for_mode(True), cs)
    assert (num["N"], num["batch"], num["epochs"], num["conv_batch"]) == (300, 4, 1500, 4)
    assert (num["conv_N_min"], num["conv_N_max"], num["conv_n_seeds"]) == (250, 1000, 3)
    assert num["conv_time"] == pytest.approx(5.0, rel=1e-15)  # 0.1 * 50: one rounding
    S0 = cs.start_overlaps()
    assert (S0["vu"], S0["zu"], S0["vm"], S0["zm"], S0["mu"], S0["zv"]) == (0.8, 0.3, 0.2, 0.2,
                                                                              0.1, 0.0)
    assert np.all(np.diag(S0.matrix) == 1.0)
    with pytest.raises(TypeError):
        study.FlipFlopSettings(NN=3)  # a misspelt field is an error, never ignored
    with pytest.raises(TypeError, match="FlipFlopSettings"):
        study.settings_numbers({"N": 3}, cs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cs.eta = 1.0


def test_paper_and_fast_settings_are_the_papers_and_ci_values():
    s, f = study.FlipFlopSettings.paper(), study.FlipFlopSettings.fast()
    assert (s.N, s.dt, s.batch_size, s.epochs) == (600, 0.025, 10, 2000)
    assert (f.N, f.dt, f.batch_size, f.epochs) == (300, 0.1, 4, 1500)
    # the paper's Figure 8 runs 2000 epochs of each optimizer and tests on an 80 s trial
    assert (s.large_epochs, s.adam_epochs, s.test_t_max, s.init) == (2000, 2000, 80.0, "balanced")
    assert (f.large_epochs, f.adam_epochs, f.init) == (300, 300, "balanced")
    assert s.test_task.t_max == 80.0 and s.test_task.batch_size == 1
    for x in (s, f):
        assert (x.eta, x.seed, x.large_eta, x.adam_lr) == (5e-2, 0, 5e-1, 5e-3)
    S = s.network().overlaps()
    assert abs(S["zu"] - S["vm"]) < 1e-3 and abs(S["mu"] - S["zv"]) < 1e-3
    assert not np.allclose(s.replace(init="random").network().overlaps().matrix, S.matrix)
    with pytest.raises(ValueError, match="init must be one of"):
        s.replace(init="orthogonal")
    c = study.ConvergenceSettings.paper()
    assert c.Ns == (250, 500, 1000, 2000, 4000) and c.seeds == tuple(range(5))
    assert (c.tanh_Ns, c.tanh_seeds) == ((500, 2000), (0, 1, 2))
    assert c.task == tasks.FlipFlop(dt=0.1, t_max=20.0, batch_size=4)
    assert (c.eta, c.epochs) == (0.1, 50)
    assert (study.ConvergenceSettings.fast().tanh_Ns,
            study.ConvergenceSettings.fast().tanh_seeds) == ((250, 1000), (0, 1))


def test_gain_errors():
    err = study.gain_errors([0.05, 0.5, 20.0])
    assert set(err) == {"tanh_gain_error", "tanh_dgain_error", "erf_gain_error"}
    # both sides exponentially accurate: float64 round-off (as in the gain tests)
    assert max(err.values()) < 1e-13
    with pytest.raises(ValueError, match="positive"):
        study.gain_errors([0.5, -1.0])


def test_figure4_numbers_on_hand_made_runs():
    exact_ov = np.zeros((5, 4, 4))
    exact_ov[:, 0, 0] = 2.0  # largest overlap: the error scale
    sim_ov = exact_ov.copy()
    sim_ov[2, 1, 1] = 0.5
    sim_ov[4, 2, 3] = -0.1
    X = np.random.default_rng(0).standard_normal((1000, 4))
    runs = {"network": _hist([1.0, 0.5, 0.04, 0.03], sim_ov, vectors=X[None]),
            "exact": _hist([1.0, 0.2, 0.1, 0.01], exact_ov),
            "direct": _hist([1.0, 1.0, 1.0, 1.0], exact_ov)}
    num = study.figure4_numbers(runs, tail=2)
    # hand-computed; 1e-15: one or two float64 roundings
    assert num["fig4_overlap_error"] == pytest.approx(0.25, rel=1e-15)
    assert num["fig4_final_overlap_error"] == pytest.approx(0.05, rel=1e-15)
    assert num["fig4_loss_sim"] == pytest.approx(0.035, rel=1e-15)
    assert num["fig4_loss_theory"] == pytest.approx(0.055, rel=1e-15)
    assert num["fig4_loss_direct"] == 1.0
    assert (num["escape_sim"], num["escape_theory"]) == (2, 3)
    g = closure.gaussianity(X)
    assert num["fig4_kurtosis_max"] == np.max(np.abs(g.excess_kurtosis))
    assert num["fig4_kurtosis_sd"] == pytest.approx(math.sqrt(24 / 1000), rel=1e-15)
    assert num["fig4_mardia"] == g.mardia and num["fig4_ks_max"] == np.max(g.ks)
    never = study.figure4_numbers(runs, tail=2, threshold=1e-3)
    assert (never["escape_sim"], never["escape_theory"]) == (-1, -1)
    with pytest.raises(ValueError, match="lacks"):
        study.figure4_numbers({"network": runs["network"]})


def test_figure8_numbers_and_table_on_hand_made_runs():
    rng = np.random.default_rng(1)
    small_ov = np.zeros((11, 4, 4))
    small_ov[:, 3, 3] = -2.0  # scale 2
    loss = np.linspace(1.0, 0.1, 10)
    h = _hist(loss, small_ov, vectors=rng.standard_normal((2, 500, 4)))
    large_net = np.zeros((4, 4, 4))
    large_exact, large_first = large_net.copy(), large_net.copy()
    large_exact[-1, 0, 1] = 0.3
    large_first[-1, 2, 2] = 1.0
    data = {"task": tasks.FlipFlop(dt=0.1, t_max=10.0, batch_size=2),
            "histories": {"small": h}, "closure": {"small": loss - 0.01},
            "runs": {"small": {"exact": _hist(loss, small_ov)},
                     "large": {"network": _hist([1, 1, 1], large_net),
                               "exact": _hist([1, 1, 1], large_exact),
                               "first-order": _hist([0.3, 0.2, 0.4], large_first)}}}
    num = study.figure8_numbers(data, tail=2)
    # 10 epochs, tail 0.1: the last epoch only; 1e-14: a few float64 roundings
    assert num["fig8_small_loss"] == pytest.approx(0.1, rel=1e-14)
    assert num["fig8_small_closure"] == pytest.approx(0.01, rel=1e-12)
    assert num["fig8_small_closure_ratio"] == pytest.approx(0.9, rel=1e-14)
    assert num["fig8_large_exact_error"] == pytest.approx(0.15, rel=1e-15)
    assert num["fig8_large_first_order_error"] == pytest.approx(0.5, rel=1e-15)
    assert num["fig8_large_loss_first_order"] == pytest.approx(0.3, rel=1e-15)
    assert num["fig8_large_loss_exact"] == 1.0
    assert set(num) == {f"fig8_small_{k}" for k in ("loss", "closure", "closure_ratio", "kurt",
                                                    "ks", "mardia", "tails")} | {
        "fig8_large_exact_error", "fig8_large_first_order_error", "fig8_large_loss_first_order",
        "fig8_large_loss_exact", "fig8_large_verdict", "fig8_large_summary"}
    # errors 0.15 and 0.5: neither within FOLLOWS = 0.1, the exact map closer
    assert num["fig8_large_verdict"].startswith("neither overlap map follows")
    assert "0.15 (exact map) and 0.50 (first-order map)" in num["fig8_large_verdict"]
    assert num["fig8_large_verdict"].endswith("the exact map is the closer")
    table = study.figure8_table(num).splitlines()
    assert len(table) == 3 and table[1].split()[:2] == ["small", "0.1000"]
    assert table[2].endswith("exact map 0.150, vs first-order map 0.50 (relative)")
    with pytest.raises(ValueError, match="fig8"):
        study.figure8_table({"fig8_large_exact_error": 0.1})


def test_figure_verdicts_follow_the_numbers():
    v = study.figure8_verdicts(0.02, 0.9)
    assert v["fig8_large_verdict"].startswith("the *exact* map still follows the network, "
                                              "to 0.020")
    assert v["fig8_large_summary"] == ("the exact map (not the first-order flow) still "
                                       "follows the network")
    assert study.figure8_verdicts(0.05, 0.08)["fig8_large_verdict"].startswith("both")
    v = study.figure8_verdicts(2.3, 1.6)
    assert v["fig8_large_verdict"].endswith("the first-order map is the closer")
    assert v["fig8_large_summary"].startswith("neither")
    # escape: within a tenth of each other, one first, one never; direct descent
    drop = lambda at: np.r_[np.ones(at), np.full(60, 0.01)]  # noqa: E731 - loss curves
    v = study.figure4_verdicts(drop(100), drop(105), np.ones(200))
    assert v == {"fig4_escape_verdict": "network and theory leave the long initial plateau "
                                        "together",
                 "fig4_direct_verdict": "is still on the plateau"}
    v = study.figure4_verdicts(drop(100), drop(300), drop(150))
    assert v["fig4_escape_verdict"] == "the network leaves the long initial plateau first"
    assert v["fig4_direct_verdict"].startswith("has left the plateau")
    v = study.figure4_verdicts(np.ones(50), drop(10), np.ones(50))
    assert v["fig4_escape_verdict"] == "the network never leaves the plateau"


def test_tails_names_the_sign_of_the_most_extreme_kurtosis():
    assert study._tails(np.array([0.1, -0.2]), 0.2) == "Gaussian-tailed"
    assert study._tails(np.array([0.1, -0.9, 0.5]), 0.2) == "platykurtic"
    assert study._tails(np.array([[3.0, -0.9]]), 0.2) == "leptokurtic"


def test_preconditioner_numbers():
    A = np.random.default_rng(3).standard_normal((4, 4))
    S = Overlaps(A @ A.T / 4 + 0.3 * np.eye(4), NAMES)  # generic: no structural coincidences
    num = study.preconditioner_numbers(S)
    # zm, zu, vm, vu visible for both; erf adds mu, mm, uu; zv, vv, zz stay invisible and
    # all three have non-zero G entries in active columns
    assert num == {"G_active_linear": 4, "G_active_erf": 7, "G_inv_driven_erf": 3,
                   "G_inv_erf": 3}


def _fake_convergence(Ns, overlap_error, *, seeds=None, epochs=3, **arrays):
    Ns = np.asarray(Ns)
    overlap_error = np.asarray(overlap_error, float)
    n, s = overlap_error.shape
    rng = np.random.default_rng(n * 10 + s)
    kw = {"loss_error": np.full((n, s), 1e-3),
          "error_curves": rng.uniform(0.01, 0.1, (n, s, epochs + 1)),
          "net_overlaps": np.broadcast_to(np.eye(4), (n, s, epochs + 1, 4, 4)).copy(),
          "net_loss": np.full((n, s, epochs), 0.2),
          "theory_overlaps": np.broadcast_to(np.eye(4), (s, epochs + 1, 4, 4)).copy(),
          "theory_loss": np.tile(np.linspace(0.3, 0.1, epochs), (s, 1)),
          "departure": np.full((n, s, 2, 4), 0.2), "closure": np.full((n, s, 2), 1e-3),
          "mardia": np.zeros((n, s, 2))}
    kw.update(arrays)
    return closure.Convergence(Ns=Ns, seeds=np.arange(s) if seeds is None else np.asarray(seeds),
                               overlap_error=overlap_error, **kw)


def test_convergence_numbers_on_known_laws():
    Ns = np.array([250, 1000, 4000, 16000])
    plain = _fake_convergence(Ns, np.sqrt(4.0 / Ns + 0.01**2)[:, None] * np.ones((1, 3)))
    proj = _fake_convergence(Ns, 3.0 * Ns[:, None] ** -0.5 * np.ones((1, 3)),
                             loss_error=1e-4 / Ns[:, None] * np.ones((1, 3)))
    fits, floors = study.convergence_fits(plain, proj)
    num = study.convergence_numbers(plain, proj, fits, floors)
    # exact power laws: the fits recover them to round-off (1e-10 for slopes, 1e-8 for the
    # floor's least squares, as in test_fits_recover_known_laws)
    assert num["slope_proj"] == pytest.approx(-0.5, abs=1e-10)
    assert num["slope_proj_lo"] == pytest.approx(-0.5, abs=1e-8)  # zero residuals: no width
    assert num["slope_proj_loss"] == pytest.approx(-1.0, abs=1e-10)
    assert num["slope_plain_loss"] == pytest.approx(0.0, abs=1e-10)  # constant loss error
    assert num["floor_plain"] == pytest.approx(0.01, rel=1e-6)
    assert num["floor_proj"] < 1e-6  # no floor in a pure N^-1/2 law
    assert num["crossover_plain"] == pytest.approx(4e4, rel=1e-5)  # (a / b)^2 = (2 / 0.01)^2
    assert num["err_proj_Nmax"] == pytest.approx(3.0 / math.sqrt(16000), rel=1e-14)
    assert num["err_plain_Nmin"] == pytest.approx(math.sqrt(4.0 / 250 + 1e-4), rel=1e-14)
    assert len(num) == 2 * 11 + 1
    fits2, floors2 = study.convergence_fits(proj, proj)
    # no floor (b = 0 or round-off): crossover inf or beyond 1e9, reported as 1e9
    assert study.convergence_numbers(proj, proj, fits2, floors2)["crossover_plain"] == 1e9
    with pytest.raises(ValueError, match="lacks"):
        study.convergence_numbers(plain, proj, {"plain": fits["plain"]}, floors)
    # theory loss: linspace(0.3, 0.1) for every seed
    loss = study.convergence_loss_numbers(plain)
    assert loss["conv_loss_start"] == pytest.approx(0.3, rel=1e-15)
    assert loss["conv_loss_end"] == pytest.approx(0.1, rel=1e-15)


def test_departure_numbers():
    Ns = np.array([100, 400])
    dep = np.zeros((2, 2, 2, 4))
    dep[:, :, 0, 1], dep[:, :, 1, 1] = 0.1, 0.3
    cl = np.zeros((2, 2, 2))
    cl[:, :, 0] = [[0.01, 0.03], [0.01, 0.03]]  # constant magnitude: slope 0
    cl[:, :, 1] = np.array([[-0.02, 0.02], [-0.01, 0.01]])  # halves from N=100 to 400
    mardia = np.zeros((2, 2, 2))
    mardia[:, :, 1] = [[0.5, 1.5], [1.0, 1.0]]
    c = _fake_convergence(Ns, np.ones((2, 2)), departure=dep, closure=cl, mardia=mardia)
    num = study.departure_numbers(c)
    # hand-computed; 1e-12: a few float64 roundings (and log/exp in the slopes)
    assert num["departure_u_final"] == pytest.approx(0.3, rel=1e-12)
    assert num["departure_u_initial"] == pytest.approx(0.1, rel=1e-12)
    assert num["closure_trained"] == pytest.approx(0.02, rel=1e-12)
    assert num["closure_trained_sd"] == pytest.approx(0.01, rel=1e-12)
    assert num["closure_trained_negative"] == 0.0 and num["closure_gauss_negative"] == 0.5
    assert num["closure_gauss"] == pytest.approx(0.0, abs=1e-17)
    assert num["closure_gauss_slope"] == pytest.approx(-0.5, abs=1e-12)
    assert num["closure_trained_slope"] == pytest.approx(0.0, abs=1e-12)
    # seed means 1 and 1, over the Mardia spread sqrt(8 k (k + 2) / N) = sqrt(192 / N)
    assert num["mardia_final_max"] == pytest.approx(math.sqrt(400 / 192), rel=1e-14)


def test_tanh_numbers():
    erf = _fake_convergence([100, 200, 400], [[0.1, 0.9], [0.2, 0.9], [0.05, 0.9]])
    tanh = _fake_convergence([100, 400], [[0.3], [0.1]])
    assert study.erf_rows(tanh, erf) == [0, 2]
    num = study.tanh_numbers(tanh, erf)
    # the erf rows of N = 100 and 400, first seed only (the tanh study has one)
    assert num == {"tanh_err_small": 0.3, "tanh_err_large": 0.1, "erf_err_small": 0.1,
                   "erf_err_large": 0.05, "tanh_N_small": 100, "tanh_N_large": 400,
                   "tanh_loss_final": pytest.approx(0.1, rel=1e-15),  # linspace end point
                   # log(0.1/0.3)/log(4) and log(0.5)/log(4): a few roundings
                   "tanh_slope": pytest.approx(np.log(1 / 3) / np.log(4), rel=1e-12),
                   "erf_slope": pytest.approx(-0.5, rel=1e-12)}
    with pytest.raises(ValueError, match="not among"):
        study.tanh_numbers(_fake_convergence([300], [[0.1]]), erf)
    with pytest.raises(ValueError, match="seeds"):
        study.erf_rows(_fake_convergence([100], [[0.1, 0.2, 0.3]]), erf)


def test_convergence_runs_match_direct_studies(monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", "off")
    cs = study.ConvergenceSettings(Ns=(20, 30), seeds=(0,),
                                   task=tasks.FlipFlop(dt=0.1, t_max=10.0, batch_size=2),
                                   eta=0.2, epochs=2, tanh_Ns=(20,), tanh_seeds=(0,),
                                   start=(("vu", 0.8), ("zu", 0.3)))
    S0 = Overlaps(np.eye(4), NAMES).replace(vu=0.8, zu=0.3)
    assert np.array_equal(cs.start_overlaps().matrix, S0.matrix)
    runs = study.convergence_runs(cs, workers=0)
    assert set(runs) == {"plain", "projected", "tanh"}
    direct = closure.convergence_study(S0, cs.task, [20, 30], [0], 2, 0.2, "erf", projected=True)
    assert np.array_equal(runs["projected"].net_overlaps, direct.net_overlaps)  # same jobs
    assert runs["tanh"].overlap_error.shape == (1, 1)
    with pytest.raises(ValueError, match="workers"):
        study.convergence_runs(cs, workers=-1)


def test_cached_convergence_key_ignores_the_executor():
    S0 = Overlaps(np.eye(4), NAMES).replace(vu=0.8, zu=0.3)
    task = tasks.FlipFlop(dt=0.1, t_max=10.0, batch_size=2)
    key = study.cached_convergence.cache_key
    base = key(S0, task, [20, 30], [0], 2, 0.2)
    assert "executor" in study.cached_convergence.ignored
    assert key(S0, task, [20, 30], [0], 2, 0.2, executor=object()) == base
    assert key(S0, task, [20, 30], [0], 2, 0.2, projected=True) != base
    assert key(S0, task, [20, 30], [0], 2, 0.2, "tanh") != base


def test_init_plateau_small():
    """Escape epochs of the overlap map from balanced and random starts, with a sign test."""
    s = study.FlipFlopSettings(N=100, dt=0.2, batch_size=2, epochs=30)
    got = study.init_plateau(s, n_seeds=3)
    assert got["n_plateau"] == 3 and 0 <= got["plateau_earlier"] <= 3
    assert 0 <= got["plateau_balanced"] <= 30 and 0 <= got["plateau_random"] <= 30
    assert 0 < got["plateau_p"] <= 1 and "start" in got["plateau_verdict"]
