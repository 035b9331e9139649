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

from ._paths import output_dir

__all__ = ["Numbers", "record", "numbers_dir", "load", "plain"]


def numbers_dir() -> Path:
    """``$LRTOOLS_NUMBERS`` or ``_build/numbers`` at the book root (or the working folder)."""
    return output_dir("LRTOOLS_NUMBERS", "numbers", Path.cwd() / "numbers")


def plain(v: Any) -> Any:
    """Numpy scalars and arrays as plain Python numbers and lists (for JSON and glue)."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    return v


def record(chapter: str, *, fast: bool, **numbers: Any) -> dict[str, Any]:
    """Merge ``numbers`` into ``<chapter>[-fast].json``; returns the whole record.

    Non-finite values are refused: a NaN must never reach a figure or a number.
    """
    values = {k: plain(v) for k, v in numbers.items()}
    for k, v in values.items():
        arr = np.asarray(v, dtype=float) if not isinstance(v, str | dict) else None
        if arr is not None and not np.all(np.isfinite(arr)):
            raise ValueError(f"{chapter}: number {k!r} is not finite: {v!r}")
    folder = numbers_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{chapter}{'-fast' if fast else ''}.json"
    data = load(path) if path.exists() else {}
    data.update(values)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".numbers-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, path)
    return data


def load(path: str | Path) -> dict[str, Any]:
    """Read a numbers file."""
    with open(path) as f:
        return json.load(f)


class Numbers:
    """The key numbers of one notebook: each is glued for the text and recorded.

    ``numbers["overlap_error"] = err`` makes ``{glue:text}`overlap_error:.1e``` work
    in the notebook's Markdown (the value is glued as a plain Python number, which
    MyST-NB can format) and writes it to the chapter's JSON file (:func:`record`).

    Parameters
    ----------
    chapter : str
        Notebook name, e.g. ``"01_linear"``.
    fast : bool
        Run mode (fast-mode numbers go to ``<chapter>-fast.json``).
    """

    def __init__(self, chapter: str, *, fast: bool) -> None:
        self.chapter, self.fast = chapter, bool(fast)
        self.values: dict[str, Any] = {}

    def __setitem__(self, name: str, value: Any) -> None:
        value = plain(value)
        record(self.chapter, fast=self.fast, **{name: value})
        self.values[name] = value
        try:
            from myst_nb import glue
        except ImportError:  # outside a notebook build: recording is enough
            return
        glue(name, value, display=False)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def update(self, **values: Any) -> None:
        """Set several numbers at once."""
        for name, value in values.items():
            self[name] = value
