"""Compare the numbers the notebooks wrote with the committed expected values.

Every notebook records its key numbers (``lrtools.report``) in
``_build/numbers/<chapter>[-fast].json``. ``tests/expected/numbers-fast.json`` and
``tests/expected/numbers-full.json`` hold the expected value of each number with a
tolerance:

* ``{"value": v, "rtol": r, "atol": a}``: ``|x - v| <= a + r |v|``;
* ``{"max": m}`` (round-off-level quantities, which differ between machines):
  ``|x| <= m``;
* an optional ``"why"`` states the reason for a non-default tolerance.

Usage::

    python tools/keynumbers.py check --mode fast     # exit 1 and a table of differences
    python tools/keynumbers.py freeze --mode fast    # write current values (keeps tolerances)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NUMBERS = ROOT / "_build" / "numbers"
EXPECTED = ROOT / "tests" / "expected"

# Default tolerances for seeded, deterministic runs: the same code on another
# machine differs only by float64 rounding (BLAS and SIMD summation order),
# which learning can amplify but not to 1e-6 relative.
DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-12
# Quantities below this are round-off level (agreement errors, conserved
# quantities' drift under the flow); they are checked as upper bounds.
TINY = 1e-9


def expected_path(mode: str) -> Path:
    return EXPECTED / f"numbers-{mode}.json"


def actual(mode: str) -> dict[str, dict]:
    """``{chapter: {name: value}}`` from ``_build/numbers`` for the mode."""
    out = {}
    for path in sorted(NUMBERS.glob("*.json")):
        fast = path.stem.endswith("-fast")
        if fast != (mode == "fast"):
            continue
        out[path.stem.removesuffix("-fast")] = json.loads(path.read_text())
    return out


def _flat(value):
    if isinstance(value, list):
        return [y for x in value for y in _flat(x)]
    return [value]


def check_one(spec: dict, value) -> str | None:
    """Return a failure message, or None if ``value`` meets ``spec``."""
    if isinstance(value, str) or isinstance(spec.get("value"), str):
        return None if value == spec.get("value") else f"expected {spec.get('value')!r}"
    got, want = _flat(value), _flat(spec.get("value", value))
    if len(got) != len(want):
        return f"length {len(got)} != {len(want)}"
    for g, w in zip(got, want, strict=True):
        if g is None or not math.isfinite(g):
            return "not finite"
        if "max" in spec:
            if abs(g) > spec["max"]:
                return f"|{g:.3g}| > max {spec['max']:.3g}"
        elif abs(g - w) > spec.get("atol", DEFAULT_ATOL) + spec.get("rtol", DEFAULT_RTOL) * abs(w):
            return f"differs from {w:.10g} by {abs(g - w):.3g}"
    return None


def compare(mode: str) -> list[tuple[str, str, str, str]]:
    """Rows ``(chapter.name, expected, got, problem)`` for every failing number."""
    path = expected_path(mode)
    if not path.exists():
        return [("-", "-", "-", f"no expected values: {path}")]
    expected = json.loads(path.read_text())
    got = actual(mode)
    rows = []
    for chapter, specs in expected.items():
        if chapter not in got:
            rows.append((chapter, "-", "missing", "the notebook wrote no numbers"))
            continue
        for name, spec in specs.items():
            if name not in got[chapter]:
                rows.append((f"{chapter}.{name}", _show(spec), "missing", "not recorded"))
                continue
            problem = check_one(spec, got[chapter][name])
            if problem:
                rows.append((f"{chapter}.{name}", _show(spec), _short(got[chapter][name]),
                             problem))
    for chapter in got:
        if chapter not in expected:
            rows.append((chapter, "-", "new", "chapter has no expected values (freeze them)"))
    return rows


def _short(v) -> str:
    if isinstance(v, float):
        return f"{v:.10g}"
    text = json.dumps(v)
    return text if len(text) < 40 else text[:37] + "..."


def _show(spec: dict) -> str:
    if "max" in spec:
        return f"|x| <= {spec['max']:.3g}"
    return f"{_short(spec.get('value'))} (rtol {spec.get('rtol', DEFAULT_RTOL):g})"


def table(rows) -> str:
    """A readable diff."""
    head = ("number", "expected", "got", "problem")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(4)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))
             for r in [head, *rows]]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def freeze(mode: str) -> Path:
    """Write the current numbers as expected values, keeping hand-set tolerances."""
    path = expected_path(mode)
    old = json.loads(path.read_text()) if path.exists() else {}
    new = {}
    for chapter, values in actual(mode).items():
        new[chapter] = {}
        for name, value in sorted(values.items()):
            prev = old.get(chapter, {}).get(name, {})
            spec = {k: v for k, v in prev.items() if k in ("rtol", "atol", "why")}
            flat = [] if isinstance(value, str) else _flat(value)
            if "max" in prev:
                spec = {"max": prev["max"], **({"why": prev["why"]} if "why" in prev else {})}
            elif flat and all(isinstance(x, int | float) and abs(x) < TINY for x in flat):
                spec = {"max": max(1e-10, 1e3 * max(abs(x) for x in flat))}
            else:
                spec = {"value": value, **spec}
            new[chapter][name] = spec
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check or freeze the notebooks' key numbers.")
    parser.add_argument("command", choices=("check", "freeze"))
    parser.add_argument("--mode", choices=("fast", "full"), default="fast")
    args = parser.parse_args(argv)
    if args.command == "freeze":
        print(f"wrote {freeze(args.mode)}")
        return 0
    rows = compare(args.mode)
    if rows:
        print(f"{len(rows)} number(s) differ from {expected_path(args.mode)}:\n{table(rows)}")
        return 1
    n = sum(len(v) for v in json.loads(expected_path(args.mode).read_text()).values())
    print(f"all {n} expected numbers ({args.mode} mode) regenerated within tolerance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
