"""Where the book's time goes: seconds per study, at the paper's settings.

Usage::

    python benchmarks/profile_book.py                     # paper settings, every chapter
    python benchmarks/profile_book.py --mode fast         # the CI settings
    python benchmarks/profile_book.py --chapters 02_nonlinear --cprofile prof.out
    python benchmarks/profile_book.py --write-readme      # table into benchmarks/README.md

Each notebook of ``book/`` is executed in this process, cell by cell, exactly as
written (its ``parameters`` cell then ``fast`` set by ``--mode``), with a fresh,
empty result cache (``LRTOOLS_CACHE`` pointed at a temporary folder, so every run
function computes) and figures and numbers written to temporary folders. Every
public function of ``lrtools.studies.*`` is wrapped by a timer that counts the
outermost call only (a study calling another study is charged to the caller);
whatever a cell does outside those calls (figures, numbers, direct calls into
the science modules) is charged to ``<chapter>: rest``. ``--cprofile FILE``
writes a cProfile of the whole run (read it with ``python -m pstats FILE``) and
prints the functions with the most internal time.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import functools
import importlib
import inspect
import json
import os
import platform
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ("01_linear", "02_nonlinear", "03_probe", "04_memory", "05_predictions")
STUDY_MODULES = ("linear", "nonlinear", "population", "probe", "memory", "twins",
                 "predictions", "predictions_numbers")
BEGIN, END = "<!-- profile-book:begin -->", "<!-- profile-book:end -->"


class Ledger:
    """Seconds per (chapter, study function), outermost calls only."""

    def __init__(self) -> None:
        self.seconds: dict[tuple[str, str], float] = {}
        self.calls: dict[tuple[str, str], int] = {}
        self.chapter = ""
        self.depth = 0

    def wrap(self, name: str, fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            if self.depth:
                return fn(*args, **kwargs)
            self.depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.depth -= 1
                key = (self.chapter, name)
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - t0
                self.calls[key] = self.calls.get(key, 0) + 1
        return timed

    def add(self, name: str, seconds: float) -> None:
        key = (self.chapter, name)
        self.seconds[key] = self.seconds.get(key, 0.0) + seconds


def instrument(ledger: Ledger) -> None:
    for short in STUDY_MODULES:
        mod = importlib.import_module(f"lrtools.studies.{short}")
        for name, obj in list(vars(mod).items()):
            if (name.startswith("_") or not inspect.isfunction(obj)
                    or obj.__module__ != mod.__name__):
                continue
            setattr(mod, name, ledger.wrap(f"{short}.{name}", obj))


def code_cells(path: Path, fast: bool) -> list[str]:
    import jupytext

    nb = jupytext.read(path)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cells.append(cell.source)
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            cells.append(f"fast = {fast!r}")  # what papermill injects
    return cells


def run_chapter(name: str, fast: bool, ledger: Ledger) -> float:
    import matplotlib.pyplot as plt

    ledger.chapter = name
    namespace: dict = {"__name__": "__main__"}
    t_chapter = time.perf_counter()
    study_before = sum(v for (c, _), v in ledger.seconds.items() if c == name)
    cwd = os.getcwd()
    os.chdir(ROOT / "book")
    try:
        for src in code_cells(ROOT / "book" / f"{name}.md", fast):
            exec(compile(src, f"<{name}>", "exec"), namespace)  # noqa: S102
            plt.close("all")
    finally:
        os.chdir(cwd)
        total = time.perf_counter() - t_chapter
        study = sum(v for (c, _), v in ledger.seconds.items() if c == name) - study_before
        ledger.add("rest", total - study)
    return total


_CALL = re.compile(r"\b(\w*stud\w*|figures|twin_\w+)\.(\w+)\(")


def ledger_from_executed(folder: Path, chapters: list[str]) -> tuple[Ledger, dict[str, float]]:
    """Seconds per cell of notebooks papermill executed (``tools/run_notebooks.py``).

    Each code cell is charged to the study calls it makes (``study.name(``, key-number
    functions left out), or to ``rest``; papermill records every cell's wall time.
    """
    ledger, totals = Ledger(), {}
    for name in chapters:
        path = folder / "book" / f"{name}.ipynb"
        if not path.exists():
            continue
        ledger.chapter = name
        total = 0.0
        for cell in json.loads(path.read_text())["cells"]:
            seconds = cell.get("metadata", {}).get("papermill", {}).get("duration")
            if cell.get("cell_type") != "code" or not seconds:
                continue
            calls = [f"{a}.{b}" for a, b in _CALL.findall("".join(cell.get("source", "")))
                     if "stud" in a and not b.endswith("_numbers")]
            key = " + ".join(dict.fromkeys(calls)) if calls else "rest"
            ledger.add(key, seconds)
            ledger.calls[(name, key)] = ledger.calls.get((name, key), 0) + 1
            total += seconds
        totals[name] = total
    return ledger, totals


def machine() -> dict[str, str]:
    model = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in out.splitlines()
                     if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    import numba

    return {"cpu": model, "cores": str(os.cpu_count()),
            "numba threads": str(numba.get_num_threads()),
            "date": datetime.date.today().isoformat(), "python": platform.python_version()}


def table(ledger: Ledger, totals: dict[str, float], mode: str, info: dict[str, str]) -> str:
    grand = sum(totals.values())
    rows = sorted(ledger.seconds.items(), key=lambda kv: -kv[1])
    lines = [f"Book profile, {mode} settings, empty result cache: {grand:.0f} s in all "
             f"({info['date']}, {info['cpu']}, {info['cores']} cores, "
             f"{info['numba threads']} numba threads; machine shared, so expect ~10% noise).",
             "", "| chapter | study | calls | seconds | share |",
             "| --- | --- | ---: | ---: | ---: |"]
    small: dict[str, float] = {}
    for (chapter, study), sec in rows:
        if sec < 0.005 * grand:  # below half a percent: one line per chapter
            small[chapter] = small.get(chapter, 0.0) + sec
            continue
        calls = ledger.calls.get((chapter, study), "")
        lines.append(f"| {chapter} | `{study}` | {calls} | {sec:.1f} | {100 * sec / grand:.1f}% |")
    for chapter, sec in small.items():
        lines.append(f"| {chapter} | (every other call, each < 0.5%) | | {sec:.1f} "
                     f"| {100 * sec / grand:.1f}% |")
    lines += ["", "| chapter | seconds | share |", "| --- | ---: | ---: |"]
    for chapter, sec in totals.items():
        lines.append(f"| {chapter} | {sec:.1f} | {100 * sec / grand:.1f}% |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    path = ROOT / "benchmarks" / "README.md"
    old = path.read_text() if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in old:
        old += f"\n{BEGIN}\n{END}\n"
    head, rest = old.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("paper", "fast"), default="paper")
    parser.add_argument("--chapters", default=",".join(CHAPTERS))
    parser.add_argument("--cprofile", default=None, help="write a cProfile of the run here")
    parser.add_argument("--json", default=None, help="write the seconds per study here")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--from-json", default=None,
                        help="only format an earlier --json result (with --write-readme)")
    parser.add_argument("--from-executed", default=None, type=Path,
                        help="charge the cell wall times of notebooks tools/run_notebooks.py "
                             "executed (folder holding book/*.ipynb) instead of running")
    parser.add_argument("--note", default="", help="conditions of the run, for the table")
    args = parser.parse_args()

    if args.from_executed:
        ledger, totals = ledger_from_executed(args.from_executed, args.chapters.split(","))
        info = machine()
        text = table(ledger, totals, args.mode, info).split("\n", 1)[1]
        grand = sum(totals.values())
        text = (f"Book profile, {args.mode} settings: cell wall times of an executed run, "
                f"{grand:.0f} s in all ({info['date']}, {info['cpu']}, {info['cores']} cores"
                f"{args.note}).\n" + text)
        print(text)
        if args.write_readme:
            write_readme(text)
        return

    if args.from_json:
        data = json.loads(Path(args.from_json).read_text())
        ledger = Ledger()
        for row in data["studies"]:
            ledger.seconds[(row["chapter"], row["study"])] = row["seconds"]
            if row.get("calls"):
                ledger.calls[(row["chapter"], row["study"])] = row["calls"]
        text = table(ledger, data["chapters"], data["mode"], data["machine"])
        print(text)
        if args.write_readme:
            write_readme(text)
        return

    tmp = Path(tempfile.mkdtemp(prefix="lrtools-profile-"))
    for env, sub in (("LRTOOLS_CACHE", "cache"), ("LRTOOLS_FIGURES", "figures"),
                     ("LRTOOLS_NUMBERS", "numbers")):
        os.environ[env] = str(tmp / sub)
    os.environ.setdefault("LRTOOLS_PROGRESS", "0")
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.path.insert(0, str(ROOT))

    from lrtools import _kernels

    _kernels.warmup()  # compilation is not a study's time
    ledger = Ledger()
    instrument(ledger)
    profiler = cProfile.Profile() if args.cprofile else None
    totals: dict[str, float] = {}
    info = machine()
    failed = []
    for name in args.chapters.split(","):
        if profiler:
            profiler.enable()
        t0 = time.perf_counter()
        try:
            totals[name] = run_chapter(name, args.mode == "fast", ledger)
        except Exception as exc:  # report, keep what was measured, go on
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
            totals[name] = time.perf_counter() - t0
            print(f"{name} failed: {exc!r}", file=sys.stderr, flush=True)
        if profiler:
            profiler.disable()
        print(f"{name}: {totals[name]:.1f} s", flush=True)
        if args.json:  # after every chapter: a long run keeps what it measured
            rows = [{"chapter": c, "study": s, "seconds": v, "calls": ledger.calls.get((c, s))}
                    for (c, s), v in ledger.seconds.items()]
            Path(args.json).write_text(json.dumps(
                {"mode": args.mode, "machine": info, "chapters": totals, "studies": rows,
                 "failed": failed}, indent=1))
    text = table(ledger, totals, args.mode, info)
    print(text)
    if args.write_readme:
        write_readme(text)
    if profiler:
        profiler.dump_stats(args.cprofile)
        pstats.Stats(args.cprofile).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
