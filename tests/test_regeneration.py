"""The figures still regenerate: the notebooks' key numbers match the committed ones.

``nox -s tests`` executes every notebook in fast mode first; each writes its key
numbers to ``_build/numbers/<chapter>-fast.json``. This test compares them with
``tests/expected/numbers-fast.json`` (tolerances explained in ``tools/keynumbers.py``)
and prints a table of every difference. Run alone (without the notebooks), it is
skipped unless ``LRTOOLS_REQUIRE_NUMBERS=1``, which the nox session sets.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import keynumbers as numbers_tool  # noqa: E402  (tools/keynumbers.py)


def test_key_numbers_regenerate():
    if not numbers_tool.actual("fast"):
        if os.environ.get("LRTOOLS_REQUIRE_NUMBERS") == "1":
            pytest.fail("no numbers in _build/numbers: the fast notebooks did not run")
        pytest.skip("run the fast notebooks first (nox -s tests does)")
    rows = numbers_tool.compare("fast")
    assert not rows, "\n" + numbers_tool.table(rows)


def test_checker_catches_a_changed_number():
    spec = {"kind": "value", "value": 0.8009966, "rtol": 1e-6}
    assert numbers_tool.check_one(spec, 0.8009966) is None
    assert "differs" in numbers_tool.check_one(spec, 0.8010966)
    bound = {"kind": "bound", "max": 1e-10}
    assert numbers_tool.check_one(bound, 3e-15) is None
    assert ">" in numbers_tool.check_one(bound, 2e-9)
    assert numbers_tool.check_one({"kind": "value", "value": [1.0, 2.0]}, [1.0, 2.5]) is not None
    assert numbers_tool.check_one({"kind": "setting", "value": 500}, 500) is None
    assert "setting" in numbers_tool.check_one({"kind": "setting", "value": 500}, 501)
    assert numbers_tool.check_one(spec, float("nan")) == "not finite"


def _entry(ref, moves, configs=("a", "b")):
    """A perturbation-study entry: ``moves`` maps a configuration to its value."""
    flat = numbers_tool._flat
    abs_d = max((abs(x - y) for v in moves.values() for x, y in zip(flat(ref), flat(v),
                                                                     strict=True)), default=0.0)
    rel_d = max((abs(x - y) / abs(x) for v in moves.values()
                 for x, y in zip(flat(ref), flat(v), strict=True) if x), default=0.0)
    return {"reference": ref, "max_abs": abs_d, "max_rel": rel_d,
            "moved_in": [c for c, v in moves.items() if v != ref],
            "largest_in": next(iter(moves), None), "values": dict(moves)}


def test_tolerances_follow_the_measured_spread():
    derive = numbers_tool.derive_one
    spec = derive("v", {"kind": "value"}, _entry(2.0, {"a": 2.0 + 2e-7}), 2)
    assert spec["kind"] == "value" and spec["rtol"] == pytest.approx(1e-6)
    assert "largest move" in spec["why"]
    # unmoved values get the floor, zeros an absolute tolerance
    spec = derive("v", {"kind": "value"}, _entry([0.0, 3.0], {}), 2)
    assert spec["rtol"] == numbers_tool.FLOOR_RTOL and spec["atol"] == numbers_tool.FLOOR_ATOL
    # a residual becomes a bound: 10 x the largest value, rounded up, or the stated one
    spec = derive("b", {"kind": "bound"}, _entry(4.9e-8, {"a": 4.7e-8}), 2)
    assert spec == {"kind": "bound", "max": 5e-7, "why": spec["why"]}
    stated = {"kind": "bound", "max": 1e-10, "note": "exact"}
    assert derive("b", stated, _entry(3e-15, {}), 2)["max"] == 1e-10
    assert derive("b", stated, _entry(3e-11, {}), 2)["max"] == 3e-10  # never tighter
    # a setting must not move; a wide tolerance needs a note
    assert derive("s", {"kind": "setting"}, _entry(500, {}), 2)["value"] == 500
    with pytest.raises(ValueError, match="setting"):
        derive("s", {"kind": "setting"}, _entry(500, {"a": 501}), 2)
    with pytest.raises(ValueError, match="wider"):
        derive("w", {"kind": "value"}, _entry(1.0, {"a": 1.05}), 2)
    noted = derive("w", {"kind": "value", "note": "Adam amplifies rounding"},
                   _entry(1.0, {"a": 1.05}), 2)
    assert noted["rtol"] == pytest.approx(0.5) and noted["note"]


def test_round_up():
    assert numbers_tool._round_up(4.906e-8 * 10) == 5e-7
    assert numbers_tool._round_up(9.5e-3) == 1e-2
    assert numbers_tool._round_up(3e-11) == 3e-11


def test_expected_files_are_complete():
    for mode in ("fast", "full"):
        specs = numbers_tool.json.loads(numbers_tool.expected_path(mode).read_text())
        for chapter, entries in specs.items():
            for name, spec in entries.items():
                where = f"{mode}: {chapter}.{name}"
                assert spec.get("kind") in numbers_tool.KINDS, where
                assert spec.get("why"), f"{where} states no reason for its tolerance"
                if spec["kind"] == "value" and isinstance(spec.get("value"), str):
                    assert "rtol" not in spec, where  # a text number matches exactly
                elif spec["kind"] == "value":
                    assert spec["rtol"] <= numbers_tool.WIDE or spec.get("note"), where
                if spec["kind"] == "bound":
                    assert spec["max"] > 0, where


def test_proxy_spreads_widen_but_never_narrow():
    full = _entry(2.0, {})  # a study that reran nothing: no move of its own
    fast = {"mode": "fast", "configs": {"a": {}},
            "keys": {"ch": {"v": _entry(1.0, {"a": 1.0 + 1e-6})}}}
    old = {"mode": "full", "configs": {"a": {}},
           "keys": {"ch": {"v": _entry(2.1, {"a": 2.1 + 2.1e-8})}}}
    merged = numbers_tool.with_proxies("v", full, [("fast-x", fast), ("full-y", old)], "full", "ch")
    assert merged["max_rel"] == pytest.approx(1e-6) and merged["largest_in"] == "fast-x:a"
    assert merged["moved_in"] == ["fast-x:a", "full-y:a"]
    assert full["moved_in"] == []  # the entry itself is left alone
    # every proxy lends its values to a bound's largest magnitude
    assert merged["values"]["full-y:reference"] == 2.1 and "fast-x:a" in merged["values"]
    zero = numbers_tool.with_proxies("v", _entry(0.0, {}), [("fast-x", fast)], "full", "ch")
    assert numbers_tool.derive_one("v", {"kind": "bound"}, zero, 1)["max"] == 2e1
    spec = numbers_tool.derive_one("v", {"kind": "value"}, merged, 3)
    assert spec["value"] == 2.0 and spec["rtol"] == pytest.approx(1e-5)
    assert "fast-x:a" in spec["why"]
    # a number no proxy knows keeps its own spread
    alone = numbers_tool.with_proxies("w", _entry(3.0, {"a": 3.0 + 3e-9}), [("fast-x", fast)],
                                      "full", "ch")
    assert alone["max_rel"] == pytest.approx(1e-9)
