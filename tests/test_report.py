"""The numbers report: plain JSON, merged per chapter, refusing non-finite values."""

import json

import numpy as np
import pytest

from lrtools import report


def test_numbers_are_recorded_as_plain_json(tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_NUMBERS", str(tmp_path))
    nums = report.Numbers("99_demo", fast=True)
    nums["err"] = np.float64(1.5e-15)
    nums.update(n=np.int64(3), arr=np.arange(2.0))
    data = json.loads((tmp_path / "99_demo-fast.json").read_text())
    assert data == {"err": 1.5e-15, "n": 3, "arr": [0.0, 1.0]}
    assert type(nums["err"]) is float  # numpy scalars would not format in MyST glue
    report.record("99_demo", fast=False, x=1.0)
    assert json.loads((tmp_path / "99_demo.json").read_text()) == {"x": 1.0}


def test_non_finite_numbers_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_NUMBERS", str(tmp_path))
    with pytest.raises(ValueError, match="not finite"):
        report.record("99_demo", fast=True, bad=np.nan)
