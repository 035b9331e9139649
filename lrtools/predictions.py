r"""Testable predictions derived from the overlap theory (chapter 5).

Each prediction is a seeded simulation that returns plain arrays (one entry per
seed, base network or individual), so the chapter can plot an effect size with
its spread and the test suite can check its sign or scaling on a small
instance. Sweeps over seeds accept an optional
:class:`concurrent.futures.Executor`.

1. **Equal behaviour, different learning speed** (:func:`family_study`):
   networks with identical behaviour (the same loss-visible overlaps) learn a
   new task at different speeds, and the initial speed
   ``eta tr(Gamma S Gamma)`` (:func:`lrtools.probe.initial_speed`) ranks them in
   the early phase of learning.
2. **Stimulation separates equivalent circuits** (same function): the output
   variance under injected activity noise
   (:func:`lrtools.probe.stationary_noise_variance`) differs between equivalent
   trained circuits, not between equivalent untrained ones; it also predicts
   their learning speed.
3. **History in connectivity, not in behaviour** (:func:`reversal_cohort`):
   after a reversal and re-learning, behaviour is restored but the total
   synaptic strengths stay lower than in animals trained without the reversal.
4. **The per-neuron balance law** (:func:`balance`, :func:`balance_runs`):
   under gradient flow on any loss of the overlaps, ``dX/dtau = -X Gamma`` with
   ``J Gamma = -Gamma J`` (linear networks), so the ``N x N`` matrix
   ``K = Z Z^T + V V^T - M M^T - U U^T`` is conserved. Its diagonal gives one law
   *per neuron* ``i``:

   .. math:: \Delta\bigl(z_i^2 + v_i^2\bigr) = \Delta\bigl(m_i^2 + u_i^2\bigr),

   the change of a neuron's squared outgoing weights (readout ``z_i`` and
   presynaptic recurrent factor ``v_i``) equals the change of its squared
   incoming weights (input ``m_i`` and postsynaptic recurrent factor ``u_i``).
   Discrete gradient steps violate it by ``O(eta)`` over a fixed learning time,
   synaptic noise by a diffusive amount, per-synapse adaptive rules (Adam)
   grossly, and a non-homogeneous nonlinearity (erf) moderately.
5. **Noise buries the invisible memory** (:func:`noise_burial`,
   :func:`lifetime_fit`): synaptic noise leaves the mean difference between two
   histories intact and spreads individuals diffusively, so the memory stays
   readable (``d' >= 1``) for ``t* = D_0^2 N / (4 s^2 e^T S e)`` epochs: exponent
   ``-2`` in the noise amplitude ``s`` and ``+1`` in ``N``. Weight decay instead
   erases it exponentially (chapter 4).

The workhorses are the batched learners of the core: the exact overlap map for
many networks at once (:func:`lrtools.theory.learn_many`, with synaptic noise
simulated exactly in overlap space) and the training of their ``N``-dimensional
vectors (:func:`lrtools.training.train_many`, equal to :func:`lrtools.train` to
round-off).

The chapter itself makes short calls: cached studies (:func:`cohort_study`,
:func:`balance_study`, :func:`burial_study`, :func:`cached_noise_check`), the key
numbers it quotes (``*_numbers``, :func:`summary_table`) and its whole figures
(``plot_p1_learning_speed`` ... ``plot_p6_noise_speed``, drawn with the
axes-level ``plot_*`` functions).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import probe, theory
from .cache import cached_run
from .fits import cohens_d, fit_exponent, fit_rate, quartile_ratio
from .network import LowRankRNN
from .overlaps import Overlaps
from .tasks import ExponentialFilter, Task, batches
from .training import train, train_many

__all__ = [
    "time_to_criterion",
    "quartile_ratio",
    "family_study",
    "family_runs",
    "cached_family_runs",
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
    "cohens_d",
    "final_loss",
    "fit_exponent",
    "Balance",
    "balance",
    "PlasticityRule",
    "PLASTICITY_RULES",
    "balance_runs",
    "INVISIBLE",
    "invisible_values",
    "memory_pair",
    "noise_burial",
    "burial_runs",
    "pool_runs",
    "diffusion_rate",
    "lifetime_fit",
    "weight_decay_erasure",
    "plot_family",
    "plot_noise_separation",
    "plot_noise_speed",
    "plot_cohort",
    "plot_balance",
    "plot_burial",
    "BALANCE_KEYS",
    "BALANCE_SHORT",
    "family_numbers",
    "cached_noise_check",
    "noise_numbers",
    "cohort_study",
    "cohort_numbers",
    "balance_study",
    "balance_numbers",
    "burial_study",
    "burial_numbers",
    "summary_table",
    "plot_p1_learning_speed",
    "plot_p2_noise_separation",
    "plot_p3_reversal",
    "plot_p4_balance",
    "plot_p5_noise_burial",
    "plot_p6_noise_speed",
]

NAMES = ("m", "u", "v", "z")


def _map(fn: Callable, args: Sequence[tuple], executor: concurrent.futures.Executor | None):
    """``[fn(*a) for a in args]``, through ``executor`` when given (results in order)."""
    if executor is None:
        return [fn(*a) for a in args]
    return [f.result() for f in [executor.submit(fn, *a) for a in args]]


def _stack(results: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Stack a list of dicts of arrays along a new first axis."""
    return {k: np.stack([np.asarray(r[k]) for r in results]) for k in results[0]}


# ---------------------------------------------------------------------------
# Many linear rank-1 networks at once: loss, Gamma, the exact map and training
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Predictions 1 and 2: equivalent networks differ in learning speed and noise
# ---------------------------------------------------------------------------


def time_to_criterion(loss: np.ndarray, criterion: float) -> np.ndarray:
    """Epochs until the loss first reaches ``criterion``, interpolated between epochs.

    ``loss[..., i]`` is the loss before update ``i``. If it first falls to the
    criterion at ``i > 0``, the crossing is placed by linear interpolation of
    ``log L`` between ``i - 1`` and ``i`` (a fractional epoch); ``0`` if it starts
    below, ``inf`` if it never gets there. :func:`lrtools.probe.epochs_to_criterion`
    is the integer version (``ceil`` of this one).

    Parameters
    ----------
    loss : numpy.ndarray, shape (..., epochs)
    criterion : float

    Returns
    -------
    numpy.ndarray, shape (...)
    """
    loss = np.asarray(loss, dtype=float)
    if not criterion > 0:
        raise ValueError(f"criterion must be positive, got {criterion}")
    with np.errstate(invalid="ignore"):
        hit = loss <= criterion
    i = np.argmax(hit, axis=-1)
    reached = hit.any(axis=-1)
    prev = np.take_along_axis(loss, np.maximum(i - 1, 0)[..., None], axis=-1)[..., 0]
    cur = np.take_along_axis(loss, i[..., None], axis=-1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (np.log(prev) - np.log(criterion)) / (np.log(prev) - np.log(cur))
    t = np.where(i > 0, i - 1 + np.clip(np.nan_to_num(frac, nan=1.0), 0.0, 1.0), 0.0)
    return np.where(reached, t, np.inf)


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
    result for a linear network). :func:`lrtools.probe.sample_equivalent` draws
    ``n_family`` networks with its visible overlaps (``m, z`` kept; free
    ``sigma_uu, sigma_vv`` in ``[0.5, 3]``, correlations of ``mu, zv`` in
    ``[-0.9, 0.9]``), which learn the new filter ``c_new`` (:func:`learn_many`).
    A second family is drawn around the untrained random network.

    Returns
    -------
    dict
        ``members (n, 4, 4)``; ``loss (epochs, n)``; ``speed (n,)``: predicted
        initial loss drop per epoch; ``time (len(criteria), n)``: epochs to
        ``criteria[j]`` times the initial loss (:func:`time_to_criterion`);
        ``noise (n,)`` and ``noise_random (n,)``: long-time output variance under
        activity noise ``noise_std`` (formula) in the trained family and in the
        family of the random start; ``base``, ``start`` ``(4, 4)``;
        ``criteria``.
    """
    task = ExponentialFilter(c=c, dt=dt, t_max=t_max)
    task_new = ExponentialFilter(c=c_new, dt=dt, t_max=t_max)
    start = LowRankRNN.random(N, 1, "linear", seed=seed).overlaps()
    base = Overlaps(theory.learn_many(start.matrix[None], task, base_epochs, eta)["final"][0],
                    NAMES)
    family = probe.sample_equivalent(base, n_family, seed=[seed, 1])
    members = np.array([S.matrix for S in family])
    loss = theory.learn_many(members, task_new, epochs, eta)["loss"]
    speed = np.array([probe.initial_speed(S, task_new, eta=eta) for S in family])
    L0 = float(loss[0, 0])  # shared: equivalent networks have the same loss
    times = np.array([time_to_criterion(loss.T, f * L0) for f in criteria])
    var = [probe.stationary_noise_variance(S, N=N, dt=dt, noise_std=noise_std) for S in family]
    random_family = probe.sample_equivalent(start, n_family, seed=[seed, 2])
    var_r = [probe.stationary_noise_variance(S, N=N, dt=dt, noise_std=noise_std)
             for S in random_family]
    return {"members": members, "loss": loss, "speed": speed, "time": times,
            "noise": np.array(var), "noise_random": np.array(var_r), "base": base.matrix,
            "start": start.matrix, "criteria": np.asarray(criteria, dtype=float)}


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
        Settings of :func:`family_study`.
    """
    return _stack(_map(_family_job, [(s, kw) for s in seeds], executor))


#: :func:`family_runs`, cached (entry ``"ch5-families"``, keyed by every argument).
cached_family_runs = cached_run("ch5-families")(family_runs)


def _family_job(seed: int, kw: dict) -> dict[str, np.ndarray]:
    return family_study(seed, **kw)


def family_effects(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Effect sizes of :func:`family_runs`, one value per base network.

    Returns
    -------
    dict
        ``speed_ratio``: time to the first criterion, slowest-predicted quartile
        over fastest-predicted quartile (:func:`quartile_ratio` by speed);
        ``spread_ratio``: the same for the measured quartiles; ``rho_early``,
        ``rho_late``: Spearman correlation of predicted speed and time to the
        first and the last criterion; ``noise_ratio``, ``noise_ratio_random``:
        quartile ratio of the noise variance in the trained and the random
        family; ``rho_noise_time``: Spearman correlation of noise variance and
        time to the first criterion.
    """
    from scipy.stats import spearmanr

    out: dict[str, list] = {k: [] for k in ("speed_ratio", "spread_ratio", "rho_early",
                                            "rho_late", "noise_ratio", "noise_ratio_random",
                                            "rho_noise_time")}
    for b in range(len(data["speed"])):
        speed, t_early, t_late = data["speed"][b], data["time"][b, 0], data["time"][b, -1]
        out["speed_ratio"].append(quartile_ratio(t_early, by=-speed))
        out["spread_ratio"].append(quartile_ratio(t_early))
        out["rho_early"].append(spearmanr(speed, t_early).statistic)
        out["rho_late"].append(spearmanr(speed, t_late).statistic)
        out["noise_ratio"].append(quartile_ratio(data["noise"][b]))
        out["noise_ratio_random"].append(quartile_ratio(data["noise_random"][b]))
        out["rho_noise_time"].append(spearmanr(data["noise"][b], t_early).statistic)
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
    network with the ``base`` overlaps (:func:`lrtools.probe.equivalent_network`,
    ``m, z`` shared), and its output variance under injected noise is sampled
    (:func:`lrtools.probe.sampled_noise_variance`, ``n_trials``) and predicted
    (:func:`lrtools.probe.output_noise_variance`).

    Returns
    -------
    dict
        ``sampled``, ``predicted``: ``(n, n_steps)``; ``output_gap``: largest
        output difference between the members on a white-noise input.
    """
    net1 = LowRankRNN.from_overlaps(Overlaps(np.asarray(base), NAMES), N=N, seed=seed)
    free = probe.free_overlaps(net1)
    nets = [probe.equivalent_network(net1, **{k: Overlaps(M, NAMES)[k] for k in free})
            for M in np.asarray(members)]
    x = np.random.default_rng(seed).standard_normal((2, n_steps, 1))
    ys = [n.run(x, dt) for n in nets]
    sampled = [probe.sampled_noise_variance(n, dt=dt, n_steps=n_steps, noise_std=noise_std,
                                            n_trials=n_trials, seed=[seed, i])[:, 0]
               for i, n in enumerate(nets)]
    predicted = [probe.output_noise_variance(n.overlaps(), N=N, dt=dt, n_steps=n_steps,
                                             noise_std=noise_std)[:, 0] for n in nets]
    return {"sampled": np.array(sampled), "predicted": np.array(predicted),
            "output_gap": np.array(max(float(np.max(np.abs(y - ys[0]))) for y in ys))}

# ---------------------------------------------------------------------------
# Prediction 3: the history of a reversal stays in the synaptic totals
# ---------------------------------------------------------------------------


_cached_noise_check = cached_run("ch5-noise-check")(noise_check)


@dataclass(frozen=True, kw_only=True)
class SignedFilter(ExponentialFilter):
    """Exponential filter with a sign: ``g(t) = sign * exp(-c t)``.

    ``sign=-1`` is the *reversal* of :class:`lrtools.tasks.ExponentialFilter`:
    the same dynamics, the opposite response.
    """

    sign: float = 1.0

    def kernel(self, t: np.ndarray) -> np.ndarray:
        """``sign * exp(-c t)``."""
        return self.sign * np.exp(-self.c * np.asarray(t, dtype=np.float64))


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

    Returns
    -------
    numpy.ndarray, shape (..., 3)
    """
    S = np.asarray(S, dtype=float)
    return np.stack([S[..., 0, 0], S[..., 3, 3], S[..., 1, 1] * S[..., 2, 2]], axis=-1)


def behaviour_features(S: np.ndarray) -> np.ndarray:
    """``(sigma_zm, sigma_vu, sigma_zu sigma_vm)``: all a linear rank-1 network's output depends on.

    Its impulse response is ``y_k = sigma_zm a^k + sigma_zu sigma_vm (lambda^k -
    a^k) / sigma_vu`` with ``a = 1 - dt`` and ``lambda = a + dt sigma_vu``, so these
    three numbers are its complete behaviour.

    Returns
    -------
    numpy.ndarray, shape (..., 3)
    """
    S = np.asarray(S, dtype=float)
    return np.stack([S[..., 3, 0], S[..., 2, 1], S[..., 3, 1] * S[..., 2, 0]], axis=-1)


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
    learns the reversed task B (``-exp(-c t)``, :class:`SignedFilter`) for
    ``epochs[1]`` and A again for ``epochs[2]``. Exact overlap map
    (:func:`learn_many`).

    Parameters
    ----------
    seed : int
        Seed of the starting networks.
    population : {"uniform", "diverse"}
        ``"uniform"``: :meth:`LowRankRNN.random` networks of ``N`` neurons (unit
        norms, cross overlaps ``O(N^-1/2)``): individuals differ only by the
        finite-``N`` randomness. ``"diverse"``: the paper's random ``O(1)``
        overlaps (:func:`lrtools.memory.random_overlaps`).

    Returns
    -------
    dict
        ``start``, ``after_A``, ``direct``, ``reversal``: overlaps ``(n, 4, 4)``;
        ``loss_direct``, ``loss_reversal``: final losses ``(n,)``; ``loss_B``: loss
        at the end of the reversal phase ``(n,)``.
    """
    if population == "uniform":
        start = np.array([LowRankRNN.random(N, 1, "linear", seed=np.random.default_rng([seed, i]))
                          .overlaps().matrix for i in range(n)])
    elif population == "diverse":
        from .memory import random_overlaps

        start = random_overlaps(n, [seed, 7])
    else:
        raise ValueError(f"population must be 'uniform' or 'diverse', got {population!r}")
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


def final_loss(S: np.ndarray, task: Task) -> np.ndarray:
    """Loss of linear rank-1 networks (overlaps ``S``, ``(n, 4, 4)``) on the first batch."""
    batch = next(batches(task, 0))
    return theory.loss_and_gamma_many(S, batch, task.loss_weights(batch[2]), task.dt,
                                      "linear")[0]


def _cohort_job(seed: int, kw: dict) -> dict[str, np.ndarray]:
    return reversal_cohort(seed, **kw)


def cohort_runs(
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    executor: concurrent.futures.Executor | None = None,
    **kw,
) -> dict[str, np.ndarray]:
    """:func:`reversal_cohort` for several cohorts (seeds); arrays stacked along a first axis."""
    return _stack(_map(_cohort_job, [(s, kw) for s in seeds], executor))


_cached_cohort_runs = cached_run("ch5-cohorts")(cohort_runs)


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
    ``epochs * eta_ref / eta``. Other settings as in :func:`reversal_cohort`.

    Returns
    -------
    dict
        ``eta (n,)``, ``record (n, 3)``, ``record_negative (n, 3)``.
    """
    out: dict[str, list] = {"record": [], "record_negative": []}
    for eta in etas:
        scaled = tuple(int(round(e * eta_ref / eta)) for e in epochs)
        data = reversal_cohort(seed, eta=float(eta), epochs=scaled, **kw)
        Td, Tr = synaptic_totals(data["direct"]), synaptic_totals(data["reversal"])
        rel = (Tr - Td) / Td
        out["record"].append(rel.mean(axis=0))
        out["record_negative"].append((rel < 0).mean(axis=0))
    return {"eta": np.asarray(etas, dtype=float), **{k: np.array(v) for k, v in out.items()}}


_cached_reversal_step_scan = cached_run("ch5-reversal-steps")(reversal_step_scan)


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
    and scores the held-out individuals (chance: 0.5 for equal groups).

    Parameters
    ----------
    Fa, Fb : numpy.ndarray, shape (n_a, f) and (n_b, f)
        Features of the two groups (different individuals).

    Returns
    -------
    numpy.ndarray, shape (n_splits,)
        Test accuracy of each split.
    """
    from sklearn.linear_model import LogisticRegression

    F = np.concatenate([np.asarray(Fa, dtype=float), np.asarray(Fb, dtype=float)])
    y = np.r_[np.zeros(len(Fa)), np.ones(len(Fb))]
    groups = [np.arange(len(Fa)), len(Fa) + np.arange(len(Fb))]
    ks = [int(round(train_fraction * len(g))) for g in groups]
    if not all(1 <= k <= len(g) - 1 for k, g in zip(ks, groups, strict=True)):
        raise ValueError(f"train_fraction={train_fraction} leaves a group without test or "
                         "training individuals")
    rng = np.random.default_rng(seed)
    acc = np.empty(n_splits)
    for s in range(n_splits):
        # stratified: the same fraction of each group trains (no anti-learning bias)
        perm = [rng.permutation(g) for g in groups]
        tr = np.concatenate([p[:k] for p, k in zip(perm, ks, strict=True)])
        te = np.concatenate([p[k:] for p, k in zip(perm, ks, strict=True)])
        Fs = F * (1.0 + noise * rng.standard_normal(F.shape))
        mu, sd = Fs[tr].mean(axis=0), Fs[tr].std(axis=0)
        sd[sd == 0] = 1.0
        clf = LogisticRegression(C=1.0, solver="liblinear").fit((Fs[tr] - mu) / sd, y[tr])
        acc[s] = clf.score((Fs[te] - mu) / sd, y[te])
    return acc


def cohort_effects(
    data: Mapping[str, np.ndarray], *, noise: float = 0.01, n_splits: int = 100, seed: int = 0
) -> dict[str, np.ndarray]:
    """Effect sizes of the reversal history in one cohort (:func:`reversal_cohort`).

    The record compares the twins of each animal; the group comparison takes the
    direct twins of the first half of the animals and the reversal twins of the
    second half (two groups of different individuals, as in a lab).

    Returns
    -------
    dict
        ``record (3,)``: mean paired relative change of :func:`synaptic_totals`,
        reversal vs direct; ``record_negative (3,)``: fraction of animals with a
        lower total after the reversal; ``d (3,)``: :func:`cohens_d` between the
        groups; ``acc_totals``, ``acc_behaviour``: mean decoding accuracy
        (:func:`decode_groups`) from the totals and from
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
# Prediction 4: the per-neuron balance law
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
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


def balance(X0: np.ndarray, X1: np.ndarray, names: Sequence[str] = NAMES) -> Balance:
    r"""Balance of the weight changes from vectors ``X0`` to ``X1`` (each ``(N, k)``).

    ``d_out_i = Delta(sum over left vectors z, v of x_i^2)`` and ``d_in_i =
    Delta(sum over right vectors m, u of x_i^2)``; under the gradient flow of a
    linear network ``d_out - d_in = Delta K_ii = 0`` exactly.
    """
    X0, X1 = np.asarray(X0, dtype=float), np.asarray(X1, dtype=float)
    if X0.shape != X1.shape or X0.ndim != 2 or X0.shape[1] != len(names):
        raise ValueError(f"vector arrays {X0.shape}, {X1.shape} do not match names {names}")
    d = X1**2 - X0**2
    left = np.array([n[0] in "zv" for n in names])
    d_out, d_in = d[:, left].sum(axis=1), d[:, ~left].sum(axis=1)
    if not np.any(d_in):
        raise ValueError("the incoming weights did not change: no balance to measure")
    return Balance(
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
    b = balance(X0, X1)
    return {"slope": b.slope, "correlation": b.correlation, "violation": b.violation,
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
    """Train under several plasticity rules and measure the balance, per seed.

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
    executor : concurrent.futures.Executor, optional
        Runs the (rule, seed) jobs, e.g. a ``ProcessPoolExecutor``; serial when
        omitted.

    Returns
    -------
    dict
        ``{label: {"slope": (n_seeds,), "correlation", "violation", "total_ratio",
        "final_loss", "d_out": (n_seeds, N), "d_in": (n_seeds, N)}}``.
    """
    rules = dict(PLASTICITY_RULES if rules is None else rules)
    task = task or ExponentialFilter(c=0.2, dt=0.05, t_max=20.0)
    jobs = [(label, seed) for label in rules for seed in seeds]
    results = _map(_balance_job, [(rules[label], N, seed, learning_time, task)
                                  for label, seed in jobs], executor)
    out: dict[str, list] = {label: [] for label in rules}
    for (label, _), res in zip(jobs, results, strict=True):
        out[label].append(res)
    return {label: _stack(res) for label, res in out.items()}
# ---------------------------------------------------------------------------
# Prediction 5: synaptic noise buries the invisible memory, weight decay erases it
# ---------------------------------------------------------------------------

#: Loss-invisible overlaps of a linear rank-1 network (order of ``Overlaps.invisible``).
INVISIBLE = ("zv", "mu", "zz", "vv", "mm", "uu")
_INV_IDX = [(NAMES.index(k[0]), NAMES.index(k[1])) for k in INVISIBLE]


@cached_run("ch5-balance")
def _cached_balance_runs(rules: Mapping[str, PlasticityRule], *, seeds: Sequence[int], N: int,
                         learning_time: float) -> dict[str, np.ndarray]:
    # balance_runs stored flat: "<rule label>/<quantity>"
    return {f"{k}/{q}": v for k, r in balance_runs(
        rules, seeds=seeds, N=N, learning_time=learning_time).items() for q, v in r.items()}


def invisible_values(S: np.ndarray) -> np.ndarray:
    """The six invisible overlaps (:data:`INVISIBLE`) of ``S`` ``(..., 4, 4)`` -> ``(..., 6)``."""
    S = np.asarray(S, dtype=float)
    return np.stack([S[..., i, j] for i, j in _INV_IDX], axis=-1)


def _direction_matrix(e: np.ndarray) -> np.ndarray:
    """Symmetric ``E`` with ``tr(E S) = e . invisible_values(S)``."""
    E = np.zeros((4, 4))
    for w, (i, j) in zip(np.asarray(e, dtype=float), _INV_IDX, strict=True):
        if i == j:
            E[i, i] += w
        else:
            E[i, j] += w / 2
            E[j, i] += w / 2
    return E


def diffusion_rate(S: np.ndarray, e: np.ndarray, s: float, N: int) -> float:
    r"""Variance added per epoch to ``p = e . invisible(S)`` by synaptic noise ``s``.

    Noise ``s xi`` on the vectors changes ``S`` by ``(s/N)(X^T xi + xi^T X) +
    O(s^2)``, so ``p = tr(E S)`` changes by ``(2 s / N) tr(E X^T xi)``, of variance

    .. math:: \frac{4 s^2}{N}\, \operatorname{tr}(E S E).

    This ignores how learning reacts to the noise (it restores the visible
    overlaps, which may move the invisible ones too); the chapter compares it
    with the measured rate.
    """
    E = _direction_matrix(e)
    return float(4.0 * s * s / N * np.trace(E @ np.asarray(S, dtype=float) @ E))


def memory_pair(
    S0: np.ndarray,
    *,
    c: tuple[float, float] = (0.2, 0.4),
    epochs: tuple[int, int, int] = (3000, 1000, 1000),
    eta: float = 5e-3,
    dt: float = 0.05,
    t_max: float = 20.0,
) -> dict[str, np.ndarray]:
    """The histories A, A, A and A, B, A from ``S0`` (exact map), as in chapter 4.

    Returns
    -------
    dict
        ``aaa``, ``aba``: final overlaps ``(4, 4)``; ``D0``: the distance of their
        invisible overlaps (Euclidean); ``function_gap``: largest difference of
        :func:`behaviour_features`.
    """
    tA, tB = (ExponentialFilter(c=ci, dt=dt, t_max=t_max) for ci in c)
    S = theory.learn_many(np.asarray(S0, dtype=float)[None], tA, epochs[0], eta)["final"]
    mid = np.concatenate([theory.learn_many(S, tA, epochs[1], eta)["final"],
                          theory.learn_many(S, tB, epochs[1], eta)["final"]])
    end = theory.learn_many(mid, tA, epochs[2], eta)["final"]
    return {"aaa": end[0], "aba": end[1],
            "D0": np.array(np.linalg.norm(invisible_values(end[1]) - invisible_values(end[0]))),
            "function_gap": np.array(np.max(np.abs(behaviour_features(end[1])
                                                   - behaviour_features(end[0]))))}


def _burial_job(S_a, S_b, s, N, n_rep, task, eta, horizon, n_points, seed):
    d = invisible_values(S_b) - invisible_values(S_a)
    D0 = float(np.linalg.norm(d))
    e = d / D0
    rate = diffusion_rate(0.5 * (S_a + S_b), e, s, N)
    every = max(int(np.ceil(horizon * D0**2 / rate / n_points)), 1)
    S = np.concatenate([np.repeat(S_a[None], n_rep, 0), np.repeat(S_b[None], n_rep, 0)])
    r = theory.learn_many(S, task, every * n_points, eta, weight_noise=s, N=N,
                   noise_seed=[seed, N, int(round(s * 1e9))], record_every=every)
    p = invisible_values(r["overlaps"]) @ e  # (n_rec, 2 n_rep)
    return {"epoch": r["epoch"], "proj": p.reshape(len(p), 2, n_rep), "rate": np.array(rate)}


def noise_burial(
    S_a: np.ndarray,
    S_b: np.ndarray,
    stds: Sequence[float],
    *,
    N: int | Sequence[int] = 500,
    n_rep: int = 64,
    task: Task | None = None,
    eta: float = 5e-3,
    horizon: float = 4.0,
    n_points: int = 60,
    seed: int = 0,
    executor: concurrent.futures.Executor | None = None,
) -> dict[str, np.ndarray]:
    """Two memories under synaptic noise: ``n_rep`` individuals per history keep learning A.

    Both groups start from their history's end state (``S_a``, ``S_b``) and keep
    learning ``task`` (default: the filter ``c = 0.2``) with synaptic noise ``s``
    per vector entry and epoch, simulated exactly in overlap space
    (:func:`learn_many`), each individual with its own noise. The record is read
    along ``e``, the unit vector of the initial invisible difference. Each run
    lasts ``horizon`` times the predicted lifetime ``D0^2 / diffusion_rate``.

    Parameters
    ----------
    S_a, S_b : numpy.ndarray, shape (4, 4)
        End states of the two histories (:func:`memory_pair`).
    stds : sequence of float
        Noise amplitudes ``s``.
    N : int or sequence of int
        Neurons; a sequence (one per ``s``) scans ``N``.
    executor : concurrent.futures.Executor, optional
        Runs the noise levels in parallel.

    Returns
    -------
    dict
        ``std (n_s,)``, ``N (n_s,)``, ``epoch (n_s, n_points + 1)``, ``proj (n_s,
        n_points + 1, 2, n_rep)`` (group 0: ``S_a``), ``rate (n_s,)`` (predicted
        variance per epoch), ``D0``, ``direction (6,)``.
    """
    task = task or ExponentialFilter(c=0.2)
    S_a, S_b = np.asarray(S_a, dtype=float), np.asarray(S_b, dtype=float)
    stds = [float(s) for s in stds]
    Ns = [int(N)] * len(stds) if np.ndim(N) == 0 else [int(x) for x in N]
    if len(Ns) != len(stds):
        raise ValueError(f"{len(stds)} noise levels need {len(stds)} values of N, got {len(Ns)}")
    res = _map(_burial_job, [(S_a, S_b, s, n, n_rep, task, eta, horizon, n_points, seed)
                             for s, n in zip(stds, Ns, strict=True)], executor)
    d = invisible_values(S_b) - invisible_values(S_a)
    return {"std": np.array(stds), "N": np.array(Ns), **_stack(res),
            "D0": np.array(np.linalg.norm(d)), "direction": d / np.linalg.norm(d)}


def _burial_seed_job(S_a, S_b, stds, seed, kw):
    return noise_burial(S_a, S_b, stds, seed=seed, **kw)


def burial_runs(
    S_a: np.ndarray,
    S_b: np.ndarray,
    stds: Sequence[float],
    *,
    seeds: Sequence[int] = (0, 1, 2),
    executor: concurrent.futures.Executor | None = None,
    **kw,
) -> dict[str, np.ndarray]:
    """:func:`noise_burial` with independent noise for each seed; arrays stacked (seed axis first).

    ``kw`` are the settings of :func:`noise_burial` (``N``, ``n_rep``, ...);
    :func:`pool_runs` merges the individuals of all seeds.
    """
    return _stack(_map(_burial_seed_job, [(S_a, S_b, stds, s, kw) for s in seeds], executor))


_cached_burial_runs = cached_run("ch5-burial")(burial_runs)


def pool_runs(runs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The individuals of all seeds of :func:`burial_runs` as one :func:`noise_burial` result."""
    out = {k: np.asarray(v)[0] for k, v in runs.items()}
    out["proj"] = np.concatenate(list(np.asarray(runs["proj"])), axis=-1)
    return out


def _lifetimes(proj: np.ndarray, epoch: np.ndarray, D0: float) -> np.ndarray:
    """Lifetime ``D0^2 / v1`` from the pooled within-group variance ``v(t) ~ v1 t``."""
    var = 0.5 * (proj[..., 0, :].var(axis=-1, ddof=1) + proj[..., 1, :].var(axis=-1, ddof=1))
    v1 = (var @ epoch) / (epoch @ epoch)
    return D0**2 / v1


def lifetime_fit(data: Mapping[str, np.ndarray], *, n_boot: int = 200,
                 seed: int = 0) -> dict[str, np.ndarray]:
    r"""Lifetimes of the memory in :func:`noise_burial` runs, with bootstrap samples.

    Within each group the record spreads as ``v(t) = v_1 t``; ``v_1`` is fitted
    by least squares through the origin, and the lifetime is the time at which
    the spread reaches the initial record, ``t* = D_0^2 / v_1`` (``d' = 1`` if
    the mean difference stays ``D_0``). Bootstrap: individuals resampled with
    replacement within each group.

    Returns
    -------
    dict
        ``t_star (n_s,)``, ``t_boot (n_boot, n_s)``, ``t_pred (n_s,)``
        (``D_0^2`` over the predicted rate), ``signal (n_s, n_rec)``: mean
        difference over ``D_0``; ``dprime (n_s, n_rec)``; ``retention (n_s,)``:
        mean of ``signal`` over the second half of each run.
    """
    proj, epoch, D0 = data["proj"], data["epoch"], float(data["D0"])
    n_s, n_rec, _, n_rep = proj.shape
    t_star = np.array([_lifetimes(proj[i], epoch[i], D0) for i in range(n_s)])
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, n_s))
    for b in range(n_boot):
        idx = rng.integers(0, n_rep, size=(2, n_rep))
        for i in range(n_s):
            p = np.stack([proj[i][:, 0, idx[0]], proj[i][:, 1, idx[1]]], axis=1)
            boot[b, i] = _lifetimes(p, epoch[i], D0)
    signal = (proj[:, :, 1].mean(axis=-1) - proj[:, :, 0].mean(axis=-1)) / D0
    sd = np.sqrt(0.5 * (proj[:, :, 0].var(axis=-1, ddof=1) + proj[:, :, 1].var(axis=-1, ddof=1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        dprime = np.where(sd > 0, signal * D0 / sd, np.inf)
    late = slice(n_rec // 2, None)
    return {"t_star": t_star, "t_boot": boot, "t_pred": D0**2 / data["rate"],
            "signal": signal, "dprime": dprime, "retention": signal[:, late].mean(axis=1)}


def weight_decay_erasure(
    S_a: np.ndarray,
    S_b: np.ndarray,
    weight_decays: Sequence[float],
    *,
    task: Task | None = None,
    eta: float = 5e-3,
    e_folds: float = 6.0,
    n_points: int = 100,
) -> dict[str, np.ndarray]:
    """The invisible distance of two histories while both keep learning with weight decay.

    Each run lasts ``e_folds`` predicted e-foldings, ``-2 log(1 - eta w)`` per
    epoch (chapter 4, :func:`lrtools.memory.predicted_decay_rate`); the fitted
    rate uses the second half of each run.

    Returns
    -------
    dict
        ``weight_decay (n_w,)``, ``epoch (n_w, n_points + 1)``, ``distance (n_w,
        n_points + 1)``, ``predicted_rate (n_w,)`` and ``fitted_rate (n_w,)``
        (per epoch).
    """
    task = task or ExponentialFilter(c=0.2)
    S = np.stack([np.asarray(S_a, dtype=float), np.asarray(S_b, dtype=float)])
    out: dict[str, list] = {"epoch": [], "distance": [], "predicted_rate": [], "fitted_rate": []}
    for w in weight_decays:
        rate = float(-2.0 * np.log1p(-eta * w))
        every = max(int(np.ceil(e_folds / rate / n_points)), 1)
        r = theory.learn_many(S, task, every * n_points, eta, weight_decay=w, record_every=every)
        inv = invisible_values(r["overlaps"])
        dist = np.linalg.norm(inv[:, 1] - inv[:, 0], axis=-1)
        late = slice(n_points // 2, None)
        fitted = fit_rate(r["epoch"][late], dist[late])
        out["epoch"].append(r["epoch"])
        out["distance"].append(dist)
        out["predicted_rate"].append(rate)
        out["fitted_rate"].append(fitted)
    return {"weight_decay": np.asarray(weight_decays, dtype=float),
            **{k: np.array(v) for k, v in out.items()}}


# ---------------------------------------------------------------------------
# Plots (matplotlib is imported inside, as in lrtools.plotting)
# ---------------------------------------------------------------------------


def _plain_log_ticks(ax, x=None, y: bool = True) -> None:
    """Log axes with plain numbers (``%g``) instead of ``a x 10^b`` labels."""
    import matplotlib.ticker as mt

    if y:
        ax.yaxis.set_major_locator(mt.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(mt.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(mt.NullFormatter())
    if x is not None:
        ax.set_xticks(list(np.asarray(x, dtype=float)))
        ax.xaxis.set_minor_locator(mt.NullLocator())
        ax.xaxis.set_major_formatter(mt.FormatStrFormatter("%g"))


def _effect_strip(ax, values: Mapping[str, np.ndarray], *, colors=None, ref: float | None = None,
                  log: bool = False):
    """One column per label: the values (dots, one per seed) and their mean +- sd."""
    from .plotting import PALETTE

    rng = np.random.default_rng(0)
    for i, v in enumerate(values.values()):
        v = np.asarray(v, dtype=float)
        col = (colors or PALETTE)[i % len(colors or PALETTE)]
        ax.scatter(i + 0.08 * rng.standard_normal(len(v)), v, s=14, color=col, alpha=0.7,
                   edgecolors="none", zorder=3)
        ax.errorbar(i + 0.3, v.mean(), yerr=v.std(ddof=1) if len(v) > 1 else 0, fmt="o",
                    color="0.15", ms=4, capsize=3, zorder=4)
    if ref is not None:
        ax.axhline(ref, color="0.5", lw=0.8, ls=":")
    ax.set_xticks(range(len(values)), list(values), fontsize="small")
    ax.set_xlim(-0.5, len(values) - 0.3)
    if log:
        ax.set_yscale("log")
    return ax


def plot_family(axes, data: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray], *,
                base: int = 0):
    """Prediction 1 on three axes: loss curves, speed vs time, effect sizes over bases.

    ``data`` from :func:`family_runs`, ``effects`` from :func:`family_effects`.
    """
    import matplotlib as mpl

    from .plotting import PALETTE

    speed, loss = data["speed"][base], data["loss"][base]
    t_early = data["time"][base, 0]
    crit = float(data["criteria"][base, 0])
    ax = axes[0]
    norm = mpl.colors.Normalize(speed.min(), speed.max())
    cmap = mpl.colormaps["viridis"]
    epochs = np.arange(loss.shape[0])
    for i in np.argsort(speed)[:: max(len(speed) // 40, 1)]:
        ax.plot(epochs, loss[:, i] / loss[0, i], color=cmap(norm(speed[i])), lw=0.8, alpha=0.8)
    ax.axhline(crit, color="0.3", lw=0.8, ls=":")
    ax.set(yscale="log", xscale="symlog", xlabel="epoch", ylabel="loss / initial loss",
           xlim=(0, epochs[-1]), ylim=(1e-6, 1.5))
    ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8,
                       label="predicted initial speed")
    ax = axes[1]
    ax.scatter(speed, t_early, s=10, color=PALETTE[0], alpha=0.6, edgecolors="none")
    ax.set(xlabel=r"predicted initial speed $\eta\,\mathrm{tr}(\Gamma S\Gamma)$",
           ylabel=f"epochs to {crit:g} of the initial loss")
    _effect_strip(axes[2], {"slow / fast\n(predicted)": effects["speed_ratio"],
                            "slow / fast\n(measured)": effects["spread_ratio"]}, ref=1.0)
    axes[2].set_ylabel("ratio of mean epochs to criterion")
    return axes


def plot_noise_separation(axes, check: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray],
                          t: np.ndarray):
    """Prediction 2: simulated and predicted output variance; spread in two kinds of family."""
    from .plotting import PALETTE, SIM, THEORY

    ax = axes[0]
    labels = ("least sensitive", "most sensitive")
    for i in range(len(check["sampled"])):
        ax.plot(t, check["sampled"][i], color=PALETTE[i], label=labels[i % 2], **SIM)
        ax.plot(t, check["predicted"][i], **THEORY | {"label": "formula" if i else None})
    ax.set(xlabel="time", ylabel="output variance")
    ax.legend(fontsize="x-small")
    _effect_strip(axes[1], {"trained\nfamilies": effects["noise_ratio"],
                            "untrained\nfamilies": effects["noise_ratio_random"]},
                  colors=[PALETTE[2], PALETTE[7]], ref=1.0)
    axes[1].set_ylabel("output variance, top / bottom quartile")
    return axes


def plot_noise_speed(ax, data: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray]):
    """Prediction 6: noise sensitivity against time to criterion, every family (rank-normalised)."""
    from scipy.stats import rankdata

    from .plotting import PALETTE

    n_b = len(data["noise"])
    for b in range(n_b):
        x = rankdata(data["noise"][b]) / data["noise"].shape[1]
        y = rankdata(data["time"][b, 0]) / data["noise"].shape[1]
        ax.scatter(x, y, s=6, alpha=0.5, color=PALETTE[b % len(PALETTE)], edgecolors="none",
                   label=rf"base {b}: $\rho$ = {effects['rho_noise_time'][b]:.2f}")
    ax.set(xlabel="output variance under noise (rank in family)",
           ylabel="epochs to criterion (rank in family)")
    ax.legend(fontsize="xx-small", markerscale=2)
    return ax


def plot_cohort(axes, cohorts: Mapping[str, Mapping[str, np.ndarray]],
                effects: Mapping[str, Mapping[str, np.ndarray]], eta_scan: Mapping | None = None):
    """Prediction 3: paired change of the synaptic totals, decoding accuracy, step-size scaling.

    ``cohorts[population]`` from :func:`cohort_runs`; ``effects[population]``: the
    :func:`cohort_effects` values stacked over cohorts; ``eta_scan``: ``eta (n,)``
    and ``record (n, 3)``.
    """
    from .plotting import PALETTE

    names = (r"$|m|^2$", r"$|z|^2$", r"$\sum W_{ij}^2$")
    ax = axes[0]
    rng = np.random.default_rng(0)
    for j, (pop, data) in enumerate(cohorts.items()):
        T_d, T_r = synaptic_totals(data["direct"][0]), synaptic_totals(data["reversal"][0])
        rel = 100 * (T_r - T_d) / T_d
        for k in range(3):
            x = 3 * j + k + 0.1 * rng.standard_normal(len(rel))
            ax.scatter(x, rel[:, k], s=8, alpha=0.6, color=PALETTE[k], edgecolors="none",
                       label=names[k] if j == 0 else None)
        ax.text(3 * j + 1, 1.0, pop, transform=ax.get_xaxis_transform(), ha="center",
                va="top", fontsize="small")
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set_xticks([])
    ax.set_ylabel("reversal vs direct twin (%)")
    ax.legend(fontsize="x-small", loc="lower left")
    ax = axes[1]
    vals = {}
    for pop, e in effects.items():
        vals[f"{pop}\nconnectivity"] = e["acc_totals"]
        vals[f"{pop}\nbehaviour"] = e["acc_behaviour"]
    _effect_strip(ax, vals, colors=[PALETTE[3], PALETTE[7]] * len(effects), ref=0.5)
    ax.set_ylabel("decoding accuracy (new individuals)")
    ax.set_ylim(0.3, 1.02)
    ax.tick_params(axis="x", labelsize="x-small")
    if eta_scan is not None:
        ax = axes[2]
        for k in range(3):
            ax.semilogx(eta_scan["eta"], 100 * eta_scan["record"][:, k], "o-", color=PALETTE[k],
                        label=names[k])
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set(xlabel=r"plasticity step $\eta$", ylabel="reversal vs direct twin (%)")
        _plain_log_ticks(ax, x=eta_scan["eta"], y=False)
        ax.legend(fontsize="x-small")
    return axes


def plot_balance(axes, runs: Mapping[str, Mapping[str, np.ndarray]], examples: Sequence[str],
                 *, seed_index: int = 0, short: Mapping[str, str] | None = None):
    """Prediction 4: per-neuron scatter for ``examples`` (one axis each), violation per rule (last).

    ``runs`` from :func:`balance_runs` (several calls merged); ``short`` maps rule
    labels to tick labels.
    """
    from .plotting import PALETTE

    for ax, label in zip(axes[:-1], examples, strict=False):
        r = runs[label]
        d_in, d_out = r["d_in"][seed_index], r["d_out"][seed_index]
        lim = np.max(np.abs(np.concatenate([d_in, d_out])))
        ax.plot([-lim, lim], [-lim, lim], color="0.5", lw=0.8, ls="--")
        ax.scatter(d_in, d_out, s=4, alpha=0.5, color=PALETTE[0], edgecolors="none")
        ax.set(xlabel=r"$\Delta(m_i^2 + u_i^2)$", ylabel=r"$\Delta(z_i^2 + v_i^2)$",
               title=f"{label}\nslope {r['slope'][seed_index]:.2f}, "
                     f"corr {r['correlation'][seed_index]:.2f}")
        ax.set_aspect("equal", adjustable="datalim")
    short = short or {}
    _effect_strip(axes[-1], {short.get(k, k): v["violation"] for k, v in runs.items()},
                  log=True)
    axes[-1].set_ylabel("violation of the balance")
    axes[-1].tick_params(axis="x", labelsize="x-small", rotation=35)
    return axes


def plot_burial(axes, burial: Mapping[str, np.ndarray], fit: Mapping[str, np.ndarray], *,
                show: int = 0, n_lines: int = 12, N_scan: Mapping | None = None,
                decay: Mapping | None = None):
    """Prediction 5: individuals under noise, d' against scaled time, lifetime scaling, decay.

    ``burial``/``fit`` from :func:`noise_burial`/:func:`lifetime_fit` (a scan over
    the noise); ``N_scan``: the same two for a scan over ``N``; ``decay``:
    :func:`weight_decay_erasure`.
    """
    from .plotting import PALETTE

    D0 = float(burial["D0"])
    ep, p = burial["epoch"][show], burial["proj"][show]
    ax = axes[0]
    ref = p[0, 0, 0]
    for g, col in ((0, PALETTE[0]), (1, PALETTE[3])):
        for r in range(n_lines):
            ax.plot(ep, (p[:, g, r] - ref) / D0, color=col, lw=0.5, alpha=0.4)
        ax.plot(ep, (p[:, g].mean(axis=-1) - ref) / D0, color=col, lw=2.5,
                label=("A, A, A" if g == 0 else "A, B, A") + " (mean)")
    ax.set(xlabel=f"epochs with synaptic noise s = {burial['std'][show]:g}",
           ylabel=r"record along $e$ / $D_0$")
    ax.legend(fontsize="x-small")
    ax = axes[1]
    for i, s in enumerate(burial["std"]):
        x = burial["epoch"][i] / fit["t_pred"][i]
        ax.plot(x[1:], fit["dprime"][i, 1:], color=PALETTE[i % len(PALETTE)], lw=1.5,
                label=f"s = {s:g}")
    xx = np.linspace(0.05, x[-1], 100)
    ax.plot(xx, 1 / np.sqrt(xx), color="0.1", lw=1.0, ls="--", label=r"$(t/t^*_{pred})^{-1/2}$")
    ax.axhline(1, color="0.5", lw=0.8, ls=":")
    ax.set(xscale="log", yscale="log", xlabel=r"epochs / predicted lifetime",
           ylabel=r"$d'$ between the histories")
    _plain_log_ticks(ax)
    ax.legend(fontsize="xx-small")
    ax = axes[2]
    lo, hi = np.quantile(fit["t_boot"], [0.025, 0.975], axis=0)
    s = burial["std"]
    ax.errorbar(s, fit["t_star"], yerr=[fit["t_star"] - lo, hi - fit["t_star"]], fmt="o",
                color=PALETTE[3], capsize=3, label=f"measured, N = {int(burial['N'][0])}")
    ax.plot(s, fit["t_pred"], color="0.1", lw=1.0, ls="--", label=r"$D_0^2 N / (4 s^2 e^\top S e)$")
    ax.set(xscale="log", yscale="log", xlabel="synaptic noise s (per entry and epoch)",
           ylabel=r"lifetime $t^*$ (epochs)")
    _plain_log_ticks(ax, x=s)
    ax.legend(fontsize="x-small", loc="lower left")
    if N_scan is not None:
        inset = ax.inset_axes([0.58, 0.58, 0.38, 0.38])
        b, f = N_scan
        lo, hi = np.quantile(f["t_boot"], [0.025, 0.975], axis=0)
        inset.errorbar(b["N"], f["t_star"], yerr=[f["t_star"] - lo, hi - f["t_star"]], fmt="o",
                       color=PALETTE[0], capsize=2, ms=3)
        inset.plot(b["N"], f["t_pred"], color="0.1", lw=0.8, ls="--")
        inset.set(xscale="log", yscale="log")
        _plain_log_ticks(inset, x=b["N"])
        inset.set_xlabel("N", fontsize="x-small", labelpad=1)
        inset.set_ylabel(r"$t^*$", fontsize="x-small", labelpad=1)
        inset.tick_params(labelsize="xx-small")
    if decay is not None:
        ax = axes[3]
        for i, w in enumerate(decay["weight_decay"]):
            e, d = decay["epoch"][i], decay["distance"][i]
            ax.plot(e, d / D0, color=PALETTE[i], lw=1.8, label=f"w = {w:g}")
            # the predicted rate, drawn through the last point (the late-time slope)
            ax.plot(e, d[-1] / D0 * np.exp(decay["predicted_rate"][i] * (e[-1] - e)),
                    color="0.1", lw=0.8, ls="--")
        ax.set(yscale="log", xlabel="epochs with weight decay",
               ylabel=r"invisible distance / $D_0$")
        ax.legend(fontsize="x-small")
    return axes


# ---------------------------------------------------------------------------
# Chapter 5 in short calls: cached studies, key numbers and whole figures
# ---------------------------------------------------------------------------

#: Short keys of the chapter's key numbers (``bal_<key>_...``) for the rules of
#: :data:`PLASTICITY_RULES`.
BALANCE_KEYS: dict[str, str] = {
    "gd": "gradient, eta 5e-3",
    "gd2": "gradient, eta 2.5e-3",
    "n1": "gradient + noise 1e-3",
    "n3": "gradient + noise 3e-3",
    "adam": "Adam, lr 1e-3",
    "erf": "gradient, erf network",
}

#: Tick labels of the rules in the balance figure.
BALANCE_SHORT: dict[str, str] = {
    "gradient, eta 5e-3": "GD 5e-3",
    "gradient, eta 2.5e-3": "GD 2.5e-3",
    "gradient + noise 1e-3": "noise 1e-3",
    "gradient + noise 3e-3": "noise 3e-3",
    "Adam, lr 1e-3": "Adam",
    "gradient, erf network": "erf",
}


def _mean_sd(values: np.ndarray, what: str) -> tuple[float, float]:
    """Mean and sample sd (``ddof=1``) of per-seed values; at least two are needed."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"{what}: the sd over seeds needs at least two values, got shape "
                         f"{values.shape}")
    return float(values.mean()), float(values.std(ddof=1))


def _require(data: Mapping, keys: Sequence[str], what: str) -> None:
    missing = [k for k in keys if k not in data]
    if missing:
        raise ValueError(f"{what} lacks {missing}")


def family_numbers(data: Mapping[str, np.ndarray],
                   effects: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Key numbers of prediction 1 (chapter 5) from the family runs.

    Parameters
    ----------
    data : mapping
        :func:`family_runs` (needs ``time``, ``(n_bases, n_criteria, n)``).
    effects : mapping
        :func:`family_effects` of ``data`` (one value per base network).

    Returns
    -------
    dict
        ``speed_ratio``, ``spread_ratio``, ``rho_early``, ``rho_late``: mean over
        the base networks, each with its sd (``<name>_sd``, ``ddof=1``);
        ``t_early_min``, ``t_early_max``: range of the epochs to the first
        criterion over all members of all families.

    Raises
    ------
    ValueError
        If a key is missing or there are fewer than two base networks.
    """
    _require(data, ["time"], "family data")
    _require(effects, ["speed_ratio", "spread_ratio", "rho_early", "rho_late"], "family effects")
    out: dict[str, float] = {}
    for k in ("speed_ratio", "spread_ratio", "rho_early", "rho_late"):
        out[k], out[f"{k}_sd"] = _mean_sd(effects[k], k)
    t_early = np.asarray(data["time"], dtype=float)[:, 0]
    out["t_early_min"], out["t_early_max"] = float(t_early.min()), float(t_early.max())
    return out


def cached_noise_check(
    data: Mapping[str, np.ndarray],
    base: int = 0,
    *,
    N: int = 500,
    n_trials: int = 200,
    dt: float = 0.05,
    n_steps: int = 400,
    noise_std: float = 0.5,
) -> dict[str, np.ndarray]:
    """:func:`noise_check` of the least and the most noise-sensitive member of one family.

    Cached (:func:`lrtools.cache.cached_run`, entry ``"ch5-noise-check"``, keyed by
    every argument of :func:`noise_check`).

    Parameters
    ----------
    data : mapping
        :func:`family_runs` (``noise``, ``members``, ``base``).
    base : int
        Index of the family.
    N, n_trials, dt, n_steps, noise_std
        Settings of :func:`noise_check`.

    Returns
    -------
    dict
        :func:`noise_check` of the pair (least sensitive first).
    """
    _require(data, ["noise", "members", "base"], "family data")
    if not 0 <= base < len(data["noise"]):
        raise ValueError(f"base must be in [0, {len(data['noise'])}), got {base}")
    order = np.argsort(data["noise"][base])
    pair = data["members"][base][[order[0], order[-1]]]
    S = data["base"][base]
    return _cached_noise_check(S, pair, N=N, dt=dt, n_steps=n_steps, noise_std=noise_std,
                               n_trials=n_trials)


def noise_numbers(effects: Mapping[str, np.ndarray], check: Mapping[str, np.ndarray], *,
                  n_trials: int) -> dict[str, float]:
    """Key numbers of prediction 2 (chapter 5).

    Parameters
    ----------
    effects : mapping
        :func:`family_effects` (``noise_ratio``, ``noise_ratio_random``).
    check : mapping
        :func:`noise_check` of two members (``sampled``, ``predicted``, ``output_gap``).
    n_trials : int
        Trials of the check (for the expected sampling error of a variance).

    Returns
    -------
    dict
        ``noise_ratio``, ``noise_ratio_random`` with their sds over families;
        ``noise_pair_ratio``: predicted final variance, second over first member;
        ``noise_sim_err``: largest relative deviation of the mean simulated
        variance over the second half of the trial from the formula;
        ``noise_sim_expected``: ``sqrt(2 / (n_trials - 1))``, the relative
        sampling sd of one variance; ``noise_output_gap``.

    Raises
    ------
    ValueError
        If a key is missing, ``n_trials < 2`` or there are fewer than two families.
    """
    _require(effects, ["noise_ratio", "noise_ratio_random"], "family effects")
    _require(check, ["sampled", "predicted", "output_gap"], "noise check")
    if n_trials < 2:
        raise ValueError(f"n_trials must be at least 2, got {n_trials}")
    sampled, predicted = np.asarray(check["sampled"]), np.asarray(check["predicted"])
    late = slice(sampled.shape[1] // 2, None)  # second half of the trial: the variance has settled
    ratio_sim = sampled[:, late].mean(axis=1) / predicted[:, late].mean(axis=1)
    out: dict[str, float] = {}
    out["noise_ratio"], out["noise_ratio_sd"] = _mean_sd(effects["noise_ratio"], "noise_ratio")
    out["noise_ratio_random"], out["noise_ratio_random_sd"] = _mean_sd(
        effects["noise_ratio_random"], "noise_ratio_random")
    out["noise_pair_ratio"] = float(predicted[1, -1] / predicted[0, -1])
    out["noise_sim_err"] = float(np.max(np.abs(ratio_sim - 1)))
    out["noise_sim_expected"] = float(np.sqrt(2 / (n_trials - 1)))
    out["noise_output_gap"] = float(check["output_gap"])
    return out


def cohort_study(
    seeds: Sequence[int],
    *,
    n: int,
    N: int,
    eta: float,
    etas: Sequence[float],
    c: float = 0.2,
    epochs: tuple[int, int, int] = (3000, 1000, 2000),
    noise: float = 0.01,
) -> tuple[dict, dict, dict[str, np.ndarray]]:
    """Prediction 3 (chapter 5): both populations' cohorts, their effects and the step scan.

    Cached (:func:`lrtools.cache.cached_run`): ``"ch5-cohorts"`` per population
    (:func:`cohort_runs`) and ``"ch5-reversal-steps"`` (:func:`reversal_step_scan`
    with ``n // 2`` animals).

    Parameters
    ----------
    seeds : sequence of int
        One cohort per seed.
    n, N, eta, c, epochs
        Settings of :func:`reversal_cohort`.
    etas : sequence of float
        Plasticity steps of the scan.
    noise : float
        Relative measurement noise of :func:`cohort_effects`.

    Returns
    -------
    cohorts : dict
        ``{"uniform": ..., "diverse": ...}``, :func:`cohort_runs` each.
    effects : dict
        ``{population: {name: (n_cohorts, ...)}}``: :func:`cohort_effects` of
        each cohort (decoder seed = cohort index), stacked.
    step_scan : dict
        :func:`reversal_step_scan`.
    """
    if len(seeds) < 1:
        raise ValueError("need at least one cohort seed")
    params = dict(n=n, N=N, c=c, eta=eta, epochs=epochs)
    cohorts, effects = {}, {}
    for pop in ("uniform", "diverse"):
        cohorts[pop] = _cached_cohort_runs(seeds, population=pop, **params)
        per = [cohort_effects({k: v[i] for k, v in cohorts[pop].items()}, noise=noise, seed=i)
               for i in range(len(seeds))]
        effects[pop] = {k: np.array([e[k] for e in per]) for k in per[0]}
    step_scan = _cached_reversal_step_scan(etas, n=n // 2, N=N)
    return cohorts, effects, step_scan


def cohort_numbers(effects: Mapping[str, Mapping[str, np.ndarray]],
                   step_scan: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Key numbers of prediction 3 (chapter 5).

    Parameters
    ----------
    effects : mapping
        ``{"uniform": ..., "diverse": ...}`` from :func:`cohort_study`.
    step_scan : mapping
        :func:`reversal_step_scan` (``eta``, ``record``, ``record_negative``).

    Returns
    -------
    dict
        ``rec_*``: reductions (%) of the totals, reversal vs direct twin (mean,
        ``_sd`` over cohorts; ``mm``, ``zz``, ``W``, ``_div``: diverse population);
        ``neg_*``: fraction of animals with a lower total; ``d_*``: Cohen's d
        between groups; ``n_per_group``: animals per group for 80 % power at
        p < 0.05 (two-sided) on the readout total; ``acc_*``: decoding accuracy;
        ``beh_gap``: largest behaviour difference; ``step_*``: signed changes (%)
        at the largest and the smallest step, ``eta_large``, ``eta_small``.

    Raises
    ------
    ValueError
        If a population or key is missing or there are fewer than two cohorts.
    """
    _require(effects, ["uniform", "diverse"], "cohort effects")
    for pop in ("uniform", "diverse"):
        _require(effects[pop], ["record", "record_negative", "d", "acc_totals", "acc_behaviour",
                                "behaviour_gap"], f"{pop} effects")
    _require(step_scan, ["eta", "record", "record_negative"], "step scan")
    u, d = effects["uniform"], effects["diverse"]

    def pct(e, j):  # reduction in %, its sd
        m, s = _mean_sd(e["record"][:, j], "record")
        return -100 * m, 100 * s

    out: dict[str, float] = {}
    out["rec_mm"], out["rec_mm_sd"] = pct(u, 0)
    out["rec_zz"], out["rec_zz_sd"] = pct(u, 1)
    out["rec_W"], out["rec_W_sd"] = pct(u, 2)
    out["rec_W_div"], out["rec_W_div_sd"] = pct(d, 2)
    out["neg_uniform"] = float(u["record_negative"].min())
    out["neg_div"] = float(d["record_negative"][:, 2].mean())
    out["d_z"], out["d_z_sd"] = _mean_sd(u["d"][:, 1], "d")
    out["d_W"], out["d_W_sd"] = _mean_sd(u["d"][:, 2], "d")
    out["d_z_div"], out["d_z_div_sd"] = _mean_sd(d["d"][:, 1], "d")
    out["d_W_div"], out["d_W_div_sd"] = _mean_sd(d["d"][:, 2], "d")
    out["rec_zz_div"], out["rec_zz_div_sd"] = pct(d, 1)
    out["neg_div_z"] = float(d["record_negative"][:, 1].mean())
    out["n_per_group"] = int(np.ceil(2 * (1.96 + 0.84) ** 2 / out["d_z"] ** 2))
    out["acc_conn"], out["acc_conn_sd"] = _mean_sd(u["acc_totals"], "acc_totals")
    out["acc_beh"], out["acc_beh_sd"] = _mean_sd(u["acc_behaviour"], "acc_behaviour")
    out["acc_conn_div"] = float(d["acc_totals"].mean())
    out["acc_beh_div"] = float(d["acc_behaviour"].mean())
    out["beh_gap"] = float(max(u["behaviour_gap"].max(), d["behaviour_gap"].max()))
    rec, neg = np.asarray(step_scan["record"]), np.asarray(step_scan["record_negative"])
    for name, k in (("W", 2), ("mm", 0), ("zz", 1)):  # columns of synaptic_totals
        out[f"step_{name}_large"] = float(100 * rec[0, k])
        out[f"step_{name}_small"] = float(100 * rec[-1, k])
    out["step_neg_mz_small"] = float(neg[-1, :2].min())
    out["step_neg_W_small"] = float(neg[-1, 2])
    out["eta_large"], out["eta_small"] = float(step_scan["eta"][0]), float(step_scan["eta"][-1])
    return out


def balance_study(
    seeds: Sequence[int],
    erf_seeds: Sequence[int],
    *,
    N: int = 500,
    N_erf: int = 200,
    learning_time: float = 5.0,
) -> dict[str, dict[str, np.ndarray]]:
    """Prediction 4 (chapter 5): :func:`balance_runs` of every rule, linear and erf.

    Cached (:func:`lrtools.cache.cached_run`, entry ``"ch5-balance"``): once for the
    linear rules of :data:`PLASTICITY_RULES` (``N`` neurons, ``seeds``), once for
    the erf rule (``N_erf``, ``erf_seeds``).

    Returns
    -------
    dict
        ``{label: {quantity: (n_seeds, ...)}}`` as :func:`balance_runs`, both runs
        merged.
    """
    lin_rules = {k: r for k, r in PLASTICITY_RULES.items() if r.phi == "linear"}
    erf_rules = {k: r for k, r in PLASTICITY_RULES.items() if r.phi == "erf"}
    bal = _cached_balance_runs(lin_rules, seeds=seeds, N=N, learning_time=learning_time)
    bal_erf = _cached_balance_runs(erf_rules, seeds=erf_seeds, N=N_erf,
                                   learning_time=learning_time)
    runs: dict[str, dict[str, np.ndarray]] = {}
    for flat_runs in (bal, bal_erf):
        for key, v in flat_runs.items():
            label, q = key.rsplit("/", 1)
            runs.setdefault(label, {})[q] = v
    return runs


def balance_numbers(runs: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, float]:
    """Key numbers of prediction 4 (chapter 5).

    Parameters
    ----------
    runs : mapping
        :func:`balance_study`, with every rule of :data:`BALANCE_KEYS`.

    Returns
    -------
    dict
        ``bal_<key>_<q>`` and ``bal_<key>_<q>_sd`` (mean and sd over seeds) for
        every ``key`` of :data:`BALANCE_KEYS` and ``q`` in ``violation``,
        ``slope``, ``correlation``, ``total_ratio``; ``bal_eta_ratio``: mean
        per-seed violation ratio of the two gradient steps; ``bal_noise_ratio``:
        the same for the two noise levels.

    Raises
    ------
    ValueError
        If a rule is missing or has fewer than two seeds.
    """
    _require(runs, list(BALANCE_KEYS.values()), "balance runs")
    out: dict[str, float] = {}
    for key, label in BALANCE_KEYS.items():
        for q in ("violation", "slope", "correlation", "total_ratio"):
            out[f"bal_{key}_{q}"], out[f"bal_{key}_{q}_sd"] = _mean_sd(runs[label][q], label)
    L = BALANCE_KEYS
    out["bal_eta_ratio"] = float(np.mean(runs[L["gd"]]["violation"] / runs[L["gd2"]]["violation"]))
    out["bal_noise_ratio"] = float(np.mean(runs[L["n3"]]["violation"]
                                           / runs[L["n1"]]["violation"]))
    return out


def burial_study(
    pair: Mapping[str, np.ndarray],
    stds: Sequence[float],
    Ns: Sequence[int],
    *,
    N: int = 500,
    n_rep: int = 256,
    eta: float = 5e-3,
    seeds: Sequence[int] = (0, 1, 2),
    s_N: float = 4e-3,
    horizon: float = 4.0,
    n_points: int = 60,
    n_boot: int = 200,
) -> dict:
    """Prediction 5 (chapter 5): noise scans in ``s`` and ``N``, lifetimes and exponents.

    Cached (:func:`lrtools.cache.cached_run`, entry ``"ch5-burial"``): :func:`burial_runs`
    over ``stds`` at ``N``, and over ``Ns`` at noise ``s_N``.

    Parameters
    ----------
    pair : mapping
        :func:`memory_pair` (``aaa``, ``aba``).
    stds : sequence of float
        Noise amplitudes of the scan in ``s``.
    Ns : sequence of int
        Network sizes of the scan in ``N``.
    N, n_rep, eta, seeds, horizon, n_points
        Settings of :func:`burial_runs`.
    s_N : float
        Noise amplitude of the scan in ``N``.
    n_boot : int
        Bootstrap samples of :func:`lifetime_fit`.

    Returns
    -------
    dict
        ``runs_s``, ``runs_N``: :func:`burial_runs`; ``burial``, ``burial_N``:
        :func:`pool_runs` of them; ``fit``, ``fit_N``: :func:`lifetime_fit` of the
        pooled runs; ``exp_s``, ``exp_N``: :func:`fit_exponent` with bootstrap
        intervals; ``per_seed``: ``{"s": (n_seeds,), "N": (n_seeds,)}``, the
        exponents of each replication alone.
    """
    if len(stds) < 2 or len(Ns) < 2:
        raise ValueError(f"exponents need at least two noise levels and two sizes, got "
                         f"{len(stds)} and {len(Ns)}")
    states = [pair["aaa"], pair["aba"]]
    params = dict(n_rep=n_rep, eta=eta, horizon=horizon, n_points=n_points, seeds=seeds)
    runs_s = _cached_burial_runs(*states, stds, N=N, **params)
    runs_N = _cached_burial_runs(*states, [s_N] * len(Ns), N=Ns, **params)
    # pooled over the independent replications (bootstrap over individuals) and per replication
    burial, burial_N = pool_runs(runs_s), pool_runs(runs_N)
    fit, fit_N = lifetime_fit(burial, n_boot=n_boot), lifetime_fit(burial_N, n_boot=n_boot)
    per_seed = {}
    for name, r, x in (("s", runs_s, "std"), ("N", runs_N, "N")):
        per_seed[name] = np.array([fit_exponent(r[x][i], lifetime_fit(
            {k: v[i] for k, v in r.items()}, n_boot=1)["t_star"])["exponent"]
            for i in range(len(r[x]))])
    return {"runs_s": runs_s, "runs_N": runs_N, "burial": burial, "burial_N": burial_N,
            "fit": fit, "fit_N": fit_N,
            "exp_s": fit_exponent(burial["std"], fit["t_star"], fit["t_boot"]),
            "exp_N": fit_exponent(burial_N["N"], fit_N["t_star"], fit_N["t_boot"]),
            "per_seed": per_seed}


def burial_numbers(pair: Mapping[str, np.ndarray], study: Mapping,
                   decay: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Key numbers of prediction 5 (chapter 5).

    Parameters
    ----------
    pair : mapping
        :func:`memory_pair` (``D0``, ``function_gap``).
    study : mapping
        :func:`burial_study`.
    decay : mapping
        :func:`weight_decay_erasure`.

    Returns
    -------
    dict
        ``D0``, ``pair_function_gap``; ``exp_s``, ``exp_N`` with ``_low``,
        ``_high`` (bootstrap interval) and ``_seed_sd`` (sd over replications);
        ``life_ratio`` (measured over predicted lifetime) and ``retention`` (late
        mean difference over ``D0``), mean and sd over both scans;
        ``t_star_1e3``: lifetime at the first noise level; ``s_min``, ``s_max``,
        ``N_min``, ``N_max``: the scanned ranges; ``wd_ratio_small``,
        ``wd_ratio_large``: fitted over predicted decay rate at the smallest and
        the largest weight decay ``wd_small``, ``wd_large``.

    Raises
    ------
    ValueError
        If a key is missing.
    """
    _require(pair, ["D0", "function_gap"], "memory pair")
    _require(study, ["burial", "burial_N", "fit", "fit_N", "exp_s", "exp_N", "per_seed"],
             "burial study")
    _require(decay, ["weight_decay", "fitted_rate", "predicted_rate"], "weight decay runs")
    fit, fit_N = study["fit"], study["fit_N"]
    ratio = np.concatenate([fit["t_star"] / fit["t_pred"], fit_N["t_star"] / fit_N["t_pred"]])
    retention = np.concatenate([fit["retention"], fit_N["retention"]])
    out: dict[str, float] = {"D0": float(pair["D0"]),
                             "pair_function_gap": float(pair["function_gap"])}
    for x in ("s", "N"):
        e = study[f"exp_{x}"]
        out[f"exp_{x}"], out[f"exp_{x}_low"], out[f"exp_{x}_high"] = (
            float(e["exponent"]), float(e["low"]), float(e["high"]))
    out["exp_s_seed_sd"] = _mean_sd(study["per_seed"]["s"], "per-seed exponent in s")[1]
    out["exp_N_seed_sd"] = _mean_sd(study["per_seed"]["N"], "per-seed exponent in N")[1]
    out["life_ratio"], out["life_ratio_sd"] = _mean_sd(ratio, "lifetime ratio")
    out["retention"], out["retention_sd"] = _mean_sd(retention, "retention")
    out["t_star_1e3"] = float(fit["t_star"][0])
    s, Ns = study["burial"]["std"], study["burial_N"]["N"]
    out["s_min"], out["s_max"] = float(s[0]), float(s[-1])
    out["N_min"], out["N_max"] = int(Ns[0]), int(Ns[-1])
    rate = np.asarray(decay["fitted_rate"]) / np.asarray(decay["predicted_rate"])
    out["wd_ratio_small"], out["wd_ratio_large"] = float(rate[0]), float(rate[-1])
    out["wd_small"] = float(decay["weight_decay"][0])
    out["wd_large"] = float(decay["weight_decay"][-1])
    return out


def summary_table(values: Mapping[str, float]) -> str:
    """The chapter's summary of the six predictions as a Markdown table.

    Parameters
    ----------
    values : mapping
        The chapter's key numbers (``lrtools.report.Numbers.values``).

    Returns
    -------
    str
        A Markdown table: prediction, what is measured, effect (mean ± sd over seeds).

    Raises
    ------
    ValueError
        If a number the table quotes is missing.
    """
    v = values
    _require(v, ["speed_ratio", "speed_ratio_sd", "rho_early", "rho_early_sd", "noise_ratio",
                 "noise_ratio_sd", "noise_ratio_random", "noise_ratio_random_sd", "rec_zz",
                 "rec_zz_sd", "d_z", "acc_conn", "acc_beh", "bal_gd_violation",
                 "bal_n3_violation", "bal_adam_violation", "bal_erf_violation", "exp_s",
                 "exp_s_low", "exp_s_high", "exp_N", "exp_N_low", "exp_N_high",
                 "rho_noise_time", "rho_noise_time_sd"], "key numbers")
    rows = [
        ("1. Equal behaviour, different learning speed", "learning curves; connectivity to rank",
         f"slowest/fastest predicted quartile {v['speed_ratio']:.2f} ± {v['speed_ratio_sd']:.2f}; "
         f"ρ = {v['rho_early']:.2f} ± {v['rho_early_sd']:.2f}"),
        ("2. Stimulation separates equivalent circuits", "output variability under stimulation",
         f"quartile ratio {v['noise_ratio']:.2f} ± {v['noise_ratio_sd']:.2f} trained, "
         f"{v['noise_ratio_random']:.2f} ± {v['noise_ratio_random_sd']:.2f} untrained"),
        ("3. A reversal leaves weaker input and readout synapses", "synaptic totals of two groups",
         f"readout −{v['rec_zz']:.2f} ± {v['rec_zz_sd']:.2f} %, d = {v['d_z']:.1f} (uniform); "
         f"decoding {v['acc_conn']:.2f} vs behaviour {v['acc_beh']:.2f}"),
        ("4. Per-neuron balance law", "incoming vs outgoing synaptic change per neuron",
         f"violation GD {v['bal_gd_violation']:.4f}, noise 3e-3 {v['bal_n3_violation']:.2f}, "
         f"Adam {v['bal_adam_violation']:.2f}, erf {v['bal_erf_violation']:.2f}"),
        ("5. Noise buries the memory", "connectivity of cohorts at several delays",
         f"lifetime ∝ s^p N^q: p = {v['exp_s']:.2f} [{v['exp_s_low']:.2f}, {v['exp_s_high']:.2f}], "
         f"q = {v['exp_N']:.2f} [{v['exp_N_low']:.2f}, {v['exp_N_high']:.2f}] (95 % intervals)"),
        ("6. Noise sensitivity predicts learning speed", "stimulation variability, then learning",
         f"ρ = {v['rho_noise_time']:.2f} ± {v['rho_noise_time_sd']:.2f}"),
    ]
    table = "| prediction | measured | effect (mean ± sd over seeds) |\n|---|---|---|\n"
    return table + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)


def _titled(axes, titles, **kw) -> None:
    for ax, title in zip(axes, titles, strict=True):
        ax.set_title(title, **kw)


def plot_p1_learning_speed(data: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray]):
    """Figure of prediction 1 (chapter 5): :func:`plot_family` on three titled panels.

    Parameters
    ----------
    data, effects : mapping
        :func:`family_runs` and :func:`family_effects`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), width_ratios=[1.25, 1, 0.8])
    plot_family(axes, data, effects)
    _titled(axes, ["a  one family learns c = 0.4", "b  predicted speed vs outcome",
                   f"c  {len(data['speed'])} base networks"])
    return fig


def plot_p2_noise_separation(check: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray],
                             *, N: int, dt: float = 0.05):
    """Figure of prediction 2 (chapter 5): :func:`plot_noise_separation` on two titled panels.

    Parameters
    ----------
    check : mapping
        :func:`noise_check` (or :func:`cached_noise_check`) of two members.
    effects : mapping
        :func:`family_effects`.
    N : int
        Neurons of the checked networks (for the title).
    dt : float
        Time step of the check (time axis ``k dt``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    t = np.arange(np.shape(check["sampled"])[1]) * dt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), width_ratios=[1.4, 1])
    plot_noise_separation(axes, check, effects, t)
    _titled(axes, [f"a  two equivalent trained networks, N = {N}",
                   f"b  {len(effects['noise_ratio'])} families each"])
    return fig


def plot_p3_reversal(cohorts: Mapping[str, Mapping[str, np.ndarray]],
                     effects: Mapping[str, Mapping[str, np.ndarray]],
                     step_scan: Mapping[str, np.ndarray]):
    """Figure of prediction 3 (chapter 5): :func:`plot_cohort` on three titled panels.

    Parameters
    ----------
    cohorts, effects, step_scan
        The three results of :func:`cohort_study`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    n_cohorts = len(next(iter(effects.values()))["acc_totals"])
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), width_ratios=[1.1, 1.2, 0.9])
    plot_cohort(axes, cohorts, effects, step_scan)
    _titled(axes, ["a  paired change, one cohort each",
                   f"b  history from two groups ({n_cohorts} cohorts)",
                   "c  uniform cohort: step size"])
    return fig


def plot_p4_balance(runs: Mapping[str, Mapping[str, np.ndarray]]):
    """Figure of prediction 4 (chapter 5): :func:`plot_balance`, four example rules.

    Parameters
    ----------
    runs : mapping
        :func:`balance_study` (needs the rules ``gd``, ``n3``, ``adam`` and
        ``erf`` of :data:`BALANCE_KEYS`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    examples = [BALANCE_KEYS[k] for k in ("gd", "n3", "adam", "erf")]
    _require(runs, examples, "balance runs")
    fig, axes = plt.subplots(1, 5, figsize=(17, 3.9), width_ratios=[1, 1, 1, 1, 1.5])
    plot_balance(axes, runs, examples, short=BALANCE_SHORT)
    for ax, letter in zip(axes, "abcde", strict=True):
        ax.set_title(f"{letter}  " + ax.get_title(), fontsize="small")
    return fig


def plot_p5_noise_burial(study: Mapping, decay: Mapping[str, np.ndarray]):
    """Figure of prediction 5 (chapter 5): :func:`plot_burial` on four titled panels.

    Panel a shows the second noise level of the scan in ``s``.

    Parameters
    ----------
    study : mapping
        :func:`burial_study`.
    decay : mapping
        :func:`weight_decay_erasure`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(17, 3.9))
    plot_burial(axes, study["burial"], study["fit"], show=1,
                N_scan=(study["burial_N"], study["fit_N"]), decay=decay)
    _titled(axes, ["a  individuals under noise", "b  readability",
                   "c  lifetime (inset: N, s = 4e-3)", "d  weight decay erases"],
            loc="left", fontsize="small")
    return fig


def plot_p6_noise_speed(data: Mapping[str, np.ndarray], effects: Mapping[str, np.ndarray]):
    """Figure of prediction 6 (chapter 5): :func:`plot_noise_speed` on one titled panel.

    Parameters
    ----------
    data, effects : mapping
        :func:`family_runs` and :func:`family_effects`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 4))
    plot_noise_speed(ax, data, effects)
    ax.set_title("noise sensitivity vs learning time, five families", fontsize="small")
    return fig
