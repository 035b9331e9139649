"""Progress bars for long runs: on in a terminal, off in notebooks and CI unless asked."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def enabled(progress: bool | None) -> bool:
    """Resolve ``progress=None``: ``LRTOOLS_PROGRESS`` (0/1) wins, else on in a terminal."""
    if progress is not None:
        return bool(progress)
    env = os.environ.get("LRTOOLS_PROGRESS")
    if env is not None:
        return env.strip() not in ("", "0", "false", "no")
    return sys.stderr.isatty()


def bar(iterable: Iterable[T], *, total: int | None = None, desc: str = "",
        progress: bool | None = None) -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar when progress is enabled."""
    if not enabled(progress):
        return iter(iterable)
    from tqdm.auto import tqdm

    return iter(tqdm(iterable, total=total, desc=desc, leave=False))
