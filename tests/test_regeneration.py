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
    spec = {"value": 0.8009966, "rtol": 1e-6}
    assert numbers_tool.check_one(spec, 0.8009966) is None
    assert "differs" in numbers_tool.check_one(spec, 0.8010966)
    assert numbers_tool.check_one({"max": 1e-10}, 3e-15) is None
    assert ">" in numbers_tool.check_one({"max": 1e-10}, 2e-9)
    assert numbers_tool.check_one({"value": [1.0, 2.0]}, [1.0, 2.5]) is not None
