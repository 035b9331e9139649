"""Chapter figures (being moved here from :mod:`lrtools.probe`)."""

from __future__ import annotations

from ..probe import *  # noqa: F403  (transition: the plot functions still live there)
from ..probe import __all__  # noqa: F401
