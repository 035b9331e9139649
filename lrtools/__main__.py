"""Command line: regenerate the paper's figures and manage the cache.

Usage::

  lrtools --version
  lrtools list                     # the figures that can be regenerated
  lrtools figure 1                 # paper Figure 1 -> figures/figure1.png
  lrtools figure 1 5 12 --fast --out /tmp --format pdf
  lrtools figure all --fast
  lrtools cache info               # where the cache is, how many entries, how large
  lrtools cache clear              # delete every entry (asks unless --yes)

``python -m lrtools`` is the same program.
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "cache":
        return _cache(args)
    from . import figures

    if args.command == "list":
        for n, spec in sorted(figures.FIGURES.items()):
            print(f"{n:3d}  {spec.title}  (chapter {spec.chapter})")
        return 0
    return _figures(args, figures)


if __name__ == "__main__":
    sys.exit(main())
