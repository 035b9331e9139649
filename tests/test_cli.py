"""The command line: list, regenerate a figure, clear errors."""

import pytest

from lrtools import figures
from lrtools.__main__ import main


def test_list_names_every_registered_figure(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for n, spec in figures.FIGURES.items():
        assert f"{n:3d}  {spec.title}" in out


def test_unknown_figure_is_a_clear_error(capsys):
    assert main(["figure", "99"]) == 2
    assert "no paper figure '99'" in capsys.readouterr().err


def test_figure_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path / "cache"))
    assert main(["figure", "11", "--fast", "--out", str(tmp_path), "--no-progress"]) == 0
    path = tmp_path / "figure11-fast.png"
    assert path.stat().st_size > 10_000  # a real image, not an empty canvas
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_registered_figure_imports():
    for spec in figures.FIGURES.values():
        assert callable(spec.function)


@pytest.mark.parametrize("bad", ["x", "1.5"])
def test_bad_number(bad, capsys):
    assert main(["figure", bad]) == 2


def test_every_registered_figure_has_the_fast_progress_signature():
    import inspect

    for n, spec in figures.FIGURES.items():
        params = inspect.signature(spec.function).parameters
        assert list(params) == ["fast", "progress"], (n, list(params))
        assert params["fast"].default is False and params["progress"].default is None, n


def test_chapter4_extra_figure_has_the_same_signature():
    import inspect

    from lrtools import memory

    params = inspect.signature(memory.figure4_memory).parameters
    assert list(params) == ["fast", "progress"]
