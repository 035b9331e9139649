"""Argument checks shared by every module (package-private: import freely within lrtools).

Each check returns the value it accepted, converted (``float``, ``int``, a
contiguous float64 array), or raises a ``ValueError`` that names the argument and
what was wrong with it, so a bad input fails loudly before any computation (never
a silent NaN further down).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _kernels as K
from .overlaps import vector_names

__all__ = ["phi_code", "check_dt", "check_input", "check_epochs", "check_rate",
           "check_nonnegative", "check_optimizer", "shape_from_names", "require_keys", "OPTIMIZERS"]

OPTIMIZERS = ("gd", "adam")


def phi_code(phi: str) -> int:
    """The kernels' code of a nonlinearity (``"linear"``, ``"erf"``, ``"tanh"``)."""
    try:
        return K.PHI_CODES[phi]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown nonlinearity phi={phi!r}; expected one of {sorted(K.PHI_CODES)}"
        ) from None


def check_dt(dt: float) -> float:
    """A positive, finite Euler step."""
    if not (isinstance(dt, int | float | np.floating) and np.isfinite(dt) and dt > 0):
        raise ValueError(f"time step dt must be a positive number, got dt={dt!r}")
    return float(dt)


def check_input(x: np.ndarray, n_in: int) -> np.ndarray:
    """An input of shape ``(B, T, n_in)`` with finite entries, as contiguous float64."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[2] != n_in:
        raise ValueError(f"input x must have shape (B, T, n_in={n_in}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("input x has non-finite entries")
    return np.ascontiguousarray(x)


def check_epochs(epochs: int, *, minimum: int = 0, name: str = "epochs") -> int:
    """An integer number of epochs (or steps) of at least ``minimum``."""
    if isinstance(epochs, bool) or int(epochs) != epochs or epochs < minimum:
        kind = "a non-negative" if minimum == 0 else f"an integer >= {minimum}, i.e. a"
        raise ValueError(f"{name} must be {kind} integer, got {epochs!r}")
    return int(epochs)


def check_rate(eta, name: str = "learning rate eta") -> float | np.ndarray:
    """A positive, finite learning rate (a number, or an array of them)."""
    arr = np.asarray(eta, dtype=np.float64)
    if arr.size == 0 or not (np.all(np.isfinite(arr)) and np.all(arr > 0)):
        raise ValueError(f"{name} must be positive, got {eta!r}")
    return float(arr) if arr.ndim == 0 else arr


def check_nonnegative(value: float, name: str) -> float:
    """A finite, non-negative number (a weight decay, a noise level)."""
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    return float(value)


def check_optimizer(optimizer: str) -> str:
    """``"gd"`` or ``"adam"``."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {OPTIMIZERS}")
    return optimizer


def shape_from_names(names: Sequence[str]) -> tuple[int, int, int]:
    """``(rank, n_in, n_out)`` of a network whose vectors are named ``names``."""
    count = {c: sum(1 for n in names if n[0] == c) for c in "muvz"}
    rank, n_in, n_out = count["u"], count["m"], count["z"]
    if count["v"] != rank or tuple(names) != vector_names(rank, n_in, n_out):
        raise ValueError(
            f"vector names {tuple(names)} are not a network's; expected an order like "
            f"{vector_names(max(rank, 1), max(n_in, 1), max(n_out, 1))}"
        )
    return rank, n_in, n_out


def require_keys(mapping, keys: Sequence[str], what: str) -> None:
    """Raise a ``ValueError`` naming the ``keys`` that ``mapping`` (a run's result) lacks."""
    missing = [k for k in keys if k not in mapping]
    if missing:
        raise ValueError(f"{what} lacks {missing}; it has {sorted(mapping)}")
