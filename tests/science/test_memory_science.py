"""Chapter 4 science: multi-phase learning, the memory of training history and its geometry."""

import numpy as np
import pytest

from lrtools import LowRankRNN, Overlaps, holonomy, memory, tasks

A = tasks.ExponentialFilter(c=0.2)
NAMES = memory.NAMES


@pytest.fixture(scope="module")
def theta2():
    return memory.paper_theta2(N=500, seed=0)


@pytest.fixture(scope="module")
def broad():
    # a start with O(1) cross overlaps (the nonlinear experiment's recipe)
    return Overlaps(memory.random_overlaps(8, 5)[3], memory.NAMES)


def _base():
    M = np.diag([2.0, 2.0, 3.0, 4.0])
    for (i, j), x in {(3, 0): 0.5, (2, 1): 0.25, (3, 1): 0.25, (2, 0): 0.5}.items():
        M[i, j] = M[j, i] = x
    return M


def test_theta2_has_the_papers_invisible_overlaps(theta2):
    S1 = LowRankRNN.random(N=500, rank=1, seed=0).overlaps()
    assert theta2["uu"] == 2.048 and theta2["mu"] == 0.8
    for key in S1.visible("linear"):
        assert theta2[key] == S1[key]


def test_phases_round_trip_through_arrays(theta2):
    h = memory.run_phases(theta2, memory.filter_phases([3, 2], [0.2, 0.4], 5e-3))
    back = memory.phases_from_arrays(memory.phases_to_arrays(h))
    assert len(back) == 2
    for a, b in zip(h, back, strict=True):
        assert np.array_equal(a.overlaps, b.overlaps) and np.array_equal(a.loss, b.loss)
    joined, bounds = memory.join(h)
    assert list(bounds) == [0, 3, 5] and len(joined.overlaps) == 6


def test_aba_memory_under_gd(theta2):
    r = memory.history_pair(theta2, epochs=(3000, 1000, 1000), eta=5e-3)
    # measured: function gap 6.1e-5 (A2 not fully converged), invisible 2.9e-3
    assert r["function"] < 2e-4
    assert r["invisible"] > 10 * r["function"]
    assert r["loss"] < 1e-7


def test_flow_remembers_with_every_conserved_quantity_fixed(broad):
    r = memory.flow_memory(broad.matrix[None], learning_time=20.0)
    assert r["loss"][0] < 1e-15  # converged A phases
    assert r["function"][0] < 1e-8  # same behaviour
    assert r["conserved_drift"][0] < 1e-9  # integration error only
    # measured 7.1e-4, stable to 1e-9 when rtol goes from 1e-10 to 1e-12
    assert r["invisible"][0] > 1e-4


def test_gd_memory_tends_to_the_flow_memory_linearly(theta2):
    r = memory.memory_vs_eta(theta2, [5e-3, 2.5e-3], learning_times=(12.0, 12.0, 12.0))
    dev = np.max(np.abs(r["aba"] - r["flow_aba"]), axis=(1, 2))
    # O(eta) discretisation term: ratio 2 at first order; measured 2.26 at these eta
    assert 1.8 < dev[0] / dev[1] < 2.6
    assert float(r["flow_invisible"]) > 1e-4  # the flow's own memory (2.5e-4)


def test_horizontal_directions_are_bracket_generating(broad):
    h = memory.horizontal_span(broad)
    assert h["level_set_dim"] == 5
    assert h["tangent"] < 1e-7  # fields and brackets keep the conserved quantities
    sv = h["brackets"]
    assert h["fields"][2] > 1e-3 * h["fields"][0]  # three independent flow directions
    # the brackets add two more: 5 = the whole level set (6th = [F1, F2] = 0)
    assert sv[4] > 1e-4 * sv[0] and sv[5] < 1e-8 * sv[0]


def test_outside_span_is_the_norm_of_the_residual():
    X = np.random.default_rng(0).normal(size=(300, 4)) @ np.triu(np.ones((4, 4)))
    coef, *_ = np.linalg.lstsq(X[:, :3], X[:, 3], rcond=None)
    r = X[:, 3] - X[:, :3] @ coef
    S = Overlaps.from_vectors(X, memory.NAMES)
    # Schur complement of the Gram matrix = squared residual norm (float64 round-off)
    assert memory.outside_span(S) == pytest.approx(r @ r / 300, rel=1e-10)


def test_one_step_drift_is_second_order(theta2):
    d = memory.one_step_drift(theta2, A, [1e-2, 5e-3])
    assert d.shape == (2,)
    # O(eta^2) per step: halving eta divides the drift by 4 (next order: 2% here)
    assert d[0] / d[1] == pytest.approx(4.0, rel=0.05)


def test_scan_builders_reject_bad_settings():
    S = Overlaps(_base(), NAMES)
    with pytest.raises(ValueError, match="positive"):
        memory.memory_vs_loop_size(S, [0.1, 0.0])
    with pytest.raises(ValueError, match="positive"):
        memory.weight_decay_map({"aba": _base(), "aaa": _base()}, A, [0.1, -0.1])


def test_memory_reexports_its_neighbours():
    # other modules import these from lrtools.memory
    from lrtools import conserved, twins

    assert memory.random_overlaps is twins.random_overlaps
    assert memory.predicted_decay_rate is conserved.predicted_decay_rate


def test_horizontal_lifts_move_one_function_coordinate_each(broad):
    S = broad.matrix
    H = memory.horizontal_lifts(broad)
    f = holonomy._function_coords
    h = 1e-6
    for j, Hj in enumerate(H):
        rate = (f(S + h * Hj) - f(S - h * Hj)) / (2 * h)
        assert np.allclose(rate, np.eye(3)[j], atol=1e-8)
        # a combination of the flow directions: tangent to the conserved quantities
        dq = (memory.conserved(S + h * Hj) - memory.conserved(S - h * Hj)) / (2 * h)
        assert np.max(np.abs(dq)) < 1e-7
    for jk, B in memory.lift_curvature(broad).items():
        # the brackets are vertical (leave f fixed) and not zero: curvature
        rate = (f(S + h * B) - f(S - h * B)) / (2 * h)
        assert np.max(np.abs(rate)) < 1e-6 * np.linalg.norm(B), jk
        assert np.linalg.norm(B) > 1e-2, jk


def test_small_loop_memory_is_curvature_times_enclosed_area(theta2):
    dcs = (0.005, 0.01, 0.02)
    r = memory.loop_holonomy(theta2, dcs=dcs, rtol=1e-10, atol=1e-12)
    assert r["measured"].shape == r["predicted"].shape == (3, 4, 4)
    assert np.all(r["chord"] < 1e-8)  # both histories end at the same function
    # the memory is second order in the loop size ...
    norm = np.linalg.norm(r["measured"], axis=(1, 2))
    assert np.diff(np.log(norm)) / np.diff(np.log(dcs)) == pytest.approx([2, 2], abs=0.1)
    # ... and the second-order prediction has its direction and size, with an error
    # of the next order (measured: ratio 0.997 at 0.005, error slope 1.0)
    assert np.all(r["cosine"] > 1 - 1e-6)
    assert abs(1 - r["ratio"][0]) < 0.01
    err = np.abs(1 - r["ratio"])
    slope = np.polyfit(np.log(dcs), np.log(err), 1)[0]
    assert 0.7 < slope < 1.3


def test_loop_holonomy_rejects_bad_input(theta2):
    with pytest.raises(ValueError, match="positive"):
        memory.loop_holonomy(theta2, dcs=[0.01, -0.01])
    with pytest.raises(ValueError, match="flow_time"):
        memory.loop_holonomy(theta2, dcs=[0.01], flow_time=0.0)
    with pytest.raises(ValueError, match="rank-1"):
        memory.loop_holonomy(np.eye(6), dcs=[0.01])
