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

import concurrent.futures
import dataclasses
from dataclasses import dataclass, field

import numpy as np

from . import theory
from ._parallel import SerialExecutor, run_jobs
from .network import LowRankRNN
from .overlaps import Overlaps, vector_names
from .tasks import DecisionMaking, FlipFlop, Task, TeacherStudent
from .training import train

__all__ = [
    "TwinProtocol",
    "random_overlaps",
    "twin_experiment",
    "network_twin_check",
    "twin_distances",
    "twin_features",
    "twin_behaviour",
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


def _task_a(batch_size: int) -> FlipFlop:
    return FlipFlop(dt=0.05, t_max=20.0, batch_size=batch_size, wait_min=1.0, wait_max=2.0,
                    amplitude=2.0, level=1.0, mask_lead=1)


def _task_b(batch_size: int) -> DecisionMaking:
    return DecisionMaking(dt=0.05, t_max=20.0, batch_size=batch_size,
                          coherences=(-16.0, -8.0, -2.0, 2.0, 8.0, 16.0), noise_std=0.05,
                          noise="sample")


def _task_c(batch_size: int) -> TeacherStudent:
    return TeacherStudent(dt=0.05, t_max=20.0, batch_size=batch_size, loss_scale=20.0)


@dataclass(frozen=True, kw_only=True)
class TwinProtocol:
    """The paper's twin experiment (Figures 9, 10, 4d-f), as the authors' code runs it.

    From each random start (:func:`random_overlaps`: cross overlaps
    ``|N(0, 0.4^2)|``, norms ``U(0.5, 2)``) twin A learns ``task_a`` and twin B
    ``task_b`` for ``epochs[0]`` epochs at ``eta_ab`` (each network's rate divided by
    5 the first time its batch loss falls below 0.015), then both learn ``task_c``
    for ``epochs[1]`` epochs at ``eta_c``. The tasks of :meth:`paper`, from the
    authors' code: flip-flop with waits in [1, 2] s, pulses of amplitude 2 and
    target +-1 (the mask also drops the step before each pulse); decision making
    with coherences +-16, +-8, +-2, target coh/16 and input noise of standard
    deviation 0.05 on every sample of the trial; the teacher-student task whose
    loss is the mean squared error times the trial duration (20 s); ``dt = 0.05``,
    ``T = 20`` s, batch 128.

    Parameters
    ----------
    task_a, task_b, task_c : Task
        The three tasks (the same time grid and batch size).
    epochs : (int, int)
        Epochs of the A/B phase and of phase C.
    eta_ab, eta_c : float
        Their learning rates (overlap-space rates; the vectors' rate is ``N eta``).
    eta_drop : (float, float) or None
        ``(loss threshold, divisor)`` of the A/B rate, per network.
    n_pairs : int
        Twin pairs (the paper: 10).
    cross_std, norm_range
        The recipe of the random starts.
    record_every : int
        Epochs between recorded overlaps.
    seed : int
        Seed of the starts and of the batch streams.
    """

    task_a: Task = field(default_factory=lambda: _task_a(128))
    task_b: Task = field(default_factory=lambda: _task_b(128))
    task_c: Task = field(default_factory=lambda: _task_c(128))
    epochs: tuple[int, int] = (30000, 30000)
    eta_ab: float = 0.01
    eta_c: float = 1e-3
    eta_drop: tuple[float, float] | None = (0.015, 5.0)
    n_pairs: int = 10
    cross_std: float = 0.4
    norm_range: tuple[float, float] = (0.5, 2.0)
    record_every: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        grids = {(t.dt, t.t_max, getattr(t, "batch_size", None))
                 for t in (self.task_a, self.task_b, self.task_c)}
        if len(grids) != 1:
            raise ValueError(f"the three tasks must share dt, t_max and batch_size, got {grids}")
        if len(self.epochs) != 2 or min(self.epochs) < 1:
            raise ValueError(f"epochs must be (A/B epochs, C epochs), both >= 1, got {self.epochs}")
        if self.n_pairs < 2:
            raise ValueError(f"need at least two twin pairs, got {self.n_pairs}")

    @property
    def batch_size(self) -> int:
        """Trials per batch (all three tasks)."""
        return int(self.task_a.batch_size)

    @classmethod
    def paper(cls) -> TwinProtocol:
        """The paper's protocol and scale (30000 + 30000 epochs, batch 128, 10 pairs)."""
        return cls()

    @classmethod
    def fast(cls) -> TwinProtocol:
        """The same protocol at a small scale: 4000 + 4000 epochs, batch 32, 20 pairs."""
        return cls(task_a=_task_a(32), task_b=_task_b(32), task_c=_task_c(32),
                   epochs=(4000, 4000), n_pairs=20)

    @classmethod
    def for_mode(cls, fast: bool) -> TwinProtocol:
        """:meth:`fast` if ``fast`` else :meth:`paper`."""
        return cls.fast() if fast else cls.paper()

    def replace(self, **changes) -> TwinProtocol:
        """A copy with some fields changed (unknown names raise ``TypeError``)."""
        return dataclasses.replace(self, **changes)


def twin_experiment(protocol: TwinProtocol | None = None, *, update: str = "exact",
                    progress: bool | None = None,
                    executor: concurrent.futures.Executor | None = None,
                    ) -> dict[str, np.ndarray]:
    """The paper's nonlinear memory experiment in the reduced erf theory, many networks at once.

    All A twins share one batch stream, all B twins another, and in phase C all
    networks share one stream (:func:`lrtools.theory.learn_many`). Phase C starts
    from the state after the last A/B update.

    With an ``executor`` the experiment runs as two jobs at a time: the A phase and
    the B phase, then phase C of the A twins and of the B twins (the same batch
    stream for both). Every network is updated on its own, so the result is the
    same as without one, bit for bit.

    Parameters
    ----------
    protocol : TwinProtocol, optional
        Default: :meth:`TwinProtocol.paper`.
    update : {"exact", "first-order"}
        The overlap map (``"first-order"``: the authors' Euler form of the flow).
    progress : bool, optional
        Progress bars.
    executor : concurrent.futures.Executor, optional
        Where the jobs run (:func:`lrtools.make_executor`; ``"processes:2"`` on two
        cores). Default (or a :class:`lrtools.SerialExecutor`): this process, one call
        per phase.

    Returns
    -------
    dict
        ``start`` ``(n_pairs, 4, 4)``; ``ab`` and ``c``: overlaps ``(n_rec, n_pairs, 2,
        4, 4)`` (twin axis: 0 = A, 1 = B) at epochs ``ab_epoch``, ``c_epoch``;
        ``ab_loss``, ``c_loss`` ``(epochs, n_pairs, 2)``; ``ab_drop``
        ``(n_pairs, 2)``.
    """
    p = TwinProtocol() if protocol is None else protocol
    if update not in ("exact", "first-order"):
        raise ValueError(f"update must be 'exact' or 'first-order', got {update!r}")
    n, (e_ab, e_c) = int(p.n_pairs), p.epochs
    start = random_overlaps(n, [p.seed, 0], cross_std=p.cross_std, norm_range=p.norm_range)
    opts = (p.record_every, update, progress)
    runs = run_jobs(_learn_job, [(start, t, e_ab, p.eta_ab, [p.seed, i + 1], p.eta_drop, *opts)
                                 for i, t in enumerate((p.task_a, p.task_b))], executor)
    after = np.stack([runs[0]["overlaps"][-1], runs[1]["overlaps"][-1]], axis=1)  # (n, 2, 4, 4)
    if executor is None or isinstance(executor, SerialExecutor):  # one call: batches drawn once
        c = _learn_job(after.reshape(-1, 4, 4), p.task_c, e_c, p.eta_c, [p.seed, 3], None, *opts)
        c_overlaps, c_loss = c["overlaps"], c["loss"]
    else:  # the A twins and the B twins, on the same batches: interleave them back
        halves = run_jobs(_learn_job, [(after[:, k], p.task_c, e_c, p.eta_c, [p.seed, 3], None,
                                        *opts) for k in (0, 1)], executor)
        c = halves[0]
        c_overlaps = np.stack([h["overlaps"] for h in halves], axis=2)
        c_loss = np.stack([h["loss"] for h in halves], axis=2)
    n_rec = len(c["epoch"])
    return {
        "start": start,
        "ab": np.stack([runs[0]["overlaps"], runs[1]["overlaps"]], axis=2),
        "ab_epoch": runs[0]["epoch"],
        "ab_loss": np.stack([runs[0]["loss"], runs[1]["loss"]], axis=2),
        "ab_drop": np.stack([runs[0]["drop_epoch"], runs[1]["drop_epoch"]], axis=1),
        "c": c_overlaps.reshape(n_rec, n, 2, 4, 4),
        "c_epoch": c["epoch"],
        "c_loss": c_loss.reshape(e_c, n, 2),
    }


def _learn_job(S0: np.ndarray, task: Task, epochs: int, eta: float, seed: list,
               eta_drop: tuple | None, record_every: int, update: str,
               progress: bool | None) -> dict[str, np.ndarray]:
    """One phase of :func:`twin_experiment` (a module-level job for any executor)."""
    return theory.learn_many(S0, task, epochs, eta, "erf", seed=seed, eta_drop=eta_drop,
                             record_every=record_every, update=update, progress=progress)


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
    nodes: int = 0,
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
    nodes : int
        If positive, also run the population limit (:func:`lrtools.theory.learn`
        with ``closure="population"`` and this many nodes per dimension).

    Returns
    -------
    dict
        Histories stored with :meth:`History.to_arrays` under the prefixes
        ``net_A/``, ``net_B/`` (with the first and last vectors), ``th_A/``,
        ``th_B/`` and, with ``nodes``, ``pop_A/``, ``pop_B/``.
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
        if nodes:
            pop = theory.learn(S, task, epochs, eta, phi="erf", seed=seed,
                               closure="population", nodes=nodes)
            out.update(pop.to_arrays(f"pop_{twin}/"))
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
        ``visible`` ``(n_pairs, 2, 7)`` and ``invisible`` ``(n_pairs, 2, 3)`` (erf), and
        ``balance_free`` ``(n_pairs, 2, 3)``: ``sigma_zv``, ``sigma_zz`` and the balance
        ``sigma_uu - sigma_vv`` in place of ``sigma_vv``. Learning nearly conserves the
        balance, so ``sigma_vv`` follows the visible ``sigma_uu``; without it, what the
        invisible overlaps know is their own.
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
    out["balance_free"] = np.stack([M[..., 2, 3], M[..., 3, 3], M[..., 1, 1] - M[..., 2, 2]],
                                   axis=-1)
    return out


def twin_behaviour(data: dict, stage: str, probes, every: int = 20) -> np.ndarray:
    """What each twin *does*: its reduced erf output on fixed probe inputs.

    Parameters
    ----------
    data : dict
        From :func:`twin_experiment`.
    stage : {"start", "ab", "c"}
        As in :func:`twin_features`.
    probes : sequence of (Batch, float)
        Probe batches with their time step (e.g. a few trials of each task); their
        inputs are used.
    every : int
        Keep every ``every``-th output sample.

    Returns
    -------
    numpy.ndarray, shape (n_pairs, 2, n_features)
        The concatenated outputs, a behavioural read-out for a decoder.
    """
    if stage == "start":
        M = np.repeat(data["start"][:, None], 2, axis=1)
    else:
        M = data[stage][-1]
    out = []
    for S in M.reshape(-1, 4, 4):
        S = Overlaps(S, _NAMES)
        out.append(np.concatenate([theory.run(S, b[0], dt, "erf")[:, ::every, 0].ravel()
                                   for b, dt in probes]))
    return np.array(out).reshape(M.shape[0], 2, -1)


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
