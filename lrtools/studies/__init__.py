"""Studies: each experiment of the book as a frozen settings object and a cached run.

A study module (one per chapter) holds, for each experiment,

* a settings dataclass derived from :class:`Settings`: frozen, keyword-only, every
  field typed and documented, :meth:`Settings.paper` giving the paper's settings
  (the defaults) and :meth:`Settings.fast` a small version for CI; a misspelt
  field is a ``TypeError``, never silently ignored;
* a run function taking the settings (and ``progress``, ``executor`` where it has
  them) whose result is cached with :func:`lrtools.cache.cached_run`, keyed by the
  settings object (every field) and by the code;
* the key numbers of that result (``*_numbers``), the values the chapter quotes.

Studies may import the core and the science modules, never the figures; the
figures take a study's result. Nothing here imports matplotlib.

:data:`STUDIES` names the studies that can be run on their own, with any
executor (:func:`lrtools.make_executor`), by :func:`run_study` and by the command
``lrtools study NAME``; it imports a study's module only when that study runs.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

__all__ = ["Settings", "Study", "STUDIES", "get_study", "run_study"]

T = TypeVar("T", bound="Settings")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Base of every study's settings: frozen, keyword-only, with paper and fast versions.

    A subclass may name the allowed values of string fields in a class attribute
    ``_choices = {"field": ("a", "b")}``; any other value raises ``ValueError``.
    """

    _choices: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __post_init__(self) -> None:
        for name, allowed in self._choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{type(self).__name__}.{name} must be one of {allowed}, "
                                 f"got {getattr(self, name)!r}")

    @classmethod
    def paper(cls: type[T]) -> T:
        """The paper's settings (the defaults of every field)."""
        return cls()

    @classmethod
    def fast(cls: type[T]) -> T:
        """A small version of the same experiment, for CI (seconds)."""
        return cls()

    @classmethod
    def for_mode(cls: type[T], fast: bool) -> T:
        """:meth:`fast` if ``fast`` else :meth:`paper` (the notebooks' switch)."""
        return cls.fast() if fast else cls.paper()

    def replace(self: T, **changes: Any) -> T:
        """A copy with some fields changed (unknown names raise ``TypeError``)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dictionary (shallow)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


# ---------------------------------------------------------------------------
# The registry of named studies
# ---------------------------------------------------------------------------

Executor = concurrent.futures.Executor


@dataclass(frozen=True)
class Study:
    """A study that runs on its own: its settings class, its run and its key numbers.

    Parameters
    ----------
    name : str
        The name in :data:`STUDIES` and on the command line.
    title : str
        One line saying what it computes (and where the book shows it).
    module : str
        The study module, relative to :mod:`lrtools.studies` (imported on use).
    settings_name : str
        The :class:`Settings` class of that module.
    compute : callable
        ``compute(settings, executor)``: the (cached) result.
    numbers : callable
        ``numbers(result, settings)``: the key numbers, a flat ``dict``.
    parallel : bool
        Whether ``compute`` spreads its jobs over the executor (otherwise it
        runs in this process and an executor is refused).
    """

    name: str
    title: str
    module: str
    settings_name: str
    compute: Callable[[Any, Executor | None], Any]
    numbers: Callable[[Any, Any], dict[str, Any]]
    parallel: bool = True

    @property
    def settings_class(self) -> type[Settings]:
        """The settings class (importing the study module)."""
        mod = importlib.import_module(f"{__name__}.{self.module}")
        return getattr(mod, self.settings_name)

    def settings(self, fast: bool = False, **changes: Any) -> Settings:
        """The paper's (or, with ``fast``, the CI) settings with some fields changed."""
        base = self.settings_class.for_mode(bool(fast))
        return base.replace(**changes) if changes else base

    def run(self, settings: Settings | None = None, *, fast: bool = False,
            executor: Executor | None = None) -> tuple[Any, dict[str, Any]]:
        """The result and its key numbers.

        Parameters
        ----------
        settings : Settings, optional
            Default: :meth:`settings` (``fast`` chooses which).
        fast : bool
            The CI settings instead of the paper's (when ``settings`` is omitted).
        executor : concurrent.futures.Executor, optional
            Where the independent jobs run (:func:`lrtools.make_executor`);
            results do not depend on it.

        Returns
        -------
        result, numbers
        """
        s = self.settings(fast) if settings is None else settings
        cls = self.settings_class
        if not isinstance(s, cls):
            raise TypeError(f"study {self.name!r} takes a {cls.__name__}, "
                            f"got {type(s).__qualname__}")
        if executor is not None and not self.parallel:
            from .._parallel import SerialExecutor

            if not isinstance(executor, SerialExecutor):
                raise ValueError(f"study {self.name!r} runs in this process only; "
                                 "it takes no executor")
            executor = None
        result = self.compute(s, executor)
        return result, self.numbers(result, s)


def get_study(name: str) -> Study:
    """The study called ``name`` (``ValueError`` listing the names otherwise)."""
    try:
        return STUDIES[name]
    except KeyError:
        raise ValueError(f"no study {name!r}; the studies are: "
                         f"{', '.join(sorted(STUDIES))}") from None


def run_study(name: str, settings: Settings | None = None, *, fast: bool = False,
              executor: Executor | None = None) -> tuple[Any, dict[str, Any]]:
    """:meth:`Study.run` of the study called ``name``.

    >>> from lrtools import make_executor, studies
    >>> with make_executor("tcp://scheduler:8786") as ex:                # doctest: +SKIP
    ...     result, numbers = studies.run_study("convergence", executor=ex)
    """
    return get_study(name).run(settings, fast=fast, executor=executor)


def _convergence_numbers(result, s):
    from .nonlinear import convergence_fits, convergence_loss_numbers, convergence_numbers

    fits, floors = convergence_fits(result["plain"], result["projected"])
    return {"conv_N_min": min(s.Ns), "conv_N_max": max(s.Ns), "conv_n_seeds": len(s.seeds),
            **convergence_numbers(result["plain"], result["projected"], fits, floors),
            **convergence_loss_numbers(result["plain"])}


def _convergence(s, executor):
    from .nonlinear import cached_convergence

    S0 = s.start_overlaps()
    return {("projected" if proj else "plain"): cached_convergence(
        S0, s.task, list(s.Ns), list(s.seeds), s.epochs, s.eta, "erf", projected=proj,
        diagnostic_batch=s.diagnostic_batch, executor=executor) for proj in (False, True)}


def _limit_numbers(result, s):
    from .population import failure_numbers, limit_numbers

    return {**limit_numbers(result, s), **failure_numbers(result)}


def _limit(s, executor):
    from .population import limit_runs

    return limit_runs(s, executor=executor)


def _family_numbers(result, s):
    from .. import plasticity
    from .predictions import family_numbers, noise_speed_numbers

    fx = plasticity.family_effects(result)
    return {**s.quoted_numbers(), **family_numbers(result, fx), **noise_speed_numbers(fx)}


def _families(s, executor):
    from .predictions import cached_family_runs

    return cached_family_runs(s, executor=executor)


def _cohort_numbers(result, s):
    from .predictions import cohort_numbers

    _, effects, step_scan = result
    return {**s.quoted_numbers(), **cohort_numbers(effects, step_scan)}


def _cohorts(s, executor):
    from .predictions import cohort_study

    return cohort_study(s, executor=executor)


def _balance_numbers(result, s):
    from .predictions import balance_numbers

    return {**s.quoted_numbers(), **balance_numbers(result)}


def _balance(s, executor):
    from .predictions import balance_study

    return balance_study(s, executor=executor)


def _burial_numbers(result, s):
    from .predictions import burial_numbers

    return {**s.quoted_numbers(), **burial_numbers(result["pair"], result["burial"],
                                                   result["decay"])}


def _burial(s, executor):
    from .predictions import burial_pair, burial_study, weight_decay_study

    pair = burial_pair(s)
    return {"pair": pair, "burial": burial_study(pair, s, executor=executor),
            "decay": weight_decay_study(pair, s)}


def _filter_numbers(result, s):
    from .linear import exactness_numbers, optimum_numbers

    return {**exactness_numbers(result), **optimum_numbers(result, s)}


def _filter(s, executor):
    from .linear import filter_runs

    return filter_runs(s)


#: The named studies, by name (see :class:`Study`).
STUDIES: dict[str, Study] = {st.name: st for st in (
    Study("convergence", "the erf network against the overlap map as N grows, plain and "
          "projected descent (chapter 2)", "nonlinear", "ConvergenceSettings",
          _convergence, _convergence_numbers),
    Study("limit", "the network against the exact large-N (population) limit and the "
          "Gaussian theory (chapter 2)", "population", "LimitSettings", _limit, _limit_numbers),
    Study("families", "families of equivalent networks learning a new task: predictions 1, "
          "2 and 6 (chapter 5)", "predictions", "FamilySettings", _families, _family_numbers),
    Study("cohorts", "cohorts of animals and reversal learning: prediction 3 (chapter 5)",
          "predictions", "CohortSettings", _cohorts, _cohort_numbers),
    Study("balance", "the per-neuron balance law under plasticity rules: prediction 4 "
          "(chapter 5)", "predictions", "BalanceSettings", _balance, _balance_numbers),
    Study("burial", "synaptic noise burying the memory, and weight decay: prediction 5 "
          "(chapter 5)", "predictions", "BurialSettings", _burial, _burial_numbers),
    Study("filter", "a linear network learning an exponential filter against the exact "
          "overlap map (chapter 1)", "linear", "FilterSettings", _filter, _filter_numbers,
          parallel=False),
)}
