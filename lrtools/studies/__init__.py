"""Studies: each experiment of the book as a frozen settings object and a cached run.

A study module (one per chapter) holds, for each experiment,

* a settings dataclass derived from :class:`Settings`: frozen, keyword-only, every
  field typed and documented, :meth:`Settings.paper` giving the paper's settings
  (the defaults) and :meth:`Settings.fast` a small version for CI; a misspelt
  field is a ``TypeError``, never silently ignored;
* a run function taking the settings (and ``progress``, ``executor`` where it has
  them) whose result is cached with :func:`lrtools.cache.cached_run`, keyed by the
  settings object (every field) and by the code;
* the key numbers of that result (``*_numbers``), the values the chapter quotes.

Studies may import the core and the science modules, never the figures; the
figures take a study's result. Nothing here imports matplotlib.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Settings"]

T = TypeVar("T", bound="Settings")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Base of every study's settings: frozen, keyword-only, with paper and fast versions."""

    @classmethod
    def paper(cls: type[T]) -> T:
        """The paper's settings (the defaults of every field)."""
        return cls()

    @classmethod
    def fast(cls: type[T]) -> T:
        """A small version of the same experiment, for CI (seconds)."""
        return cls()

    @classmethod
    def for_mode(cls: type[T], fast: bool) -> T:
        """:meth:`fast` if ``fast`` else :meth:`paper` (the notebooks' switch)."""
        return cls.fast() if fast else cls.paper()

    def replace(self: T, **changes: Any) -> T:
        """A copy with some fields changed (unknown names raise ``TypeError``)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dictionary (shallow)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
