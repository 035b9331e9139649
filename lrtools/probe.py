"""Compatibility shim for chapter 3's former module (to be removed).

The science now lives in :mod:`lrtools.equivalence` and :mod:`lrtools.noise_response`,
the studies in :mod:`lrtools.studies.probe` and the figures in :mod:`lrtools.figures.probe`.
Only the science names other modules import are re-exported here.
"""

from __future__ import annotations

from .equivalence import (
    PAPER_TARGETS,
    epochs_to_criterion,
    equivalent_network,
    equivalent_overlaps,
    free_overlaps,
    initial_speed,
    sample_equivalent,
)
from .noise_response import (
    output_noise_variance,
    sampled_noise_variance,
    stationary_noise_variance,
)

__all__ = [
    "equivalent_overlaps",
    "epochs_to_criterion",
    "equivalent_network",
    "free_overlaps",
    "initial_speed",
    "output_noise_variance",
    "sample_equivalent",
    "sampled_noise_variance",
    "stationary_noise_variance",
    "PAPER_TARGETS",
]
