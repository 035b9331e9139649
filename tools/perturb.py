"""The perturbation study behind the key numbers' tolerances.

A reader's machine differs from ours in ways that change the last bits of a
float64 computation: the BLAS kernels OpenBLAS picks for its CPU, the
instruction set numba compiles for, the SIMD paths numpy dispatches to, thread
counts, and whether the batched kernels run serially or in parallel. This script
runs the notebooks (fast mode, or ``--full`` for the paper's settings) once per
configuration of :data:`CONFIGS`, each in a fresh cache, numba cache and numbers
folder, then measures how far each key number moved from the reference run.
``python tools/keynumbers.py derive`` turns the result into tolerances.

Usage::

    python tools/perturb.py run --mode fast              # every configuration
    python tools/perturb.py run --mode full --configs reference,machine-epyc
    python tools/perturb.py summary --mode fast          # -> tests/expected/spread-fast.json
    nox -s perturb                                        # both steps, fast mode

Runs go to ``_build/perturb/<mode>/<configuration>/``. A configuration the host
cannot run (an instruction set it lacks) is skipped and listed as such.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "perturb"
EXPECTED = ROOT / "tests" / "expected"

_THREADS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# numpy >= 2.4 names its x86 dispatch targets by level: X86_V3 is AVX2 + FMA
# (Haswell, Zen 1-3), X86_V4 and the AVX512_* groups need AVX-512.
_NUMPY_AVX2 = "X86_V4 AVX512_ICL AVX512_SPR"
_NUMPY_SSE42 = "X86_V3 " + _NUMPY_AVX2

#: name -> (what it emulates, environment). The reference is the default setup.
CONFIGS: dict[str, tuple[str, dict[str, str]]] = {
    "reference": ("default settings", {}),
    "rerun": ("the reference again (run-to-run determinism)", {}),
    "threads-1": ("one thread everywhere", {k: "1" for k in _THREADS}),
    "threads-2": ("two threads everywhere", {k: "2" for k in _THREADS}),
    "kernels-serial": ("numba's serial kernels only", {"LRTOOLS_PARALLEL": "never"}),
    "kernels-parallel": ("numba's parallel kernels always", {"LRTOOLS_PARALLEL": "always"}),
    "blas-skylakex": ("OpenBLAS AVX-512 kernels", {"OPENBLAS_CORETYPE": "SkylakeX"}),
    "blas-haswell": ("OpenBLAS AVX2 kernels (also Zen)", {"OPENBLAS_CORETYPE": "Haswell"}),
    "blas-sandybridge": ("OpenBLAS AVX kernels", {"OPENBLAS_CORETYPE": "Sandybridge"}),
    "blas-nehalem": ("OpenBLAS SSE4 kernels", {"OPENBLAS_CORETYPE": "Nehalem"}),
    "blas-prescott": ("OpenBLAS SSE3 kernels", {"OPENBLAS_CORETYPE": "Prescott"}),
    "numba-generic": ("numba compiled for a generic x86-64", {"NUMBA_CPU_NAME": "generic"}),
    "numba-haswell": ("numba compiled for AVX2", {"NUMBA_CPU_NAME": "haswell"}),
    "numpy-avx2": ("numpy's AVX2 paths (no AVX-512)", {"NPY_DISABLE_CPU_FEATURES": _NUMPY_AVX2}),
    "machine-epyc": ("an AMD EPYC (Zen 3): AVX2 BLAS, numba for znver3, numpy without AVX-512",
                     {"OPENBLAS_CORETYPE": "Zen", "NUMBA_CPU_NAME": "znver3",
                      "NPY_DISABLE_CPU_FEATURES": _NUMPY_AVX2}),
    "machine-old": ("an old x86-64: SSE3 BLAS, generic numba, numpy's SSE4.2 baseline",
                    {"OPENBLAS_CORETYPE": "Prescott", "NUMBA_CPU_NAME": "generic",
                     "NPY_DISABLE_CPU_FEATURES": _NUMPY_SSE42}),
}

#: The configurations run at the paper's settings (a full run takes ~20 min each).
FULL_CONFIGS = ("reference", "threads-1", "kernels-serial", "machine-epyc", "machine-old")

_PROBE = ("import numpy, scipy.linalg, numba\n"
          "a = numpy.random.default_rng(0).standard_normal((64, 64))\n"
          "numpy.linalg.solve(a @ a.T + numpy.eye(64), a)\n"
          "numba.njit(lambda x: x.sum())(a)\n")


def _env(config: str, folder: Path) -> dict[str, str]:
    # MPLBACKEND would replace the kernels' inline backend: never pass it on
    env = {k: v for k, v in os.environ.items()
           if k not in (*_THREADS, "OPENBLAS_CORETYPE", "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES",
                        "NPY_DISABLE_CPU_FEATURES", "LRTOOLS_PARALLEL", "MPLBACKEND")}
    env.update({"LRTOOLS_CACHE": str(folder / "cache"), "NUMBA_CACHE_DIR": str(folder / "numba"),
                "LRTOOLS_NUMBERS": str(folder / "numbers"), "TQDM_DISABLE": "1",
                "LRTOOLS_PROGRESS": "0", "JUPYTER_PREFER_ENV_PATH": "1"})
    env.update(CONFIGS[config][1])
    return env


def supported(config: str) -> str | None:
    """None if the host runs the configuration, else the reason it cannot."""
    env = _env(config, OUT / ".probe")
    try:
        out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                             text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return "the probe timed out"
    if out.returncode != 0:
        lines = (out.stderr or "").strip().splitlines()
        return f"exit {out.returncode}: {lines[-1] if lines else 'no message'}"
    return None


def run(mode: str, configs: list[str], chapters: list[str]) -> int:
    """Run the notebooks once per configuration; return the number that failed."""
    failed = 0
    for config in configs:
        folder = OUT / mode / config
        reason = supported(config)
        if reason:
            print(f"[{config}] skipped: {reason}", flush=True)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "status.json").write_text(json.dumps({"skipped": reason}) + "\n")
            continue
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        cmd = [sys.executable, str(ROOT / "tools" / "run_notebooks.py"), "--output",
               str(folder / "nb"), *(["--full"] if mode == "full" else []), *chapters]
        print(f"[{config}] {CONFIGS[config][0]}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        with open(folder / "log.txt", "w") as log:
            status = subprocess.run(cmd, env=_env(config, folder), cwd=ROOT, stdout=log,
                                    stderr=subprocess.STDOUT).returncode
        seconds = time.perf_counter() - t0
        (folder / "status.json").write_text(json.dumps(
            {"exit": status, "seconds": round(seconds, 1), "env": CONFIGS[config][1],
             "chapters": chapters}) + "\n")
        print(f"[{config}] exit {status} in {seconds:.0f} s", flush=True)
        failed += status != 0
        shutil.rmtree(folder / "numba", ignore_errors=True)
        shutil.rmtree(folder / "cache", ignore_errors=True)
    return failed


def _numbers(folder: Path, mode: str) -> dict[str, dict]:
    out = {}
    for path in sorted((folder / "numbers").glob("*.json")):
        if path.stem.endswith("-fast") == (mode == "fast"):
            out[path.stem.removesuffix("-fast")] = json.loads(path.read_text())
    return out


def _flat(v):
    if isinstance(v, list):
        return [y for x in v for y in _flat(x)]
    return [v]


def _move(ref, got) -> tuple[float, float] | None:
    """(largest absolute, largest relative) difference; None if not comparable.

    The relative difference is taken over the elements whose reference is not zero.
    """
    a, b = _flat(ref), _flat(got)
    if len(a) != len(b):
        return None
    if any(isinstance(x, str) or isinstance(y, str) for x, y in zip(a, b, strict=True)):
        return (0.0, 0.0) if a == b else (math.inf, math.inf)
    abs_d = rel_d = 0.0
    for x, y in zip(a, b, strict=True):
        if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            return (math.inf, math.inf)
        d = abs(x - y)
        abs_d = max(abs_d, d)
        if d and x:
            rel_d = max(rel_d, d / abs(x))
    return abs_d, rel_d


def summary(mode: str) -> Path:
    """Write ``tests/expected/spread-<mode>.json`` and print the spread per chapter."""
    base = OUT / mode
    ref = _numbers(base / "reference", mode)
    if not ref:
        raise SystemExit(f"no reference run in {base / 'reference'}: run the study first")
    configs, skipped = {}, {}
    runs = {}
    for config in CONFIGS:
        status_path = base / config / "status.json"
        if config == "reference" or not status_path.exists():
            continue
        status = json.loads(status_path.read_text())
        if "skipped" in status:
            skipped[config] = status["skipped"]
            continue
        if status["exit"] != 0:
            skipped[config] = f"the notebooks failed (exit {status['exit']})"
            continue
        runs[config] = _numbers(base / config, mode)
        configs[config] = {"emulates": CONFIGS[config][0], "env": CONFIGS[config][1],
                           "seconds": status["seconds"]}
    keys: dict[str, dict[str, dict]] = {}
    for chapter, values in ref.items():
        keys[chapter] = {}
        for name, v in sorted(values.items()):
            entry = {"reference": v, "max_abs": 0.0, "max_rel": 0.0, "moved_in": [],
                     "largest_in": None, "values": {}}
            for config, numbers in runs.items():
                if chapter not in numbers:  # a configuration run on some chapters only
                    continue
                got = numbers.get(chapter, {}).get(name)
                move = None if got is None else _move(v, got)
                if move is None:
                    entry["values"][config] = "missing or other shape"
                    entry["max_abs"] = entry["max_rel"] = math.inf
                    continue
                if move[0] > 0:
                    entry["moved_in"].append(config)
                    entry["values"][config] = got
                if move[1] > entry["max_rel"] or (move[0] > entry["max_abs"] and not v):
                    entry["largest_in"] = config
                entry["max_abs"] = max(entry["max_abs"], move[0])
                entry["max_rel"] = max(entry["max_rel"], move[1])
            keys[chapter][name] = entry
    report = {
        "mode": mode,
        "measured": datetime.date.today().isoformat(),
        "host": {"cpu": _cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
                 "libraries": _versions()},
        "reference": {"emulates": CONFIGS["reference"][0]},
        "configs": configs,
        "skipped": skipped,
        "keys": keys,
    }
    path = EXPECTED / f"spread-{mode}.json"
    path.write_text(json.dumps(report, indent=1, sort_keys=True, default=_json_default) + "\n")
    print(table(report))
    print(f"wrote {path}")
    return path


def _json_default(x):
    return repr(x)


def kinds(mode: str) -> dict[str, dict[str, str]]:
    """``{chapter: {name: kind}}`` from the expected numbers (``value`` where unknown)."""
    path = EXPECTED / f"numbers-{mode}.json"
    specs = json.loads(path.read_text()) if path.exists() else {}
    return {ch: {k: s.get("kind", "value") for k, s in v.items()} for ch, v in specs.items()}


def table(report: dict) -> str:
    """Per chapter: keys, how many moved, the largest relative move of a value and where.

    Bounds (residuals) move by large relative amounts by nature; they are counted
    apart, with the largest factor by which one changed.
    """
    kind = kinds(report["mode"])
    lines = [f"{'chapter':<16}{'keys':>5}{'moved':>6}{'values':>7}{'moved':>6}"
             f"{'bounds':>7}{'moved':>6}  largest relative move of a value"]
    for chapter, entries in report["keys"].items():
        k = kind.get(chapter, {})
        vals = {n: e for n, e in entries.items() if k.get(n, "value") == "value"}
        bnds = {n: e for n, e in entries.items() if k.get(n) == "bound"}
        moved = sum(bool(e["moved_in"]) for e in entries.values())
        worst = max(vals.items(), key=lambda kv: kv[1]["max_rel"], default=(None, None))
        text = "-"
        if worst[0] is not None and worst[1]["max_rel"] > 0:
            text = f"{worst[1]['max_rel']:.2e} ({worst[0]}, {worst[1]['largest_in']})"
        lines.append(f"{chapter:<16}{len(entries):>5}{moved:>6}{len(vals):>7}"
                     f"{sum(bool(e['moved_in']) for e in vals.values()):>6}{len(bnds):>7}"
                     f"{sum(bool(e['moved_in']) for e in bnds.values()):>6}  {text}")
    lines.append(f"configurations: {', '.join(report['configs'])}")
    if report["skipped"]:
        lines.append(f"skipped: {report['skipped']}")
    return "\n".join(lines)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in ("numpy", "scipy", "numba", "llvmlite", "scikit-learn", "scipy-openblas64"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("run", "summary", "list"))
    parser.add_argument("--mode", choices=("fast", "full"), default="fast")
    parser.add_argument("--configs", default=None,
                        help="comma-separated configurations (default: all for fast mode, "
                             f"{','.join(FULL_CONFIGS)} for full)")
    parser.add_argument("chapters", nargs="*", help="notebooks to run (default: all)")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, (what, env) in CONFIGS.items():
            print(f"{name:<18} {what}  {env}")
        return 0
    if args.command == "summary":
        summary(args.mode)
        return 0
    configs = (args.configs.split(",") if args.configs
               else list(CONFIGS) if args.mode == "fast" else list(FULL_CONFIGS))
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown configurations {unknown}; see `list`")
    if "reference" not in configs and not (OUT / args.mode / "reference").exists():
        configs.insert(0, "reference")
    return 1 if run(args.mode, configs, args.chapters) else 0


if __name__ == "__main__":
    sys.exit(main())
