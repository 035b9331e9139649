r"""Plasticity in populations of linear rank-1 networks: what learning leaves in connectivity.

The science of the biological predictions (chapter 5), in seeded simulations that
return plain arrays (one entry per seed, base network or individual), so that an
effect size comes with its spread and a test can check its sign on a small
instance. Sweeps over seeds accept an optional
:class:`concurrent.futures.Executor` (:func:`lrtools._parallel.run_jobs`).

* **Equal behaviour, different learning speed** (:func:`family_study`,
  :func:`family_runs`, :func:`family_effects`): networks with identical behaviour
  (the same loss-visible overlaps) learn a new task at different speeds; the
  initial speed ``eta tr(Gamma S Gamma)`` (:func:`lrtools.equivalence.initial_speed`)
  ranks them in the early phase, and the output variance under injected activity
  noise (:func:`lrtools.noise_response.stationary_noise_variance`, simulated by
  :func:`noise_check`) separates equivalent trained circuits.
* **History in connectivity, not in behaviour** (:func:`reversal_cohort`,
  :func:`cohort_runs`, :func:`cohort_effects`, :func:`reversal_step_scan`): after a
  reversal and re-learning, behaviour (:func:`behaviour_features`) is restored but
  the total synaptic strengths (:func:`synaptic_totals`) stay lower than in
  animals trained without the reversal.
* **The per-neuron balance law** (:func:`neuron_balance`, :func:`balance_runs`,
  :class:`PlasticityRule`): under gradient flow on any loss of the overlaps,
  ``dX/dtau = -X Gamma`` with ``J Gamma = -Gamma J`` (linear networks), so the
  ``N x N`` matrix ``K = Z Z^T + V V^T - M M^T - U U^T`` is conserved. Its diagonal
  gives one law *per neuron* ``i``:

  .. math:: \Delta\bigl(z_i^2 + v_i^2\bigr) = \Delta\bigl(m_i^2 + u_i^2\bigr),

  the change of a neuron's squared outgoing weights (readout ``z_i`` and
  presynaptic recurrent factor ``v_i``) equals the change of its squared incoming
  weights (input ``m_i`` and postsynaptic recurrent factor ``u_i``). Discrete
  gradient steps violate it by ``O(eta)`` over a fixed learning time, synaptic
  noise by a diffusive amount, per-synapse adaptive rules (Adam) grossly, and a
  non-homogeneous nonlinearity (erf) moderately. (Not to be confused with the
  scalar balance ``sigma_uu - sigma_vv`` of chapter 4, :func:`lrtools.conserved.balance`.)

Noise burial and erasure of the invisible memory are in :mod:`lrtools.burial`.
The workhorses are the batched learners of the core: the exact overlap map for
many networks at once (:func:`lrtools.theory.learn_many`) and the training of their
``N``-dimensional vectors (:func:`lrtools.training.train_many`).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import decoding, equivalence, noise_response, theory
from ._parallel import run_jobs
from .fits import cohens_d, quartile_ratio
from .network import LowRankRNN
from .overlaps import Overlaps, vector_names
from .tasks import ExponentialFilter, SignedFilter, Task, batches
from .training import train, train_many

__all__ = [
    "family_study",
    "family_runs",
    "family_effects",
    "readout_pattern_variance",
    "noise_check",
    "synaptic_totals",
    "behaviour_features",
    "cohort_start",
    "reversal_cohort",
    "final_loss",
    "cohort_runs",
    "reversal_step_scan",
    "decode_groups",
    "cohort_effects",
    "NeuronBalance",
    "neuron_balance",
    "PlasticityRule",
    "PLASTICITY_RULES",
    "balance_runs",
]

#: Vector names of a rank-1 network with one input and one readout (the core's order).
_NAMES = vector_names()


def _stack(results: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Stack a list of dicts of arrays along a new first axis."""
    return {k: np.stack([np.asarray(r[k]) for r in results]) for k in results[0]}


# ---------------------------------------------------------------------------
# Equivalent networks differ in learning speed and in their response to noise
# ---------------------------------------------------------------------------


def family_study(
    seed: int,
    *,
    N: int = 500,
    c: float = 0.2,
    c_new: float = 0.4,
    dt: float = 0.05,
    t_max: float = 20.0,
    eta: float = 5e-3,
    base_epochs: int = 2000,
    n_family: int = 200,
    epochs: int = 600,
    noise_std: float = 0.5,
    criteria: Sequence[float] = (1e-2, 1e-4),
) -> dict[str, np.ndarray]:
    """One base network, its families of equivalent networks, their learning and noise.

    The base network is :meth:`LowRankRNN.random` (``N``, ``seed``) trained on the
    filter ``c`` for ``base_epochs`` (the exact overlap map: the ``N``-dimensional
    result for a linear network). :func:`lrtools.equivalence.sample_equivalent` draws
    ``n_family`` networks with its visible overlaps (``m, z`` kept; free
    ``sigma_uu, sigma_vv`` in ``[0.5, 3]``, correlations of ``mu, zv`` in
    ``[-0.9, 0.9]``), which learn the new filter ``c_new``
    (:func:`lrtools.theory.learn_many`). A second family is drawn around the
    untrained random network.

    Parameters
    ----------
    seed : int
        Seed of the base network (and of its families).
    N, c, c_new, dt, t_max, eta, base_epochs, n_family, epochs, noise_std, criteria
        Neurons, the two filters and their grid, the rate, the base's training,
        the family size, the epochs on the new filter, the activity noise and the
        criteria (fractions of the initial loss).

    Returns
    -------
    dict
        ``members (n, 4, 4)``; ``loss (epochs, n)``; ``speed (n,)``: predicted
        initial loss drop per epoch; ``time (len(criteria), n)``: epochs to
        ``criteria[j]`` times the initial loss (fractional epochs,
        :func:`lrtools.equivalence.epochs_to_criterion` with ``interpolate``);
        ``noise (n,)`` and ``noise_random (n,)``: long-time output variance under
        activity noise ``noise_std`` (formula) in the trained family and in the
        family of the random start; ``pattern (n,)``, ``pattern_random (n,)``: the
        same under noise along the readout pattern
        (:func:`readout_pattern_variance`); ``base``, ``start`` ``(4, 4)``;
        ``criteria``.
    """
    task = ExponentialFilter(c=c, dt=dt, t_max=t_max)
    task_new = ExponentialFilter(c=c_new, dt=dt, t_max=t_max)
    start = LowRankRNN.random(N, 1, "linear", seed=seed).overlaps()
    base = Overlaps(theory.learn_many(start.matrix[None], task, base_epochs, eta)["final"][0],
                    _NAMES)
    family = equivalence.sample_equivalent(base, n_family, seed=[seed, 1])
    members = np.array([S.matrix for S in family])
    loss = theory.learn_many(members, task_new, epochs, eta)["loss"]
    speed = np.array([equivalence.initial_speed(S, task_new, eta=eta) for S in family])
    L0 = float(loss[0, 0])  # shared: equivalent networks have the same loss
    times = np.array([equivalence.epochs_to_criterion(loss.T, f * L0, interpolate=True)
                      for f in criteria])
    var = [noise_response.stationary_noise_variance(S, N=N, dt=dt, noise_std=noise_std)
           for S in family]
    random_family = equivalence.sample_equivalent(start, n_family, seed=[seed, 2])
    var_r = [noise_response.stationary_noise_variance(S, N=N, dt=dt, noise_std=noise_std)
             for S in random_family]
    random_members = np.array([S.matrix for S in random_family])
    return {"members": members, "loss": loss, "speed": speed, "time": times,
            "noise": np.array(var), "noise_random": np.array(var_r),
            "pattern": readout_pattern_variance(members, dt=dt, noise_std=noise_std),
            "pattern_random": readout_pattern_variance(random_members, dt=dt,
                                                       noise_std=noise_std),
            "base": base.matrix,
            "start": start.matrix, "criteria": np.asarray(criteria, dtype=float)}


def readout_pattern_variance(S: np.ndarray, *, dt: float, noise_std: float) -> np.ndarray:
    """Stationary output variance under noise along the readout pattern ``p = z / sigma_zz^(1/2)``.

    :func:`lrtools.connectome.pattern_noise_variance` with ``sigma_zp =
    sigma_zz^(1/2)`` and ``sigma_vp = sigma_zv / sigma_zz^(1/2)`` (``|p|^2 = N``: the
    stimulation power of independent noise ``noise_std`` per neuron).
    """
    from .connectome import pattern_noise_variance

    S = np.asarray(S, dtype=float)
    root = np.sqrt(S[..., 3, 3])
    return pattern_noise_variance(S, root, S[..., 3, 2] / root, dt=dt, noise_std=noise_std)


def _family_job(seed: int, kw: dict) -> dict[str, np.ndarray]:
    return family_study(seed, **kw)


def family_runs(
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    executor: concurrent.futures.Executor | None = None,
    **kw,
) -> dict[str, np.ndarray]:
    """:func:`family_study` for several base networks; arrays stacked along a first axis.

    Parameters
    ----------
    seeds : sequence of int
        One base network per seed.
    executor : concurrent.futures.Executor, optional
        Runs the seeds in parallel (e.g. a ``ProcessPoolExecutor``).
    **kw
        Keyword settings of :func:`family_study` (an unknown name raises
        ``TypeError`` there).

    Returns
    -------
    dict
        The arrays of :func:`family_study`, with a first axis over ``seeds``.
    """
    return _stack(run_jobs(_family_job, [(s, kw) for s in seeds], executor))


def family_effects(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Effect sizes of :func:`family_runs`, one value per base network.

    Parameters
    ----------
    data : mapping
        :func:`family_runs`.

    Returns
    -------
    dict
        ``speed_ratio``: time to the first criterion, slowest-predicted quartile
        over fastest-predicted quartile (:func:`lrtools.fits.quartile_ratio` by
        speed); ``spread_ratio``: the same for the measured quartiles;
        ``rho_early``, ``rho_late``: Spearman correlation of predicted speed and
        time to the first and the last criterion; ``pattern_ratio``,
        ``pattern_ratio_random``: quartile ratio of the variance under readout-pattern
        stimulation (trained, random family); ``noise_ratio``,
        ``noise_ratio_random``: quartile ratio of the noise variance in the
        trained and the random family; ``rho_noise_time``: Spearman correlation
        of noise variance and time to the first criterion.
    """
    from scipy.stats import spearmanr

    out: dict[str, list] = {k: [] for k in ("speed_ratio", "spread_ratio", "rho_early",
                                            "rho_late", "noise_ratio", "noise_ratio_random",
                                            "rho_noise_time", "pattern_ratio",
                                            "pattern_ratio_random")}
    for b in range(len(data["speed"])):
        speed, t_early, t_late = data["speed"][b], data["time"][b, 0], data["time"][b, -1]
        out["speed_ratio"].append(quartile_ratio(t_early, by=-speed))
        out["spread_ratio"].append(quartile_ratio(t_early))
        out["rho_early"].append(spearmanr(speed, t_early).statistic)
        out["rho_late"].append(spearmanr(speed, t_late).statistic)
        out["noise_ratio"].append(quartile_ratio(data["noise"][b]))
        out["noise_ratio_random"].append(quartile_ratio(data["noise_random"][b]))
        out["rho_noise_time"].append(spearmanr(data["noise"][b], t_early).statistic)
        out["pattern_ratio"].append(quartile_ratio(data["pattern"][b]))
        out["pattern_ratio_random"].append(quartile_ratio(data["pattern_random"][b]))
    return {k: np.array(v, dtype=float) for k, v in out.items()}


def noise_check(
    base: np.ndarray,
    members: np.ndarray,
    *,
    N: int = 500,
    dt: float = 0.05,
    n_steps: int = 400,
    noise_std: float = 0.5,
    n_trials: int = 200,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Simulate activity noise in ``N``-dimensional networks of a family (prediction 2).

    Each member (overlaps ``(n, 4, 4)``) is built as a network equivalent to a
    network with the ``base`` overlaps (:func:`lrtools.equivalence.equivalent_network`,
    ``m, z`` shared), and its output variance under injected noise is sampled
    (:func:`lrtools.noise_response.sampled_noise_variance`, ``n_trials``) and predicted
    (:func:`lrtools.noise_response.output_noise_variance`).

    Parameters
    ----------
    base : numpy.ndarray, shape (4, 4)
        Overlaps of the family's base network.
    members : numpy.ndarray, shape (n, 4, 4)
        Overlaps of the members to simulate.
    N, dt, n_steps, noise_std, n_trials, seed
        Neurons, time step, trial length, noise per neuron and step, trials and
        the seed of the networks, the input and the noise.

    Returns
    -------
    dict
        ``sampled``, ``predicted``: ``(n, n_steps)``; ``output_gap``: largest
        output difference between the members on a white-noise input.
    """
    net1 = LowRankRNN.from_overlaps(Overlaps(np.asarray(base), _NAMES), N=N, seed=seed)
    free = equivalence.free_overlaps(net1)
    nets = [equivalence.equivalent_network(net1, **{k: Overlaps(M, _NAMES)[k] for k in free})
            for M in np.asarray(members)]
    x = np.random.default_rng(seed).standard_normal((2, n_steps, 1))
    ys = [n.run(x, dt) for n in nets]
    sampled = [noise_response.sampled_noise_variance(n, dt=dt, n_steps=n_steps,
                                                     noise_std=noise_std, n_trials=n_trials,
                                                     seed=[seed, i])[:, 0]
               for i, n in enumerate(nets)]
    predicted = [noise_response.output_noise_variance(n.overlaps(), N=N, dt=dt, n_steps=n_steps,
                                                      noise_std=noise_std)[:, 0] for n in nets]
    return {"sampled": np.array(sampled), "predicted": np.array(predicted),
            "output_gap": np.array(max(float(np.max(np.abs(y - ys[0]))) for y in ys))}


# ---------------------------------------------------------------------------
# The history of a reversal stays in the synaptic totals
# ---------------------------------------------------------------------------


def synaptic_totals(S: np.ndarray) -> np.ndarray:
    r"""Total synaptic strengths of rank-1 networks from their overlaps.

    ``(sigma_mm, sigma_zz, sigma_uu sigma_vv)``: the mean squared input weight
    ``|m|^2/N``, the mean squared readout weight ``|z|^2/N`` (times ``N^2``) and
    the summed squared recurrent weight ``sum_ij W_ij^2`` of ``W = u v^T / N``.
    All three are measurable from the synaptic matrices alone (they do not
    change under ``u -> l u, v -> v / l``) and are loss-invisible.

    Parameters
    ----------
    S : numpy.ndarray, shape (..., 4, 4)
        Overlaps in the order ``m, u, v, z``.

    Returns
    -------
    numpy.ndarray, shape (..., 3)
        The three totals.
    """
    S = np.asarray(S, dtype=float)
    return np.stack([S[..., 0, 0], S[..., 3, 3], S[..., 1, 1] * S[..., 2, 2]], axis=-1)


def behaviour_features(S: np.ndarray) -> np.ndarray:
    """``(sigma_zm, sigma_vu, sigma_zu sigma_vm)``: all a linear rank-1 network's output depends on.

    Its impulse response is ``y_k = sigma_zm a^k + sigma_zu sigma_vm (lambda^k -
    a^k) / sigma_vu`` with ``a = 1 - dt`` and ``lambda = a + dt sigma_vu``, so these
    three numbers are its complete behaviour.

    Parameters
    ----------
    S : numpy.ndarray, shape (..., 4, 4)
        Overlaps in the order ``m, u, v, z``.

    Returns
    -------
    numpy.ndarray, shape (..., 3)
        The three behaviour features.
    """
    S = np.asarray(S, dtype=float)
    return np.stack([S[..., 3, 0], S[..., 2, 1], S[..., 3, 1] * S[..., 2, 0]], axis=-1)


def final_loss(S: np.ndarray, task: Task) -> np.ndarray:
    """Loss of linear rank-1 networks (overlaps ``S``, ``(n, 4, 4)``) on the first batch.

    Parameters
    ----------
    S : numpy.ndarray, shape (n, 4, 4)
        Overlaps.
    task : Task
        The task (its first seeded batch is used).

    Returns
    -------
    numpy.ndarray, shape (n,)
        The losses.
    """
    batch = next(batches(task, 0))
    return theory.loss_and_gamma_many(S, batch, task.loss_weights(batch[2]), task.dt,
                                      "linear")[0]


def cohort_start(seed: int, *, population: str = "uniform", n: int = 40,
                 N: int = 500) -> np.ndarray:
    """Starting overlaps ``(n, 4, 4)`` of a cohort of :func:`reversal_cohort`.

    ``"uniform"``: :meth:`LowRankRNN.random` networks of ``N`` neurons;
    ``"diverse"``: :func:`lrtools.memory.random_overlaps`.
    """
    if population == "uniform":
        return np.array([LowRankRNN.random(N, 1, "linear", seed=np.random.default_rng([seed, i]))
                         .overlaps().matrix for i in range(n)])
    if population == "diverse":
        from .memory import random_overlaps

        return random_overlaps(n, [seed, 7])
    raise ValueError(f"population must be 'uniform' or 'diverse', got {population!r}")


def reversal_cohort(
    seed: int,
    *,
    population: str = "uniform",
    n: int = 40,
    N: int = 500,
    c: float = 0.2,
    eta: float = 5e-3,
    epochs: tuple[int, int, int] = (3000, 1000, 2000),
    dt: float = 0.05,
    t_max: float = 20.0,
) -> dict[str, np.ndarray]:
    """A cohort of ``n`` animals, each trained with and without a reversal (twins).

    Every start first learns A (the filter ``exp(-c t)``) for ``epochs[0]``. Twin
    "direct" then keeps learning A for ``epochs[1] + epochs[2]``; twin "reversal"
    learns the reversed task B (``-exp(-c t)``, :class:`lrtools.tasks.SignedFilter`)
    for ``epochs[1]`` and A again for ``epochs[2]``. Exact overlap map
    (:func:`lrtools.theory.learn_many`).

    Parameters
    ----------
    seed : int
        Seed of the starting networks.
    population : {"uniform", "diverse"}
        ``"uniform"``: :meth:`LowRankRNN.random` networks of ``N`` neurons (unit
        norms, cross overlaps ``O(N^-1/2)``): individuals differ only by the
        finite-``N`` randomness. ``"diverse"``: the paper's random ``O(1)``
        overlaps (:func:`lrtools.memory.random_overlaps`).
    n, N, c, eta, epochs, dt, t_max
        Animals, neurons, the filter, the rate, the epochs of the three phases
        and the time grid.

    Returns
    -------
    dict
        ``start``, ``after_A``, ``direct``, ``reversal``: overlaps ``(n, 4, 4)``;
        ``loss_direct``, ``loss_reversal``: final losses ``(n,)``; ``loss_B``: loss
        at the end of the reversal phase ``(n,)``.
    """
    start = cohort_start(seed, population=population, n=n, N=N)
    A = SignedFilter(c=c, dt=dt, t_max=t_max)
    B = SignedFilter(c=c, dt=dt, t_max=t_max, sign=-1.0)
    after_A = theory.learn_many(start, A, epochs[0], eta)["final"]
    mid_direct = theory.learn_many(after_A, A, epochs[1], eta)["final"]
    mid_reversal = theory.learn_many(after_A, B, epochs[1], eta)["final"]
    final = theory.learn_many(np.concatenate([mid_direct, mid_reversal]), A, epochs[2],
                              eta)["final"]
    loss = final_loss(final, A)
    return {"start": start, "after_A": after_A, "direct": final[:n], "reversal": final[n:],
            "loss_direct": loss[:n], "loss_reversal": loss[n:],
            "loss_B": final_loss(mid_reversal, B)}


def _cohort_job(seed: int, kw: dict) -> dict[str, np.ndarray]:
    return reversal_cohort(seed, **kw)


def cohort_runs(
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    executor: concurrent.futures.Executor | None = None,
    **kw,
) -> dict[str, np.ndarray]:
    """:func:`reversal_cohort` for several cohorts (seeds); arrays stacked along a first axis.

    Parameters
    ----------
    seeds : sequence of int
        One cohort per seed.
    executor : concurrent.futures.Executor, optional
        Runs the cohorts in parallel.
    **kw
        Keyword settings of :func:`reversal_cohort` (an unknown name raises
        ``TypeError`` there).

    Returns
    -------
    dict
        The arrays of :func:`reversal_cohort`, with a first axis over ``seeds``.
    """
    return _stack(run_jobs(_cohort_job, [(s, kw) for s in seeds], executor))


def reversal_step_scan(
    etas: Sequence[float],
    *,
    seed: int = 0,
    epochs: tuple[int, int, int] = (3000, 1000, 2000),
    eta_ref: float = 5e-3,
    **kw,
) -> dict[str, np.ndarray]:
    """The reversal record (:func:`cohort_effects` ``record``) against the plasticity step.

    Every phase keeps its learning time: ``epochs`` at ``eta_ref`` become
    ``epochs * eta_ref / eta``.

    Parameters
    ----------
    etas : sequence of float
        Plasticity steps.
    seed : int
        Seed of the cohort.
    epochs : tuple of int
        Epochs of the three phases at ``eta_ref``.
    eta_ref : float
        The step at which ``epochs`` are counted.
    **kw
        Other keyword settings of :func:`reversal_cohort` (``n``, ``N``, ...).

    Returns
    -------
    dict
        ``eta (n,)``, ``record (n, 3)``, ``record_negative (n, 3)``;
        ``records (n, n_animals, 3)``: every animal's relative change.
    """
    out: dict[str, list] = {"record": [], "record_negative": [], "records": []}
    for eta in etas:
        scaled = tuple(int(round(e * eta_ref / eta)) for e in epochs)
        data = reversal_cohort(seed, eta=float(eta), epochs=scaled, **kw)
        Td, Tr = synaptic_totals(data["direct"]), synaptic_totals(data["reversal"])
        rel = (Tr - Td) / Td
        out["record"].append(rel.mean(axis=0))
        out["record_negative"].append((rel < 0).mean(axis=0))
        out["records"].append(rel)
    return {"eta": np.asarray(etas, dtype=float), **{k: np.array(v) for k, v in out.items()}}


def decode_groups(
    Fa: np.ndarray,
    Fb: np.ndarray,
    *,
    noise: float = 0.0,
    n_splits: int = 100,
    train_fraction: float = 0.75,
    seed: int = 0,
) -> np.ndarray:
    """Cross-validated accuracy of telling two groups of individuals apart from features.

    Each split draws a fresh multiplicative measurement noise (every feature of
    every individual is multiplied by ``1 + noise * xi``), puts a random
    ``train_fraction`` of each group in the training set (stratified, so that a
    decoder without information scores 0.5 on average), standardises with
    its mean and sd, fits an L2 logistic regression (scikit-learn, ``C = 1``, liblinear)
    and scores the held-out individuals (chance: 0.5 for equal groups). This is
    :func:`lrtools.decoding.decode` with one stratum per group and relative noise.

    Parameters
    ----------
    Fa, Fb : numpy.ndarray, shape (n_a, f) and (n_b, f)
        Features of the two groups (different individuals).
    noise : float
        Relative measurement noise.
    n_splits : int
        Random splits.
    train_fraction : float
        Share of each group that trains.
    seed : int
        Seed of the splits and the noise.

    Returns
    -------
    numpy.ndarray, shape (n_splits,)
        Test accuracy of each split.
    """
    Fa, Fb = np.asarray(Fa, dtype=float), np.asarray(Fb, dtype=float)
    groups = [np.arange(len(Fa)), len(Fa) + np.arange(len(Fb))]
    ks = [int(round(train_fraction * len(g))) for g in groups]
    if not all(1 <= k <= len(g) - 1 for k, g in zip(ks, groups, strict=True)):
        raise ValueError(f"train_fraction={train_fraction} leaves a group without test or "
                         "training individuals")
    labels = np.r_[np.zeros(len(Fa)), np.ones(len(Fb))]
    return decoding.decode(np.concatenate([Fa, Fb]), labels, ks, strata=groups, noise=noise,
                           relative_noise=True, n_splits=n_splits, seed=seed)


def cohort_effects(
    data: Mapping[str, np.ndarray], *, noise: float = 0.01, n_splits: int = 100, seed: int = 0
) -> dict[str, np.ndarray]:
    """Effect sizes of the reversal history in one cohort (:func:`reversal_cohort`).

    The record compares the twins of each animal; the group comparison takes the
    direct twins of the first half of the animals and the reversal twins of the
    second half (two groups of different individuals, as in a lab).

    Parameters
    ----------
    data : mapping
        :func:`reversal_cohort` (``direct``, ``reversal``).
    noise, n_splits, seed
        Settings of :func:`decode_groups`.

    Returns
    -------
    dict
        ``record (3,)``: mean paired relative change of :func:`synaptic_totals`,
        reversal vs direct; ``record_negative (3,)``: fraction of animals with a
        lower total after the reversal; ``d (3,)``: :func:`lrtools.fits.cohens_d`
        between the groups; ``acc_totals``, ``acc_behaviour``: mean decoding
        accuracy (:func:`decode_groups`) from the totals and from
        :func:`behaviour_features`, with relative measurement noise ``noise``;
        ``behaviour_gap``: largest paired difference of the behaviour features.
    """
    Td, Tr = synaptic_totals(data["direct"]), synaptic_totals(data["reversal"])
    rel = (Tr - Td) / Td
    h = len(Td) // 2
    return {
        "record": rel.mean(axis=0),
        "record_negative": (rel < 0).mean(axis=0),
        "d": cohens_d(Td[:h], Tr[h:]),
        "acc_totals": np.array(decode_groups(Td[:h], Tr[h:], noise=noise, n_splits=n_splits,
                                             seed=seed).mean()),
        "acc_behaviour": np.array(decode_groups(
            behaviour_features(data["direct"][:h]), behaviour_features(data["reversal"][h:]),
            noise=noise, n_splits=n_splits, seed=seed).mean()),
        "behaviour_gap": np.array(np.max(np.abs(behaviour_features(data["reversal"])
                                                - behaviour_features(data["direct"])))),
    }


# ---------------------------------------------------------------------------
# The per-neuron balance law
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NeuronBalance:
    """Per-neuron balance between outgoing and incoming weight changes.

    Attributes
    ----------
    d_out, d_in : numpy.ndarray, shape (N,)
        ``Delta(z_i^2 + v_i^2)`` and ``Delta(m_i^2 + u_i^2)`` for every neuron.
    slope : float
        Least-squares slope of ``d_out`` against ``d_in`` through the origin (1 if
        the law holds).
    correlation : float
        Pearson correlation of ``d_out`` and ``d_in`` across neurons.
    violation : float
        ``sum_i |d_out_i - d_in_i| / sum_i |d_in_i|``: 0 if the law holds.
    total_ratio : float
        ``sum_i d_out_i / sum_i d_in_i``, the population-level balance.
    """

    d_out: np.ndarray
    d_in: np.ndarray
    slope: float
    correlation: float
    violation: float
    total_ratio: float


def neuron_balance(X0: np.ndarray, X1: np.ndarray,
                   names: Sequence[str] = _NAMES) -> NeuronBalance:
    r"""Per-neuron balance of the weight changes from vectors ``X0`` to ``X1`` (each ``(N, k)``).

    ``d_out_i = Delta(sum over left vectors z, v of x_i^2)`` and ``d_in_i =
    Delta(sum over right vectors m, u of x_i^2)``; under the gradient flow of a
    linear network ``d_out - d_in = Delta K_ii = 0`` exactly.

    Parameters
    ----------
    X0, X1 : numpy.ndarray, shape (N, k)
        The vectors before and after learning.
    names : sequence of str
        Names of the columns (default ``m, u, v, z``).

    Returns
    -------
    NeuronBalance
        The per-neuron changes and their summaries.
    """
    X0, X1 = np.asarray(X0, dtype=float), np.asarray(X1, dtype=float)
    if X0.shape != X1.shape or X0.ndim != 2 or X0.shape[1] != len(names):
        raise ValueError(f"vector arrays {X0.shape}, {X1.shape} do not match names {names}")
    d = X1**2 - X0**2
    left = np.array([n[0] in "zv" for n in names])
    d_out, d_in = d[:, left].sum(axis=1), d[:, ~left].sum(axis=1)
    if not np.any(d_in):
        raise ValueError("the incoming weights did not change: no balance to measure")
    return NeuronBalance(
        d_out=d_out,
        d_in=d_in,
        slope=float(d_out @ d_in / (d_in @ d_in)),
        correlation=float(np.corrcoef(d_out, d_in)[0, 1]),
        violation=float(np.abs(d_out - d_in).sum() / np.abs(d_in).sum()),
        total_ratio=float(d_out.sum() / d_in.sum()),
    )


@dataclass(frozen=True)
class PlasticityRule:
    """A plasticity rule for :func:`balance_runs`.

    Parameters
    ----------
    optimizer : {"gd", "adam"}
        Gradient descent (rate ``N eta``) or Adam (per-synapse adaptive).
    eta : float
        Learning rate.
    weight_noise : float
        Synaptic noise per entry and epoch.
    phi : {"linear", "erf"}
        Nonlinearity of the network (erf runs the ``N``-dimensional network).
    """

    optimizer: str = "gd"
    eta: float = 5e-3
    weight_noise: float = 0.0
    phi: str = "linear"


#: The rules compared in chapter 5 (label: rule).
PLASTICITY_RULES: dict[str, PlasticityRule] = {
    "gradient, eta 5e-3": PlasticityRule("gd", 5e-3),
    "gradient, eta 2.5e-3": PlasticityRule("gd", 2.5e-3),
    "gradient + noise 1e-3": PlasticityRule("gd", 5e-3, 1e-3),
    "gradient + noise 3e-3": PlasticityRule("gd", 5e-3, 3e-3),
    "Adam, lr 1e-3": PlasticityRule("adam", 1e-3),
    "gradient, erf network": PlasticityRule("gd", 5e-3, 0.0, "erf"),
}


def _balance_job(rule: PlasticityRule, N: int, seed: int, learning_time: float,
                 task: Task) -> dict[str, np.ndarray]:
    # Adam: as many epochs as gradient descent at eta = 5e-3
    epochs = round(learning_time / (rule.eta if rule.optimizer == "gd" else 5e-3))
    net = LowRankRNN.random(N=N, rank=1, phi=rule.phi, seed=seed)
    X0 = net.X.copy()
    if rule.phi == "linear":
        r = train_many(X0[None], task, epochs, rule.eta, rule.optimizer, seeds=[seed],
                       weight_noise=rule.weight_noise)
        X1, final_loss_ = r["X"][0], float(r["loss"][-1, 0])
    else:
        hist = train(net, task, epochs, rule.eta, rule.optimizer, seed=seed,
                     weight_noise=rule.weight_noise, progress=False)
        X1, final_loss_ = net.X, float(hist.loss[-1])
    b = neuron_balance(X0, X1)
    from .connectome import rate_free_relation

    return {"rate_free_residual": float(rate_free_relation(X0, X1)["residual"]),
            "slope": b.slope, "correlation": b.correlation, "violation": b.violation,
            "total_ratio": b.total_ratio, "final_loss": final_loss_, "d_out": b.d_out,
            "d_in": b.d_in}


def balance_runs(
    rules: Mapping[str, PlasticityRule] | None = None,
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    N: int = 500,
    learning_time: float = 5.0,
    task: Task | None = None,
    executor: concurrent.futures.Executor | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Train under several plasticity rules and measure the per-neuron balance, per seed.

    Each rule trains a fresh random rank-1 network (one per seed) on the task
    (default: the exponential filter ``c = 0.2``) for ``learning_time`` in units
    of ``eta * epochs`` (Adam: the epochs of gradient descent at ``eta = 5e-3``).
    Linear networks are trained with :func:`lrtools.training.train_many` (equal to
    :func:`lrtools.train`), erf networks with :func:`lrtools.train`.

    Parameters
    ----------
    rules : mapping, optional
        ``{label: PlasticityRule}``; default :data:`PLASTICITY_RULES`.
    seeds : sequence of int
        One network (and noise stream) per seed.
    N : int
        Neurons.
    learning_time : float
        ``eta * epochs`` of each run.
    task : Task, optional
        The task (default: the exponential filter ``c = 0.2``).
    executor : concurrent.futures.Executor, optional
        Runs the (rule, seed) jobs, e.g. a ``ProcessPoolExecutor``; serial when
        omitted.

    Returns
    -------
    dict
        ``{label: {"slope": (n_seeds,), "correlation", "violation", "total_ratio",
        "final_loss", "d_out": (n_seeds, N), "d_in": (n_seeds, N)}}``
        (:func:`neuron_balance` of each run).
    """
    rules = dict(PLASTICITY_RULES if rules is None else rules)
    task = task or ExponentialFilter(c=0.2, dt=0.05, t_max=20.0)
    jobs = [(label, seed) for label in rules for seed in seeds]
    results = run_jobs(_balance_job, [(rules[label], N, seed, learning_time, task)
                                      for label, seed in jobs], executor)
    out: dict[str, list] = {label: [] for label in rules}
    for (label, _), res in zip(jobs, results, strict=True):
        out[label].append(res)
    return {label: _stack(res) for label, res in out.items()}
