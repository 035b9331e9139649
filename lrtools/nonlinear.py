"""Compatibility shim: the science of chapter 2 now lives in :mod:`lrtools.closure`.

The Gaussian closure (Gaussianity, departure, closure defect, the projected
control, the convergence study) is :mod:`lrtools.closure`; the fits are
:mod:`lrtools.fits`; chapter 2's settings, cached runs and key numbers are
:mod:`lrtools.studies.nonlinear` and its figures :mod:`lrtools.figures.nonlinear`.
This module only re-exports the science names and will be removed.
"""

from __future__ import annotations

from .closure import (
    Convergence,
    Gaussianity,
    closure_defect,
    closure_loss,
    convergence_study,
    departure,
    gain_reference,
    gaussianity,
    gaussianity_curve,
    process_executor,
    qq_data,
    train_projected,
)
from .fits import PowerLaw, fit_floor, fit_power_law

__all__ = [
    "gain_reference",
    "Gaussianity",
    "gaussianity_curve",
    "gaussianity",
    "qq_data",
    "departure",
    "closure_defect",
    "closure_loss",
    "train_projected",
    "Convergence",
    "convergence_study",
    "process_executor",
    "PowerLaw",
    "fit_power_law",
    "fit_floor",
]
