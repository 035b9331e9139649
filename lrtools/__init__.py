"""lrtools: learning dynamics of low-rank RNNs in overlap space.

A companion to Y. Ger and O. Barak, *Learning reveals invisible structure in
low-rank RNNs*, arXiv:2605.04115 (2026).

>>> import lrtools
>>> from lrtools import LowRankRNN, Overlaps, tasks, theory
>>> net = LowRankRNN.random(N=500, rank=1, phi="linear", seed=0)
>>> task = tasks.ExponentialFilter(c=0.2, dt=0.05, t_max=20.0)
>>> hist = lrtools.train(net, task, epochs=10, eta=5e-3)
>>> th = theory.learn(hist.initial, task, epochs=10, eta=5e-3)
"""

__version__ = "0.1.0"

import importlib

from . import (
    burial,
    cache,
    closure,
    conserved,
    decoding,
    equivalence,
    experiments,
    fits,
    holonomy,
    memory,
    noise_response,
    plasticity,
    population,
    report,
    studies,
    tasks,
    theory,
    training,
    twins,
)
from ._parallel import SerialExecutor, make_executor
from .history import DivergenceError, History
from .network import LowRankRNN
from .overlaps import Overlaps, vector_names
from .training import train
from .twins import TwinProtocol

__all__ = [
    "burial",
    "closure",
    "conserved",
    "decoding",
    "equivalence",
    "noise_response",
    "plasticity",
    "population",
    "twins",
    "DivergenceError",
    "History",
    "LowRankRNN",
    "Overlaps",
    "SerialExecutor",
    "TwinProtocol",
    "cache",
    "experiments",
    "figures",
    "fits",
    "holonomy",
    "make_executor",
    "memory",
    "plotting",
    "report",
    "studies",
    "tasks",
    "theory",
    "train",
    "training",
    "vector_names",
    "__version__",
]

_LAZY = ("plotting", "figures")  # matplotlib and seaborn load only when drawing


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lrtools' has no attribute {name!r}")
