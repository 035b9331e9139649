"""Compatibility shim (to be removed): chapter 5's science now lives in two modules.

* :mod:`lrtools.plasticity`: families of equivalent networks, reversal cohorts,
  synaptic totals, the per-neuron balance law (``neuron_balance``, formerly
  ``balance``; ``NeuronBalance``, formerly ``Balance``) and plasticity rules;
* :mod:`lrtools.burial`: noise burial and weight-decay erasure of the invisible
  memory.

``time_to_criterion`` is now ``lrtools.equivalence.epochs_to_criterion(...,
interpolate=True)``; ``decode_groups`` calls :func:`lrtools.decoding.decode`.

The studies (settings, cached runs, key numbers) are in
:mod:`lrtools.studies.predictions`, the figures in :mod:`lrtools.figures.predictions`,
:class:`~lrtools.tasks.SignedFilter` in :mod:`lrtools.tasks` and the fits in
:mod:`lrtools.fits`. This module only re-exports the science names.
"""

from __future__ import annotations

from .burial import (
    INVISIBLE,
    burial_runs,
    diffusion_rate,
    invisible_values,
    lifetime_fit,
    memory_pair,
    noise_burial,
    pool_runs,
    weight_decay_erasure,
)
from .fits import cohens_d, fit_exponent, quartile_ratio
from .plasticity import (
    PLASTICITY_RULES,
    NeuronBalance,
    PlasticityRule,
    balance_runs,
    behaviour_features,
    cohort_effects,
    cohort_runs,
    decode_groups,
    family_effects,
    family_runs,
    family_study,
    final_loss,
    neuron_balance,
    noise_check,
    reversal_cohort,
    reversal_step_scan,
    synaptic_totals,
)
from .tasks import SignedFilter

__all__ = [
    "family_study",
    "family_runs",
    "family_effects",
    "noise_check",
    "SignedFilter",
    "reversal_cohort",
    "cohort_runs",
    "cohort_effects",
    "reversal_step_scan",
    "synaptic_totals",
    "behaviour_features",
    "decode_groups",
    "final_loss",
    "NeuronBalance",
    "neuron_balance",
    "PlasticityRule",
    "PLASTICITY_RULES",
    "balance_runs",
    "INVISIBLE",
    "invisible_values",
    "diffusion_rate",
    "memory_pair",
    "noise_burial",
    "burial_runs",
    "pool_runs",
    "lifetime_fit",
    "weight_decay_erasure",
    "cohens_d",
    "fit_exponent",
    "quartile_ratio",
]
