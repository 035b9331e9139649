"""Training the N-dimensional network: gradient descent (rate ``N eta``) or Adam.

One loop (:func:`_descend`) moves the vectors of one network (:func:`train`, with
hand-written backpropagation through the network) or of many linear networks at
once (:func:`train_many`, whose gradient is exactly ``X Gamma(S) / N``): the same
optimiser steps, weight decay, synaptic noise, divergence checks and records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import _progress
from ._checks import OPTIMIZERS, check_epochs, check_nonnegative, check_optimizer, check_rate
from .history import DivergenceError, History
from .network import LowRankRNN
from .overlaps import psd_sqrt
from .tasks import Task, batches

__all__ = ["train", "train_many", "OPTIMIZERS"]

# Loss growth (relative to the initial loss + 1) taken as divergence.
_DIVERGENCE_FACTOR = 1e6


def _noise_generators(seeds, n: int, weight_noise: float):
    """One generator per network for the synaptic noise (``None`` without noise)."""
    if weight_noise <= 0:
        return None
    out = []
    for s in seeds:
        if isinstance(s, np.random.Generator):
            out.append(s)
        else:
            out.append(np.random.default_rng(None if s is None else [int(s), 1]))
    if len(out) != n:
        raise ValueError(f"{n} networks need {n} seeds, got {len(out)}")
    return out


def _descend(
    X: np.ndarray,
    gradient: Callable[[np.ndarray, tuple, np.ndarray], tuple[np.ndarray, np.ndarray]],
    task: Task,
    epochs: int,
    eta: float,
    optimizer: str,
    *,
    stream,
    noise: list[np.random.Generator] | None,
    weight_decay: float,
    weight_noise: float,
    betas: tuple[float, float],
    eps: float,
    project: np.ndarray | None,
    gamma: bool = False,
    row_weights: np.ndarray | None = None,
    snapshot_every: int | None,
    record_every: int | None,
    progress: bool | None,
) -> dict[str, np.ndarray]:
    """The one loop of N-dimensional training, for ``n`` networks ``X (n, N, k)``.

    ``gradient(X, batch, weights)`` returns the loss ``(n,)`` and either ``dL/dX``
    or, for linear networks, ``Gamma`` (``(n, k, k)``, flagged by ``gamma=True``):
    then ``dL/dX = X Gamma / N`` and a gradient step is ``X (I - eta Gamma)``. With
    ``project`` (``Q``, ``N x k``) every step is followed by ``X = Q (X^T X / N)^{1/2}``.
    With ``row_weights`` (a population of weighted rows) the overlaps are
    ``X^T diag(w) X``.
    Returns ``loss (epochs, n)``, ``overlaps`` at the recorded epochs, the final
    ``X`` and the snapshots.
    """
    n, N, k = X.shape

    def gram(X):
        if row_weights is None:
            return X.transpose(0, 2, 1) @ X / N
        return X.transpose(0, 2, 1) @ (row_weights[None, :, None] * X)

    if optimizer == "adam":
        m1 = np.zeros_like(X)
        m2 = np.zeros_like(X)
        b1, b2 = betas
    loss = np.empty((epochs, n))
    rec = list(range(epochs + 1)) if record_every is None else sorted(
        set(range(0, epochs, record_every)) | {epochs})
    overlaps = np.empty((len(rec), n, k, k))
    overlaps[0] = gram(X)
    r = 1
    snaps, snap_epochs = [], []
    L0 = None
    for epoch in _progress.bar(range(epochs), total=epochs, desc=f"train ({optimizer})",
                               progress=progress):
        if snapshot_every is not None and epoch % snapshot_every == 0:
            snaps.append(X.copy())
            snap_epochs.append(epoch)
        batch = next(stream)
        L, grad = gradient(X, batch, task.loss_weights(batch[2]))
        L0 = L if L0 is None else L0
        bad = ~np.isfinite(L) | (L > _DIVERGENCE_FACTOR * (1.0 + L0))
        if np.any(bad):
            i = int(np.argmax(bad))
            raise DivergenceError(
                f"training diverged at epoch {epoch}: loss {L[i]:.3g} (initial {L0[i]:.3g}); "
                f"the learning rate eta={eta:g} ({optimizer}) is too large, reduce it"
            )
        if gamma:
            G = grad + weight_decay * np.eye(k) if weight_decay else grad
            if optimizer == "gd":
                X = X @ (np.eye(k) - eta * G)
            else:
                grad = X @ G / N
        elif weight_decay:
            grad = grad + (weight_decay / N) * X
        if optimizer == "gd":
            if not gamma:
                X -= (N * eta) * grad
        else:
            t = epoch + 1
            m1 = b1 * m1 + (1.0 - b1) * grad
            m2 = b2 * m2 + (1.0 - b2) * grad * grad
            X -= eta * ((m1 / (1.0 - b1**t)) / (np.sqrt(m2 / (1.0 - b2**t)) + eps))
        if noise is not None:
            for Xi, rng in zip(X, noise, strict=True):
                Xi += weight_noise * rng.standard_normal(Xi.shape)
        if project is not None:
            S = X.transpose(0, 2, 1) @ X / N
            X[:] = project @ psd_sqrt(S)
        if not np.all(np.isfinite(X)):
            raise DivergenceError(
                f"training diverged at epoch {epoch}: non-finite vectors; "
                f"the learning rate eta={eta:g} ({optimizer}) is too large, reduce it"
            )
        loss[epoch] = L
        if epoch + 1 == rec[r]:
            overlaps[r] = gram(X)
            r += 1
    if snapshot_every is not None:
        snaps.append(X.copy())
        snap_epochs.append(epochs)
    return {"loss": loss, "overlaps": overlaps, "epoch": np.array(rec), "X": X,
            "snapshots": snaps, "snapshot_epochs": snap_epochs}


def _check(epochs, eta, optimizer, weight_decay, weight_noise):
    return (check_epochs(epochs), check_rate(eta), check_optimizer(optimizer),
            check_nonnegative(weight_decay, "weight_decay"),
            check_nonnegative(weight_noise, "weight_noise"))


def train(
    net: LowRankRNN,
    task: Task,
    epochs: int,
    eta: float,
    optimizer: str = "gd",
    *,
    seed: np.random.Generator | int | None = None,
    weight_decay: float = 0.0,
    weight_noise: float = 0.0,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    snapshot_every: int | None = None,
    project: np.ndarray | None = None,
    progress: bool | None = None,
) -> History:
    """Train the network's vectors in place; one batch per epoch.

    Parameters
    ----------
    net : LowRankRNN
        Network; its vectors ``X`` are updated in place.
    task : Task
        Task; random tasks draw one fresh batch per epoch from ``seed``
        (:func:`lrtools.tasks.batches`, shared with :func:`lrtools.theory.learn`).
    epochs : int
        Number of updates.
    eta : float
        ``optimizer="gd"``: each vector moves by ``-N eta dL/dx`` (the paper's
        scaling, under which the overlaps follow ``S' = (I - eta Gamma) S (I - eta
        Gamma)``). ``optimizer="adam"``: Adam's own learning rate.
    optimizer : {"gd", "adam"}
        Plain gradient descent or Adam (Kingma & Ba; bias-corrected, the same
        update as ``torch.optim.Adam`` with ``betas`` and ``eps``).
    seed : int or numpy.random.Generator, optional
        Seed of the batches and of the weight noise.
    weight_decay : float
        L2 penalty ``(weight_decay / 2) sum_a |a|^2 / N`` added to the loss (the
        recorded loss is the task loss alone).
    weight_noise : float
        Standard deviation of i.i.d. Gaussian noise added to every vector entry
        after every update (synaptic noise).
    betas, eps : float
        Adam's parameters.
    snapshot_every : int, optional
        Also keep the vectors every this many epochs (and at the end) in
        ``History.vectors``.
    project : numpy.ndarray, shape (N, k), optional
        A fixed basis ``Q`` with ``Q^T Q = N I``: after every step the vectors are
        reset to ``Q (X^T X / N)^{1/2}``, which keeps the overlaps and makes the
        rows Gaussian-like again (the projected control of chapter 2).

    A network with ``row_weights`` (a weighted population, the large-N limit) is
    trained the same way with ``1/N`` replaced by the row weights: each row moves
    by ``-eta (dL/dx_q) / w_q`` (GD), which for ``w_q = 1/N`` is the step above.
    Adam sees the per-row gradient ``(dL/dx_q) / (N w_q)`` with ``N`` the number
    of rows; synaptic noise and projection are not defined for a population.
    progress : bool, optional
        Show a progress bar (default: only in a terminal).

    Returns
    -------
    History
        ``loss (epochs,)``, ``overlaps (epochs + 1, k, k)``; entry ``i`` is the
        state before update ``i``. Raises :class:`~lrtools.DivergenceError` if the
        loss or the vectors blow up.
    """
    if not isinstance(net, LowRankRNN):
        raise TypeError(f"net must be a LowRankRNN, got {type(net).__name__}")
    epochs, eta, optimizer, weight_decay, weight_noise = _check(epochs, eta, optimizer,
                                                                weight_decay, weight_noise)
    if (net.n_in, net.n_out) != (task.n_in, task.n_out):
        raise ValueError(
            f"network has {net.n_in} inputs and {net.n_out} outputs; "
            f"task {type(task).__name__} needs {task.n_in} and {task.n_out}"
        )
    if snapshot_every is not None:
        check_epochs(snapshot_every, minimum=1, name="snapshot_every")
    N, k = net.X.shape
    w = net.row_weights
    if w is not None and (weight_noise > 0 or project is not None):
        raise ValueError("synaptic noise and projection are not defined for weighted rows")
    if project is not None:
        project = np.asarray(project, dtype=np.float64)
        if project.shape != (N, k):
            raise ValueError(f"project must have shape {(N, k)}, got {project.shape}")

    def gradient(X, batch, weights):
        net.X = X[0]
        L, grad = net.loss_and_gradient(batch, weights, task.dt)
        if w is not None:
            grad = grad / (N * w[:, None])
        return np.array([L]), grad[None]

    X = net.X[None].copy()
    out = _descend(X, gradient, task, epochs, eta, optimizer, stream=batches(task, seed),
                   noise=_noise_generators([seed], 1, weight_noise), weight_decay=weight_decay,
                   weight_noise=weight_noise, betas=betas, eps=eps, project=project,
                   row_weights=w, snapshot_every=snapshot_every, record_every=None,
                   progress=progress)
    net.X = np.ascontiguousarray(out["X"][0])
    snaps = out["snapshots"]
    return History(
        loss=out["loss"][:, 0],
        overlaps=out["overlaps"][:, 0],
        names=net.names,
        time=eta * np.arange(epochs + 1),
        vectors=np.array([x[0] for x in snaps]) if snaps else None,
        vector_epochs=np.array(out["snapshot_epochs"]) if snaps else None,
        info={"eta": eta, "optimizer": optimizer + ("-projected" if project is not None else ""),
              "phi": net.phi, "N": N, "weight_decay": weight_decay,
              "weight_noise": weight_noise, "task": repr(task),
              "seed": seed if isinstance(seed, int | None) else "generator"},
    )


def train_many(
    X0: np.ndarray,
    task: Task,
    epochs: int,
    eta: float,
    optimizer: str = "gd",
    *,
    seeds: Sequence[int] | None = None,
    weight_noise: float = 0.0,
    weight_decay: float = 0.0,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    record_every: int | None = None,
    progress: bool | None = None,
) -> dict[str, np.ndarray]:
    r"""Train many linear rank-1 networks (their ``N``-dimensional vectors) at once.

    For a linear network the loss depends on the vectors only through ``S = X^T
    X / N``, and its gradient is exactly ``dL/dX = X Gamma(S) / N``. So each epoch
    computes ``Gamma`` of every network with
    :func:`lrtools.theory.loss_and_gamma_many` and applies the step of
    :func:`train` (the same loop): GD, Adam, weight decay, then the weight noise.
    With ``seeds`` (one int per network) every network draws its noise from the
    stream :func:`train` would use with that seed, so each result equals
    ``train(net, task, ..., seed=seeds[i])`` to round-off, without
    backpropagation through ``N`` neurons.

    Parameters
    ----------
    X0 : numpy.ndarray, shape (n, N, 4)
        Vectors ``(m, u, v, z)`` of ``n`` networks of ``N`` neurons (not modified).
    task : Task
        One input, one output; random tasks use the batch stream of ``seeds[0]``
        for every network.
    epochs : int
        Number of updates.
    eta : float
        GD: vectors move by ``-N eta dL/dx``; Adam: its learning rate.
    optimizer : {"gd", "adam"}
    seeds : sequence of int, optional
        One per network: the weight-noise stream (and batches) as in
        :func:`train`. Default ``0, 1, ..., n-1``.
    weight_noise, weight_decay, betas, eps : float
        As in :func:`train`.
    record_every : int, optional
        Keep the overlaps every this many epochs (and the last).
    progress : bool, optional
        Show a progress bar (default: only in a terminal).

    Returns
    -------
    dict
        ``X (n, N, 4)`` final vectors, ``loss (epochs, n)``; with ``record_every``
        also ``overlaps (n_rec, n, 4, 4)`` at ``epoch (n_rec,)``.
    """
    from .theory import loss_and_gamma_many

    epochs, eta, optimizer, weight_decay, weight_noise = _check(epochs, eta, optimizer,
                                                                weight_decay, weight_noise)
    if (task.n_in, task.n_out) != (1, 1):
        raise ValueError(f"train_many needs one input and one output; {type(task).__name__} "
                         f"has {task.n_in} and {task.n_out}")
    X = np.array(X0, dtype=np.float64)
    if X.ndim != 3 or X.shape[2] != 4:
        raise ValueError(f"X0 must have shape (n, N, 4) (rank 1: m, u, v, z), got {X.shape}")
    n, N, _ = X.shape
    seeds = list(range(n)) if seeds is None else [int(s) for s in seeds]
    if len(seeds) != n:
        raise ValueError(f"{n} networks need {n} seeds, got {len(seeds)}")
    if record_every is not None:
        check_epochs(record_every, minimum=1, name="record_every")

    def gradient(X, batch, weights):
        L, G = loss_and_gamma_many(X.transpose(0, 2, 1) @ X / N, batch, weights, task.dt,
                                   "linear")
        return L, G

    out = _descend(X, gradient, task, epochs, eta, optimizer, stream=batches(task, seeds[0]),
                   noise=_noise_generators(seeds, n, weight_noise), weight_decay=weight_decay,
                   weight_noise=weight_noise, betas=betas, eps=eps, project=None, gamma=True,
                   snapshot_every=None, record_every=record_every or epochs or 1,
                   progress=progress)
    res = {"X": out["X"], "loss": out["loss"]}
    if record_every is not None:
        res["overlaps"], res["epoch"] = out["overlaps"], out["epoch"]
    return res
