"""Chapter 3 studies: learning as a probe of functionally equivalent networks.

* :class:`Figure2Settings`, :func:`figure2_runs`: paper Figure 2, two pairs of
  equivalent linear networks told apart by injected noise and by learning;
* :class:`FamilySettings`, :func:`family_study`: families of equivalent networks
  around both starts (:func:`family_runs`, cached; :func:`family_check`);
* :class:`NoiseSettings`, :func:`noise_study`: the noise response of the trained
  family, formula against simulation (:func:`noise_runs`, cached);
* :class:`ErfSettings`, :func:`erf_study`: the probe for erf networks;
* the key numbers of each (``*_numbers``).

The science is in :mod:`lrtools.equivalence` and :mod:`lrtools.noise_response`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import experiments, theory
from .._checks import require_keys
from ..cache import cached_run
from ..equivalence import (
    PAPER_TARGETS,
    epochs_to_criterion,
    equivalent_network,
    family_summary,
    free_overlaps,
    initial_speed,
    learning_curves,
    random_completion,
    sample_equivalent,
)
from ..network import LowRankRNN
from ..noise_response import (
    noise_difference_variance,
    output_noise_variance,
    pair_responses,
    sampled_noise_variance,
    stationary_noise_variance,
)
from ..overlaps import Overlaps
from ..tasks import ExponentialFilter, Task
from . import Settings
from .linear import FilterSettings, filter_runs
from .probe_numbers import (
    construction_numbers,
    equivalence_numbers,
    erf_numbers,
    family_check_numbers,
    family_numbers,
    figure2_numbers,
    noise_numbers,
    speed_numbers,
)

__all__ = [
    "Figure2Settings", "FamilySettings", "NoiseSettings", "ErfSettings",
    "figure2_runs", "construction_comparison", "family_runs", "family_study",
    "family_check", "noise_runs", "noise_study", "extreme_members", "erf_study",
    "equivalence_gaps", "equivalence_numbers", "figure2_numbers", "speed_errors",
    "speed_numbers", "construction_numbers", "family_numbers", "family_check_numbers",
    "noise_numbers", "erf_numbers",
]


@dataclass(frozen=True, kw_only=True)
class Figure2Settings(Settings):
    """Paper Figure 2: two pairs of equivalent linear rank-1 networks.

    ``theta_1`` is Figure 1's network (:meth:`filter_settings`) at its random start
    and trained; ``theta_2`` has the invisible ``targets``, ``m, z`` kept, built as
    the paper builds it (``construction="random"``,
    :func:`~lrtools.equivalence.random_completion`) or by the minimal change
    (``"minimal"``, :func:`~lrtools.equivalence.equivalent_network`).

    Parameters
    ----------
    N, dt, t_max, eta, seed
        Neurons, Euler step, trial length, learning rate and Figure 1's seed (also
        of the three neurons shown and the test inputs; the injected noise: ``seed + 1``).
    c, c_new : float
        Figure 1's filter (learned from the random start) and the trained pair's new one.
    filter_epochs : int
        Epochs of Figure 1's run that trains ``theta_1``.
    epochs, epochs_new, after : int
        Epochs of the start pair (on ``c``) and of the trained pair (on ``c_new``);
        the epoch at which outputs and losses are compared.
    targets : mapping of str to float
        Invisible overlaps of ``theta_2`` (the paper's ``uu=2.048, mu=0.8``).
    construction : {"random", "minimal"}
        How ``theta_2`` is built (the random direction: seed ``seed + 2``).
    response_input : {"white-noise", "impulse"}
        Input of the response panels: one standard normal sample per step (seed
        ``seed + 3``, the same for both networks, as in the paper) or the impulse.
    noise_std : float
        Activity noise per neuron and step.
    n_test, n_etas : int
        White-noise inputs on which a pair's outputs are compared; learning rates
        ``eta / 2**i`` (``i < n_etas``) of the initial-speed check.
    """

    N: int = 500
    c: float = 0.2
    c_new: float = 0.4
    dt: float = 0.05
    t_max: float = 20.0
    eta: float = 5e-3
    filter_epochs: int = 2000
    epochs: int = 2000
    epochs_new: int = 500
    after: int = 300
    targets: Mapping[str, float] = field(default_factory=lambda: dict(PAPER_TARGETS))
    construction: str = "random"
    response_input: str = "white-noise"
    noise_std: float = 0.5
    _choices = {"construction": ("random", "minimal"),
                "response_input": ("white-noise", "impulse")}
    seed: int = 0
    n_test: int = 8
    n_etas: int = 4

    @classmethod
    def fast(cls) -> Figure2Settings:
        """``N = 100`` (every exactness statement holds at any ``N``)."""
        return cls(N=100)

    def theta2(self, net: LowRankRNN, rng: np.random.Generator) -> LowRankRNN:
        """``theta_2`` for ``theta_1 = net`` by :attr:`construction`."""
        if self.construction == "random":
            return random_completion(net, **dict(self.targets), seed=rng)
        return equivalent_network(net, **dict(self.targets))

    def response_x(self) -> np.ndarray | None:
        """The input of the response panels ``(1, T, 1)``; ``None`` for the impulse."""
        if self.response_input == "impulse":
            return None
        return np.random.default_rng(self.seed + 3).standard_normal((1, self.task.n_steps, 1))

    @property
    def task(self) -> ExponentialFilter:
        """Figure 1's filter ``exp(-c t)``."""
        return ExponentialFilter(c=self.c, dt=self.dt, t_max=self.t_max)

    @property
    def task_new(self) -> ExponentialFilter:
        """The new filter ``exp(-c_new t)`` of the trained pair."""
        return ExponentialFilter(c=self.c_new, dt=self.dt, t_max=self.t_max)

    @property
    def speed_etas(self) -> np.ndarray:
        """Learning rates of the initial-speed check, ``eta / 2**i`` for ``i < n_etas``."""
        return self.eta / 2.0 ** np.arange(self.n_etas)

    def filter_settings(self) -> FilterSettings:
        """Settings of Figure 1's run (:func:`lrtools.studies.linear.filter_runs`)."""
        return FilterSettings(N=self.N, epochs=self.filter_epochs, eta=self.eta, c=self.c,
                              dt=self.dt, t_max=self.t_max, seed=self.seed)

    def white_noise_inputs(self) -> np.ndarray:
        """``n_test`` standard normal inputs ``(n_test, T, 1)``, seed ``seed``."""
        shape = (self.n_test, self.task.n_steps, 1)
        return np.random.default_rng(self.seed).standard_normal(shape)


@dataclass(frozen=True, kw_only=True)
class FamilySettings(Settings):
    """Families of equivalent linear networks around Figure 2's two ``theta_1``.

    The rate and the tasks are Figure 2's: the random-start family learns ``c``, the
    trained family ``c_new`` (:func:`family_study`).

    Parameters
    ----------
    n_family, epochs_start, epochs_trained : int
        Members per family; epochs of the random-start and the trained family.
    crit_start, crit_trained : float
        Loss criteria (about 0.4 % and 0.25 % of the initial loss).
    n_check, check_epochs : int
        Random-start members also trained as N-dimensional networks, and their epochs.
    seed : int
        The families are drawn with seeds ``seed + 1`` and ``seed + 2``.
    """

    n_family: int = 240
    epochs_start: int = 1500
    epochs_trained: int = 600
    crit_start: float = 1e-2
    crit_trained: float = 1e-3
    n_check: int = 3
    check_epochs: int = 600
    seed: int = 0

    @classmethod
    def fast(cls) -> FamilySettings:
        """60 members, 800 and 300 epochs; 2 members checked for 300 epochs."""
        return cls(n_family=60, epochs_start=800, epochs_trained=300, n_check=2,
                   check_epochs=300)


@dataclass(frozen=True, kw_only=True)
class NoiseSettings(Settings):
    """Noise response of the first trained-family members (Figure 2's noise and grid).

    Parameters
    ----------
    n_noise, n_trials, seed : int
        Members built as networks and simulated, noise trials each, seed.
    """

    n_noise: int = 8
    n_trials: int = 200
    seed: int = 0

    @classmethod
    def fast(cls) -> NoiseSettings:
        """3 networks, 100 trials each."""
        return cls(n_noise=3, n_trials=100)


@dataclass(frozen=True, kw_only=True)
class ErfSettings(Settings):
    """The probe for erf networks: a family around a random erf start.

    Parameters
    ----------
    N, c, dt, t_max, eta
        Neurons; the filter learned (Figure 1's), its grid; the learning rate.
    n_erf, epochs, check_epochs : int
        Members and their epochs (reduced theory); epochs of the fastest and the
        slowest member as N-dimensional networks.
    criterion : float
        Loss criterion.
    keep : tuple of str
        Vectors shared with the start (``m``; keeping ``z`` would freeze ``sigma_zz``).
    seed : int
        Seed of the random start (the family is drawn with ``seed + 3``).
    """

    N: int = 500
    c: float = 0.2
    dt: float = 0.05
    t_max: float = 20.0
    eta: float = 5e-3
    n_erf: int = 120
    epochs: int = 1200
    check_epochs: int = 400
    criterion: float = 1e-2
    keep: tuple[str, ...] = ("m",)
    seed: int = 0

    @classmethod
    def fast(cls) -> ErfSettings:
        """``N = 100``, 30 members for 600 epochs, the extremes for 200."""
        return cls(N=100, n_erf=30, epochs=600, check_epochs=200)

    @property
    def task(self) -> ExponentialFilter:
        """The filter ``exp(-c t)``."""
        return ExponentialFilter(c=self.c, dt=self.dt, t_max=self.t_max)

    def network(self) -> LowRankRNN:
        """The random erf start (rank 1, seed ``seed``)."""
        return LowRankRNN.random(self.N, rank=1, phi="erf", seed=self.seed)


def figure2_runs(settings: Figure2Settings | None = None, *,
                 progress: bool | None = None) -> dict:
    """Data of the paper's Figure 2 for two pairs of equivalent networks.

    ``theta_1`` is Figure 1's network (:func:`lrtools.studies.linear.filter_runs`)
    at its random start (pair ``"start"``) and after ``filter_epochs`` epochs on
    the filter ``c`` (pair ``"trained"``, which solves it); ``theta_2`` has the
    ``targets`` (:meth:`Figure2Settings.theta2`). The start pair learns ``c`` for
    ``epochs`` epochs, the trained pair ``c_new`` for ``epochs_new`` (network and
    exact theory, cached by :func:`lrtools.experiments.network_vs_theory`, vectors
    kept every ``after`` epochs). Default settings: the paper's.

    Returns
    -------
    dict
        ``pairs[name] = (theta_1, theta_2)``; ``learn[name] = (runs_1, runs_2)``
        (:func:`lrtools.experiments.network_vs_theory` dicts);
        ``responses[name]`` with ``y (2, T)``, ``h (2, T+1, 3)`` (three neurons),
        ``y_noisy (2, T)`` (same injected noise), ``noise_var (2, T)`` (formula),
        ``diff_var (T,)`` (formula, ``y_2 - y_1``), ``y_after (2, T)`` (output
        after ``after`` epochs); ``tasks[name]``; ``targets``, ``after``,
        ``noise_std``, ``eta``, ``neurons``, ``response_input``.
    """
    s = Figure2Settings() if settings is None else settings
    N, dt, eta, seed, after = s.N, s.dt, s.eta, s.seed, s.after
    targets = dict(s.targets)
    task, task_new = s.task, s.task_new
    fig1 = filter_runs(s.filter_settings(), progress=progress)["network"]
    starts = {"start": LowRankRNN(fig1.vectors[0]), "trained": LowRankRNN(fig1.vectors[-1])}
    plan = {"start": (task, s.epochs), "trained": (task_new, s.epochs_new)}
    neurons = np.random.default_rng(seed).choice(N, 3, replace=False)
    out = {"pairs": {}, "learn": {}, "responses": {}, "tasks": {}, "targets": targets,
           "after": after, "noise_std": s.noise_std, "eta": eta, "neurons": neurons}
    rng = np.random.default_rng(seed + 2)
    x_resp = s.response_x()
    out["response_input"] = s.response_input
    for name, net1 in starts.items():
        pair = (net1, s.theta2(net1, rng))
        learn_task, n_epochs = plan[name]
        runs = tuple(experiments.network_vs_theory(net, learn_task, n_epochs, eta,
                                                   snapshot_every=after, name="ch3-fig2",
                                                   progress=progress) for net in pair)
        resp = pair_responses(pair, task, noise_std=s.noise_std, noise_seed=seed + 1,
                              neurons=neurons, x=x_resp)
        x = learn_task.sample()[0] if x_resp is None else x_resp
        resp["y_after"] = np.array([LowRankRNN(r["network"].vectors[1]).run(x, dt)[0, :, 0]
                                    for r in runs])
        out["pairs"][name], out["learn"][name] = pair, runs
        out["responses"][name], out["tasks"][name] = resp, learn_task
    return out


def construction_comparison(settings: Figure2Settings, fig2: Mapping) -> dict[str, dict]:
    """What each construction of ``theta_2`` changes, and what the noise probe then sees.

    For both pairs of ``fig2`` (:func:`figure2_runs`, built by
    ``settings.construction``) and for the same ``theta_1`` with ``theta_2`` built
    the other way: ``v_change`` (``|v_2 - v_1| / |v_1|``), ``vv_change`` and
    ``zv_change`` (absolute), ``noise_ratio`` (long-time output noise variance,
    ``theta_1`` over ``theta_2``) and ``diff_sd`` (long-time sd of ``y_2 - y_1``
    under the same noise), all from the closed forms. Keys ``(construction, pair)``.
    """
    s = settings
    other = "minimal" if s.construction == "random" else "random"
    alt = s.replace(construction=other)
    rng = np.random.default_rng(s.seed + 2)
    builds = {s.construction: fig2["pairs"],
              other: {k: (p[0], alt.theta2(p[0], rng)) for k, p in fig2["pairs"].items()}}
    out = {}
    for how, pairs in builds.items():
        for name, (a, b) in pairs.items():
            S1, S2 = a.overlaps(), b.overlaps()
            var = [stationary_noise_variance(S, N=s.N, dt=s.dt, noise_std=s.noise_std)
                   for S in (S1, S2)]
            diff = noise_difference_variance(a, b, dt=s.dt, n_steps=s.task.n_steps,
                                             noise_std=s.noise_std)[-1, 0]
            out[how, name] = {"v_change": np.linalg.norm(b.V - a.V) / np.linalg.norm(a.V),
                              "vv_change": abs(S2["vv"] - S1["vv"]),
                              "zv_change": abs(S2["zv"] - S1["zv"]),
                              "noise_ratio": var[0] / var[1], "diff_sd": np.sqrt(diff)}
    return out


@cached_run("ch3-family")
def family_runs(S1: Overlaps, task: Task, *, n: int, epochs: int, eta: float,
                phi: str = "linear", keep: Sequence[str] | None = None, seed: int = 0,
                name: str = "ch3-family") -> dict[str, np.ndarray]:
    """Sample a family (:func:`sample_equivalent`) and learn ``task`` from each member (cached).

    Returns
    -------
    dict
        ``members (n, k, k)``, ``names``, and :func:`learning_curves`'s
        ``loss (n, epochs)``, ``speed (n,)``, ``diverged (n,)``, ``final (n, k, k)``.
    """
    family = sample_equivalent(S1, n, phi, keep=None if keep is None else tuple(keep),
                               seed=seed)
    res = learning_curves(family, task, eta, epochs, phi)
    return {"members": np.array([S.matrix for S in family]), "names": np.array(S1.names), **res}


def family_study(settings: FamilySettings, fig2: Mapping) -> dict[str, dict]:
    """The two linear families around :func:`figure2_runs`'s random-start and trained ``theta_1``.

    They learn Figure 2's tasks ``c`` and ``c_new`` at its rate (:func:`family_runs`,
    cached). Returns ``{"start": summary, "trained": summary}``
    (:func:`family_summary` at ``crit_start`` and ``crit_trained``).
    """
    require_keys(fig2, ("pairs", "tasks", "eta"), "fig2 (figure2_runs)")
    s = settings
    eta, tasks = fig2["eta"], fig2["tasks"]
    start_net, trained_net = fig2["pairs"]["start"][0], fig2["pairs"]["trained"][0]
    fam_start = family_runs(start_net.overlaps(), tasks["start"], n=s.n_family,
                            epochs=s.epochs_start, eta=eta, seed=s.seed + 1)
    fam_trained = family_runs(trained_net.overlaps(), tasks["trained"], n=s.n_family,
                              epochs=s.epochs_trained, eta=eta, seed=s.seed + 2)
    return {"start": family_summary(fam_start, s.crit_start),
            "trained": family_summary(fam_trained, s.crit_trained)}


def family_check(net1: LowRankRNN, summary: Mapping, task: Task, *, n: int, epochs: int,
                 eta: float, name: str = "ch3-family-check") -> dict[str, np.ndarray]:
    """Train the first ``n`` family members as N-dimensional networks and compare with the map.

    Each member is realised with :func:`equivalent_network` (``m, z`` kept, all
    free overlaps prescribed) and trained with
    :func:`lrtools.experiments.network_vs_theory` (cached as ``name``).

    Parameters
    ----------
    net1, summary, task, eta
        The family's reference network, its :func:`family_summary` (loss curves
        of the map), the task and the learning rate it learned with.
    n, epochs : int
        Number of members, number of epochs (at most the family's).

    Returns
    -------
    dict
        ``gap (n,)`` largest relative loss difference of network and map,
        ``epochs_network (n,)`` and ``epochs_theory (n,)`` epochs to the
        summary's criterion.
    """
    loss = summary["loss"]
    if int(n) != n or not 1 <= n <= len(summary["members"]):
        raise ValueError(f"n must be between 1 and {len(summary['members'])}, got {n}")
    if int(epochs) != epochs or not 1 <= epochs <= loss.shape[1]:
        raise ValueError(f"epochs must be between 1 and {loss.shape[1]}, got {epochs}")
    free = free_overlaps(net1)
    crit = summary["criterion"]
    gap, e_net, e_th = [], [], []
    for i in range(n):
        targets = {k: summary["members"][i][k] for k in free}
        net_i = equivalent_network(net1, **targets)
        run_i = experiments.network_vs_theory(net_i, task, epochs, eta, updates=(),
                                              name=name)["network"]
        ref = loss[i, :epochs]
        gap.append(np.max(np.abs(run_i.loss - ref) / ref))
        e_net.append(epochs_to_criterion(run_i.loss, crit))
        e_th.append(epochs_to_criterion(ref, crit))
    return {"gap": np.array(gap), "epochs_network": np.array(e_net),
            "epochs_theory": np.array(e_th)}


@cached_run("ch3-noise")
def noise_runs(net1: LowRankRNN, family: Sequence[Overlaps], *, dt: float, n_steps: int,
               noise_std: float, n_trials: int, seed: int = 0,
               name: str = "ch3-noise") -> dict[str, np.ndarray]:
    """Noise response of networks equivalent to ``net1``: formula and simulation (cached).

    Each member is realised with :func:`equivalent_network` (``m, z`` kept) by
    prescribing all its free overlaps.

    Returns
    -------
    dict
        ``predicted (n, n_steps)`` (:func:`output_noise_variance`) and
        ``sampled (n, n_steps)`` (:func:`sampled_noise_variance`, ``n_trials``).
    """
    free = free_overlaps(net1)
    pred, samp = [], []
    for i, S in enumerate(family):
        net = equivalent_network(net1, **{k: S[k] for k in free})
        pred.append(output_noise_variance(net.overlaps(), N=net.N, dt=dt, n_steps=n_steps,
                                          noise_std=noise_std)[:, 0])
        samp.append(sampled_noise_variance(net, dt=dt, n_steps=n_steps, noise_std=noise_std,
                                           n_trials=n_trials, seed=[seed, i])[:, 0])
    return {"predicted": np.array(pred), "sampled": np.array(samp)}


def noise_study(settings: NoiseSettings, fig2: Mapping, trained: Mapping) -> dict[str, np.ndarray]:
    """Noise response of the trained family (``trained``: its :func:`family_summary`).

    The first ``n_noise`` members are built around :func:`figure2_runs`'s trained
    ``theta_1`` and simulated with its noise on its grid (:func:`noise_runs`, cached).
    Returns ``predicted`` and ``sampled`` (``(n_noise, T)``) and ``stationary``
    (:func:`stationary_noise_variance` of every member).
    """
    require_keys(fig2, ("pairs", "tasks", "noise_std"), "fig2 (figure2_runs)")
    require_keys(trained, ("members",), "trained (family_summary)")
    s = settings
    net1 = fig2["pairs"]["trained"][0]
    task, noise_std = fig2["tasks"]["start"], fig2["noise_std"]
    members = trained["members"]
    noise = noise_runs(net1, members[:s.n_noise], dt=task.dt, n_steps=task.n_steps,
                       noise_std=noise_std, n_trials=s.n_trials, seed=s.seed)
    stat = np.array([stationary_noise_variance(S, N=net1.N, dt=task.dt, noise_std=noise_std)
                     for S in members])
    return {**noise, "stationary": stat}


def extreme_members(net: LowRankRNN, summary: Mapping, task: Task, *, epochs: int, eta: float,
                    keep: Sequence[str] = ("m",), name: str = "ch3-erf-check") -> dict:
    """The fastest and the slowest member of a family, built and trained as N-dimensional networks.

    Members are ranked by their epochs to the summary's criterion and realised
    with :func:`equivalent_network` (``keep`` copied, every free overlap
    prescribed); both are trained on ``task`` for ``epochs`` epochs with
    :func:`lrtools.experiments.network_vs_theory` (cached as ``name``).

    Parameters
    ----------
    net, summary, task
        The family's reference network, its :func:`family_summary` and its task.
    epochs, eta : int, float
        Training epochs of the two networks and learning rate.
    keep : sequence of str
        Vectors shared with ``net`` (as when the family was sampled).

    Returns
    -------
    dict
        ``free`` (the prescribed overlaps), ``y_fast``, ``y_slow``, ``y_start``
        (outputs of the two members and of ``net`` on one task input),
        ``y_theory`` (the reduced theory's output, the same for all),
        ``runs`` (the two ``network_vs_theory`` results), ``epochs`` and ``N``.
    """
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs}")
    members = summary["members"]
    free = free_overlaps(net.overlaps(), net.phi, keep=keep)
    order = np.argsort(summary["epochs"])
    pair = [equivalent_network(net, keep=keep, **{k: members[i][k] for k in free})
            for i in (order[0], order[-1])]
    x = task.sample()[0]
    y_fast, y_slow = (n.run(x, task.dt)[0, :, 0] for n in pair)
    return {
        "free": free, "y_fast": y_fast, "y_slow": y_slow,
        "y_theory": theory.run(members[order[0]], x, task.dt, net.phi)[0, :, 0],
        "y_start": net.run(x, task.dt)[0, :, 0],
        "runs": [experiments.network_vs_theory(n, task, epochs, eta, name=name) for n in pair],
        "epochs": epochs, "N": net.N,
    }


def erf_study(settings: ErfSettings | None = None) -> dict:
    """The erf family around a random erf start, and its fastest and slowest member.

    The family learns with the reduced theory (:func:`family_runs`, cached as
    ``"ch3-family-erf"``). Returns ``network`` (the start), ``family``
    (:func:`family_summary` at ``criterion``) and ``check`` (:func:`extreme_members`).
    """
    s = ErfSettings() if settings is None else settings
    net, task = s.network(), s.task
    data = family_runs(net.overlaps(), task, n=s.n_erf, epochs=s.epochs, eta=s.eta, phi="erf",
                       keep=s.keep, seed=s.seed + 3, name="ch3-family-erf")
    summary = family_summary(data, s.criterion)
    check = extreme_members(net, summary, task, epochs=s.check_epochs, eta=s.eta, keep=s.keep)
    return {"network": net, "family": summary, "check": check}


def equivalence_gaps(pairs: Mapping[str, tuple[LowRankRNN, LowRankRNN]], x: np.ndarray,
                     dt: float, *, targets: Mapping[str, float] | None = None) -> dict[str, dict]:
    """How exactly each pair ``(theta_1, theta_2)`` is functionally equivalent.

    ``pairs`` as in ``figure2_runs()["pairs"]``; the outputs are compared on the
    inputs ``x (B, T, n_in)`` with Euler step ``dt``; ``targets``: the prescribed
    invisible overlaps of ``theta_2`` (default :data:`PAPER_TARGETS`). Returns
    ``gaps[name]`` with ``"visible"`` (largest difference of a visible overlap),
    ``"targets"`` (largest miss of a target), ``"output"`` (largest output
    difference) and ``"vectors m, z identical"`` (bool: bit-identical).
    """
    if not pairs:
        raise ValueError("pairs is empty: give at least one (theta_1, theta_2)")
    targets = PAPER_TARGETS if targets is None else targets
    gaps = {}
    for name, (net1, net2) in pairs.items():
        S1, S2 = net1.overlaps(), net2.overlaps()
        gaps[name] = {
            "visible": max(abs(S2[k] - S1[k]) for k in S1.visible(net1.phi)),
            "targets": max(abs(S2[k] - v) for k, v in targets.items()),
            "output": np.max(np.abs(net1.run(x, dt) - net2.run(x, dt))),
            "vectors m, z identical": bool(np.array_equal(net1.M, net2.M)
                                           and np.array_equal(net1.Z, net2.Z)),
        }
    return gaps


def speed_errors(pairs: Mapping[str, tuple[LowRankRNN, LowRankRNN]], tasks: Mapping[str, Task],
                 etas: Sequence[float]) -> dict[str, np.ndarray]:
    """Relative error of :func:`initial_speed` against the first epoch's loss drop.

    For each network of each pair, one step of the exact overlap map (which is
    one step of the linear network) is taken at every learning rate of
    ``etas``; its loss drop is compared with the first-order prediction.

    Parameters
    ----------
    pairs, tasks : mapping of str to (LowRankRNN, LowRankRNN), mapping of str to Task
        Linear networks (e.g. ``figure2_runs()["pairs"]``) and the task of each pair.
    etas : sequence of float
        Positive learning rates.

    Returns
    -------
    dict
        ``errors["<pair> theta_1"]``, ``errors["<pair> theta_2"]``: arrays of
        ``|drop - predicted| / predicted``, one per learning rate.
    """
    etas = np.asarray(etas, dtype=float)
    if etas.ndim != 1 or etas.size == 0 or not np.all(etas > 0):
        raise ValueError(f"etas must be a non-empty 1-d sequence of positive rates, got {etas}")
    out = {}
    for name, (net1, net2) in pairs.items():
        learn_task = tasks[name]
        for label, net in (("theta_1", net1), ("theta_2", net2)):
            S = net.overlaps()
            errs = []
            for e in etas:
                h = theory.learn(S, learn_task, 1, e)
                drop = h.loss[0] - theory.loss(h.final, learn_task)
                predicted = initial_speed(S, learn_task, eta=e)
                errs.append(abs(drop - predicted) / predicted)
            out[f"{name} {label}"] = np.array(errs)
    return out
