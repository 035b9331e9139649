"""Overlap matrices: named access, visibility, vectors with prescribed overlaps."""

import numpy as np
import pytest
from conftest import assert_close

from lrtools import LowRankRNN, Overlaps, vector_names
from lrtools.overlaps import invisible_pairs, visible_pairs


def test_vector_names():
    assert vector_names() == ("m", "u", "v", "z")
    assert vector_names(rank=2) == ("m", "u1", "u2", "v1", "v2", "z")
    assert vector_names(rank=1, n_in=2, n_out=2) == ("m1", "m2", "u", "v", "z1", "z2")


def test_named_access_is_order_free():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 6))
    S = Overlaps.from_vectors(X, vector_names(rank=2))
    assert S["v1u2"] == S["u2v1"] == S["v1", "u2"]
    assert S["zm"] == S["mz"]
    # exact: the entry is one float of the matrix X^T X / N
    assert S["u1u1"] == pytest.approx(X[:, 1] @ X[:, 1] / 50, rel=1e-15)
    with pytest.raises(KeyError, match="does not name an overlap"):
        S["zq"]


def test_replace_keeps_the_rest_and_symmetry():
    S = Overlaps(np.eye(4), names=("m", "u", "v", "z"))
    S2 = S.replace(uu=2.048, mu=0.8)
    assert S2["uu"] == 2.048 and S2["um"] == 0.8 and S2["mu"] == 0.8
    assert S2["zz"] == 1.0 and S2["zm"] == 0.0
    assert S["uu"] == 1.0  # original untouched
    assert np.array_equal(S2.matrix, S2.matrix.T)


def test_overlaps_rejects_bad_matrices():
    with pytest.raises(ValueError, match="not symmetric"):
        Overlaps(np.array([[1.0, 0.5], [0.2, 1.0]]), names=("m", "z"))
    with pytest.raises(ValueError, match="does not match"):
        Overlaps(np.eye(3), names=("m", "u", "v", "z"))
    with pytest.raises(ValueError, match="non-finite"):
        Overlaps(np.full((4, 4), np.nan), names=("m", "u", "v", "z"))


def test_visible_invisible_split():
    names = vector_names()
    lin_vis = {a + b for a, b in visible_pairs(names, "linear")}
    assert lin_vis == {"zm", "zu", "vm", "vu"}
    assert [a + b for a, b in visible_pairs(names, "linear")] == ["zm", "zu", "vm", "vu"]
    lin_inv = {a + b for a, b in invisible_pairs(names, "linear")}
    assert lin_inv == {"mm", "mu", "uu", "vv", "zv", "zz"}
    erf_vis = {a + b for a, b in visible_pairs(names, "erf")}
    assert erf_vis == lin_vis | {"mm", "mu", "uu"}
    assert {a + b for a, b in invisible_pairs(names, "erf")} == {"vv", "zv", "zz"}
    # rank 2: 21 overlaps; visible are the 2 x 3 blocks (z, v1, v2) x (m, u1, u2)
    names2 = vector_names(rank=2)
    assert len(visible_pairs(names2)) + len(invisible_pairs(names2)) == 21
    assert len(visible_pairs(names2)) == 9
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        visible_pairs(names, "relu")


@pytest.mark.parametrize("N", [6, 50, 1000])
def test_vectors_with_exact_overlaps(N):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((6, 6))
    S = Overlaps(A @ A.T / 6, vector_names(rank=2))
    X = S.vectors(N, seed=3)
    assert X.shape == (N, 6)
    # float64 Gram matrix of O(1) entries: round-off ~ 1e-15 per entry
    assert_close(X.T @ X / N, S.matrix, atol=1e-13)
    assert np.array_equal(X, S.vectors(N, seed=3))  # seeded


def test_vectors_with_singular_psd_overlaps():
    v = np.array([1.0, 2.0, 0.5, -1.0])
    S = Overlaps(np.outer(v, v), names=("m", "u", "v", "z"))  # rank 1, PSD
    X = S.vectors(100, seed=0)
    assert_close(X.T @ X / 100, S.matrix, atol=1e-13)


def test_vectors_reject_non_psd_and_small_N():
    S = Overlaps(np.eye(4), names=("m", "u", "v", "z")).replace(mu=1.5)
    assert not S.is_psd()
    with pytest.raises(ValueError, match="not positive semidefinite"):
        S.vectors(100, seed=0)
    with pytest.raises(ValueError, match="N=3 is smaller than the number of vectors k=4"):
        Overlaps(np.eye(4), names=("m", "u", "v", "z")).vectors(3, seed=0)
    with pytest.raises(ValueError, match="not positive semidefinite"):
        LowRankRNN.from_overlaps(S, N=100, seed=0)


def test_network_overlaps_match_construction():
    S = Overlaps(np.eye(4), names=("m", "u", "v", "z")).replace(uu=2.048, mu=0.8, zm=0.3)
    net = LowRankRNN.from_overlaps(S, N=500, phi="linear", seed=1)
    assert_close(net.overlaps().matrix, S.matrix, atol=1e-13)


def test_random_network_has_unit_norms():
    net = LowRankRNN.random(N=300, rank=2, seed=0)
    S = net.overlaps()
    assert_close(np.diag(S.matrix), np.ones(6), rtol=1e-14)
