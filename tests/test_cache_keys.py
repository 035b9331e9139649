"""Cache keys are complete: every argument of every cached run changes the key.

The test walks :data:`lrtools.cache.ENTRY_POINTS` (every function decorated with
:func:`lrtools.cache.cached_run`, registered when lrtools is imported), builds a
call from the signature (defaults where there are some, an example value by
parameter name otherwise), then changes each argument in turn and asserts that
the key changes. Dataclass arguments (tasks, overlaps, phases, rules) are also
changed one field at a time, and sequences and mappings one element at a time.
Arguments that do not change results (``executor``, ``progress``) must leave the
key alone. Keys are computed without running anything.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import importlib
import inspect
import pkgutil
import re
import typing
from pathlib import Path

import numpy as np
import pytest

import lrtools
from lrtools import LowRankRNN, Overlaps, cache, memory, plasticity, studies, tasks

ROOT = Path(__file__).resolve().parent.parent

# every module of lrtools but the figure layer, so that every cached run is registered
for _mod in pkgutil.walk_packages(lrtools.__path__, "lrtools."):
    if not _mod.name.startswith(("lrtools.figures", "lrtools.plotting", "lrtools.__main__",
                                 "lrtools._torch")):
        importlib.import_module(_mod.name)

_S = memory.random_overlaps(1, 0)[0]
_NET = LowRankRNN.random(12, 1, seed=0)

# Example values for parameters without a default, by name.
EXAMPLES = {
    "S0": Overlaps(_S, memory.NAMES), "S1": Overlaps(_S, memory.NAMES),
    "start": Overlaps(_S, memory.NAMES), "S_a": _S, "S_b": 2 * _S, "base": _S,
    "members": np.stack([_S, 2 * _S]), "control_end": _S, "twins": np.stack([_S, _S]),
    "starts": np.stack([_S, 2 * _S]),
    "net": _NET, "net1": _NET,
    "family": [Overlaps(_S, memory.NAMES)],
    "task": tasks.ExponentialFilter(c=0.2),
    "phases": [memory.Phase(task=tasks.ExponentialFilter(c=0.2), epochs=3, eta=1e-3)],
    "pair": {"aaa": _S, "aba": 2 * _S},
    "rules": {"gd": plasticity.PlasticityRule(eta=5e-3)},
    "Ns": [20, 40], "seeds": [0, 1], "etas": [1e-2, 5e-3], "dcs": [0.1, 0.2],
    "stds": [0.001, 0.01], "target_stds": [0.0, 0.1], "weight_stds": [0.0, 0.01],
    "wds": [0.01, 0.1],
    "epochs": 10, "eta": 1e-3, "N": 50, "n": 3, "dt": 0.05, "n_steps": 20,
    "noise_std": 0.1, "n_trials": 5, "projected": False, "diagnostic_batch": 4,
    "label": "run", "learning_time": 5.0, "phi": "erf", "executor": None, "progress": None,
}
# Example keyword arguments where a run forwards ``**kw``.
KW_EXAMPLES = {"N": 50, "eta": 1e-3, "epochs": 10}


def _settings_class(fn, name):
    """The studies.Settings subclass a parameter is annotated with, if any."""
    try:
        hints = typing.get_type_hints(fn.__wrapped__)
    except Exception:  # an annotation that does not resolve: no settings class
        return None
    for cls in typing.get_args(hints.get(name)) or (hints.get(name),):
        if isinstance(cls, type) and issubclass(cls, studies.Settings):
            return cls
    return None


def _call(fn) -> dict:
    """Keyword arguments for a valid key: defaults, settings objects, examples by name."""
    sig = inspect.signature(fn)
    kwargs = {}
    for name, p in sig.parameters.items():
        settings_cls = _settings_class(fn, name)
        if p.kind is p.VAR_KEYWORD:
            kwargs.update(KW_EXAMPLES)
        elif p.kind is p.VAR_POSITIONAL:
            continue
        elif settings_cls is not None:
            kwargs[name] = settings_cls.fast()
        elif p.default is not p.empty:
            kwargs[name] = p.default
        else:
            assert name in EXAMPLES, (
                f"{fn.cache_name}: add an example value for parameter {name!r} to EXAMPLES")
            kwargs[name] = EXAMPLES[name]
    return kwargs


def _variants(value):
    """Values that differ from ``value`` in one place each (with a label)."""
    if isinstance(value, bool):
        yield "flip", not value
    elif value is None:
        yield "set", 1
    elif isinstance(value, int | np.integer):
        yield "+1", int(value) + 1
    elif isinstance(value, float | np.floating):
        yield "scale", float(value) * 1.5 + 0.1
    elif isinstance(value, str):
        yield "edit", value + "-other"
    elif isinstance(value, np.ndarray):
        other = value.astype(float).copy()
        other.flat[0] += 1.0
        yield "entry", other
        yield "dtype", value.astype(np.float32)
    elif isinstance(value, LowRankRNN):
        other = value.copy()
        other.X[0, 0] += 1.0
        yield "X", other
        yield "phi", LowRankRNN(value.X, phi="erf")
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            for label, v in _variants(getattr(value, f.name)):
                try:
                    yield f"{f.name}.{label}", dataclasses.replace(value, **{f.name: v})
                except (TypeError, ValueError):  # a field that must stay as it is
                    continue
    elif isinstance(value, dict):
        if not value:
            yield "add", {"x": 1}
        for k, v in value.items():
            for label, w in _variants(v):
                yield f"[{k!r}].{label}", {**value, k: w}
        yield "add", {**value, "__extra__": 1}
    elif isinstance(value, list | tuple):
        yield "append", type(value)([*value, value[0] if value else 1])
        for i, v in enumerate(value):
            for label, w in _variants(v):
                yield f"[{i}].{label}", type(value)([*value[:i], w, *value[i + 1:]])
    else:
        raise AssertionError(f"no variant for a {type(value).__qualname__}")


def _entry_points():
    assert cache.ENTRY_POINTS, "no cached runs registered"
    return sorted(cache.ENTRY_POINTS.items())


COUNTS = {"entry points": 0, "arguments": 0, "variants": 0, "neutral": 0}


@pytest.mark.parametrize("name,fn", _entry_points(), ids=[n for n, _ in _entry_points()])
def test_every_argument_changes_the_key(name, fn):
    call = _call(fn)
    base = fn.cache_key(**call)
    assert base == fn.cache_key(**call), "a key must not depend on anything but the call"
    sig = inspect.signature(fn.__wrapped__)
    checked = 0
    for pname, value in call.items():
        if pname not in sig.parameters:  # forwarded through **kw
            label_base = f"kw[{pname}]"
        else:
            label_base = pname
        if pname in fn.ignored:
            continue
        n_variants = 0
        for label, other in _variants(value):
            key = fn.cache_key(**{**call, pname: other})
            assert key != base, f"{name}: changing {label_base}.{label} leaves the key unchanged"
            n_variants += 1
        assert n_variants, f"{name}: no variant of {label_base}"
        checked += 1
        COUNTS["variants"] += n_variants
    COUNTS["entry points"] += 1
    COUNTS["arguments"] += checked
    # every parameter of the signature is either in the key or declared neutral
    for pname in sig.parameters:
        assert pname in fn.key_parameters or pname in fn.ignored
    print(f"{name}: {checked} arguments checked")


@pytest.mark.parametrize("name,fn", _entry_points(), ids=[n for n, _ in _entry_points()])
def test_neutral_arguments_leave_the_key(name, fn):
    sig = inspect.signature(fn.__wrapped__)
    assert set(fn.ignored) <= set(cache.RESULT_NEUTRAL)
    # an executor or a progress switch must never enter a key
    for pname in ("executor", "progress"):
        if pname in sig.parameters:
            assert pname in fn.ignored, f"{name}: {pname} must not be part of the key"
    call = _call(fn)
    base = fn.cache_key(**call)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        alternatives = {"executor": [pool], "progress": [True, False]}
        for pname in fn.ignored:
            for other in alternatives[pname]:
                assert fn.cache_key(**{**call, pname: other}) == base
                COUNTS["neutral"] += 1


def test_counts_are_reported():
    # run last in this module: the totals of the two tests above
    if COUNTS["entry points"] == 0:
        pytest.skip("run with the whole module")
    print(f"cache keys: {COUNTS}")
    assert COUNTS["entry points"] == len(cache.ENTRY_POINTS)
    assert COUNTS["arguments"] >= COUNTS["entry points"]


def test_positional_and_keyword_calls_share_a_key():
    fn = cache.ENTRY_POINTS["ch4-pair"]
    S = EXAMPLES["start"]
    assert fn.cache_key(S) == fn.cache_key(start=S) == fn.cache_key(S, epochs=(3000, 1000, 1000))


def test_no_hand_written_keys_outside_the_cache_module():
    pattern = re.compile(r"\bcached\(")
    offenders = []
    for folder in ("lrtools", "book", "tools", "benchmarks"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".py", ".md") or path.name == "cache.py":
                continue
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{i}")
    assert not offenders, f"hand-written cache keys (use cached_run): {offenders}"


def test_a_new_value_is_never_answered_from_another_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path))
    calls = []

    @cache.cached_run("test-demo")
    def demo(a, *, b=2.0, progress=None):
        calls.append((a, b))
        return {"y": np.array(a * b)}

    try:
        assert float(demo(1.0)["y"]) == 2.0
        assert float(demo(1.0, b=3.0)["y"]) == 3.0  # a changed default is a new entry
        assert float(demo(1.0, b=2.0, progress=True)["y"]) == 2.0  # stored
        assert calls == [(1.0, 2.0), (1.0, 3.0)]
        assert float(demo(1.0, refresh=True)["y"]) == 2.0 and len(calls) == 3
    finally:
        cache.ENTRY_POINTS.pop("test-demo", None)


def test_decode_gives_the_same_object_on_a_hit_and_a_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path))

    @cache.cached_run("test-decode", decode=lambda d: float(d["y"]) + 0.5)
    def demo(a):
        return {"y": np.array(a)}

    try:
        assert demo(1.0) == demo(1.0) == 1.5
    finally:
        cache.ENTRY_POINTS.pop("test-decode", None)


def test_bad_declarations_are_refused():
    with pytest.raises(ValueError, match="ignore names no parameter"):
        cache.cached_run("test-bad", ignore=("seed",))(lambda a: {})
    with pytest.raises(ValueError, match="already used"):
        cache.cached_run("ch4-pair")(lambda a: {})
    assert "test-bad" not in cache.ENTRY_POINTS


def test_canonical_refuses_what_it_cannot_key_exactly():
    class Opaque:
        pass

    with pytest.raises(TypeError, match="cannot key"):
        cache.canonical(Opaque())
    # arrays by content, dtype and shape; tasks and overlaps by every field
    a = np.arange(6.0)
    assert cache.canonical(a) == cache.canonical(a.copy())
    assert cache.canonical(a) != cache.canonical(a.reshape(2, 3))
    assert cache.canonical(a) != cache.canonical(a.astype(np.float32))
    assert cache.cache_key("n", {"a": 1}) != cache.cache_key("n", {"a": 1.0})
    assert cache.canonical(tasks.FlipFlop()) != cache.canonical(tasks.FlipFlop(batch_size=7))


def test_source_hash_ignores_docstrings_comments_and_plots():
    base = '''
def run(x):
    """Doc."""
    return x + 1  # comment


def plot_run(ax):
    ax.plot([1, 2])
'''
    same = base.replace('"""Doc."""', '"""Other doc."""').replace("# comment", "")
    same = same.replace("ax.plot([1, 2])", "ax.plot([3, 4], lw=2)")
    other = base.replace("x + 1", "x + 2")
    fp = cache._code_fingerprint
    assert fp(base) == fp(same)
    assert fp(base) != fp(other)
    assert len(cache.source_hash()) == 64
    assert lrtools.__version__


@dataclasses.dataclass(frozen=True, kw_only=True)
class Demo(studies.Settings):
    N: int = 10
    eta: float = 0.1
    task: tasks.Task = tasks.ExponentialFilter()

    @classmethod
    def fast(cls):
        return cls(N=3)


def test_a_run_keyed_on_settings_sees_every_field():
    @cache.cached_run("test-settings")
    def run(settings: Demo, *, progress=None):
        return {}

    try:
        call = _call(run)
        assert call["settings"] == Demo.fast()
        base = run.cache_key(**call)
        n = 0
        for _, other in _variants(call["settings"]):
            assert run.cache_key(settings=other) != base
            n += 1
        assert n >= 3  # N, eta and the task's fields
        with pytest.raises(TypeError):
            Demo(N=3, etta=0.2)  # a misspelt field is an error
    finally:
        cache.ENTRY_POINTS.pop("test-settings", None)
