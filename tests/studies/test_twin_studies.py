"""The twin experiment on the paper's protocol: the protocol object, runs, decoding, numbers."""

import dataclasses

import numpy as np
import pytest

import lrtools
from lrtools import decoding, twins
from lrtools.studies import twins as study
from lrtools.tasks import DecisionMaking, FlipFlop, TeacherStudent


def test_the_protocol_is_the_authors():
    p = lrtools.TwinProtocol.paper()
    assert p.epochs == (30000, 30000) and p.batch_size == 128 and p.n_pairs == 10
    assert (p.eta_ab, p.eta_c, p.eta_drop) == (0.01, 1e-3, (0.015, 5.0))
    a, b, c = p.task_a, p.task_b, p.task_c
    assert isinstance(a, FlipFlop) and (a.wait_min, a.wait_max, a.amplitude, a.level) == (
        1.0, 2.0, 2.0, 1.0) and a.mask_lead == 1
    assert isinstance(b, DecisionMaking) and b.coherences == (-16, -8, -2, 2, 8, 16)
    assert (b.noise_std, b.noise) == (0.05, "sample")
    assert isinstance(c, TeacherStudent) and c.loss_scale == c.t_max == 20.0
    f = lrtools.TwinProtocol.fast()
    assert f.task_a == dataclasses.replace(a, batch_size=32) and f.epochs[0] < p.epochs[0]
    with pytest.raises(ValueError, match="share"):
        p.replace(task_c=TeacherStudent(batch_size=64))
    with pytest.raises(TypeError):
        p.replace(epoch=(1, 1))


def test_task_options_of_the_protocol():
    rng = np.random.default_rng(0)
    x, y, m = lrtools.TwinProtocol.paper().task_a.sample(rng)
    onsets = np.where(np.diff(np.abs(x[0, :, 0]), prepend=0) > 0)[0]
    assert np.all(m[0, onsets[1:] - 1, 0] == 0)  # the step before a pulse is left out
    dm = DecisionMaking(batch_size=4, noise_std=0.05, noise="sample")
    x, _, _ = dm.sample(rng)
    fix = dm.epochs()["fixation"]
    assert np.std(x[:, fix]) > 0.02  # noise on every sample, fixation included
    ts = TeacherStudent(batch_size=2, loss_scale=20.0)
    assert ts.loss_weights(np.ones((2, 400, 1))).sum() == pytest.approx(20.0)
    with pytest.raises(ValueError, match="noise"):
        DecisionMaking(noise="pink")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("LRTOOLS_CACHE", str(tmp_path_factory.mktemp("cache")))
    p = lrtools.TwinProtocol.fast().replace(
        task_a=dataclasses.replace(lrtools.TwinProtocol.fast().task_a, batch_size=4),
        task_b=dataclasses.replace(lrtools.TwinProtocol.fast().task_b, batch_size=4),
        task_c=dataclasses.replace(lrtools.TwinProtocol.fast().task_c, batch_size=4),
        epochs=(30, 30), n_pairs=6, record_every=10)
    s = study.TwinSettings(protocol=p, paper_pairs=4, n_folds=3, n_perm=9, n_boot=50,
                           paper_runs=4, record_step=2,
                           check_protocol=p.replace(n_pairs=4, epochs=(10, 10)))
    yield s, study.twin_runs(s)
    mp.undo()


def test_runs_decoding_and_numbers(toy):
    s, tw = toy
    assert tw["ab"].shape == (4, 6, 2, 4, 4) and tw["c_loss"].shape == (30, 6, 2)
    assert np.array_equal(tw["start"][:4], twins.random_overlaps(4, [0, 0]))  # nested starts
    dec = study.twin_decoding(tw, s)
    assert set(dec["pairs"]) == {(lab, k, z) for _, lab in study.STAGES
                                 for k in study.FEATURE_SETS for z in s.noises}
    start = dec["pairs"][("start", "invisible", 0.0)]
    assert start["accuracy"] == 0.5  # identical twins: nothing to decode
    n = study.decoding_numbers(dec)
    assert n["acc_after_C_behaviour_0"] == dec["pairs"][("after C", "behaviour", 0.0)]["accuracy"]
    assert 0 < n["min_p"] <= 1
    t = study.twin_numbers(tw, s)
    assert t["tau_c"] == pytest.approx(s.protocol.eta_c * 30 * 20.0)
    assert t["n_pairs"] == 6 and t["batch"] == 4
    fo = study.first_order_numbers(study.first_order_check(s), s)
    assert fo["fo_n_pairs"] == 4 and fo["fo_overlap_gap"] >= 0


def test_pair_decoding_finds_a_planted_difference_and_not_a_fake_one():
    rng = np.random.default_rng(1)
    F = rng.standard_normal((30, 2, 3))
    F[:, 1, 0] += 3.0  # twin B differs in feature 0
    r = decoding.pair_decoding(F, n_perm=49, n_boot=200, seed=0)
    assert r["accuracy"] > 0.9 and r["p_value"] == pytest.approx(0.02) and r["lo"] > 0.8
    null = decoding.pair_decoding(rng.standard_normal((30, 2, 3)), n_perm=49, n_boot=200,
                                  seed=0)
    assert null["p_value"] > 0.05 and null["lo"] < 0.5 < null["hi"] + 0.2
    with pytest.raises(ValueError, match="n_folds"):
        decoding.pair_decoding(F[:3], n_folds=5)
