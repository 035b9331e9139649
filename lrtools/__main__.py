"""Command line: regenerate the paper's figures and manage the cache.

Usage::

  lrtools --version
  lrtools list                     # the figures that can be regenerated
  lrtools figure 1                 # paper Figure 1 -> figures/figure1.png
  lrtools figure 1 5 12 --fast --out /tmp --format pdf
  lrtools figure all --fast
  lrtools cache info               # where the cache is, how many entries, how large
  lrtools cache clear              # delete every entry (asks unless --yes)
  lrtools study list               # the studies that run on their own
  lrtools study convergence --fast # run one, print its key numbers, save them as JSON
  lrtools study convergence --scheduler tcp://10.0.0.5:8786 --set Ns=1000,10000,100000

``python -m lrtools`` is the same program.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="lrtools",
                                description="Regenerate the figures of Ger & Barak (2026).")
    p.add_argument("--version", action="version", version=f"lrtools {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the paper figures that can be regenerated")
    fig = sub.add_parser("figure", help="regenerate paper figures to files")
    fig.add_argument("numbers", nargs="+", metavar="N",
                     help="figure numbers, e.g. 1 5 12, or 'all'")
    fig.add_argument("--fast", action="store_true", help="small settings (seconds, as in CI)")
    fig.add_argument("--out", default="figures", help="output folder (default: ./figures)")
    fig.add_argument("--format", default="png", choices=("png", "pdf", "svg"))
    fig.add_argument("--no-progress", action="store_true", help="hide progress bars")
    cache = sub.add_parser("cache", help="inspect or clear the cache of runs")
    cache.add_argument("action", choices=("info", "clear"))
    cache.add_argument("--yes", action="store_true", help="clear without asking")
    study = sub.add_parser(
        "study", help="run a named study and print its key numbers",
        description="Run a study of the book (cached) and print its key numbers; they are "
                    "also written to OUT/NAME.json. 'lrtools study list' names the studies.")
    study.add_argument("name", help="the study's name, or 'list'")
    study.add_argument("--fast", action="store_true", help="the CI settings (seconds to minutes)")
    study.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="where the jobs run: a dask scheduler address (tcp://host:8786), "
                            "'dask[:N]' (a local dask cluster), 'processes[:N]' or 'serial' "
                            "(the default)")
    study.add_argument("--set", dest="changes", action="append", default=[],
                       metavar="FIELD=VALUE",
                       help="change a field of the settings, e.g. Ns=1000,10000 or epochs=20 "
                            "(repeatable)")
    study.add_argument("--out", default=None,
                       help="folder of the JSON file (default: _build/studies under the book "
                            "root, or ./studies)")
    study.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return p


def _figures(args, figures) -> int:
    if [n.lower() for n in args.numbers] == ["all"]:
        specs = [figures.FIGURES[n] for n in sorted(figures.FIGURES)]
    else:
        try:
            specs = [figures.get(n) for n in args.numbers]
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plotting

    plotting.setup()
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"error: cannot create output folder {out}: {err}", file=sys.stderr)
        return 2
    for spec in specs:
        print(f"Figure {spec.number}: {spec.title}{' (fast settings)' if args.fast else ''}",
              file=sys.stderr)
        t0 = time.perf_counter()
        fig = spec.function(fast=args.fast, progress=not args.no_progress)
        path = out / f"figure{spec.number}{'-fast' if args.fast else ''}.{args.format}"
        fig.savefig(path)
        plt.close(fig)
        print(f"wrote {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


def _cache(args) -> int:
    from . import cache

    folder = cache.cache_dir()
    if folder is None:
        print("the cache is off (LRTOOLS_CACHE=off)")
        return 0
    entries = sorted(folder.glob("*.npz")) if folder.exists() else []
    size = sum(p.stat().st_size for p in entries)
    if args.action == "info":
        families: dict[str, int] = {}
        for p in entries:
            name = p.name.rsplit("-", 1)[0]
            families[name] = families.get(name, 0) + 1
        print(f"cache folder: {folder}")
        print(f"{len(entries)} entries, {size / 1e6:.1f} MB")
        for name, n in sorted(families.items()):
            print(f"  {name:<24} {n}")
        return 0
    if not entries:
        print(f"nothing to clear in {folder}")
        return 0
    if not args.yes:
        answer = input(f"delete {len(entries)} entries ({size / 1e6:.1f} MB) in {folder}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    for p in entries:
        p.unlink(missing_ok=True)
    print(f"deleted {len(entries)} entries ({size / 1e6:.1f} MB) from {folder}")
    return 0


def _field_value(current, text: str):
    """``text`` as a value of the field whose current value is ``current``."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text
    if isinstance(current, tuple):
        value = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    elif isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return value


def _json_value(v):
    import numpy as np

    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v if isinstance(v, str) else repr(v)


def _study(args) -> int:
    from . import studies
    from ._parallel import make_executor
    from ._paths import output_dir

    if args.name == "list":
        for name, st in studies.STUDIES.items():
            print(f"{name:<12} {st.title}{'' if st.parallel else ' [runs serially]'}")
        return 0
    try:
        st = studies.get_study(args.name)
        base = st.settings(args.fast)
        changes = {}
        for item in args.changes:
            field, sep, text = item.partition("=")
            if not sep or field.strip() not in base.as_dict():
                raise ValueError(f"--set {item!r}: expected FIELD=VALUE with a field of "
                                 f"{type(base).__name__}")
            changes[field.strip()] = _field_value(getattr(base, field.strip()), text.strip())
        settings = base.replace(**changes) if changes else base
        if args.scheduler is not None and not st.parallel:
            raise ValueError(f"study {st.name!r} runs in this process only; drop --scheduler")
    except (ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else output_dir("LRTOOLS_STUDIES", "studies",
                                                      Path("studies"))
    print(f"study {st.name}: {settings!r}", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        executor = make_executor(args.scheduler)
    except (ValueError, ImportError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    progress = os.environ.get("LRTOOLS_PROGRESS")
    if args.no_progress:
        os.environ["LRTOOLS_PROGRESS"] = "0"
    try:
        with executor:
            print(f"running on {executor!r}", file=sys.stderr)
            _, numbers = st.run(settings, executor=executor)
    finally:
        if progress is None:
            os.environ.pop("LRTOOLS_PROGRESS", None)
        else:
            os.environ["LRTOOLS_PROGRESS"] = progress
    seconds = time.perf_counter() - t0
    numbers = {k: _json_value(v) for k, v in numbers.items()}
    width = max((len(k) for k in numbers), default=0)
    for key, value in numbers.items():
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown}")
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{st.name}{'-fast' if args.fast else ''}.json"
    record = {"study": st.name, "settings": repr(settings), "executor": args.scheduler or "serial",
              "seconds": round(seconds, 3), "numbers": numbers}
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} in {seconds:.1f} s", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "cache":
        return _cache(args)
    if args.command == "study":
        return _study(args)
    from . import figures

    if args.command == "list":
        for n, spec in sorted(figures.FIGURES.items()):
            print(f"{n:3d}  {spec.title}  (chapter {spec.chapter})")
        return 0
    return _figures(args, figures)


if __name__ == "__main__":
    sys.exit(main())
