"""The decoders: twin histories (chapter 4) and groups of individuals (chapter 5)."""

import dataclasses

import numpy as np
import pytest
from conftest import assert_close

from lrtools import decoding, plasticity, twins


def test_identical_twins_decode_at_chance():
    F = np.repeat(np.random.default_rng(0).normal(size=(10, 1, 3)), 2, axis=1)
    acc = decoding.decode_history(F, n_splits=10)
    assert_close(acc, np.full(10, 0.5))  # identical features: one of each pair right


def test_history_is_decodable_from_invisible_overlaps_after_C():
    # the paper's protocol with 8 pairs, small batches and fewer epochs (about 10 s)
    f = twins.TwinProtocol.fast()
    small = {k: dataclasses.replace(getattr(f, k), batch_size=8)
             for k in ("task_a", "task_b", "task_c")}
    data = twins.twin_experiment(f.replace(**small, n_pairs=8, seed=1, epochs=(3000, 3000),
                                           record_every=500))
    assert np.all(data["c_loss"][-50:].mean(axis=0) < 0.05)  # both twins learned C
    f = twins.twin_features(data, "c")
    acc = decoding.decode_history(f["invisible"], n_train_pairs=6, n_splits=40, seed=0)
    # 4 test networks per split, chance 0.5; measured 0.71 (sd over splits 0.2)
    assert acc.mean() > 0.6
    start = decoding.decode_history(twins.twin_features(data, "start")["invisible"],
                                    n_train_pairs=6, n_splits=10, seed=0)
    assert_close(start, np.full(10, 0.5))  # identical twins at the start


def test_decode_history_is_decode_with_pairs_as_units():
    rng = np.random.default_rng(1)
    F = rng.normal(size=(10, 2, 4))
    F[:, 1] += 0.4
    a = decoding.decode_history(F, noise=0.3, n_splits=20, seed=2)
    b = decoding.decode(F, np.tile([0, 1], (10, 1)), 8, noise=0.3, n_splits=20, seed=2)
    assert np.array_equal(a, b)  # the same draws and fits: bit for bit
    assert a.mean() > 0.5


@pytest.mark.skipif(not hasattr(plasticity, "decode_groups"),
                    reason="chapter 5's decoder has moved onto lrtools.decoding.decode")
def test_decode_serves_the_group_decoder_of_chapter_5():
    rng = np.random.default_rng(0)
    Fa, Fb = rng.normal(size=(12, 3)), 0.5 + rng.normal(size=(10, 3))
    ks = [round(0.75 * len(Fa)), round(0.75 * len(Fb))]
    for noise in (0.0, 0.05):
        old = plasticity.decode_groups(Fa, Fb, noise=noise, n_splits=20, seed=3)
        new = decoding.decode(np.concatenate([Fa, Fb]),
                              np.r_[np.zeros(len(Fa)), np.ones(len(Fb))], ks,
                              strata=[np.arange(len(Fa)), len(Fa) + np.arange(len(Fb))],
                              noise=noise, relative_noise=True, n_splits=20, seed=3)
        assert np.array_equal(old, new)  # the same draws and fits: bit for bit


def test_decoders_reject_bad_splits_and_shapes():
    F = np.zeros((4, 2, 3))
    with pytest.raises(ValueError, match="n_train_pairs"):
        decoding.decode_history(F, n_train_pairs=4)
    with pytest.raises(ValueError, match="shape"):
        decoding.decode_history(np.zeros((4, 3, 3)))
    with pytest.raises(ValueError, match="n_train"):
        decoding.decode(np.zeros((6, 2)), np.r_[np.zeros(3), np.ones(3)], [1, 3],
                        strata=[[0, 1, 2], [3, 4, 5]])
    with pytest.raises(ValueError, match="labels"):
        decoding.decode(np.zeros((6, 2)), np.zeros(5), 2)
