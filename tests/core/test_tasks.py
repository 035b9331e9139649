"""The nonlinear tasks: seeding, shapes, timing and loss masks (flip-flop,
decision making, teacher-student)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_close
from reference import flip_flop_pulses_loop

from lrtools import theory
from lrtools.tasks import (
    DecisionMaking,
    FlipFlop,
    TeacherStudent,
    batches,
    flip_flop_pulses,
    teacher_overlaps,
)

TASKS = {
    "flipflop": lambda: FlipFlop(dt=0.025, t_max=20.0, batch_size=10),
    "decision": lambda: DecisionMaking(dt=0.05, t_max=20.0, batch_size=128),
    "teacher": lambda: TeacherStudent(batch_size=16),
}


@pytest.mark.parametrize("name", list(TASKS))
def test_seeded_shapes_and_reproducible(name):
    task = TASKS[name]()
    a = task.sample(np.random.default_rng(3))
    b = task.sample(np.random.default_rng(3))
    c = task.sample(np.random.default_rng(4))
    B, T = task.batch_size, task.n_steps
    for arr, n in zip(a, (task.n_in, task.n_out, task.n_out), strict=True):
        assert arr.shape == (B, T, n) and arr.dtype == np.float64
    for u, v in zip(a, b, strict=True):
        assert np.array_equal(u, v)  # same seed: bit-identical
    assert not np.array_equal(a[0], c[0])  # another seed: another batch
    assert task.reduction == "mean" and not task.deterministic
    w = task.loss_weights(a[2])
    assert w.sum() == pytest.approx(1.0, rel=1e-12)  # masked mean: weights sum to one
    # the stream shared by train() and theory.learn() repeats with the seed
    s1, s2 = batches(task, 7), batches(task, 7)
    for _ in range(2):
        for u, v in zip(next(s1), next(s2), strict=True):
            assert np.array_equal(u, v)


def _onsets(x_row: np.ndarray) -> np.ndarray:
    on = np.abs(x_row) > 0
    return np.flatnonzero(on & ~np.concatenate([[False], on[:-1]]))


def test_flip_flop_timing_target_and_mask():
    task = FlipFlop(dt=0.025, t_max=20.0, batch_size=64)
    x, y, mask = task.sample(np.random.default_rng(0))
    dt = task.dt
    n_pulse, n_blank = round(0.5 / dt), round(2.5 / dt)
    n_pulses = []
    for b in range(task.batch_size):
        xb, yb, mb = x[b, :, 0], y[b, :, 0], mask[b, :, 0]
        onsets = _onsets(xb)
        n_pulses.append(len(onsets))
        assert onsets[0] == round(0.5 / dt)  # first pulse at 0.5 s
        # every pulse: +-1 for 0.5 s (or until the end of the trial)
        for k0 in onsets:
            seg = xb[k0:k0 + n_pulse]
            assert np.all(seg == seg[0]) and abs(seg[0]) == 1.0
        # waits after the 2.5 s pulse-plus-window lie in [4, 10] s (grid rounding: +-1 step)
        gaps = np.diff(onsets) * dt - 2.5
        assert np.all(gaps >= 4.0 - dt - 1e-9) and np.all(gaps <= 10.0 + dt + 1e-9)
        # the expected mask, built from the onsets
        expect = np.ones(task.n_steps)
        expect[:onsets[0]] = 0.0
        for k0 in onsets:
            expect[k0:k0 + n_blank] = 0.0
        assert np.array_equal(mb, expect)
        # target: +-0.5, the sign of the last pulse, from that pulse's onset on
        for i, k0 in enumerate(onsets):
            k1 = onsets[i + 1] if i + 1 < len(onsets) else task.n_steps
            assert np.all(yb[k0:k1] == 0.5 * xb[k0])
        assert np.all(yb[:onsets[0]] == 0.0)
        assert np.all(xb[mb > 0] == 0.0)  # no input where the loss counts
    # with waits of 4-10 s, a 20 s trial has 2 or 3 pulses, and both occur
    assert set(n_pulses) == {2, 3}


def test_flip_flop_pulses_signs_are_balanced():
    pulses, state, free = flip_flop_pulses(np.random.default_rng(1), 400, 800, 0.025)
    first = pulses[:, round(0.5 / 0.025)]
    # 400 fair signs: mean within 4 standard errors (4 / sqrt(400) = 0.2) of zero
    assert abs(first.mean()) < 0.2
    assert np.all(state[:, -1] != 0) and free.dtype == bool


@pytest.mark.parametrize("kw", [
    {"batch_size": 64, "n_steps": 800, "dt": 0.025},
    {"batch_size": 128, "n_steps": 400, "dt": 0.05, "wait_min": 1.0, "wait_max": 2.0},
    # onsets and durations half a step off the grid (ties round to even), a first
    # pulse beyond the trial, a trial shorter than one pulse
    {"batch_size": 40, "n_steps": 97, "dt": 0.1, "pulse_duration": 0.25, "first_pulse": 0.35,
     "post_pulse": 0.45, "wait_min": 0.05, "wait_max": 0.3},
    {"batch_size": 5, "n_steps": 3, "dt": 0.1, "first_pulse": 0.5},
    {"batch_size": 7, "n_steps": 30, "dt": 0.1, "first_pulse": 0.0, "pulse_duration": 1.0},
])
def test_flip_flop_pulses_are_the_plain_loop_bit_for_bit(kw):
    # the compiled sampler draws the same numbers in the same order: the same
    # batches and the generator left in the same state
    for seed in range(6):
        r1, r2 = np.random.default_rng(seed), np.random.default_rng(seed)
        got = flip_flop_pulses(r1, **kw)
        want = flip_flop_pulses_loop(r2, **kw)
        for g, w in zip(got, want, strict=True):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)
        assert r1.random() == r2.random()


def test_flip_flop_pulses_need_a_generator():
    with pytest.raises(TypeError, match="Generator"):
        flip_flop_pulses(np.random.RandomState(0), 2, 10, 0.1)


def test_decision_making_epochs_target_and_mask():
    task = DecisionMaking(dt=0.05, t_max=20.0, batch_size=256)
    ep = task.epochs()
    assert [(s.start, s.stop) for s in ep.values()] == [(0, 20), (20, 200), (200, 220), (220, 400)]
    x, y, mask = task.sample(np.random.default_rng(0))
    expect_mask = np.zeros(task.n_steps)
    expect_mask[220:] = 1.0
    assert np.array_equal(mask[:, :, 0], np.broadcast_to(expect_mask, (256, 400)))
    coh = 16.0 * y[:, -1, 0]
    assert set(np.unique(coh)) == {-16.0, -8.0, -4.0, -2.0, 2.0, 4.0, 8.0, 16.0}
    assert np.all(y[:, 220:, 0] == y[:, -1:, 0]) and np.all(y[:, :220] == 0.0)
    outside = np.ones(400, dtype=bool)
    outside[20:200] = False
    assert np.all(x[:, outside] == 0.0)  # input only during the stimulus
    # stimulus: mean coh * 3.2 / 100, noise of per-sample std 0.1 / sqrt(dt)
    resid = x[:, 20:200, 0] - coh[:, None] * 0.032
    # 256 * 180 samples: the sample std is within 2% of 0.1 / sqrt(0.05) (SE 0.3%)
    assert resid.std() == pytest.approx(0.1 / np.sqrt(0.05), rel=0.02)
    quiet = DecisionMaking(noise_std=0.0, batch_size=8).sample(np.random.default_rng(1))
    assert_close(quiet[0][:, 20:200, 0], np.repeat(16 * quiet[1][:, -1:, 0] * 0.032, 180, axis=1),
                 atol=1e-15)


def test_teacher_student_targets_are_the_teachers_output():
    task = TeacherStudent(batch_size=32)
    x, y, mask = task.sample(np.random.default_rng(5))
    assert_close(y, theory.run(task.teacher, x, task.dt, "erf"), atol=0.0)  # same computation
    assert np.all(mask == 1.0)
    S = teacher_overlaps()
    for name, val in dict(zm=0.5, zu=2.3, vm=2.0, vu=1.5, mu=1.6, mm=1.8, uu=2.2).items():
        assert S[name] == val
    assert S.is_psd() and np.linalg.eigvalsh(S.matrix).min() > 0.05
    # invisible overlaps do not change the teacher's output (Gaussian limit)
    other = TeacherStudent(teacher=teacher_overlaps(margin=3.0), batch_size=32)
    assert np.array_equal(other.sample(np.random.default_rng(5))[1], y)
    # the input is 1.5 N(0,1) noise plus 2 x flip-flop pulses (drawn in this order)
    rng = np.random.default_rng(5)
    pulses, _, _ = flip_flop_pulses(rng, 32, task.n_steps, task.dt)
    noise = rng.standard_normal((32, task.n_steps, 1))
    assert_close(x, 1.5 * noise + 2.0 * pulses[:, :, None], atol=0.0)
    assert np.all(np.abs(pulses).sum(axis=1) > 0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: FlipFlop(batch_size=0),
        lambda: FlipFlop(wait_min=5.0, wait_max=4.0),
        lambda: FlipFlop(first_pulse=25.0),
        lambda: FlipFlop(dt=0.3),  # 20 / 0.3 is not a whole number of steps
        lambda: DecisionMaking(t_max=10.0),  # epochs do not fill the trial
        lambda: DecisionMaking(noise_std=-1.0),
        lambda: TeacherStudent(phi="relu"),
        lambda: teacher_overlaps(margin=0.0),
    ],
)
def test_bad_settings_raise(make):
    with pytest.raises(ValueError):
        make()


def test_sample_needs_a_generator():
    for make in TASKS.values():
        with pytest.raises(ValueError, match="Generator"):
            make().sample(None)
