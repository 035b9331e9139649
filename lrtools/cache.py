"""Disk cache for expensive runs: npz files keyed by parameters and code.

An entry's key is the SHA-256 of its name, its parameters (JSON), the lrtools
version and a hash of the lrtools source files, so any change of settings or of
the code that produced it makes a new entry. Entries are written atomically
(temporary file, then rename) as ``.npz`` without pickle, and read back with
``allow_pickle=False``; an entry that is unreadable or whose stored key does not
match is recomputed, never used.

The folder is ``$LRTOOLS_CACHE`` if set (``LRTOOLS_CACHE=off`` disables the
cache), else ``_build/cache`` at the book root, else ``~/.cache/lrtools``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from ._paths import output_dir

__all__ = ["cached", "cache_dir", "source_hash", "cache_key"]


@lru_cache(maxsize=1)
def source_hash() -> str:
    """SHA-256 over the lrtools source files (names and contents)."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cache_dir() -> Path | None:
    """Cache folder, or None when caching is off."""
    env = os.environ.get("LRTOOLS_CACHE", "")
    if env.lower() in ("off", "0", "none", "false"):
        return None
    return output_dir("LRTOOLS_CACHE", "cache", Path.home() / ".cache" / "lrtools")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"__array__": obj.tolist(), "dtype": str(obj.dtype)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float | int | str | bool) or obj is None:
        return obj
    return repr(obj)  # frozen dataclasses (tasks) have a complete repr


def cache_key(name: str, params: Mapping[str, Any]) -> str:
    """The hex key of an entry."""
    blob = json.dumps(
        {"name": name, "params": _jsonable(params), "version": __version__,
         "source": source_hash()},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _load(path: Path, key: str) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except Exception:  # corrupt, truncated or unreadable: recompute
        return None
    if str(data.pop("__key__", "")) != key:
        return None
    return data


def cached(
    name: str,
    params: Mapping[str, Any],
    compute: Callable[[], Mapping[str, Any]],
    *,
    refresh: bool = False,
) -> dict[str, np.ndarray]:
    """Return ``compute()`` (a flat mapping of arrays/scalars), from disk if stored.

    Parameters
    ----------
    name : str
        Entry family, e.g. ``"fig1"``; part of the file name.
    params : mapping
        Everything the result depends on besides the code (JSON-able, tasks allowed).
    compute : callable
        Produces the result; values must convert to non-object numpy arrays.
    refresh : bool
        Recompute and overwrite even if an entry exists.
    """
    key = cache_key(name, params)
    folder = cache_dir()
    path = None if folder is None else folder / f"{name}-{key[:20]}.npz"
    if path is not None and not refresh and path.exists():
        data = _load(path, key)
        if data is not None:
            return data
    result = {k: np.asarray(v) for k, v in compute().items()}
    for k, v in result.items():
        if v.dtype == object:
            raise TypeError(f"cache entry {name}: value {k!r} is not a plain array")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, __key__=np.array(key), **result)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return result
