"""Chapter figures (being moved here from :mod:`lrtools.memory`)."""

from __future__ import annotations

from ..memory import *  # noqa: F403  (transition: the plot functions still live there)
from ..memory import __all__  # noqa: F401
