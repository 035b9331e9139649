"""Chapter figures (being moved here from :mod:`lrtools.predictions`)."""

from __future__ import annotations

from ..predictions import *  # noqa: F403  (transition: the plot functions still live there)
from ..predictions import __all__  # noqa: F401
