"""Chapter 5 studies: settings, cached runs, key numbers and the summary table.

The numbers functions only average and divide: hand-computed values agree to
round-off (EXACT, 1e-12 relative). The cached runs are checked against the science
functions they call (same seeded computation: identical arrays).
"""

import dataclasses

import numpy as np
import pytest
from conftest import assert_close

from lrtools import burial, plasticity
from lrtools.studies import Settings
from lrtools.studies import predictions as study

EXACT = 1e-12

SETTINGS = (study.FamilySettings, study.NoiseCheckSettings, study.CohortSettings,
            study.BalanceSettings, study.BurialSettings)


# ---------------------------------------------------------------------------
# settings: paper() = the chapter's full mode, fast() = its fast mode
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SETTINGS, ids=[c.__name__ for c in SETTINGS])
def test_settings_are_frozen_keyword_only_and_refuse_typos(cls):
    assert issubclass(cls, Settings)
    s = cls.fast()
    assert cls.for_mode(True) == s and cls.for_mode(False) == cls.paper() == cls()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.N = 3
    with pytest.raises(TypeError):
        cls(not_a_field=1)
    with pytest.raises(TypeError):
        s.replace(not_a_field=1)
    assert all(isinstance(v, int) for v in s.quoted_numbers().values())


def test_paper_and_fast_settings_are_the_chapters_values():
    fam, fam_f = study.FamilySettings.paper(), study.FamilySettings.fast()
    assert (fam.seeds, fam.N, fam.n_family, fam.epochs, fam.criteria) == (
        (0, 1, 2, 3, 4), 500, 200, 600, (1e-2, 1e-4))
    assert fam_f == fam.replace(n_family=60)
    chk, chk_f = study.NoiseCheckSettings.paper(), study.NoiseCheckSettings.fast()
    assert (chk.N, chk.n_trials, chk_f.N, chk_f.n_trials) == (500, 200, 200, 100)
    assert (chk.family, chk.n_steps, chk.noise_std, chk.dt) == (0, 400, 0.5, 0.05)
    co, co_f = study.CohortSettings.paper(), study.CohortSettings.fast()
    assert (co.seeds, co.n, co.etas) == ((0, 1, 2, 3, 4), 40, (1e-2, 5e-3, 2.5e-3, 1.25e-3))
    assert co_f == co.replace(seeds=(0, 1, 2), n=20, etas=(1e-2, 5e-3, 2.5e-3), n_flow=6)
    ba, ba_f = study.BalanceSettings.paper(), study.BalanceSettings.fast()
    assert (ba.seeds, ba.erf_seeds, ba.N, ba.N_erf) == ((0, 1, 2, 3, 4),) * 2 + (500, 200)
    assert ba_f == ba.replace(seeds=(0, 1, 2), erf_seeds=(0, 1), N=200, N_erf=100)
    bu, bu_f = study.BurialSettings.paper(), study.BurialSettings.fast()
    assert (bu.stds, bu.n_rep, bu.seeds, bu.Ns, bu.weight_decays) == (
        (1e-3, 2e-3, 4e-3, 8e-3), 256, (0, 1, 2), (250, 1000, 4000), (0.03, 0.1))
    assert bu_f == bu.replace(n_rep=48, seeds=(0, 1), Ns=(250, 1000), crossover_rep=96)
    assert bu_f.quoted_numbers() == {"n_rep": 48, "n_burial_seeds": 2, "n_individuals": 96,
                                     "crossover_rep": 96, "crossover_N": 2000}
    assert (bu.crossover_stds, bu.crossover_decays[0]) == ((4e-3, 8e-3), 0.0)
    assert ba.rate_gains[0] == (1.0, 1.0) and ba.epochs(5e-3) == 1000
    assert co_f.quoted_numbers() == {"n_animals": 20, "n_cohorts": 3, "n_animals_all": 60,
                                     "n_scan": 10, "n_flow": 6}


# ---------------------------------------------------------------------------
# cached runs
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def family():
    data = plasticity.family_runs([0, 1], N=200, n_family=40, epochs=600)
    return data, plasticity.family_effects(data)


def test_cached_family_runs_are_the_family_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path))
    s = study.FamilySettings(seeds=(0, 1), N=40, n_family=6, epochs=20, base_epochs=50)
    runs = study.cached_family_runs(s)
    direct = plasticity.family_runs([0, 1], N=40, n_family=6, epochs=20, base_epochs=50)
    assert set(runs) == set(direct)
    for k in direct:
        assert np.array_equal(runs[k], direct[k])
    assert [p.name.split("-")[:2] for p in tmp_path.glob("*.npz")] == [["ch5", "families"]]


def test_cached_noise_check_is_the_pair_of_extremes(family, tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path))
    data, _ = family
    s = study.NoiseCheckSettings(family=1, N=60, n_trials=20, n_steps=50)
    chk = study.cached_noise_check(data, s)
    assert [p.name.split("-")[:3] for p in tmp_path.glob("*.npz")] == [["ch5", "noise", "check"]]
    order = np.argsort(data["noise"][1])
    direct = plasticity.noise_check(data["base"][1], data["members"][1][[order[0], order[-1]]],
                                    N=60, n_trials=20, n_steps=50)
    for k in direct:  # same seeded computation: identical
        assert np.array_equal(chk[k], direct[k])
    assert np.array_equal(study.cached_noise_check(data, s)["sampled"], chk["sampled"])
    with pytest.raises(ValueError, match="family index"):
        study.cached_noise_check(data, s.replace(family=2))


def test_cohort_study_runs_both_populations_and_the_scan(tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path))
    s = study.CohortSettings(seeds=(0, 1), n=8, N=30, epochs=(60, 20, 40), etas=(1e-2, 5e-3),
                             n_splits=5)
    cohorts, effects, scan = study.cohort_study(s)
    assert list(cohorts) == list(effects) == ["uniform", "diverse"]
    direct = plasticity.cohort_runs([0, 1], population="diverse", n=8, N=30,
                                    epochs=(60, 20, 40))
    for k in direct:
        assert np.array_equal(cohorts["diverse"][k], direct[k])
    assert effects["uniform"]["record"].shape == (2, 3)
    e1 = plasticity.cohort_effects({k: v[1] for k, v in cohorts["uniform"].items()},
                                   n_splits=5, seed=1)
    assert_close(effects["uniform"]["acc_totals"][1], e1["acc_totals"], atol=0.0)
    assert_close(scan["record"], plasticity.reversal_step_scan(
        [1e-2, 5e-3], n=4, N=30, epochs=(60, 20, 40))["record"], atol=0.0)
    names = sorted(p.name.rsplit("-", 1)[0] for p in tmp_path.glob("*.npz"))
    assert names == ["ch5-cohorts", "ch5-cohorts", "ch5-reversal-steps"]


def test_balance_study_merges_linear_and_erf_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path))
    s = study.BalanceSettings(seeds=(0, 1), erf_seeds=(0,), N=20, N_erf=10, learning_time=0.05)
    runs = study.balance_study(s)
    assert list(runs) == list(plasticity.PLASTICITY_RULES)
    assert runs["gradient, erf network"]["d_in"].shape == (1, 10)
    assert runs["Adam, lr 1e-3"]["d_in"].shape == (2, 20)
    names = sorted(p.name.rsplit("-", 1)[0] for p in tmp_path.glob("*.npz"))
    assert names == ["ch5-balance", "ch5-balance"]  # one entry point, two keys
    rule = {"gradient, eta 5e-3": plasticity.PLASTICITY_RULES["gradient, eta 5e-3"]}
    direct = plasticity.balance_runs(rule, seeds=[0, 1], N=20, learning_time=0.05)
    assert np.array_equal(runs["gradient, eta 5e-3"]["d_out"],
                          direct["gradient, eta 5e-3"]["d_out"])


def test_burial_study_pools_the_cached_scans(tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path))
    s = study.BurialSettings(pair_epochs=(300, 100, 100), stds=(2e-3, 8e-3), Ns=(100, 200),
                             n_rep=4, seeds=(0, 1), n_points=5, n_boot=5,
                             weight_decays=(0.1,), decay_points=10)
    pair = study.burial_pair(s)
    assert set(pair) == {"aaa", "aba", "D0", "function_gap"}
    res = study.burial_study(pair, s)
    direct = burial.burial_runs(pair["aaa"], pair["aba"], [4e-3, 4e-3], N=[100, 200], n_rep=4,
                                n_points=5, seeds=[0, 1])
    for k in direct:
        assert np.array_equal(res["runs_N"][k], direct[k])
    assert res["burial"]["proj"].shape == (2, 6, 2, 8)  # two seeds of four individuals pooled
    assert res["per_seed"]["s"].shape == (2,)
    decay = study.weight_decay_study(pair, s)
    assert decay["distance"].shape == (1, 11)
    out = study.burial_numbers(pair, res, decay)
    assert out["N_min"] == 100 and out["s_max"] == 8e-3
    with pytest.raises(ValueError, match="two noise levels"):
        study.burial_study(pair, s.replace(stds=(1e-3,)))


# ---------------------------------------------------------------------------
# key numbers by hand
# ---------------------------------------------------------------------------


def test_family_numbers_by_hand():
    fx = {"speed_ratio": np.array([1.0, 3.0]), "spread_ratio": np.array([2.0, 2.0]),
          "rho_early": np.array([-0.5, -1.0]), "rho_late": np.array([0.2, 0.4])}
    time = np.array([[[5.0, 7.0, 9.0], [50.0, 60.0, 70.0]],
                     [[4.5, 8.0, 6.0], [40.0, 45.0, 80.0]]])  # (bases, criteria, members)
    out = study.family_numbers({"time": time}, fx)
    expected = {"speed_ratio": 2.0, "speed_ratio_sd": np.sqrt(2.0), "spread_ratio": 2.0,
                "spread_ratio_sd": 0.0, "rho_early": -0.75, "rho_early_sd": np.sqrt(0.125),
                "rho_late": 0.3, "rho_late_sd": np.sqrt(0.02), "t_early_min": 4.5,
                "t_early_max": 9.0}
    assert set(out) == set(expected)
    for k, v in expected.items():
        assert_close(out[k], v, rtol=EXACT, atol=EXACT, err_msg=k)
    with pytest.raises(ValueError, match="at least two"):
        study.family_numbers({"time": time[:1]}, {k: v[:1] for k, v in fx.items()})
    with pytest.raises(ValueError, match="lacks"):
        study.family_numbers({}, fx)


def test_noise_numbers_by_hand():
    fx = {"noise_ratio": np.array([2.0, 4.0]), "noise_ratio_random": np.array([1.0, 1.2])}
    check = {"sampled": np.array([[9.0, 9.0, 2.0, 2.0], [9.0, 9.0, 6.0, 6.0]]),
             "predicted": np.array([[1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0]]),
             "output_gap": np.array(1e-15)}
    out = study.noise_numbers(fx, check, n_trials=101)
    # second half: sampled means (2, 6), predicted (2, 4): ratios 1 and 1.5
    expected = {"noise_ratio": 3.0, "noise_ratio_sd": np.sqrt(2.0), "noise_ratio_random": 1.1,
                "noise_ratio_random_sd": np.sqrt(0.02), "noise_pair_ratio": 2.0,
                "noise_sim_err": 0.5, "noise_sim_expected": np.sqrt(0.02),
                "noise_output_gap": 1e-15}
    assert set(out) == set(expected)
    for k, v in expected.items():
        assert_close(out[k], v, rtol=EXACT, err_msg=k)
    with pytest.raises(ValueError, match="n_trials"):
        study.noise_numbers(fx, check, n_trials=1)


def test_noise_speed_numbers_by_hand():
    out = study.noise_speed_numbers({"rho_noise_time": np.array([-0.5, -0.7, -0.6])})
    assert set(out) == {"rho_noise_time", "rho_noise_time_sd"}
    assert_close(out["rho_noise_time"], -0.6, rtol=EXACT)
    assert_close(out["rho_noise_time_sd"], 0.1, rtol=EXACT)
    with pytest.raises(ValueError, match="lacks"):
        study.noise_speed_numbers({})


def _cohort_effects_by_hand():
    u = {"record": np.array([[-0.01, -0.02, -0.03], [-0.03, -0.04, -0.01]]),
         "record_negative": np.array([[1.0, 0.9, 0.8], [0.95, 1.0, 0.7]]),
         "d": np.array([[0.5, 1.5, 1.0], [0.7, 2.5, 2.0]]),
         "acc_totals": np.array([0.9, 0.8]), "acc_behaviour": np.array([0.5, 0.4]),
         "behaviour_gap": np.array([1e-12, 3e-12])}
    d = {"record": np.array([[0.0, -0.01, -0.1], [-0.02, 0.01, -0.2]]),
         "record_negative": np.array([[0.5, 0.6, 0.9], [0.5, 0.4, 0.7]]),
         "d": np.array([[0.1, 0.2, 0.3], [0.1, 0.4, 0.5]]),
         "acc_totals": np.array([0.6, 0.5]), "acc_behaviour": np.array([0.5, 0.5]),
         "behaviour_gap": np.array([2e-12, 1e-12])}
    scan = {"eta": np.array([1e-2, 5e-3]),
            "record": np.array([[-0.02, -0.03, -0.05], [-0.01, -0.015, 0.001]]),
            "record_negative": np.array([[1.0, 1.0, 1.0], [0.9, 0.8, 0.3]])}
    return {"uniform": u, "diverse": d}, scan


def test_cohort_numbers_by_hand():
    effects, scan = _cohort_effects_by_hand()
    out = study.cohort_numbers(effects, scan)
    expected = {
        "rec_mm": 2.0, "rec_mm_sd": 100 * np.sqrt(2e-4), "rec_zz": 3.0, "rec_W": 2.0,
        "rec_W_div": 15.0, "rec_W_div_sd": 100 * np.sqrt(5e-3), "neg_uniform": 0.7,
        "neg_div": 0.8, "d_z": 2.0, "d_z_sd": np.sqrt(0.5), "d_W": 1.5, "d_z_div": 0.3,
        "d_W_div": 0.4, "rec_zz_div": 0.0, "neg_div_z": 0.5,
        "n_per_group": 4,  # ceil(2 * 2.8^2 / 2^2) = ceil(3.92)
        "acc_conn": 0.85, "acc_beh": 0.45, "acc_conn_div": 0.55, "acc_beh_div": 0.5,
        "beh_gap": 3e-12, "step_W_large": -5.0, "step_W_small": 0.1, "step_mm_large": -2.0,
        "step_mm_small": -1.0, "step_zz_large": -3.0, "step_zz_small": -1.5,
        "step_neg_mz_small": 0.8, "step_neg_W_small": 0.3, "eta_large": 1e-2,
        "eta_small": 5e-3,
    }
    for k, v in expected.items():
        assert_close(out[k], v, rtol=EXACT, atol=EXACT, err_msg=k)
    assert isinstance(out["n_per_group"], int)  # quoted without a format in the text
    assert len(out) == 39  # 31 above and 8 sds not listed
    with pytest.raises(ValueError, match="lacks"):
        study.cohort_numbers({"uniform": effects["uniform"]}, scan)


def _balance_runs_by_hand():
    runs = {}
    for i, label in enumerate(study.BALANCE_KEYS.values()):
        v = np.array([1.0, 2.0]) * 10.0**-i
        runs[label] = {"violation": v, "slope": 1 + v, "correlation": 1 - v,
                       "total_ratio": np.array([1.0, 1.0]), "rate_free_residual": v / 10,
                       "d_in": np.array([[1.0, -2.0, 0.5]] * 2),
                       "d_out": np.array([[1.1, -1.9, 0.4]] * 2)}
    return runs


def test_balance_numbers_by_hand():
    runs = _balance_runs_by_hand()
    out = study.balance_numbers(runs)
    assert len(out) == 6 * 5 * 2 + 2
    # rule i has violations (1, 2) * 10^-i
    assert_close(out["bal_gd_violation"], 1.5, rtol=EXACT)
    assert_close(out["bal_gd_violation_sd"], np.sqrt(0.5), rtol=EXACT)
    assert_close(out["bal_adam_slope"], 1 + 1.5e-4, rtol=EXACT)
    assert_close(out["bal_erf_violation_sd"], np.sqrt(0.5) * 1e-5, rtol=EXACT)
    assert out["bal_n1_total_ratio"] == 1.0 and out["bal_n1_total_ratio_sd"] == 0.0
    assert_close(out["bal_eta_ratio"], 10.0, rtol=EXACT)  # gd / gd2
    assert_close(out["bal_noise_ratio"], 0.1, rtol=EXACT)  # n3 / n1
    del runs["Adam, lr 1e-3"]
    with pytest.raises(ValueError, match="Adam"):
        study.balance_numbers(runs)


def _burial_study_by_hand():
    fit = {"t_star": np.array([100.0, 25.0]), "t_pred": np.array([50.0, 25.0]),
           "retention": np.array([1.0, 0.8])}
    fit_N = {"t_star": np.array([30.0, 120.0]), "t_pred": np.array([30.0, 60.0]),
             "retention": np.array([1.2, 1.0])}
    return {"burial": {"std": np.array([1e-3, 2e-3])}, "burial_N": {"N": np.array([250, 1000])},
            "fit": fit, "fit_N": fit_N,
            "exp_s": {"exponent": -2.0, "low": -2.2, "high": -1.8},
            "exp_N": {"exponent": 1.0, "low": 0.9, "high": 1.1},
            "per_seed": {"s": np.array([-2.1, -1.9]), "N": np.array([1.0, 1.2])}}


def test_burial_numbers_by_hand():
    pair = {"D0": np.array(0.3), "function_gap": np.array(1e-13)}
    decay = {"weight_decay": np.array([0.03, 0.1]), "fitted_rate": np.array([3e-4, 1.1e-3]),
             "predicted_rate": np.array([3e-4, 1e-3])}
    out = study.burial_numbers(pair, _burial_study_by_hand(), decay)
    ratios = np.array([2.0, 1.0, 1.0, 2.0])  # t_star / t_pred of both scans
    expected = {"D0": 0.3, "pair_function_gap": 1e-13, "exp_s": -2.0, "exp_s_low": -2.2,
                "exp_s_high": -1.8, "exp_N": 1.0, "exp_N_low": 0.9, "exp_N_high": 1.1,
                "exp_s_seed_sd": np.sqrt(0.02), "exp_N_seed_sd": np.sqrt(0.02),
                "life_ratio": 1.5, "life_ratio_sd": ratios.std(ddof=1), "retention": 1.0,
                "retention_sd": np.sqrt(0.08 / 3), "t_star_1e3": 100.0, "s_min": 1e-3,
                "s_max": 2e-3, "N_min": 250, "N_max": 1000, "wd_ratio_small": 1.0,
                "wd_ratio_large": 1.1, "wd_small": 0.03, "wd_large": 0.1}
    assert set(out) == set(expected)
    for k, v in expected.items():
        assert_close(out[k], v, rtol=EXACT, atol=EXACT, err_msg=k)
    assert isinstance(out["N_min"], int)  # quoted without a format in the text
    with pytest.raises(ValueError, match="lacks"):
        study.burial_numbers({}, _burial_study_by_hand(), decay)


def test_summary_table_has_six_rows():
    keys = ["speed_ratio", "speed_ratio_sd", "rho_early", "rho_early_sd", "noise_ratio",
            "noise_ratio_sd", "noise_ratio_random", "noise_ratio_random_sd", "rec_zz",
            "rec_zz_sd", "d_z", "acc_conn", "acc_beh", "bal_gd_violation", "bal_n3_violation",
            "bal_adam_violation", "bal_erf_violation", "exp_s", "exp_s_low", "exp_s_high",
            "exp_N", "exp_N_low", "exp_N_high", "rho_noise_time", "rho_noise_time_sd",
            "pattern_ratio", "pattern_ratio_sd", "p3_paper_median_mm", "p3_paper_frac_mm",
            "p3_paper_low_mm", "p3_paper_high_mm", "p3_slope_median_mm", "rate_residual_max",
            "bal_adam_rate_free_residual", "cross_tw_ratio", "cross_t0_ratio",
            "meas_half_speed", "meas_half_inv"]
    values = dict.fromkeys(keys, 1.0)
    values["p3_flow_verdict"] = "has no definite sign"
    values["rho_noise_time"] = -0.6
    table = study.summary_table(values)
    lines = table.splitlines()
    assert len(lines) == 2 + 6 and all(line.count("|") == 4 for line in lines)
    assert lines[-1].endswith("| ρ = -0.60 ± 1.00 |")
    del values["exp_N"]
    with pytest.raises(ValueError, match="exp_N"):
        study.summary_table(values)


def test_flow_limit_study_is_the_flow_of_the_scan_animals(tmp_path, monkeypatch):
    from lrtools import finite_step

    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path))
    s = study.CohortSettings(seeds=(0, 1), n=8, N=30, epochs=(200, 100, 100),
                             etas=(1e-2, 5e-3), n_splits=5, n_flow=3)
    flow = study.flow_limit_study(s)
    start = plasticity.cohort_start(0, n=3, N=30)
    direct = finite_step.reversal_flow(start, learning_times=(1.0, 0.5, 0.5))
    assert_close(flow["flow"], finite_step.relative_record(direct["direct"], direct["reversal"]),
                 atol=0.0)
    assert float(flow["eta_modified"]) == 5e-3 and flow["decay"].shape == (3, 4)
    cohorts, _, scan = study.cohort_study(s)
    out = study.flow_limit_numbers(cohorts, scan, flow)
    assert out["p3_paper_n"] == 16 and out["p3_flow_n"] == out["p3_slope_n"] == 3
    assert out["p3_flow_verdict"] in ("has no definite sign", "is negative in most animals",
                                      "is positive in most animals")
    with pytest.raises(ValueError, match="smallest step"):
        study.flow_limit_numbers(cohorts, {**scan, "eta": 2 * scan["eta"]}, flow)


def test_flow_limit_numbers_by_hand():
    rec = np.array([[-0.01, -0.02, 0.01], [0.02, -0.01, -0.03], [-0.03, -0.04, 0.02]])
    S = np.tile(np.eye(4), (1, 3, 1, 1))
    cohorts = {"uniform": {"direct": S, "reversal": S * np.sqrt(1 + rec[..., :1, None])}}
    flow = {"flow": rec, "modified": rec - 1e-3 * np.array([1.0, 2.0, 3.0]),
            "eta_modified": np.array(1e-3), "decay": np.ones((3, 4)), "loss": np.array(1e-12)}
    scan = {"eta": np.array([2e-3, 1e-3]), "records": np.stack([rec, rec - 2e-3])}
    out = study.flow_limit_numbers(cohorts, scan, flow)
    assert out["p3_flow_neg_mm"] == 2 and out["p3_flow_neg_zz"] == 3
    assert_close(out["p3_flow_median_mm"], -1.0, atol=1e-12)  # in %
    assert_close(out["p3_slope_median_W"], -0.3, atol=1e-12)  # % per 1e-3 of step
    assert out["p3_slope_neg_mm"] == 3
    assert_close(out["p3_diag_ratio_mm"], 1.0, atol=1e-12)  # -1 / -1
    assert_close(out["p3_first_order_err"], 0.5, atol=1e-12)  # |2e-3 - 1e-3| / 2e-3
    assert out["p3_flow_verdict"] == "has no definite sign"  # 2 of 3: interval holds 1/2
    assert out["p3_paper_n"] == 3 and isinstance(out["p3_paper_neg_mm"], int)


def test_rate_pattern_measurement_and_crossover_numbers_by_hand():
    rates = {"rates m:u:v:z = 1:1:1:1": {"equal": np.array([0.004]), "weighted": np.array([0.004]),
                                          "factor_equal": np.array([0.004]),
                                          "residual": np.array([0.001]),
                                          "weights": np.array([[1.0, 1.0, -1.0, -1.0]]),
                                          "true_weights": np.array([1.0, 1.0, -1.0, -1.0]),
                                          "signs_ok": np.array([True]), "rates": np.ones(4)},
             "rates m:u:v:z = 4:1:1:0.25": {"equal": np.array([0.8]),
                                             "weighted": np.array([0.005]),
                                             "factor_equal": np.array([0.8]),
                                             "residual": np.array([0.002]),
                                             "weights": np.array([[1.0, 0.252, -0.0625, -0.25]]),
                                             "true_weights": np.array([1.0, 0.25, -0.0625, -0.25]),
                                             "signs_ok": np.array([True]),
                                             "rates": np.array([4.0, 1.0, 1.0, 0.25])}}
    out = study.rate_numbers(rates)
    assert out["rate_label_1"] == "4:1:1:0.25" and out["rate_ratio_max"] == 16.0
    assert_close(out["rate_weight_err"], 0.008, rtol=1e-12)
    assert out["rate_equal_violation_max"] == 0.8 and out["rate_residual_max"] == 0.002
    data = {"pattern": np.array([[2.0, 4.0], [6.0, 8.0]]), "noise": np.array([[1.0, 1.0],
                                                                             [2.0, 2.0]])}
    fx = {"pattern_ratio": np.array([3.0, 5.0]), "pattern_ratio_random": np.array([1.0, 1.2])}
    p = study.pattern_numbers(data, fx, N=500)
    assert p["pattern_ratio"] == 4.0 and p["pattern_gain"] == 3.5 and p["N_family"] == 500
    noisy = {"noise": np.array([0.0, 0.1, 1.0]), "rho_speed": np.array([[-0.8], [-0.4], [0.0]]),
             "rho_invisible": np.array([[-0.8], [-0.7], [-0.6]]),
             "rho_variance": np.array([[-0.5], [-0.5], [-0.2]])}
    m = study.measurement_numbers(noisy)
    assert_close(m["meas_half_speed"], 0.1, rtol=1e-12)
    assert m["meas_half_inv"] == np.inf and m["meas_rho_var_2"] == -0.2
    cross = {"t_star": np.array([[100.0, 20.0], [25.0, 10.0]]),
             "t_formula": np.array([[100.0, 10.0], [25.0, 10.0]]),
             "kappa": np.tile([0.0, 0.1], (2, 1)), "kappa_fit": np.tile([0.0, 0.12], (2, 1)),
             "weight_decay": np.tile([0.0, 10.0], (2, 1)), "std": np.array([4e-3, 8e-3])}
    c = study.crossover_numbers(cross)
    assert c["cross_t0_ratio"] == 4.0 and c["cross_tw_ratio"] == 2.0
    assert_close(c["cross_t0_pred_ratio"], 4.0, rtol=1e-12)
    assert_close(c["cross_formula_ratio"], 1.5, rtol=1e-12)
    assert_close(c["cross_kappa_ratio"], 1.2, rtol=1e-12)
    assert_close(c["cross_efold_max"], 10.0, rtol=1e-12)


def test_rate_noisy_and_crossover_studies_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path))
    ba = study.BalanceSettings(seeds=(0,), N=20, learning_time=0.05)
    rr = study.rate_study(ba)
    assert list(rr) == [study.rate_label(*g) for g in ba.rate_gains]
    fs = study.FamilySettings(seeds=(0, 1), N=40, n_family=6, epochs=20, base_epochs=50,
                              measurement_noise=(0.0, 0.1), n_draws=2)
    nz = study.noisy_connectome_study(fs)
    assert nz["rho_speed"].shape == nz["rho_invisible"].shape == (2, 2)
    s = study.BurialSettings(pair_epochs=(300, 100, 100), crossover_decays=(0.0, 10.0),
                             crossover_N=200, crossover_rep=8, n_boot=4)
    pair = study.burial_pair(s)
    cr = study.crossover_study(pair, s)
    assert cr["t_star"].shape == cr["t_formula"].shape == (2, 2)
    assert_close(cr["t_formula"][:, 0], cr["t_star"][:, 0], atol=0.0)
    names = sorted(p.name.rsplit("-", 1)[0] for p in tmp_path.glob("*.npz"))
    assert names == ["ch5-crossover", "ch5-families", "ch5-noisy-connectome", "ch5-rates"]
    with pytest.raises(ValueError, match="first crossover decay"):
        study.crossover_study(pair, s.replace(crossover_decays=(1.0, 10.0)))


def test_studies_do_not_import_matplotlib():
    import subprocess
    import sys

    code = ("import sys, lrtools.studies.predictions, lrtools.plasticity; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
