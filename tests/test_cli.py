"""The command line: list, regenerate a figure, clear errors."""

from pathlib import Path

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

    from lrtools.figures import twins as memory

    params = inspect.signature(memory.figure4_memory).parameters
    assert list(params) == ["fast", "progress"]


def test_version(capsys):
    import lrtools

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"lrtools {lrtools.__version__}"


def test_several_figures_and_all(tmp_path, monkeypatch):
    calls = []

    class _Fig:
        def savefig(self, path):
            Path(path).write_bytes(b"x")

    def fake(n):
        def draw(fast=False, progress=None):
            calls.append((n, fast))
            return _Fig()
        return draw

    specs = {n: figures.FigureSpec(n, f"figure {n}", "ch", fake(n)) for n in (1, 5, 12)}
    monkeypatch.setattr(figures, "FIGURES", specs)
    monkeypatch.setattr("matplotlib.pyplot.close", lambda fig: None)
    assert main(["figure", "12", "1", "--fast", "--out", str(tmp_path)]) == 0
    assert calls == [(12, True), (1, True)]
    assert main(["figure", "all", "--out", str(tmp_path)]) == 0
    assert calls[2:] == [(1, False), (5, False), (12, False)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "figure1-fast.png", "figure1.png", "figure12-fast.png", "figure12.png", "figure5.png"]
    # one unknown number: nothing runs
    assert main(["figure", "1", "99", "--out", str(tmp_path)]) == 2 and len(calls) == 5


def test_cache_info_and_clear(tmp_path, monkeypatch, capsys):
    import numpy as np

    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path))
    for i in range(3):
        np.savez(tmp_path / f"ch4-pair-{i:020d}.npz", x=np.zeros(10))
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert "3 entries" in out and "ch4-pair" in out and str(tmp_path) in out
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["cache", "clear"]) == 1 and len(list(tmp_path.glob("*.npz"))) == 3
    assert main(["cache", "clear", "--yes"]) == 0 and not list(tmp_path.glob("*.npz"))
    monkeypatch.setenv("LRTOOLS_CACHE", "off")
    assert main(["cache", "info"]) == 0 and "off" in capsys.readouterr().out


# ---------------------------------------------------------------------------
# lrtools study
# ---------------------------------------------------------------------------


def test_study_list_names_every_registered_study(capsys):
    from lrtools import studies

    assert main(["study", "list"]) == 0
    out = capsys.readouterr().out
    for name, st in studies.STUDIES.items():
        assert out.count(f"{name} ") >= 1 and st.title in out
    assert {"convergence", "limit", "families", "burial"} <= set(studies.STUDIES)


def test_every_registered_study_has_settings_with_paper_and_fast_versions():
    from lrtools import studies

    for name, st in studies.STUDIES.items():
        cls = st.settings_class
        assert issubclass(cls, studies.Settings), name
        assert isinstance(st.settings(fast=True), cls) and isinstance(st.settings(), cls), name


def test_study_convergence_prints_and_saves_its_key_numbers(tmp_path, monkeypatch, capsys):
    import json

    from lrtools import studies
    from lrtools.studies.nonlinear import (
        ConvergenceSettings,
        convergence_fits,
        convergence_numbers,
    )

    monkeypatch.setenv("LRTOOLS_CACHE", str(tmp_path / "cache"))
    argv = ["study", "convergence", "--fast", "--set", "Ns=250,500,1000", "--set", "seeds=0,1",
            "--set", "epochs=10", "--out", str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    record = json.loads((tmp_path / "convergence-fast.json").read_text())
    numbers = record["numbers"]
    assert record["study"] == "convergence" and record["executor"] == "serial"
    assert numbers["conv_N_min"] == 250 and numbers["conv_N_max"] == 1000
    assert numbers["conv_n_seeds"] == 2
    for key in ("slope_plain", "slope_proj", "floor_plain", "err_proj_Nmax"):
        assert key in out and isinstance(numbers[key], float), key
    # the same numbers as the study's own functions (from the cache the command filled)
    s = ConvergenceSettings.fast().replace(Ns=(250, 500, 1000), seeds=(0, 1), epochs=10)
    result, again = studies.run_study("convergence", s)
    fits, floors = convergence_fits(result["plain"], result["projected"])
    direct = convergence_numbers(result["plain"], result["projected"], fits, floors)
    for key, value in direct.items():
        assert numbers[key] == value == again[key], key


def test_study_errors_are_clear(tmp_path, capsys):
    assert main(["study", "nosuch", "--out", str(tmp_path)]) == 2
    assert "no study 'nosuch'" in capsys.readouterr().err
    assert main(["study", "convergence", "--set", "Nz=1", "--out", str(tmp_path)]) == 2
    assert "Nz=1" in capsys.readouterr().err
    assert main(["study", "filter", "--scheduler", "processes:2", "--out", str(tmp_path)]) == 2
    assert "runs in this process only" in capsys.readouterr().err
    assert main(["study", "convergence", "--scheduler", "nowhere", "--out", str(tmp_path)]) == 2
    assert "unknown executor 'nowhere'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing ran, nothing written


def test_set_values_follow_the_field_types():
    from lrtools.__main__ import _field_value

    assert _field_value((1, 2), "250,500") == (250, 500)
    assert _field_value((1, 2), "100000") == (100000,)
    assert _field_value(0.1, "1") == 1.0 and isinstance(_field_value(0.1, "1"), float)
    assert _field_value(50, "20") == 20
    assert _field_value("erf", "tanh") == "tanh"
