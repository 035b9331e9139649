"""Chapter 5 studies: six testable biological predictions of the overlap theory.

* :class:`FamilySettings`, :func:`cached_family_runs`: predictions 1 and 6,
  families of equivalent networks learning a new filter;
  :class:`NoiseCheckSettings`, :func:`cached_noise_check`: prediction 2, activity
  noise simulated in two members of a family;
* :class:`CohortSettings`, :func:`cohort_study`: prediction 3, reversal learning in
  two populations and the plasticity-step scan;
* :class:`BalanceSettings`, :func:`balance_study`: prediction 4, the per-neuron
  balance law under several plasticity rules;
* :class:`BurialSettings`, :func:`burial_pair`, :func:`burial_study`,
  :func:`weight_decay_study`: prediction 5, noise buries the invisible memory and
  weight decay erases it;
* the key numbers of each (``*_numbers``) and :func:`summary_table`, defined in
  :mod:`lrtools.studies.predictions_numbers` and re-exported here.

The science is in :mod:`lrtools.plasticity` and :mod:`lrtools.burial`; the figures
in :mod:`lrtools.figures.predictions`. Each cached run is keyed by every field of
its settings object (and the arrays it is given), so a run may be recomputed when
a field that it does not read changes, never reused when one that it reads does.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import burial, connectome, finite_step, plasticity
from .._checks import require_keys
from ..cache import cached_run
from ..fits import fit_exponent
from ..memory import paper_theta2
from ..tasks import ExponentialFilter
from . import Settings
from .predictions_numbers import (
    BALANCE_KEYS,
    balance_numbers,
    burial_numbers,
    cohort_numbers,
    crossover_numbers,
    family_numbers,
    flow_limit_numbers,
    measurement_numbers,
    noise_numbers,
    noise_speed_numbers,
    pattern_numbers,
    rate_numbers,
    summary_table,
)

__all__ = [
    "FamilySettings",
    "NoiseCheckSettings",
    "CohortSettings",
    "BalanceSettings",
    "BurialSettings",
    "cached_family_runs",
    "cached_noise_check",
    "cohort_study",
    "balance_study",
    "burial_pair",
    "burial_study",
    "weight_decay_study",
    "flow_limit_study",
    "rate_label",
    "rate_study",
    "noisy_connectome_study",
    "crossover_study",
    "BALANCE_KEYS",
    "family_numbers",
    "noise_numbers",
    "noise_speed_numbers",
    "cohort_numbers",
    "balance_numbers",
    "burial_numbers",
    "flow_limit_numbers",
    "rate_numbers",
    "pattern_numbers",
    "measurement_numbers",
    "crossover_numbers",
    "summary_table",
]


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FamilySettings(Settings):
    """Predictions 1, 2 and 6: families of equivalent networks (``plasticity.family_study``).

    Parameters
    ----------
    seeds : tuple of int
        One base network (and its families) per seed.
    N : int
        Neurons.
    c, c_new : float
        The filter the base networks learn and the new one their families learn.
    dt, t_max : float
        Time grid.
    eta : float
        Learning rate.
    base_epochs : int
        Training of the base networks.
    n_family : int
        Equivalent networks per base network.
    epochs : int
        Epochs on the new filter.
    noise_std : float
        Activity noise per neuron and step of the variance formula.
    criteria : tuple of float
        Criteria, as fractions of the initial loss.
    measurement_noise : tuple of float
        Relative noise of the measured overlaps (and of the measured output
        variance) in the noisy-connectome scan.
    n_draws : int
        Measurement draws per noise level.
    """

    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    N: int = 500
    c: float = 0.2
    c_new: float = 0.4
    dt: float = 0.05
    t_max: float = 20.0
    eta: float = 5e-3
    base_epochs: int = 2000
    n_family: int = 200
    epochs: int = 600
    noise_std: float = 0.5
    criteria: tuple[float, ...] = (1e-2, 1e-4)
    measurement_noise: tuple[float, ...] = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)
    n_draws: int = 10

    @classmethod
    def fast(cls) -> FamilySettings:
        """60 networks per family."""
        return cls(n_family=60)

    def quoted_numbers(self) -> dict[str, int]:
        """The settings the text quotes: ``n_family`` and ``n_bases``."""
        return {"n_family": self.n_family, "n_bases": len(self.seeds)}


@dataclass(frozen=True, kw_only=True)
class NoiseCheckSettings(Settings):
    """Prediction 2: activity noise simulated in two members (``plasticity.noise_check``).

    Parameters
    ----------
    family : int
        Index of the family (base network) whose least and most noise-sensitive
        members are simulated.
    N : int
        Neurons of the simulated networks.
    n_trials : int
        Noise trials.
    dt : float
        Time step.
    n_steps : int
        Trial length.
    noise_std : float
        Noise per neuron and step.
    seed : int
        Seed of the networks, the input and the noise.
    """

    family: int = 0
    N: int = 500
    n_trials: int = 200
    dt: float = 0.05
    n_steps: int = 400
    noise_std: float = 0.5
    seed: int = 0

    @classmethod
    def fast(cls) -> NoiseCheckSettings:
        """``N = 200``, 100 trials."""
        return cls(N=200, n_trials=100)

    def quoted_numbers(self) -> dict[str, int]:
        """The settings the text quotes: ``N_check`` and ``n_trials``."""
        return {"N_check": self.N, "n_trials": self.n_trials}


@dataclass(frozen=True, kw_only=True)
class CohortSettings(Settings):
    """Prediction 3: reversal learning in cohorts (:func:`lrtools.plasticity.reversal_cohort`).

    Parameters
    ----------
    seeds : tuple of int
        One cohort per seed (and population).
    n : int
        Animals per cohort (the step scan uses ``n // 2``).
    N : int
        Neurons.
    c : float
        The filter A (B is its reversal).
    eta : float
        Plasticity step (and the reference step of the scan).
    epochs : tuple of int
        Epochs of the three phases (A; A or B; A).
    dt, t_max : float
        Time grid.
    etas : tuple of float
        Plasticity steps of the scan (at fixed learning time).
    noise : float
        Relative measurement noise of the decoders.
    n_splits : int
        Random splits of each decoder.
    n_flow : int
        The first ``n_flow`` animals of the scan also learn by the exact and the modified flow.
    """

    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    n: int = 40
    N: int = 500
    c: float = 0.2
    eta: float = 5e-3
    epochs: tuple[int, int, int] = (3000, 1000, 2000)
    dt: float = 0.05
    t_max: float = 20.0
    etas: tuple[float, ...] = (1e-2, 5e-3, 2.5e-3, 1.25e-3)
    noise: float = 0.01
    n_splits: int = 100
    n_flow: int = 20

    @classmethod
    def fast(cls) -> CohortSettings:
        """Three cohorts of 20 animals, three steps, six animals under the flows."""
        return cls(seeds=(0, 1, 2), n=20, etas=(1e-2, 5e-3, 2.5e-3), n_flow=6)

    def quoted_numbers(self) -> dict[str, int]:
        """The settings the text quotes: animals, cohorts and the scan's animals."""
        return {"n_animals": self.n, "n_cohorts": len(self.seeds),
                "n_animals_all": self.n * len(self.seeds), "n_scan": self.n // 2,
                "n_flow": min(self.n_flow, self.n // 2)}


@dataclass(frozen=True, kw_only=True)
class BalanceSettings(Settings):
    """Prediction 4: the per-neuron balance law (:func:`lrtools.plasticity.balance_runs`).

    The rules are :data:`lrtools.plasticity.PLASTICITY_RULES`: the linear ones on
    ``N`` neurons and ``seeds``, the erf one on ``N_erf`` and ``erf_seeds``.

    Parameters
    ----------
    seeds : tuple of int
        One linear network per seed and rule.
    erf_seeds : tuple of int
        One erf network per seed.
    N, N_erf : int
        Neurons of the linear and of the erf networks.
    learning_time : float
        ``eta * epochs`` of every run.
    rate_gains : tuple of (float, float)
        ``(mu, lam)`` of the unequal-rate runs (:func:`lrtools.connectome.rate_runs`:
        rates ``eta (mu^2, lam^2, 1/lam^2, 1/mu^2)`` for ``m, u, v, z``).
    """

    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    erf_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    N: int = 500
    N_erf: int = 200
    learning_time: float = 5.0
    rate_gains: tuple[tuple[float, float], ...] = ((1.0, 1.0), (2.0, 1.0), (0.5, 1.0),
                                                   (1.0, 2.0))

    @classmethod
    def fast(cls) -> BalanceSettings:
        """Three linear and two erf seeds, ``N = 200`` and ``N_erf = 100``."""
        return cls(seeds=(0, 1, 2), erf_seeds=(0, 1), N=200, N_erf=100)

    def quoted_numbers(self) -> dict[str, int]:
        """The settings the text quotes: sizes and numbers of seeds."""
        return {"N_balance": self.N, "N_erf": self.N_erf, "n_balance_seeds": len(self.seeds),
                "n_erf_seeds": len(self.erf_seeds)}

    def epochs(self, eta: float = 5e-3) -> int:
        """Epochs of gradient descent at ``eta`` in the learning time."""
        return int(round(self.learning_time / eta))


@dataclass(frozen=True, kw_only=True)
class BurialSettings(Settings):
    """Prediction 5: noise buries the invisible memory (:mod:`lrtools.burial`).

    Parameters
    ----------
    theta2_N, theta2_seed : int
        The start, the paper's ``theta_2`` (:func:`lrtools.memory.paper_theta2`).
    pair_c : tuple of float
        Filters A and B of the two histories (:func:`lrtools.burial.memory_pair`).
    pair_epochs : tuple of int
        Epochs of their three phases.
    eta : float
        Learning rate (histories, noise and weight decay).
    stds : tuple of float
        Synaptic noise amplitudes of the scan in ``s``.
    N : int
        Neurons of the scan in ``s``.
    Ns : tuple of int
        Network sizes of the scan in ``N``.
    s_N : float
        Noise amplitude of the scan in ``N``.
    n_rep : int
        Individuals per history, noise level and seed.
    seeds : tuple of int
        Independent noise replications.
    horizon : float
        Length of each noisy run, in predicted lifetimes.
    n_points : int
        Recorded points of each noisy run.
    n_boot : int
        Bootstrap samples of the lifetimes.
    weight_decays : tuple of float
        Weight decays of the erasure runs.
    e_folds : float
        Length of each erasure run, in predicted e-foldings.
    decay_points : int
        Recorded points of each erasure run.
    crossover_stds : tuple of float
        Noise amplitudes of the noise-and-decay runs.
    crossover_N : int
        Neurons of the noise-and-decay runs.
    crossover_decays : tuple of float
        Weight decays (turnover) of the noise-and-decay runs (``0``: noise alone).
    crossover_rep : int
        Individuals per history in each noise-and-decay run.
    """

    theta2_N: int = 500
    theta2_seed: int = 0
    pair_c: tuple[float, float] = (0.2, 0.4)
    pair_epochs: tuple[int, int, int] = (3000, 1000, 1000)
    eta: float = 5e-3
    stds: tuple[float, ...] = (1e-3, 2e-3, 4e-3, 8e-3)
    N: int = 500
    Ns: tuple[int, ...] = (250, 1000, 4000)
    s_N: float = 4e-3
    n_rep: int = 256
    seeds: tuple[int, ...] = (0, 1, 2)
    horizon: float = 4.0
    n_points: int = 60
    n_boot: int = 200
    weight_decays: tuple[float, ...] = (0.03, 0.1)
    e_folds: float = 6.0
    decay_points: int = 100
    crossover_stds: tuple[float, ...] = (4e-3, 8e-3)
    crossover_N: int = 2000
    crossover_decays: tuple[float, ...] = (0.0, 0.3, 1.0, 3.0, 10.0, 30.0)
    crossover_rep: int = 256

    @classmethod
    def fast(cls) -> BurialSettings:
        """48 individuals, two replications, ``N`` up to 1000; 96 in the crossover."""
        return cls(n_rep=48, seeds=(0, 1), Ns=(250, 1000), crossover_rep=96)

    def quoted_numbers(self) -> dict[str, int]:
        """The settings the text quotes: ``n_rep``, ``n_burial_seeds``, ``n_individuals``."""
        return {"n_rep": self.n_rep, "n_burial_seeds": len(self.seeds),
                "n_individuals": self.n_rep * len(self.seeds),
                "crossover_rep": self.crossover_rep, "crossover_N": self.crossover_N}


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------


@cached_run("ch5-families")
def cached_family_runs(settings: FamilySettings, *,
                       executor: concurrent.futures.Executor | None = None
                       ) -> dict[str, np.ndarray]:
    """Predictions 1, 2 and 6: :func:`lrtools.plasticity.family_runs` (cached).

    Parameters
    ----------
    settings : FamilySettings
        The families.
    executor : concurrent.futures.Executor, optional
        Runs the base networks in parallel.

    Returns
    -------
    dict
        :func:`lrtools.plasticity.family_runs` (one row per seed).
    """
    s = settings
    return plasticity.family_runs(
        s.seeds, executor=executor, N=s.N, c=s.c, c_new=s.c_new, dt=s.dt, t_max=s.t_max,
        eta=s.eta, base_epochs=s.base_epochs, n_family=s.n_family, epochs=s.epochs,
        noise_std=s.noise_std, criteria=s.criteria)


@cached_run("ch5-noise-check")
def _noise_check_run(base: np.ndarray, members: np.ndarray,
                     settings: NoiseCheckSettings) -> dict[str, np.ndarray]:
    """:func:`lrtools.plasticity.noise_check` of ``members`` around ``base`` (cached)."""
    s = settings
    return plasticity.noise_check(base, members, N=s.N, dt=s.dt, n_steps=s.n_steps,
                                  noise_std=s.noise_std, n_trials=s.n_trials, seed=s.seed)


def cached_noise_check(data: Mapping[str, np.ndarray],
                       settings: NoiseCheckSettings | None = None) -> dict[str, np.ndarray]:
    """Prediction 2: the least and the most noise-sensitive member of one family, simulated.

    Cached (entry ``"ch5-noise-check"``, keyed by the two members, the base
    network and every field of ``settings``).

    Parameters
    ----------
    data : mapping
        :func:`cached_family_runs` (``noise``, ``members``, ``base``).
    settings : NoiseCheckSettings, optional
        The check (default: the paper's); ``settings.family`` picks the family.

    Returns
    -------
    dict
        :func:`lrtools.plasticity.noise_check` of the pair (least sensitive first).
    """
    s = NoiseCheckSettings() if settings is None else settings
    require_keys(data, ["noise", "members", "base"], "family data")
    if not 0 <= s.family < len(data["noise"]):
        raise ValueError(f"the family index must be in [0, {len(data['noise'])}), "
                         f"got {s.family}")
    order = np.argsort(data["noise"][s.family])
    pair = data["members"][s.family][[order[0], order[-1]]]
    return _noise_check_run(data["base"][s.family], pair, s)


@cached_run("ch5-cohorts")
def _cohort_runs(settings: CohortSettings, population: str = "uniform", *,
                 executor: concurrent.futures.Executor | None = None) -> dict[str, np.ndarray]:
    """:func:`lrtools.plasticity.cohort_runs` of one population (cached)."""
    s = settings
    return plasticity.cohort_runs(s.seeds, executor=executor, population=population, n=s.n,
                                  N=s.N, c=s.c, eta=s.eta, epochs=s.epochs, dt=s.dt,
                                  t_max=s.t_max)


@cached_run("ch5-reversal-steps")
def _step_scan(settings: CohortSettings) -> dict[str, np.ndarray]:
    """:func:`lrtools.plasticity.reversal_step_scan` with ``n // 2`` animals (cached)."""
    s = settings
    return plasticity.reversal_step_scan(s.etas, epochs=s.epochs, eta_ref=s.eta, n=s.n // 2,
                                         N=s.N, c=s.c, dt=s.dt, t_max=s.t_max)


def cohort_study(settings: CohortSettings | None = None, *,
                 executor: concurrent.futures.Executor | None = None
                 ) -> tuple[dict, dict, dict[str, np.ndarray]]:
    """Prediction 3: both populations' cohorts, their effects and the step scan.

    Cached: ``"ch5-cohorts"`` per population (:func:`lrtools.plasticity.cohort_runs`)
    and ``"ch5-reversal-steps"`` (:func:`lrtools.plasticity.reversal_step_scan`
    with ``n // 2`` animals, each phase at the learning time of ``epochs`` at
    ``eta``).

    Parameters
    ----------
    settings : CohortSettings, optional
        The cohorts (default: the paper's).
    executor : concurrent.futures.Executor, optional
        Runs the cohorts in parallel.

    Returns
    -------
    cohorts : dict
        ``{"uniform": ..., "diverse": ...}``, :func:`lrtools.plasticity.cohort_runs` each.
    effects : dict
        ``{population: {name: (n_cohorts, ...)}}``:
        :func:`lrtools.plasticity.cohort_effects` of each cohort (decoder seed =
        cohort index), stacked.
    step_scan : dict
        :func:`lrtools.plasticity.reversal_step_scan`.
    """
    s = CohortSettings() if settings is None else settings
    if len(s.seeds) < 1:
        raise ValueError("need at least one cohort seed")
    cohorts, effects = {}, {}
    for pop in ("uniform", "diverse"):
        cohorts[pop] = _cohort_runs(s, pop, executor=executor)
        per = [plasticity.cohort_effects({k: v[i] for k, v in cohorts[pop].items()},
                                         noise=s.noise, n_splits=s.n_splits, seed=i)
               for i in range(len(s.seeds))]
        effects[pop] = {k: np.array([e[k] for e in per]) for k in per[0]}
    return cohorts, effects, _step_scan(s)


@cached_run("ch5-balance")
def _balance_runs(settings: BalanceSettings, phi: str = "linear", *,
                  executor: concurrent.futures.Executor | None = None) -> dict[str, np.ndarray]:
    """:func:`lrtools.plasticity.balance_runs` of the rules with nonlinearity ``phi`` (cached).

    Stored flat: ``"<rule label>/<quantity>"``.
    """
    s = settings
    rules = {k: r for k, r in plasticity.PLASTICITY_RULES.items() if r.phi == phi}
    if not rules:
        raise ValueError(f"no plasticity rule has phi={phi!r}")
    seeds, N = (s.seeds, s.N) if phi == "linear" else (s.erf_seeds, s.N_erf)
    return {f"{k}/{q}": v for k, r in plasticity.balance_runs(
        rules, seeds=seeds, N=N, learning_time=s.learning_time, executor=executor).items()
        for q, v in r.items()}


def balance_study(settings: BalanceSettings | None = None, *,
                  executor: concurrent.futures.Executor | None = None
                  ) -> dict[str, dict[str, np.ndarray]]:
    """Prediction 4: :func:`lrtools.plasticity.balance_runs` of every rule, linear and erf.

    Cached (entry ``"ch5-balance"``): once for the linear rules of
    :data:`lrtools.plasticity.PLASTICITY_RULES` (``N`` neurons, ``seeds``), once
    for the erf rule (``N_erf``, ``erf_seeds``).

    Parameters
    ----------
    settings : BalanceSettings, optional
        The runs (default: the paper's).
    executor : concurrent.futures.Executor, optional
        Runs the (rule, seed) jobs in parallel.

    Returns
    -------
    dict
        ``{label: {quantity: (n_seeds, ...)}}`` as
        :func:`lrtools.plasticity.balance_runs`, both runs merged.
    """
    s = BalanceSettings() if settings is None else settings
    runs: dict[str, dict[str, np.ndarray]] = {}
    for phi in ("linear", "erf"):
        for key, v in _balance_runs(s, phi, executor=executor).items():
            label, q = key.rsplit("/", 1)
            runs.setdefault(label, {})[q] = v
    return runs


def burial_pair(settings: BurialSettings | None = None) -> dict[str, np.ndarray]:
    """Prediction 5: the two histories A, A, A and A, B, A from the paper's ``theta_2``.

    Parameters
    ----------
    settings : BurialSettings, optional
        The study (default: the paper's).

    Returns
    -------
    dict
        :func:`lrtools.burial.memory_pair` (``aaa``, ``aba``, ``D0``, ``function_gap``).
    """
    s = BurialSettings() if settings is None else settings
    start = paper_theta2(N=s.theta2_N, seed=s.theta2_seed).matrix
    return burial.memory_pair(start, c=s.pair_c, epochs=s.pair_epochs, eta=s.eta)


@cached_run("ch5-burial")
def _burial_scan(S_a: np.ndarray, S_b: np.ndarray, settings: BurialSettings,
                 scan: str = "s", *,
                 executor: concurrent.futures.Executor | None = None) -> dict[str, np.ndarray]:
    """:func:`lrtools.burial.burial_runs`: the scan in ``s`` (at ``N``) or in ``N`` (at ``s_N``)."""
    s = settings
    if scan == "s":
        stds, N = s.stds, s.N
    elif scan == "N":
        stds, N = [s.s_N] * len(s.Ns), s.Ns
    else:
        raise ValueError(f"scan must be 's' or 'N', got {scan!r}")
    return burial.burial_runs(S_a, S_b, stds, N=N, n_rep=s.n_rep, eta=s.eta, horizon=s.horizon,
                              n_points=s.n_points, seeds=s.seeds, executor=executor)


def burial_study(pair: Mapping[str, np.ndarray], settings: BurialSettings | None = None, *,
                 executor: concurrent.futures.Executor | None = None) -> dict:
    """Prediction 5: noise scans in ``s`` and ``N``, lifetimes and exponents.

    Cached (entry ``"ch5-burial"``): :func:`lrtools.burial.burial_runs` over
    ``stds`` at ``N``, and over ``Ns`` at noise ``s_N``.

    Parameters
    ----------
    pair : mapping
        :func:`burial_pair` (``aaa``, ``aba``).
    settings : BurialSettings, optional
        The study (default: the paper's).
    executor : concurrent.futures.Executor, optional
        Runs the replications in parallel.

    Returns
    -------
    dict
        ``runs_s``, ``runs_N``: :func:`lrtools.burial.burial_runs`; ``burial``,
        ``burial_N``: :func:`lrtools.burial.pool_runs` of them; ``fit``, ``fit_N``:
        :func:`lrtools.burial.lifetime_fit` of the pooled runs; ``exp_s``,
        ``exp_N``: :func:`lrtools.fits.fit_exponent` with bootstrap intervals;
        ``per_seed``: ``{"s": (n_seeds,), "N": (n_seeds,)}``, the exponents of each
        replication alone.
    """
    s = BurialSettings() if settings is None else settings
    if len(s.stds) < 2 or len(s.Ns) < 2:
        raise ValueError(f"exponents need at least two noise levels and two sizes, got "
                         f"{len(s.stds)} and {len(s.Ns)}")
    states = [pair["aaa"], pair["aba"]]
    runs_s = _burial_scan(*states, s, "s", executor=executor)
    runs_N = _burial_scan(*states, s, "N", executor=executor)
    # pooled over the independent replications (bootstrap over individuals) and per replication
    pooled, pooled_N = burial.pool_runs(runs_s), burial.pool_runs(runs_N)
    fit = burial.lifetime_fit(pooled, n_boot=s.n_boot)
    fit_N = burial.lifetime_fit(pooled_N, n_boot=s.n_boot)
    per_seed = {}
    for name, r, x in (("s", runs_s, "std"), ("N", runs_N, "N")):
        per_seed[name] = np.array([fit_exponent(r[x][i], burial.lifetime_fit(
            {k: v[i] for k, v in r.items()}, n_boot=1)["t_star"])["exponent"]
            for i in range(len(r[x]))])
    return {"runs_s": runs_s, "runs_N": runs_N, "burial": pooled, "burial_N": pooled_N,
            "fit": fit, "fit_N": fit_N,
            "exp_s": fit_exponent(pooled["std"], fit["t_star"], fit["t_boot"]),
            "exp_N": fit_exponent(pooled_N["N"], fit_N["t_star"], fit_N["t_boot"]),
            "per_seed": per_seed}


def weight_decay_study(pair: Mapping[str, np.ndarray],
                       settings: BurialSettings | None = None) -> dict[str, np.ndarray]:
    """Prediction 5: the two histories under weight decay, without noise.

    Parameters
    ----------
    pair : mapping
        :func:`burial_pair` (``aaa``, ``aba``).
    settings : BurialSettings, optional
        The study (default: the paper's).

    Returns
    -------
    dict
        :func:`lrtools.burial.weight_decay_erasure`.
    """
    s = BurialSettings() if settings is None else settings
    return burial.weight_decay_erasure(pair["aaa"], pair["aba"], s.weight_decays, eta=s.eta,
                                       e_folds=s.e_folds, n_points=s.decay_points)


@cached_run("ch5-flow-limit")
def flow_limit_study(settings: CohortSettings) -> dict[str, np.ndarray]:
    """Prediction 3: the step scan's first animals under the exact flow and the modified flow.

    The first ``min(n_flow, n // 2)`` animals of the scan (cohort 0, uniform,
    :func:`lrtools.plasticity.cohort_start`), each phase over the learning time of
    ``epochs`` at ``eta``, by :func:`lrtools.finite_step.reversal_flow`: once the
    exact flow, once the modified flow of the smallest step of the scan. Cached.

    Parameters
    ----------
    settings : CohortSettings
        The cohorts (``n``, ``N``, ``c``, ``eta``, ``epochs``, ``etas``, grid).

    Returns
    -------
    dict
        ``flow``, ``modified``: relative changes of the totals ``(n // 2, 3)``;
        ``eta_modified``; ``decay``: ``int (Gamma^2)_aa dtau``, reversal minus direct
        twin, ``(n // 2, 4)`` (exact flow); ``loss``: largest final loss.
    """
    s = settings
    start = plasticity.cohort_start(0, population="uniform", n=min(s.n_flow, s.n // 2), N=s.N)
    times = tuple(s.eta * e for e in s.epochs)
    kw, eta_mod = dict(learning_times=times, c=s.c, dt=s.dt, t_max=s.t_max), float(min(s.etas))
    fl, mod = (finite_step.reversal_flow(start, eta_correction=e, **kw) for e in (0.0, eta_mod))
    return {"flow": finite_step.relative_record(fl["direct"], fl["reversal"]),
            "modified": finite_step.relative_record(mod["direct"], mod["reversal"]),
            "eta_modified": np.array(eta_mod),
            "decay": fl["decay_reversal"] - fl["decay_direct"],
            "loss": np.array(max(fl["loss_reversal"].max(), fl["loss_direct"].max()))}


def rate_label(mu: float, lam: float) -> str:
    """Label of the rates ``eta (mu^2, lam^2, 1/lam^2, 1/mu^2)`` (of ``m, u, v, z``)."""
    return "rates m:u:v:z = " + ":".join(f"{x:g}" for x in connectome.emulated_rates(mu, lam))


@cached_run("ch5-rates")
def _rate_runs(settings: BalanceSettings) -> dict[str, np.ndarray]:
    s = settings
    gains = {rate_label(mu, lam): (mu, lam) for mu, lam in s.rate_gains}
    return {f"{k}/{q}": v for k, r in connectome.rate_runs(
        gains, seeds=s.seeds, N=s.N, learning_time=s.learning_time).items()
        for q, v in r.items()}


def rate_study(settings: BalanceSettings | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Prediction 4, unequal rates: :func:`lrtools.connectome.rate_runs` (cached ``"ch5-rates"``).

    Parameters
    ----------
    settings : BalanceSettings, optional
        ``rate_gains``, ``seeds``, ``N``, ``learning_time``.

    Returns
    -------
    dict
        ``{rate_label(mu, lam): {quantity: ...}}``.
    """
    s = BalanceSettings() if settings is None else settings
    out: dict[str, dict[str, np.ndarray]] = {}
    for key, v in _rate_runs(s).items():
        label, q = key.rsplit("/", 1)
        out.setdefault(label, {})[q] = v
    return out


@cached_run("ch5-noisy-connectome")
def _noisy_connectome(settings: FamilySettings) -> dict[str, np.ndarray]:
    s, data = settings, cached_family_runs(settings)  # the families: a function of settings
    members, time, noise = data["members"], data["time"][:, 0], data["noise"]
    task = ExponentialFilter(c=s.c_new, dt=s.dt, t_max=s.t_max)
    out, inv = (connectome.noisy_speed_correlation(members, time, task, s.measurement_noise,
                                                   eta=s.eta, n_draws=s.n_draws, visible_exact=v)
                for v in (False, True))
    rho_v = connectome.noisy_value_correlation(noise, time, s.measurement_noise,
                                               n_draws=s.n_draws)
    return {"noise": out["noise"], "rho_speed": out["rho"], "rho_invisible": inv["rho"],
            "rho_variance": rho_v}


def noisy_connectome_study(settings: FamilySettings | None = None) -> dict[str, np.ndarray]:
    """Predictions 1 and 6 from noisy measurements (cached ``"ch5-noisy-connectome"``).

    Parameters
    ----------
    settings : FamilySettings, optional
        The families (:func:`cached_family_runs`), ``measurement_noise``, ``n_draws``.

    Returns
    -------
    dict
        ``noise (n_levels,)``; ``rho_speed (n_levels, n_families)``: Spearman rho of the
        speed from noisy overlaps and the time to the first criterion; ``rho_invisible``:
        visible overlaps exact (from behaviour); ``rho_variance``: the noisy output variance.
    """
    return _noisy_connectome(FamilySettings() if settings is None else settings)


@cached_run("ch5-crossover")
def _crossover(S_a: np.ndarray, S_b: np.ndarray, settings: BurialSettings) -> dict[str, np.ndarray]:
    s = settings
    runs = [burial.decay_noise_lifetimes(S_a, S_b, s.crossover_decays, std=std, N=s.crossover_N,
                                         n_rep=s.crossover_rep, eta=s.eta, n_boot=s.n_boot // 2,
                                         seed=i)
            for i, std in enumerate(s.crossover_stds)]
    n_rec = max(r["epoch"].shape[1] for r in runs)

    out = {k: np.array([r[k] for r in runs]) for k in runs[0] if k not in ("epoch", "dprime")}
    for k in ("epoch", "dprime"):
        out[k] = np.array([np.pad(r[k], ((0, 0), (0, n_rec - r[k].shape[1])),
                                  constant_values=np.nan) for r in runs])
    return out


def crossover_study(pair: Mapping[str, np.ndarray],
                    settings: BurialSettings | None = None) -> dict[str, np.ndarray]:
    """Prediction 5: lifetimes under noise and weight decay (cached ``"ch5-crossover"``).

    :func:`lrtools.burial.decay_noise_lifetimes` at each of ``crossover_stds``;
    :func:`lrtools.burial.crossover_lifetime` from the measured lifetime at ``w = 0``.

    Parameters
    ----------
    pair : mapping
        :func:`burial_pair`.
    settings : BurialSettings, optional
        The study.

    Returns
    -------
    dict
        The arrays of :func:`lrtools.burial.decay_noise_lifetimes`, stacked over the
        noise levels (first axis), and ``t_formula (n_s, n_w)``.
    """
    s = BurialSettings() if settings is None else settings
    if not s.crossover_decays or s.crossover_decays[0] != 0:
        raise ValueError("the first crossover decay must be 0 (the lifetime without decay)")
    out = dict(_crossover(pair["aaa"], pair["aba"], s))
    out["t_formula"] = burial.crossover_lifetime(out["t_star"][:, :1], out["kappa"])
    return out
