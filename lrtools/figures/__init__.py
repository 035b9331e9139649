"""The figure layer: one function per paper figure, and the registry the command line uses.

Each chapter has a module here (:mod:`lrtools.figures.linear`, ...) whose
``plot_*`` functions draw a study's result and whose ``figure<N>(fast, progress)``
functions run the study with the paper's (or fast) settings and draw paper Figure
N. The notebooks and ``lrtools figure N`` call the same functions. Importing this
package imports matplotlib; nothing outside the figure layer does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import linear, memory, nonlinear, probe, twins

__all__ = ["FIGURES", "FigureSpec", "get", "linear", "nonlinear", "probe", "memory", "twins",
           "predictions", "population"]


@dataclass(frozen=True)
class FigureSpec:
    """One paper figure: its number, a title, the chapter and the function drawing it."""

    number: int
    title: str
    chapter: str
    function: Callable


FIGURES: dict[int, FigureSpec] = {
    spec.number: spec
    for spec in (
        FigureSpec(1, "Linear rank-1 network learns an exponential filter", "01_linear",
                   linear.figure1),
        FigureSpec(2, "Functionally equivalent networks told apart by noise and learning",
                   "03_probe", probe.figure2),
        FigureSpec(3, "Linear memory: visible overlaps return to A, invisible ones remember B",
                   "04_memory", memory.figure3),
        FigureSpec(4, "Nonlinear (erf) network on the flip-flop task: theory, Gaussianity "
                   "(panels a-c; d-f, twins: lrtools.figures.twins.figure4_memory)",
                   "02_nonlinear", nonlinear.figure4),
        FigureSpec(5, "Loss: parameter space vs overlap space with / without G", "01_linear",
                   linear.figure5),
        FigureSpec(6, "Conserved quantities (entries of K, eigenvalues of JS, balance): "
                   "clean vs noisy target", "04_memory", memory.figure6),
        FigureSpec(7, "Memory under Adam: the conserved quantities break", "04_memory",
                   memory.figure7),
        FigureSpec(8, "Gradient flow vs large-step GD vs Adam: theory fit and Gaussianity",
                   "02_nonlinear", nonlinear.figure8),
        FigureSpec(9, "Nonlinear twins: loss, overlaps before and after task C, the three tasks",
                   "04_memory", twins.figure9),
        FigureSpec(10, "The ten overlaps of one twin pair through A/B and C",
                   "04_memory", twins.figure10),
        FigureSpec(11, "Structure of the preconditioner G (linear, erf)", "01_linear",
                   linear.figure11),
        FigureSpec(12, "Rank-2 linear network learns a damped oscillation", "01_linear",
                   linear.figure12),
    )
}


def get(number: int) -> FigureSpec:
    """The registered figure ``number``; a clear error if there is none."""
    try:
        return FIGURES[int(number)]
    except (KeyError, ValueError):
        known = ", ".join(str(n) for n in sorted(FIGURES))
        raise ValueError(f"no paper figure {number!r}; available: {known}") from None
