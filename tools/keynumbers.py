"""Check the numbers the notebooks wrote against the committed expected values.

Every notebook records its key numbers (``lrtools.report``) in
``_build/numbers/<chapter>[-fast].json``. ``tests/expected/numbers-fast.json`` and
``tests/expected/numbers-full.json`` hold, per number, its kind, its expected
value or bound, the tolerance and the reason for it:

* ``{"kind": "setting", "value": v}``: a setting of the run that the text quotes
  (a size, a number of epochs): it must come out exactly ``v``.
* ``{"kind": "value", "value": v, "rtol": r, "atol": a}``: a computed result:
  ``|x - v| <= a + r |v|`` element by element.
* ``{"kind": "bound", "max": m}``: a residual (a conservation error, an
  integrator error, an agreement to round-off, a converged loss, a wall time):
  ``|x| <= m``. Residuals are not values: their last digits are whatever the
  machine's rounding makes them.

Tolerances are not chosen, they are derived (``derive``) from the perturbation
study of ``tools/perturb.py``: the notebooks rerun under every change a reader's
machine can make (BLAS kernel family, the instruction set numba compiles for,
numpy's SIMD paths, thread counts, serial or parallel kernels), and
``tests/expected/spread-<mode>.json`` records how far each number moved. Then

* a value's ``rtol`` is :data:`MARGIN` times its largest relative move, and at
  least :data:`FLOOR_RTOL` (``atol`` likewise for values that are zero);
* a bound is :data:`MARGIN` times the largest value measured, rounded up to one
  significant digit; a bound in the file with a ``note`` (what the science
  demands, e.g. agreement to 1e-10 where the theory is exact) is kept when it is
  larger;
* a setting must not move at all.

Each entry's ``why`` says which rule set it and what was measured; a value whose
tolerance is wider than 10% must also carry a ``note`` (kept across derivations)
saying why the number is that fragile.

Usage::

    python tools/keynumbers.py check --mode fast     # exit 1 and a table of differences
    python tools/keynumbers.py derive --mode fast    # tolerances from the spread file
    python tools/keynumbers.py derive --mode full --proxy tests/expected/spread-fast.json
                                                     # moves of other studies count too
    python tools/keynumbers.py freeze --mode fast    # current values, keeping tolerances
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NUMBERS = ROOT / "_build" / "numbers"
EXPECTED = ROOT / "tests" / "expected"

KINDS = ("value", "bound", "setting")
#: Tolerance = MARGIN x the largest move measured in the perturbation study.
MARGIN = 10.0
#: Smallest relative tolerance of a value (one that no perturbation moved): room for
#: rounding differences of machines the study could not emulate.
FLOOR_RTOL = 1e-9
#: Smallest absolute tolerance of a value that is zero.
FLOOR_ATOL = 1e-12
#: A value whose tolerance is wider than this needs a ``note``.
WIDE = 0.1


def expected_path(mode: str) -> Path:
    return EXPECTED / f"numbers-{mode}.json"


def spread_path(mode: str) -> Path:
    return EXPECTED / f"spread-{mode}.json"


def actual(mode: str, folder: Path = NUMBERS) -> dict[str, dict]:
    """``{chapter: {name: value}}`` from the numbers folder for the mode."""
    out = {}
    for path in sorted(folder.glob("*.json")):
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
    kind = spec.get("kind", "bound" if "max" in spec else "value")
    if kind not in KINDS:
        return f"unknown kind {kind!r}"
    if isinstance(value, str) or isinstance(spec.get("value"), str):
        return None if value == spec.get("value") else f"expected {spec.get('value')!r}"
    got = _flat(value)
    if any(g is None or isinstance(g, str) or not math.isfinite(g) for g in got):
        return "not finite"
    if kind == "bound":
        worst = max((abs(g) for g in got), default=0.0)
        return None if worst <= spec["max"] else f"|{worst:.3g}| > max {spec['max']:.3g}"
    want = _flat(spec["value"])
    if len(got) != len(want):
        return f"length {len(got)} != {len(want)}"
    for g, w in zip(got, want, strict=True):
        if kind == "setting":
            if g != w:
                return f"setting {g!r} != {w!r}"
        elif abs(g - w) > spec.get("atol", FLOOR_ATOL) + spec.get("rtol", FLOOR_RTOL) * abs(w):
            return f"differs from {w:.10g} by {abs(g - w):.3g}"
    return None


def compare(mode: str, folder: Path = NUMBERS) -> list[tuple[str, str, str, str]]:
    """Rows ``(chapter.name, expected, got, problem)`` for every failing number."""
    path = expected_path(mode)
    if not path.exists():
        return [("-", "-", "-", f"no expected values: {path}")]
    expected = json.loads(path.read_text())
    got = actual(mode, folder)
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
        for name in got[chapter]:
            if name not in specs:
                rows.append((f"{chapter}.{name}", "-", _short(got[chapter][name]),
                             "no expected value (derive or freeze)"))
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
    if spec.get("kind") == "bound" or "max" in spec:
        return f"|x| <= {spec['max']:.3g}"
    if spec.get("kind") == "setting":
        return f"{_short(spec.get('value'))} (exact)"
    return f"{_short(spec.get('value'))} (rtol {spec.get('rtol', FLOOR_RTOL):.2g})"


def table(rows) -> str:
    """A readable diff."""
    head = ("number", "expected", "got", "problem")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(4)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))
             for r in [head, *rows]]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def _round_up(x: float) -> float:
    """``x`` rounded up to one significant digit (1.2e-7 -> 2e-7)."""
    if x <= 0:
        return 0.0
    e = math.floor(math.log10(x))
    m = math.ceil(x / 10.0**e - 1e-9)
    return float(f"{m}e{e}") if m < 10 else float(f"1e{e + 1}")


def _largest_magnitude(entry: dict) -> float:
    vals = [entry["reference"], *(v for v in entry["values"].values() if not isinstance(v, str))]
    return max(abs(x) for v in vals for x in _flat(v))


def derive_one(name: str, old: dict, entry: dict, configs: int) -> dict:
    """The expected spec of one number from its perturbation-study ``entry``."""
    kind = old.get("kind", "bound" if "max" in old else "value")
    ref = entry["reference"]
    note = {"note": old["note"]} if "note" in old else {}
    moved = entry["moved_in"]
    where = (f"moved in {len(moved)} of {configs} configurations, most in "
             f"{entry['largest_in']}" if moved else f"no configuration of {configs} moved it")
    if isinstance(ref, str):
        if moved:
            raise ValueError(f"{name}: a text number that changes between machines")
        return {"kind": "setting" if kind == "setting" else "value", "value": ref,
                "why": "text: must match exactly", **note}
    if kind == "setting":
        if moved:
            raise ValueError(f"{name}: marked a setting, but it moved ({where})")
        return {"kind": "setting", "value": ref,
                "why": "a setting of the run, quoted in the text: must match exactly", **note}
    if kind == "bound":
        largest = _largest_magnitude(entry)
        derived = _round_up(MARGIN * largest)
        # a bound stated for a reason (its note: what the science demands) is kept
        kept = old.get("max", 0.0) if "note" in old and old.get("kind") == "bound" else 0.0
        bound = max(kept, derived)
        rule = (f"the bound already stated ({kept:.0e}) exceeds {MARGIN:g} x the largest value"
                f" measured ({largest:.2e})" if kept >= derived and kept > 0 else
                f"{MARGIN:g} x the largest value measured ({largest:.2e}), rounded up")
        return {"kind": "bound", "max": bound, "why": f"residual; {rule}; {where}", **note}
    max_abs = entry["max_abs"]
    if not math.isfinite(max_abs):
        raise ValueError(f"{name}: missing, reshaped or not finite in some configuration")
    flat = _flat(ref)
    # the relative move is over the non-zero elements; zeros get an absolute tolerance
    max_rel = entry["max_rel"]
    spec = {"kind": "value", "value": ref,
            "rtol": float(f"{max(MARGIN * max_rel, FLOOR_RTOL):.2g}")}
    if any(x == 0 for x in flat):
        spec["atol"] = float(f"{max(MARGIN * max_abs, FLOOR_ATOL):.2g}")
    if moved:
        why = (f"largest move {max_rel:.2e} relative ({max_abs:.2e} absolute), {where}; "
               f"tolerance {MARGIN:g} x that")
    else:
        why = f"{where}; the floor tolerance"
    spec["why"] = why
    spec.update(note)
    if spec["rtol"] > WIDE and "note" not in spec:
        raise ValueError(f"{name}: tolerance {spec['rtol']:.2g} is wider than {WIDE:.0%}; "
                         f"add a 'note' to its entry saying why")
    return spec


def with_proxies(name: str, entry: dict, proxies: Sequence[tuple[str, dict]], mode: str,
                 chapter: str) -> dict:
    """``entry`` with the spread of the same number in other perturbation studies added.

    A proxy is a spread file of another mode, or of an earlier version of the code
    in this mode: its relative (and absolute) moves raise this entry's, its
    configurations count as moved in, named ``<label>:<config>``, and its values
    count for a bound's largest magnitude (a residual that came out exactly zero
    here but not in another study is bounded by that study's value). Used where
    the study of this mode could not rerun every configuration; the ``why`` of
    each derived entry names the proxies.
    """
    out = {**entry, "moved_in": list(entry["moved_in"]), "values": dict(entry["values"])}
    for label, spread in proxies:
        other = spread["keys"].get(chapter, {}).get(name)
        if other is None or isinstance(other["reference"], str):
            continue
        if other["max_rel"] > out["max_rel"] or (not out["max_rel"] and other["max_abs"]
                                                   > out["max_abs"]):
            out["largest_in"] = f"{label}:{other['largest_in']}"
        out["max_rel"] = max(out["max_rel"], other["max_rel"])
        out["max_abs"] = max(out["max_abs"], other["max_abs"])
        out["moved_in"] += [f"{label}:{c}" for c in other["moved_in"]]
        out["values"].update({f"{label}:{c}": v for c, v in other["values"].items()})
        out["values"][f"{label}:reference"] = other["reference"]
    return out


def derive(mode: str, proxies: Sequence[Path] = ()) -> Path:
    """Rewrite the expected values from ``spread-<mode>.json``, keeping kinds and notes.

    ``proxies``: further spread files whose moves count too (:func:`with_proxies`).
    """
    spread = json.loads(spread_path(mode).read_text())
    path = expected_path(mode)
    old = json.loads(path.read_text()) if path.exists() else {}
    extra = [(f"{json.loads(Path(p).read_text()).get('mode', '?')}-"
              f"{json.loads(Path(p).read_text()).get('measured', Path(p).stem)}",
              json.loads(Path(p).read_text())) for p in proxies]
    configs = len(spread["configs"]) + sum(len(s["configs"]) for _, s in extra)
    new, problems = {}, []
    for chapter, entries in spread["keys"].items():
        new[chapter] = {}
        for name, entry in sorted(entries.items()):
            entry = with_proxies(name, entry, extra, mode, chapter)
            prev = old.get(chapter, {}).get(name, {})
            if not prev:
                print(f"new number {chapter}.{name}: kind 'value' (edit the file if it is "
                      f"a setting or a bound)")
            try:
                new[chapter][name] = derive_one(f"{chapter}.{name}", prev, entry, configs)
            except ValueError as exc:
                problems.append(str(exc))
                new[chapter][name] = prev
    path.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
    if problems:
        raise SystemExit("derive: " + "\n  ".join(["problems:", *problems]))
    return path


def freeze(mode: str) -> Path:
    """Write the current numbers as expected values, keeping kinds, tolerances and notes."""
    path = expected_path(mode)
    old = json.loads(path.read_text()) if path.exists() else {}
    new = {}
    for chapter, values in actual(mode).items():
        new[chapter] = {}
        for name, value in sorted(values.items()):
            prev = dict(old.get(chapter, {}).get(name, {}))
            kind = prev.get("kind", "bound" if "max" in prev else "value")
            if kind == "bound":
                spec = {**prev, "kind": "bound"}
                if any(abs(x) > spec["max"] for x in _flat(value)):
                    raise SystemExit(f"freeze: {chapter}.{name} = {value!r} breaks its bound "
                                     f"{spec['max']:g}; rerun the perturbation study")
            else:
                spec = {**prev, "kind": kind, "value": value}
            new[chapter][name] = spec
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check or derive the notebooks' key numbers.")
    parser.add_argument("command", choices=("check", "freeze", "derive"))
    parser.add_argument("--mode", choices=("fast", "full"), default="fast")
    parser.add_argument("--numbers", type=Path, default=NUMBERS,
                        help="folder of the numbers files to check (default: _build/numbers)")
    parser.add_argument("--proxy", type=Path, action="append", default=[],
                        help="derive: a further spread file whose moves count too (another "
                             "mode's study, or this mode's on earlier code); repeatable")
    args = parser.parse_args(argv)
    if args.command == "freeze":
        print(f"wrote {freeze(args.mode)}")
        return 0
    if args.command == "derive":
        print(f"wrote {derive(args.mode, args.proxy)}")
        return 0
    rows = compare(args.mode, args.numbers)
    if rows:
        print(f"{len(rows)} number(s) differ from {expected_path(args.mode)}:\n{table(rows)}")
        return 1
    specs = json.loads(expected_path(args.mode).read_text())
    n = sum(len(v) for v in specs.values())
    kinds = {k: sum(s.get("kind") == k for v in specs.values() for s in v.values())
             for k in KINDS}
    print(f"all {n} expected numbers ({args.mode} mode) regenerated within tolerance "
          f"({kinds['value']} values, {kinds['bound']} bounds, {kinds['setting']} settings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
