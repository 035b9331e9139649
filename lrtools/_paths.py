"""Where the book's outputs go: folders under ``_build`` at the book root."""

from __future__ import annotations

import os
from pathlib import Path


def book_root() -> Path | None:
    """The nearest folder at or above the working directory holding ``_toc.yml``."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").exists():
            return folder
    return None


def output_dir(env: str, name: str, fallback: Path) -> Path:
    """``$env`` if set, else ``<book root>/_build/<name>``, else ``fallback``."""
    value = os.environ.get(env)
    if value:
        return Path(value)
    root = book_root()
    return root / "_build" / name if root is not None else fallback
