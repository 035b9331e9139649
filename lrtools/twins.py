"""Nonlinear twins: two networks from one start, two histories, one later task (chapter 4).

The paper's Figures 9, 10 and 4d-f: from each random start
(:func:`random_overlaps`) twin A learns flip-flop and twin B decision making,
then both learn the teacher-student task C. :func:`twin_experiment` runs this in
the reduced (Gaussian-limit) erf theory for many networks at once
(:func:`lrtools.theory.learn_many`); :func:`network_twin_check` repeats task C for
one pair in the ``N``-dimensional network. :func:`twin_distances` and
:func:`twin_features` measure how far the twins are apart in the visible and the
invisible overlaps; :func:`lrtools.decoding.decode_history` decodes the history
from those features.
"""

from __future__ import annotations

import numpy as np

from . import theory
from .network import LowRankRNN
from .overlaps import Overlaps, vector_names
from .tasks import DecisionMaking, FlipFlop, TeacherStudent
from .training import train

__all__ = [
    "random_overlaps",
    "twin_experiment",
    "network_twin_check",
    "twin_distances",
    "twin_features",
    "median_twin_pair",
]

_NAMES = vector_names(1, 1, 1)  # ("m", "u", "v", "z"), as lrtools.memory.NAMES


def random_overlaps(
    n: int,
    seed: np.random.Generator | int | None = None,
    *,
    cross_std: float = 0.4,
    norm_range: tuple[float, float] = (0.5, 2.0),
    min_eig: float = 1e-3,
) -> np.ndarray:
    """Random rank-1 overlap matrices of the paper's nonlinear memory experiment.

    Cross overlaps ``|N(0, cross_std^2)|``, norms ``sigma_aa ~ U(norm_range)``;
    draws that are not positive definite (smallest eigenvalue below ``min_eig``)
    are rejected and redrawn.

    Parameters
    ----------
    n : int
        Number of matrices.
    seed : numpy.random.Generator, int or None
        Seed (anything :func:`numpy.random.default_rng` accepts).
    cross_std, norm_range, min_eig
        The recipe (see above).

    Returns
    -------
    numpy.ndarray, shape (n, 4, 4)
        Order ``(m, u, v, z)``.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((int(n), 4, 4))
    iu = np.triu_indices(4, 1)
    for i in range(int(n)):
        for _ in range(10_000):
            S = np.diag(rng.uniform(*norm_range, size=4))
            S[iu] = np.abs(rng.normal(0.0, cross_std, size=len(iu[0])))
            S = np.triu(S) + np.triu(S, 1).T
            if np.linalg.eigvalsh(S)[0] > min_eig:
                out[i] = S
                break
        else:  # pragma: no cover - needs absurd parameters
            raise ValueError("could not draw a positive definite overlap matrix")
    return out


def twin_experiment(
    n_pairs: int = 10,
    *,
    seed: int = 0,
    epochs_ab: int = 30000,
    epochs_c: int = 30000,
    eta_ab: float = 0.01,
    eta_c: float = 1e-3,
    eta_drop: tuple[float, float] | None = (0.015, 5.0),
    batch_size: int = 128,
    dt: float = 0.05,
    t_max: float = 20.0,
    record_every: int = 100,
    cross_std: float = 0.4,
    norm_range: tuple[float, float] = (0.5, 2.0),
) -> dict[str, np.ndarray]:
    """The paper's nonlinear memory experiment (Figures 9, 10, 4d-f), reduced erf theory.

    ``n_pairs`` random starts (:func:`random_overlaps`); from each, twin 0 learns
    flip-flop (A) and twin 1 decision making (B) for ``epochs_ab`` epochs (rate
    ``eta_ab``, divided per network by ``eta_drop``), then both learn the
    teacher-student task C for ``epochs_c`` epochs at ``eta_c``. Defaults are the
    paper's settings. All A twins share one batch stream, all B twins another, and
    in phase C all networks share one stream.

    Parameters
    ----------
    n_pairs : int
        Number of twin pairs.
    seed : int
        Seed of the starts and of the batch streams.
    epochs_ab, epochs_c : int
        Epochs of the A/B phase and of phase C.
    eta_ab, eta_c : float
        Their learning rates.
    eta_drop : (float, float) or None
        ``(loss threshold, divisor)`` of the A/B rate, per network.
    batch_size, dt, t_max
        The tasks' batch and time grid.
    record_every : int
        Epochs between recorded overlaps.
    cross_std, norm_range
        The recipe of :func:`random_overlaps`.

    Returns
    -------
    dict
        ``start`` ``(n_pairs, 4, 4)``; ``ab`` and ``c``: overlaps ``(n_rec, n_pairs, 2,
        4, 4)`` (twin axis: 0 = A, 1 = B) at epochs ``ab_epoch``, ``c_epoch``;
        ``ab_loss``, ``c_loss`` ``(epochs, n_pairs, 2)``; ``ab_drop``
        ``(n_pairs, 2)``.
    """
    start = random_overlaps(n_pairs, [seed, 0], cross_std=cross_std, norm_range=norm_range)
    kw = {"dt": dt, "t_max": t_max, "batch_size": batch_size}
    tA, tB, tC = FlipFlop(**kw), DecisionMaking(**kw), TeacherStudent(**kw)
    runs = [theory.learn_many(start, t, epochs_ab, eta_ab, "erf", seed=[seed, i + 1],
                              eta_drop=eta_drop, record_every=record_every)
            for i, t in enumerate((tA, tB))]
    after = np.stack([runs[0]["overlaps"][-1], runs[1]["overlaps"][-1]], axis=1)  # (n, 2, 4, 4)
    c = theory.learn_many(after.reshape(-1, 4, 4), tC, epochs_c, eta_c, "erf", seed=[seed, 3],
                          record_every=record_every)
    n_rec = len(c["epoch"])
    return {
        "start": start,
        "ab": np.stack([runs[0]["overlaps"], runs[1]["overlaps"]], axis=2),
        "ab_epoch": runs[0]["epoch"],
        "ab_loss": np.stack([runs[0]["loss"], runs[1]["loss"]], axis=2),
        "ab_drop": np.stack([runs[0]["drop_epoch"], runs[1]["drop_epoch"]], axis=1),
        "c": c["overlaps"].reshape(n_rec, n_pairs, 2, 4, 4),
        "c_epoch": c["epoch"],
        "c_loss": c["loss"].reshape(epochs_c, n_pairs, 2),
    }


def network_twin_check(
    twins: np.ndarray,
    *,
    N: int = 1000,
    epochs: int = 200,
    eta: float = 0.1,
    batch_size: int = 10,
    dt: float = 0.05,
    t_max: float = 20.0,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Task C for one twin pair in the N-dimensional erf network and in the reduced theory.

    Each twin becomes a network of ``N`` neurons with random vectors whose overlaps
    are exactly the twin's (:meth:`LowRankRNN.from_overlaps`, close to Gaussian
    entries), and learns the teacher-student task; the reduced theory
    (:func:`lrtools.theory.learn`, ``phi="erf"``) runs from the same overlaps on the
    same batches.

    Parameters
    ----------
    twins : numpy.ndarray, shape (2, 4, 4)
        Overlaps of twin A and twin B (e.g. after the A/B phase of
        :func:`twin_experiment`).
    N : int
        Neurons of the networks.
    epochs, eta, batch_size
        Gradient descent on task C.
    dt, t_max
        Time grid of the task.
    seed : int
        Seed of the vectors (``10 seed + twin``) and of the batches.

    Returns
    -------
    dict
        Histories stored with :meth:`History.to_arrays` under the prefixes
        ``net_A/``, ``net_B/`` (with the first and last vectors) and ``th_A/``,
        ``th_B/``.
    """
    task = TeacherStudent(dt=dt, t_max=t_max, batch_size=batch_size)
    out: dict[str, np.ndarray] = {}
    for i, twin in enumerate(("A", "B")):
        S = Overlaps(np.asarray(twins)[i], _NAMES)
        net = LowRankRNN.from_overlaps(S, N=N, phi="erf", seed=seed * 10 + i)
        hist = train(net, task, epochs, eta, seed=seed, snapshot_every=epochs)
        out.update(hist.to_arrays(f"net_{twin}/"))
        th = theory.learn(S, task, epochs, eta, phi="erf", seed=seed)
        out.update(th.to_arrays(f"th_{twin}/"))
    return out


def twin_distances(data: dict, phi: str = "erf") -> dict[str, np.ndarray]:
    """Distance between twins (A vs B) over the experiment, per pair.

    Parameters
    ----------
    data : dict
        From :func:`twin_experiment`.
    phi : str
        Nonlinearity that splits visible from invisible overlaps.

    Returns
    -------
    dict
        ``epoch`` (A/B phase then C, continued), ``visible`` and ``invisible``: the
        Euclidean norm of the twin difference over each set, ``(n_rec, n_pairs)``.
    """
    S = Overlaps(np.eye(4), _NAMES)
    idx = {}
    for name, keys in (("visible", S.visible(phi)), ("invisible", S.invisible(phi))):
        idx[name] = [(S.index(S.split(k)[0]), S.index(S.split(k)[1])) for k in keys]
    traj = np.concatenate([data["ab"], data["c"][1:]])  # (n, pairs, 2, 4, 4)
    diff = traj[:, :, 0] - traj[:, :, 1]
    out = {"epoch": np.concatenate([data["ab_epoch"], data["ab_epoch"][-1] + data["c_epoch"][1:]])}
    for name, ij in idx.items():
        vals = np.stack([diff[..., i, j] for i, j in ij], axis=-1)
        out[name] = np.linalg.norm(vals, axis=-1)
    return out


def twin_features(data: dict, stage: str, phi: str = "erf") -> dict[str, np.ndarray]:
    """Visible and invisible overlaps of every twin at ``stage`` in {"start", "ab", "c"}.

    Parameters
    ----------
    data : dict
        From :func:`twin_experiment` (``stage="c"`` needs only its ``c``).
    stage : {"start", "ab", "c"}
        The start, the end of the A/B phase or the end of phase C.
    phi : str
        Nonlinearity that splits visible from invisible overlaps.

    Returns
    -------
    dict
        ``visible`` ``(n_pairs, 2, 7)`` and ``invisible`` ``(n_pairs, 2, 3)`` (erf).
    """
    if stage == "start":
        M = np.repeat(data["start"][:, None], 2, axis=1)
    elif stage in ("ab", "c"):
        M = data[stage][-1]
    else:
        raise ValueError(f"stage must be 'start', 'ab' or 'c', got {stage!r}")
    S = Overlaps(np.eye(4), _NAMES)
    out = {}
    for name, keys in (("visible", S.visible(phi)), ("invisible", S.invisible(phi))):
        ij = [(S.index(S.split(k)[0]), S.index(S.split(k)[1])) for k in keys]
        out[name] = np.stack([M[..., i, j] for i, j in ij], axis=-1)
    return out


def median_twin_pair(data: dict) -> int:
    """Index of the twin pair whose final invisible distance is the median over pairs.

    With an even number of pairs, the upper of the two middle ones.

    Parameters
    ----------
    data : dict
        From :func:`twin_experiment`.

    Returns
    -------
    int
        The pair's index.
    """
    dist = twin_distances(data)
    return int(np.argsort(dist["invisible"][-1])[data["start"].shape[0] // 2])
