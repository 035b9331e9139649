"""The disk cache: keyed by parameters and code, atomic, never trusts a bad entry."""

import numpy as np
import pytest

import lrtools
from lrtools import LowRankRNN, cache, tasks


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path))
    return tmp_path


def test_cache_hits_and_keys(cache_folder):
    calls = []

    def compute():
        calls.append(1)
        return {"a": np.arange(3.0), "b": 2.5}

    first = cache.cached("demo", {"eta": 1e-3, "task": tasks.ExponentialFilter()}, compute)
    again = cache.cached("demo", {"eta": 1e-3, "task": tasks.ExponentialFilter()}, compute)
    assert len(calls) == 1
    assert np.array_equal(first["a"], again["a"]) and float(again["b"]) == 2.5
    cache.cached("demo", {"eta": 2e-3, "task": tasks.ExponentialFilter()}, compute)
    cache.cached("demo", {"eta": 1e-3, "task": tasks.ExponentialFilter(c=0.4)}, compute)
    assert len(calls) == 3  # other parameters, other entries
    assert len(list(cache_folder.glob("demo-*.npz"))) == 3
    assert not list(cache_folder.glob(".*"))  # no temporary files left


def test_corrupt_or_foreign_entry_is_recomputed(cache_folder):
    value = {"x": np.ones(4)}
    cache.cached("c", {"p": 1}, lambda: value)
    (path,) = cache_folder.glob("c-*.npz")
    path.write_bytes(b"not a zip file")
    out = cache.cached("c", {"p": 1}, lambda: {"x": np.zeros(4)})
    assert np.array_equal(out["x"], np.zeros(4))
    # an entry stored under another key (e.g. older code) is not used either
    np.savez(path, __key__=np.array("something else"), x=np.full(4, 7.0))
    out = cache.cached("c", {"p": 1}, lambda: {"x": np.zeros(4)})
    assert np.array_equal(out["x"], np.zeros(4))


def test_key_depends_on_version(monkeypatch):
    k1 = cache.cache_key("n", {"a": 1})
    monkeypatch.setattr(cache, "__version__", "999")
    assert cache.cache_key("n", {"a": 1}) != k1


def test_history_round_trip(cache_folder, filter_task):
    net = LowRankRNN.random(N=30, rank=1, seed=0)

    def compute():
        return lrtools.train(net, filter_task, epochs=3, eta=1e-3, snapshot_every=2).to_arrays("h_")

    h = lrtools.History.from_arrays(cache.cached("hist", {"n": 1}, compute), "h_")
    h2 = lrtools.History.from_arrays(cache.cached("hist", {"n": 1}, compute), "h_")
    assert np.array_equal(h.overlaps, h2.overlaps) and h2.names == ("m", "u", "v", "z")
    assert h2.vectors.shape == (3, 30, 4) and h2.info["eta"] == 1e-3


def test_object_values_are_refused(cache_folder):
    with pytest.raises(TypeError, match="not a plain array"):
        cache.cached("bad", {}, lambda: {"x": np.array([{}, 1], dtype=object)})
