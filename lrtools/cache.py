"""Disk cache for expensive runs: an entry is keyed on every argument of its function.

A cached run is a module-level function decorated with :func:`cached_run`::

    @cached_run("ch4-pair")
    def pair_runs(S: Overlaps, task: Task, *, eta: float = 5e-3, seed: int = 0):
        ...
        return {"aaa": ..., "aba": ...}     # a flat mapping of arrays

Each call binds its arguments to the function's signature, defaults included, so
the key covers every argument by construction: no hand-written parameter list
can leave one out. Arguments that cannot change the result (``executor``,
``progress``; the decorator's ``ignore``) are left out of the key. Arguments are
made canonical by :func:`canonical`: numbers, strings and ``None`` as they are,
arrays by dtype, shape and the SHA-256 of their bytes, mappings and sequences
element by element, dataclasses (tasks, :class:`~lrtools.Overlaps`, settings
objects) field by field with their class, functions by their qualified name, and
objects that define ``__cache_key__`` (:class:`~lrtools.LowRankRNN`) by what it
returns. Anything else is refused with a ``TypeError``, never keyed by a
``repr`` that might omit state.

**What the key covers.** The entry's name, the function's module and qualified
name, the canonical arguments, the lrtools version, the versions of numpy,
scipy, numba and scikit-learn, and :func:`source_hash`, the hash of the code the
results depend on. The rule for that hash: every module of ``lrtools`` enters
through its syntax tree with docstrings and every function or method named
``plot_*`` removed, except the presentation modules (:data:`PRESENTATION`:
plotting helpers, progress bars, key-number reports and the command line),
which are left out entirely. So editing a docstring, a comment, a figure's
layout or a caption keeps every stored result valid, while any change to code
that computes keeps none.

Entries are ``.npz`` files written atomically (temporary file, then rename)
without pickle and read back with ``allow_pickle=False``; an entry that is
unreadable or whose stored key differs is recomputed, never used. A cached run
returns the arrays as stored (after ``decode``, if given) whether it computed
them or loaded them, so a hit and a miss return the same object.

The folder is ``$LRTOOLS_CACHE`` if set (``LRTOOLS_CACHE=off`` disables the
cache), else ``_build/cache`` at the book root, else ``~/.cache/lrtools``.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import inspect
import json
import math
import os
import tempfile
import types
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from ._paths import output_dir

__all__ = ["cached_run", "ENTRY_POINTS", "RESULT_NEUTRAL", "PRESENTATION", "canonical",
           "cache_key", "cache_dir", "source_hash", "cached"]

# Arguments that never change a result: where jobs run and whether a bar is drawn.
RESULT_NEUTRAL = ("executor", "progress")

# Modules that only present results; they do not enter the source hash.
PRESENTATION = frozenset({"plotting.py", "_progress.py", "report.py", "__main__.py"})

# Libraries whose release can change a computed number.
_LIBRARIES = ("numpy", "scipy", "numba", "scikit-learn")

#: Every cached run, by entry name (filled by :func:`cached_run` at import).
ENTRY_POINTS: dict[str, Callable[..., Any]] = {}


class _StripPresentation(ast.NodeTransformer):
    """Drop docstrings and ``plot_*`` functions from a module's syntax tree."""

    def _body(self, node):
        body = [n for n in node.body
                if not (isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                        and n.name.startswith("plot_"))]
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]
        node.body = body or [ast.Pass()]
        return node

    def visit_Module(self, node):
        self.generic_visit(node)
        return self._body(node)

    visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = visit_Module


def _code_fingerprint(source: str) -> str:
    tree = _StripPresentation().visit(ast.parse(source))
    return ast.dump(tree, annotate_fields=False)


@lru_cache(maxsize=1)
def source_hash() -> str:
    """SHA-256 over the computing code of lrtools (the rule is in the module docstring)."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if path.name in PRESENTATION:
            continue
        h.update(path.relative_to(root).as_posix().encode())
        h.update(_code_fingerprint(path.read_text(encoding="utf-8")).encode())
    return h.hexdigest()


@lru_cache(maxsize=1)
def _library_versions() -> dict[str, str]:
    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def cache_dir() -> Path | None:
    """Cache folder, or None when caching is off."""
    env = os.environ.get("LRTOOLS_CACHE", "")
    if env.lower() in ("off", "0", "none", "false"):
        return None
    return output_dir("LRTOOLS_CACHE", "cache", Path.home() / ".cache" / "lrtools")


def _qualname(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def canonical(obj: Any) -> Any:
    """A JSON-able value that identifies ``obj`` exactly (see the module docstring).

    Raises
    ------
    TypeError
        For a value of a type with no exact canonical form.
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        x = float(obj)
        return x if math.isfinite(x) else {"__float__": repr(x)}
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            return {"__objects__": list(obj.shape), "items": [canonical(v) for v in obj.flat]}
        arr = np.ascontiguousarray(obj)
        return {"__array__": arr.dtype.str, "shape": list(arr.shape),
                "sha256": hashlib.sha256(arr.tobytes()).hexdigest()}
    if hasattr(obj, "__cache_key__") and not isinstance(obj, type):
        return {"__class__": _qualname(type(obj)), "state": canonical(obj.__cache_key__())}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__class__": _qualname(type(obj)),
                "fields": {f.name: canonical(getattr(obj, f.name))
                           for f in dataclasses.fields(obj)}}
    if isinstance(obj, Mapping):
        items = sorted(((canonical(k), canonical(v)) for k, v in obj.items()),
                       key=lambda kv: json.dumps(kv[0], sort_keys=True))
        return {"__mapping__": [list(kv) for kv in items]}
    if isinstance(obj, list | tuple):
        return [canonical(v) for v in obj]
    if isinstance(obj, set | frozenset):
        return {"__set__": sorted((canonical(v) for v in obj), key=json.dumps)}
    if isinstance(obj, types.FunctionType | types.BuiltinFunctionType | type):
        return {"__function__": _qualname(obj)}
    if isinstance(obj, functools.partial):
        return {"__partial__": canonical(obj.func), "args": canonical(obj.args),
                "keywords": canonical(obj.keywords)}
    raise TypeError(f"cannot key a cache entry on a {type(obj).__qualname__} "
                    f"(give it a __cache_key__ method, or pass plain values)")


def cache_key(name: str, params: Mapping[str, Any], *, function: str = "") -> str:
    """The hex key of an entry: its name, function, parameters and the code."""
    blob = json.dumps(
        {"name": name, "function": function, "params": canonical(dict(params)),
         "version": __version__, "libraries": _library_versions(), "source": source_hash()},
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


def _store(name: str, key: str, compute: Callable[[], Mapping[str, Any]],
           refresh: bool = False) -> dict[str, np.ndarray]:
    folder = cache_dir()
    path = None if folder is None else folder / f"{name}-{key[:20]}.npz"
    if path is not None and not refresh and path.exists():
        data = _load(path, key)
        if data is not None:
            return data
    out = compute()
    if not isinstance(out, Mapping):
        raise TypeError(f"cache entry {name}: the run must return a mapping of arrays, "
                        f"got {type(out).__qualname__}")
    result = {str(k): np.asarray(v) for k, v in out.items()}
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


def cached_run(
    name: str,
    *,
    ignore: Iterable[str] = RESULT_NEUTRAL,
    encode: Callable[[Any], Mapping[str, Any]] | None = None,
    decode: Callable[[dict[str, np.ndarray]], Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a function so its results are cached on disk, keyed on all its arguments.

    Parameters
    ----------
    name : str
        Entry name (unique across lrtools; the file names start with it).
    ignore : iterable of str
        Parameters that do not change the result; those of :data:`RESULT_NEUTRAL`
        that the function has are ignored by default. Each must be a parameter.
    encode, decode : callable, optional
        ``encode(result)`` gives the flat mapping of arrays to store (default: the
        result itself must be one); ``decode(arrays)`` rebuilds what the call
        returns (default: the arrays).

    Returns
    -------
    callable
        The decorated function: same signature, plus the keyword ``refresh=True``
        to recompute and overwrite. Its attribute ``cache_key(*args, **kwargs)``
        gives the key of a call without running it; ``cache_name``,
        ``key_parameters`` and ``ignored`` describe it. It is registered in
        :data:`ENTRY_POINTS`.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in ENTRY_POINTS and _qualname(ENTRY_POINTS[name].__wrapped__) != _qualname(fn):
            raise ValueError(f"cache entry name {name!r} is already used by "
                             f"{_qualname(ENTRY_POINTS[name].__wrapped__)}")
        sig = inspect.signature(fn)
        ignored = tuple(p for p in ignore if p in sig.parameters)
        unknown = set(ignore) - set(RESULT_NEUTRAL) - set(sig.parameters)
        if unknown:
            raise ValueError(f"{_qualname(fn)}: ignore names no parameter: {sorted(unknown)}")
        if "refresh" in sig.parameters:
            raise ValueError(f"{_qualname(fn)}: 'refresh' is reserved by cached_run")
        function = _qualname(fn)

        def key_of(*args: Any, **kwargs: Any) -> str:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            params = {k: v for k, v in bound.arguments.items() if k not in ignored}
            return cache_key(name, params, function=function)

        @functools.wraps(fn)
        def wrapper(*args: Any, refresh: bool = False, **kwargs: Any) -> Any:
            key = key_of(*args, **kwargs)

            def compute() -> Mapping[str, Any]:
                out = fn(*args, **kwargs)
                return encode(out) if encode is not None else out

            data = _store(name, key, compute, refresh)
            return decode(data) if decode is not None else data

        wrapper.cache_key = key_of
        wrapper.cache_name = name
        wrapper.ignored = ignored
        wrapper.key_parameters = tuple(p for p in sig.parameters if p not in ignored)
        ENTRY_POINTS[name] = wrapper
        return wrapper

    return decorate


def cached(
    name: str,
    params: Mapping[str, Any],
    compute: Callable[[], Mapping[str, Any]],
    *,
    refresh: bool = False,
) -> dict[str, np.ndarray]:
    """Low-level: ``compute()`` stored under a key the caller builds from ``params``.

    The caller must list in ``params`` everything the result depends on; nothing
    checks that it did. lrtools itself never calls this: use :func:`cached_run`,
    whose keys are complete by construction.
    """
    return _store(name, cache_key(name, params), compute, refresh)
