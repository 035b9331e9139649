"""Command line: regenerate the paper's figures.

Usage::

  python -m lrtools list          # the figures that can be regenerated
  python -m lrtools figure 1      # paper Figure 1 -> figures/figure1.png
  python -m lrtools figure 12 --fast --out /tmp --format pdf
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lrtools",
                                description="Regenerate the figures of Ger & Barak (2026).")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the paper figures that can be regenerated")
    fig = sub.add_parser("figure", help="regenerate paper figure N to a file")
    fig.add_argument("number", help="figure number, e.g. 1")
    fig.add_argument("--fast", action="store_true", help="small settings (seconds, as in CI)")
    fig.add_argument("--out", default="figures", help="output folder (default: ./figures)")
    fig.add_argument("--format", default="png", choices=("png", "pdf", "svg"))
    fig.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    from . import figures

    if args.command == "list":
        for n, spec in sorted(figures.FIGURES.items()):
            print(f"{n:3d}  {spec.title}  (chapter {spec.chapter})")
        return 0
    try:
        spec = figures.get(args.number)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")
    from . import plotting

    plotting.setup()
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"error: cannot create output folder {out}: {err}", file=sys.stderr)
        return 2
    print(f"Figure {spec.number}: {spec.title}{' (fast settings)' if args.fast else ''}",
          file=sys.stderr)
    t0 = time.perf_counter()
    fig = spec.function(fast=args.fast, progress=not args.no_progress)
    path = out / f"figure{spec.number}{'-fast' if args.fast else ''}.{args.format}"
    fig.savefig(path)
    print(f"wrote {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
