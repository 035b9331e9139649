"""Key numbers of each chapter, written to JSON for the regeneration check.

Every notebook records the numbers it quotes (final overlaps, agreement errors,
fitted slopes, accuracies) with :func:`record`; they land in
``<book root>/_build/numbers/<chapter>.json`` (or ``$LRTOOLS_NUMBERS``), one file
per chapter and run mode, which the test suite compares with the committed
expected values within stated tolerances.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["record", "numbers_dir", "load"]


def numbers_dir() -> Path:
    """``$LRTOOLS_NUMBERS`` or ``_build/numbers`` at the book root (or the working folder)."""
    env = os.environ.get("LRTOOLS_NUMBERS")
    if env:
        return Path(env)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").exists():
            return folder / "_build" / "numbers"
    return here / "numbers"


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def record(chapter: str, *, fast: bool, **numbers: Any) -> dict[str, Any]:
    """Merge ``numbers`` into ``<chapter>[-fast].json``; returns the whole record.

    Non-finite values are refused: a NaN must never reach a figure or a number.
    """
    plain = {k: _plain(v) for k, v in numbers.items()}
    for k, v in plain.items():
        arr = np.asarray(v, dtype=float) if not isinstance(v, str | dict) else None
        if arr is not None and not np.all(np.isfinite(arr)):
            raise ValueError(f"{chapter}: number {k!r} is not finite: {v!r}")
    folder = numbers_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{chapter}{'-fast' if fast else ''}.json"
    data = load(path) if path.exists() else {}
    data.update(plain)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".numbers-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, path)
    return data


def load(path: str | Path) -> dict[str, Any]:
    """Read a numbers file."""
    with open(path) as f:
        return json.load(f)
