"""Chapter figures (being moved here from :mod:`lrtools.nonlinear`)."""

from __future__ import annotations

from ..nonlinear import *  # noqa: F403  (transition: the plot functions still live there)
from ..nonlinear import __all__  # noqa: F401
