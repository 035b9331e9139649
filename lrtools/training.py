"""Training the N-dimensional network: gradient descent (rate ``N eta``) or Adam."""

from __future__ import annotations

import numpy as np

from . import _progress
from .history import DivergenceError, History
from .network import LowRankRNN
from .tasks import Task, batches

__all__ = ["train", "OPTIMIZERS"]

OPTIMIZERS = ("gd", "adam")

# Loss growth (relative to the initial loss + 1) taken as divergence.
_DIVERGENCE_FACTOR = 1e6


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
    if int(epochs) != epochs or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs}")
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"learning rate eta must be positive, got {eta}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {OPTIMIZERS}")
    if weight_decay < 0 or weight_noise < 0:
        raise ValueError("weight_decay and weight_noise must be non-negative")
    if (net.n_in, net.n_out) != (task.n_in, task.n_out):
        raise ValueError(
            f"network has {net.n_in} inputs and {net.n_out} outputs; "
            f"task {type(task).__name__} needs {task.n_in} and {task.n_out}"
        )
    if snapshot_every is not None and (int(snapshot_every) != snapshot_every or snapshot_every < 1):
        raise ValueError(f"snapshot_every must be a positive integer, got {snapshot_every}")

    N, k = net.X.shape
    stream = batches(task, seed)
    noise_rng = None
    if weight_noise > 0:
        noise_rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(
            None if seed is None else [int(seed), 1]
        )
    if optimizer == "adam":
        m1 = np.zeros_like(net.X)
        m2 = np.zeros_like(net.X)
        b1, b2 = betas

    losses = np.empty(epochs)
    traj = np.empty((epochs + 1, k, k))
    traj[0] = net.X.T @ net.X / N
    snaps, snap_epochs = [], []
    L0 = None
    for epoch in _progress.bar(range(epochs), total=epochs, desc=f"train ({optimizer})",
                               progress=progress):
        if snapshot_every is not None and epoch % snapshot_every == 0:
            snaps.append(net.X.copy())
            snap_epochs.append(epoch)
        batch = next(stream)
        L, grad = net.loss_and_gradient(batch, task.loss_weights(batch[2]), task.dt)
        L0 = L if L0 is None else L0
        if not np.isfinite(L) or L > _DIVERGENCE_FACTOR * (1.0 + L0):
            raise DivergenceError(
                f"training diverged at epoch {epoch}: loss {L:.3g} (initial {L0:.3g}); "
                f"the learning rate eta={eta:g} ({optimizer}) is too large, reduce it"
            )
        if weight_decay:
            grad = grad + (weight_decay / N) * net.X
        if optimizer == "gd":
            net.X -= (N * eta) * grad
        else:
            t = epoch + 1
            m1 = b1 * m1 + (1.0 - b1) * grad
            m2 = b2 * m2 + (1.0 - b2) * grad * grad
            step = (m1 / (1.0 - b1**t)) / (np.sqrt(m2 / (1.0 - b2**t)) + eps)
            net.X -= eta * step
        if noise_rng is not None:
            net.X += weight_noise * noise_rng.standard_normal(net.X.shape)
        if not np.all(np.isfinite(net.X)):
            raise DivergenceError(
                f"training diverged at epoch {epoch}: non-finite vectors; "
                f"the learning rate eta={eta:g} ({optimizer}) is too large, reduce it"
            )
        losses[epoch] = L
        traj[epoch + 1] = net.X.T @ net.X / N
    if snapshot_every is not None:
        snaps.append(net.X.copy())
        snap_epochs.append(epochs)
    return History(
        loss=losses,
        overlaps=traj,
        names=net.names,
        time=eta * np.arange(epochs + 1),
        vectors=np.array(snaps) if snaps else None,
        vector_epochs=np.array(snap_epochs) if snaps else None,
        info={"eta": eta, "optimizer": optimizer, "phi": net.phi, "N": N,
              "weight_decay": weight_decay, "weight_noise": weight_noise,
              "task": repr(task), "seed": seed if isinstance(seed, int | None) else "generator"},
    )
